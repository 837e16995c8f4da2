"""Input row models (bundle format v1) and the records a store writes.

Rows are validated by frozen pydantic models with `extra="forbid"`; what passes becomes a compact
`EntityRecord` or `LinkRecord` (named tuples, so a million of them fit in memory).
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any, NamedTuple

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)

from cofi.vocab import FAMILY_ROLES, INPUT_LINK_TYPES, Kind

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_date(value: str) -> str:
    if not _DATE.fullmatch(value):
        raise ValueError("not an ISO date (YYYY-MM-DD)")
    try:
        date.fromisoformat(value)
    except ValueError as exc:
        raise ValueError(f"not a calendar date ({exc})") from None
    return value


def _split_aliases(value: Any) -> Any:
    if isinstance(value, str):
        return tuple(a.strip() for a in value.split(";") if a.strip())
    return value


def _link_type(value: str) -> str:
    upper = value.upper()
    if upper not in INPUT_LINK_TYPES:
        raise ValueError(f"unknown link type {value!r} (allowed: {', '.join(INPUT_LINK_TYPES)})")
    return upper


Id = Annotated[str, StringConstraints(min_length=1, max_length=512)]
Text = Annotated[str, StringConstraints(max_length=10_000)]
IsoDate = Annotated[str, AfterValidator(_iso_date)]
Aliases = Annotated[tuple[Text, ...], BeforeValidator(_split_aliases)]
Share = Annotated[float, Field(gt=0, le=100, allow_inf_nan=False)]
Money = Annotated[float, Field(ge=0, allow_inf_nan=False)]

_CONFIG = ConfigDict(extra="forbid", frozen=True, coerce_numbers_to_str=True)


class PersonRow(BaseModel):
    model_config = _CONFIG
    id: Id
    name: Text
    birth_date: IsoDate | None = None
    iin: Text | None = None
    aliases: Aliases = ()
    address: Text | None = None
    phone: Text | None = None
    email: Text | None = None


class AgencyRow(BaseModel):
    model_config = _CONFIG
    id: Id
    name: Text
    bin: Text | None = None
    address: Text | None = None
    phone: Text | None = None
    email: Text | None = None


class CompanyRow(BaseModel):
    model_config = _CONFIG
    id: Id
    name: Text
    bin: Text | None = None
    founded: IsoDate | None = None
    dissolved: IsoDate | None = None
    address: Text | None = None
    phone: Text | None = None
    email: Text | None = None


class ContractRow(BaseModel):
    model_config = _CONFIG
    id: Id
    buyer_id: Id
    supplier_id: Id
    signed_on: IsoDate
    title: Text | None = None
    value: Money | None = None
    currency: Text | None = None
    procedure: Text | None = None


class LinkRow(BaseModel):
    model_config = _CONFIG
    source: Id
    target: Id
    type: Annotated[str, AfterValidator(_link_type)]
    role: Text | None = None
    share: Share | None = None
    since: IsoDate | None = None
    until: IsoDate | None = None
    source_ref: Text | None = None

    @model_validator(mode="after")
    def _check(self) -> LinkRow:
        if self.type == "FAMILY" and self.role not in FAMILY_ROLES:
            raise ValueError(f"FAMILY needs a role, one of: {', '.join(FAMILY_ROLES)}")
        if self.since and self.until and self.until < self.since:
            raise ValueError(f"until {self.until} is before since {self.since}")
        if self.source == self.target:
            raise ValueError("a link cannot join a record to itself")
        return self


ROW_MODELS: dict[str, type[BaseModel]] = {
    Kind.PERSON: PersonRow,
    Kind.AGENCY: AgencyRow,
    Kind.COMPANY: CompanyRow,
    Kind.CONTRACT: ContractRow,
    "link": LinkRow,
}

COLUMNS: dict[str, tuple[str, ...]] = {k: tuple(m.model_fields) for k, m in ROW_MODELS.items()}
REQUIRED: dict[str, frozenset[str]] = {
    k: frozenset(n for n, f in m.model_fields.items() if f.is_required())
    for k, m in ROW_MODELS.items()
}


def error_reasons(exc: ValidationError) -> list[tuple[str, str]]:
    """(field, reason) pairs for a failed row, in the words an investigator reads."""
    out = []
    for err in exc.errors(include_url=False):
        loc = err.get("loc", ())
        field = str(loc[0]) if loc else "row"
        kind = err.get("type", "")
        if kind == "missing":
            reason = "required"
        elif kind == "extra_forbidden":
            reason = "unknown field"
        else:
            reason = str(err.get("msg", "invalid")).removeprefix("Value error, ")
            if field == "row" and "FAMILY needs a role" in reason:
                field = "role"
            elif field == "row" and "until" in reason:
                field = "until"
            elif field == "row" and "itself" in reason:
                field = "target"
        out.append((field, reason))
    return out


class EntityRecord(NamedTuple):
    """A validated entity as a store writes it.

    `props` holds every optional input field (canonical, no empties); `strong_id` is the valid
    IIN/BIN or ''; `contacts` the (kind, key, raw) identifier values, already normalised.
    """

    id: str
    kind: Kind
    name: str
    props: dict[str, Any]
    strong_id: str
    search_key: str
    contacts: tuple[tuple[Kind, str, str], ...]


class LinkRecord(NamedTuple):
    """A validated link; '' stands for an empty role/since/until so the key is never NULL."""

    source: str
    target: str
    type: str
    role: str
    share: float | None
    since: str
    until: str
    source_ref: str

    @property
    def key(self) -> tuple[str, str, str, str, str]:
        """What makes two rows the same link: a later load with the same key updates it."""
        return (self.source, self.target, self.type, self.role, self.since)
