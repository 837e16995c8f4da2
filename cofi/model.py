"""Input row models (bundle format v1) and the records a store writes.

Rows are validated by pydantic (TypedDict shapes with `extra="forbid"`, checked in pydantic-core)
plus the few checks pydantic cannot express; what passes becomes a row of the load's staging
database, read back as `EntityRecord` / `LinkRecord` named tuples.
"""

import operator
import re
from collections.abc import Callable, Sequence
from datetime import date
from functools import lru_cache
from typing import Annotated, Any, NotRequired, get_args, get_type_hints

from pydantic import (
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    with_config,
)
from typing_extensions import TypedDict  # pydantic needs this one before Python 3.12

from cofi.records import EntityRecord, LinkRecord
from cofi.vocab import (
    DECLARATION_LINK,
    FAMILY_ROLES,
    INPUT_LINK_TYPES,
    INTEREST_ROLES,
    LINK_TYPES,
    Kind,
)

_ISO_DATE = r"^\d{4}-\d{2}-\d{2}$"
_DATE_REASON = "not an ISO date (YYYY-MM-DD)"

Problem = tuple[str, str]
"""A (field, reason) pair: what is wrong with one field of a row."""


@lru_cache(maxsize=65536)
def calendar_problem(value: str) -> str:
    """'' when `value` (already YYYY-MM-DD) is a day of the calendar, else the reason it is not."""
    try:
        date.fromisoformat(value)
    except ValueError as exc:
        return f"not a calendar date ({exc})"
    return ""


ID_CHARS, TEXT_CHARS = 512, 10_000
"""The most characters of an id, and of any other text of a row."""
Id = Annotated[str, StringConstraints(min_length=1, max_length=ID_CHARS)]
Text = Annotated[str, StringConstraints(max_length=TEXT_CHARS)]
INDEX_KEY_CHARS = 1000
"""The longest identifier or contact value (a key of an index in the Neo4j store): 1,000
characters are at most 4,000 bytes, inside Neo4j's 8 KB range-index key limit with room to spare.
The same limit on both stores, so a bundle valid for one is valid for the other."""
KeyText = Annotated[str, StringConstraints(max_length=INDEX_KEY_CHARS)]
IsoDate = Annotated[str, StringConstraints(pattern=_ISO_DATE)]
Aliases = str | tuple[Text, ...]
Share = Annotated[float, Field(gt=0, le=100, allow_inf_nan=False)]
Money = Annotated[float, Field(ge=0, allow_inf_nan=False)]

# The row shapes are TypedDicts checked by pydantic-core (no Python per field); what pydantic
# cannot say (a calendar day, a link type in the vocabulary, a FAMILY role) `validate_row` adds.
_CONFIG = ConfigDict(extra="forbid", coerce_numbers_to_str=True)


@with_config(_CONFIG)
class PersonRow(TypedDict):
    id: Id
    name: Text
    birth_date: NotRequired[IsoDate]
    iin: NotRequired[KeyText]
    aliases: NotRequired[Aliases]
    address: NotRequired[KeyText]
    phone: NotRequired[KeyText]
    email: NotRequired[KeyText]
    registry_id: NotRequired[KeyText]


@with_config(_CONFIG)
class AgencyRow(TypedDict):
    id: Id
    name: Text
    bin: NotRequired[KeyText]
    address: NotRequired[KeyText]
    phone: NotRequired[KeyText]
    email: NotRequired[KeyText]
    registry_id: NotRequired[KeyText]
    aliases: NotRequired[Aliases]


@with_config(_CONFIG)
class CompanyRow(TypedDict):
    id: Id
    name: Text
    bin: NotRequired[KeyText]
    founded: NotRequired[IsoDate]
    dissolved: NotRequired[IsoDate]
    address: NotRequired[KeyText]
    phone: NotRequired[KeyText]
    email: NotRequired[KeyText]
    registry_id: NotRequired[KeyText]
    aliases: NotRequired[Aliases]


@with_config(_CONFIG)
class ContractRow(TypedDict):
    id: Id
    buyer_id: Id
    supplier_id: Id
    signed_on: IsoDate
    title: NotRequired[Text]
    value: NotRequired[Money]
    currency: NotRequired[Text]
    procedure: NotRequired[Text]


@with_config(_CONFIG)
class LinkRow(TypedDict):
    source: Id
    target: Id
    type: Text
    role: NotRequired[Text]
    share: NotRequired[Share]
    since: NotRequired[IsoDate]
    until: NotRequired[IsoDate]
    source_ref: NotRequired[Text]


@with_config(_CONFIG)
class DeclarationRow(TypedDict):
    person_id: Id
    declared_on: IsoDate
    type: Text
    subject_id: NotRequired[Id]
    role: NotRequired[Text]
    share: NotRequired[Share]
    contract_id: NotRequired[Id]
    source_ref: NotRequired[Text]


ROW_SHAPES: dict[str, Any] = {  # TypedDict classes
    Kind.PERSON: PersonRow,
    Kind.AGENCY: AgencyRow,
    Kind.COMPANY: CompanyRow,
    Kind.CONTRACT: ContractRow,
    "link": LinkRow,
    "declaration": DeclarationRow,
}


def _args(hint: Any) -> tuple[Any, ...]:
    """`hint` and, for NotRequired[X], X: what a field's annotation may hold."""
    return (hint, *get_args(hint))


_VALIDATORS = {k: TypeAdapter(shape).validator for k, shape in ROW_SHAPES.items()}
DATE_FIELDS = {
    k: tuple(n for n, t in get_type_hints(s, include_extras=True).items() if IsoDate in _args(t))
    for k, s in ROW_SHAPES.items()
}

COLUMNS: dict[str, tuple[str, ...]] = {k: tuple(s.__annotations__) for k, s in ROW_SHAPES.items()}
REQUIRED: dict[str, frozenset[str]] = {k: s.__required_keys__ for k, s in ROW_SHAPES.items()}
EXTENSION_COLUMNS = frozenset({"registry_id", "aliases"})
"""Columns beyond DESIGN.md's bundle v1 that the importers fill (a bundle may use them too):
`registry_id` (SCHEME:value, a company register number) and aliases of agencies and companies."""
V1_COLUMNS: dict[str, tuple[str, ...]] = {
    k: tuple(c for c in cols if c not in EXTENSION_COLUMNS or (k == Kind.PERSON and c == "aliases"))
    for k, cols in COLUMNS.items()
}
"""The columns of bundle format v1 exactly, in DESIGN.md's order (what cofi's generators write)."""


def validate_row(kind: str, data: dict[str, Any]) -> tuple[dict[str, Any] | None, list[Problem]]:
    """The validated, canonical row of `kind` (None when invalid) and its (field, reason) problems.

    Canonical: a link type in upper case, aliases as a list (absent when there are none).
    """
    try:
        row: dict[str, Any] = _VALIDATORS[kind].validate_python(data)
    except ValidationError as exc:
        return None, _more_problems(kind, data, error_reasons(exc))
    dates = DATE_FIELDS[kind]
    if dates and any(map(calendar_problem, filter(None, map(row.get, dates)))):
        return None, _more_problems(kind, data, [])
    if kind == "declaration":
        problems = declaration_problems(row)
        return (None if problems else row), problems
    if kind == "link":
        if row["type"].upper() not in INPUT_LINK_TYPES:
            return None, _more_problems(kind, data, [])
        row["type"] = row["type"].upper()
        problems = _link_problems(row)
        return (None if problems else row), problems
    aliases = row.get("aliases")
    if aliases is not None:
        if isinstance(aliases, str):
            aliases = [a.strip() for a in aliases.split(";") if a.strip()]
        if aliases:
            row["aliases"] = list(aliases)
        else:
            del row["aliases"]
    return row, []


LinkCells = tuple[str, str, str, str, str, float | str, str, str]
"""A valid link row's source, target, type, role, since, share, until and source_ref ('' where
the row has none; the share a number)."""

_ASCII_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_PLAIN_SHARE = re.compile(r"[0-9]{1,3}(?:\.[0-9]{1,12})?")
_ROLES = {t: LINK_TYPES[t].roles for t in INPUT_LINK_TYPES}
_UNKNOWN: tuple[str, ...] = ()  # what an unknown type allows: no row


def nonempty_cells(header: Sequence[str], cells: list[str]) -> dict[str, Any]:
    """A CSV row's non-empty cells, stripped, by column (the same as a dict comprehension, in C):
    what `validate_row` checks of the row."""
    return dict(filter(_VALUE, zip(header, map(str.strip, cells), strict=True)))


_VALUE = operator.itemgetter(1)
_DAYS_KEPT = 100_000


def is_plain_day(value: str, days: set[str]) -> bool:
    """Whether `value` is a day of the calendar written plainly (ASCII digits); `days` keeps those
    seen (a cache, kept small)."""
    if value in days:
        return True
    if not _ASCII_DAY.fullmatch(value) or calendar_problem(value):
        return False
    if len(days) < _DAYS_KEPT:
        days.add(value)
    return True


def link_cells(header: list[str]) -> Callable[[list[str]], LinkCells | None]:
    """For a CSV file of links with `header`: a function from a row's cells to what
    `validate_row("link", …)` makes of the row when it is valid beyond doubt, or None when it may
    not be (then the row goes through `validate_row`, which says why).

    The same rules, checked on the cells in the order of the common case: the ids 1 to 512
    characters and not one and the same, a type of the vocabulary (any case) with one of its roles,
    days of the calendar written plainly (ASCII digits), `until` not before `since`, a share
    written plainly (digits, a point) above 0 and at most 100; other text at most 10,000
    characters.  A test holds it to `validate_row` on random rows.
    """
    at = {c: i for i, c in enumerate(header)}
    blank = len(header)
    get = operator.itemgetter(*(at.get(c, blank) for c in COLUMNS["link"]))
    pad, strip, plain_day, plain = [""], str.strip, is_plain_day, _PLAIN_SHARE.fullmatch
    roles_of, unknown, text, ident = _ROLES.get, _UNKNOWN, TEXT_CHARS, ID_CHARS
    days: set[str] = set()

    def cells(row: list[str]) -> LinkCells | None:
        source, target, kind, role, share, since, until, ref = map(strip, get(row + pad))
        if not 0 < len(source) <= ident or not 0 < len(target) <= ident or source == target:
            return None
        kind = kind.upper()
        roles = roles_of(kind, unknown)
        if roles is None:
            if len(role) > text:
                return None
        elif role not in roles:
            return None
        if len(ref) > text:
            return None
        for value in (since, until) if since or until else ():
            if value and not plain_day(value, days):
                return None
        if since and until and until < since:
            return None
        if share:
            if not plain(share) or not 0 < (number := float(share)) <= 100:
                return None
            return source, target, kind, role, since, number, until, ref
        return source, target, kind, role, since, "", until, ref

    return cells


PLAIN_MONEY = re.compile(r"[0-9]{1,15}(?:\.[0-9]{1,12})?")


def entity_cells(kind: str, header: list[str]) -> Callable[[list[str]], dict[str, Any] | None]:
    """For a CSV file of `kind` entities (person, agency, company, contract) with `header` (its
    columns checked: known, each once, the required ones there): a function from a row's cells to
    what `validate_row(kind, …)` makes of the row's non-empty stripped cells when the row is valid
    beyond doubt, or None when it may not be (then the row goes through `validate_row`, which
    says why).

    The same rules, checked on the cells in the order of the common case: every required field
    there; no cell longer than 512 characters (then no id, identifier or text is too long; a
    longer cell is left to `validate_row`); days of the calendar written plainly (ASCII digits);
    a contract's value written plainly (digits, a point); aliases split at semicolons.  A test
    holds it to `validate_row` on random rows.
    """
    cols = tuple(header)
    required = REQUIRED[kind]
    dates = tuple(c for c in DATE_FIELDS[kind] if c in cols)
    money = "value" in cols
    aliases = "aliases" in cols
    plain_day, plain, data_of = is_plain_day, PLAIN_MONEY.fullmatch, nonempty_cells
    days: set[str] = set()

    def cells(row: list[str]) -> dict[str, Any] | None:
        data = data_of(cols, row)
        if not required <= data.keys() or max(map(len, data.values())) > ID_CHARS:
            return None
        for c in dates:
            value = data.get(c)
            if value is not None and not plain_day(value, days):
                return None
        if money and (value := data.get("value")) is not None:
            if not plain(value):
                return None
            data["value"] = float(value)
        if aliases and (value := data.get("aliases")) is not None:
            split = [a.strip() for a in value.split(";") if a.strip()]
            if split:
                data["aliases"] = split
            else:
                del data["aliases"]
        return data

    return cells


def _more_problems(kind: str, data: dict[str, Any], problems: list[Problem]) -> list[Problem]:
    """`problems` (pydantic's) plus the calendar-day and link-type checks of fields it passed."""
    flagged = {f for f, _ in problems}
    for name in DATE_FIELDS[kind]:
        value = data.get(name)
        if name not in flagged and isinstance(value, str) and (why := calendar_problem(value)):
            problems.append((name, why))
    value = data.get("type")
    if (
        kind == "link"
        and "type" not in flagged
        and isinstance(value, str)
        and value.upper() not in INPUT_LINK_TYPES
    ):
        allowed = ", ".join(INPUT_LINK_TYPES)
        problems.append(("type", f"unknown link type {value!r} (allowed: {allowed})"))
    return problems


def declaration_problems(row: dict[str, Any]) -> list[Problem]:
    """What is wrong with a declaration row beyond its shape: the fields its `type` needs and
    those it may not have (canonical: `type` in lower case, a relative's role as written)."""
    kind = row["type"] = row["type"].strip().lower()
    if kind not in DECLARATION_LINK:
        allowed = ", ".join(DECLARATION_LINK)
        return [("type", f"unknown declaration type {kind!r} (allowed: {allowed})")]
    problems: list[Problem] = []
    about_contract = kind in ("conflict_notice", "recusal")
    needed, barred = (
        ("contract_id", "subject_id") if about_contract else ("subject_id", "contract_id")
    )
    if not row.get(needed):
        problems.append((needed, f"required for a {kind}"))
    if row.get(barred):
        problems.append((barred, f"a {kind} has none"))
    role = row.get("role", "")
    if about_contract:
        problems += [(f, f"a {kind} has none") for f in ("role", "share") if f in row]
    elif kind == "relative":
        if role not in FAMILY_ROLES:
            problems.append(("role", f"a relative needs a role, one of: {', '.join(FAMILY_ROLES)}"))
        if "share" in row:
            problems.append(("share", "a relative has none"))
    elif role and role not in INTEREST_ROLES:
        problems.append(("role", f"an interest's role is one of: {', '.join(INTEREST_ROLES)}"))
    return problems


def _link_problems(row: dict[str, Any]) -> list[Problem]:
    roles = LINK_TYPES[row["type"]].roles
    if roles is not None and row.get("role") not in roles:
        return [("role", f"{row['type']} needs a role, one of: {', '.join(roles)}")]
    since, until = row.get("since"), row.get("until")
    if since and until and until < since:
        return [("until", f"until {until} is before since {since}")]
    if row["source"] == row["target"]:
        return [("target", "a link cannot join a record to itself")]
    return []


def error_reasons(exc: ValidationError) -> list[Problem]:
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
        elif kind == "string_pattern_mismatch":
            reason = _DATE_REASON
        else:
            reason = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        out.append((field, reason))
    return out


__all__ = ["EntityRecord", "LinkRecord"]  # (the records live in cofi.records: no pydantic there)
