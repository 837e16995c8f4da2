"""FollowTheMoney entities (JSON lines, as OpenSanctions and Aleph export them) into cofi rows.

- `Person` → person; `Company`, `Organization`, `LegalEntity` → company; `PublicBody` → agency
  (so is any entity named as a `Contract`'s `authority`).  The caption (else the first name) is
  the name, other names are aliases; `innCode` (RU-INN), `ogrnCode` (RU-OGRN), `leiCode`
  (XI-LEI), or a 12-digit Kazakh `taxNumber` / `registrationNumber` (IIN/BIN) identify it; the
  address is the first `address` text, else the `full` text of its first `addressEntity`.
- `Family` → FAMILY from `person` to `relative`, the role read from `relationship` (spouse,
  parent, child, sibling, grandparent, grandchild, in-laws; anything else is `other`);
  `Associate` → ASSOCIATE; `Ownership` → OWNS (`percentage` as share: a range gives its lower
  end); `Directorship` → DIRECTS (from a person; a company as director is left out with a
  warning); `Employment` → EMPLOYED; `Occupancy` of a `Position` → EMPLOYED into the position's
  `organization`, else into an agency standing for the position itself.  `startDate` / `endDate`
  are since / until (a partial date spans its whole month or year).
- `Contract` + `ContractAward` → a contract per award: buyer the contract's `authority`, winner the
  award's `supplier`, `signed_on` the first of the award's `date` / `startDate`, the contract's
  `contractDate` / `date` / `startDate`.
- `Control` (a controlling interest without a stated share) → OWNS without a share, the role its
  `controlType` / `role`, as BODS control interests are.
- A schema is read as the nearest schema of its ancestry that cofi maps (the followthemoney
  model's inheritance, shipped in `cofi/schemas/ftm/schemata.json`): whatever descends from
  `Organization` or `LegalEntity` is a company unless it is a `PublicBody`; a link schema that
  extends one cofi maps is that link.
- Provenance: each link's `source_ref` is `ftm:<entity id>` and its datasets.  Entity ids are
  `ftm:<id>`.  Other schemata are counted and reported: relationships (`Interest` descendants
  such as Membership, Representation, UnknownLink) that no link type of cofi's stands for, and
  everything else (Sanction, Passport, …).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

from cofi.bundle import RawRow
from cofi.importers.common import (
    Rows,
    day,
    first_day,
    identifier_columns,
    last_day,
    number,
    period_end,
    period_start,
    text,
    unique_links,
)
from cofi.importers.jsonio import JsonProblem, json_items_twice
from cofi.resources import resource_dir
from cofi.vocab import Kind

ENTITY_SCHEMATA = {
    "Person": Kind.PERSON,
    "Company": Kind.COMPANY,
    "Organization": Kind.COMPANY,
    "LegalEntity": Kind.COMPANY,
    "PublicBody": Kind.AGENCY,
}
LINK_SCHEMATA = ("Family", "Associate", "Ownership", "Directorship", "Employment", "Occupancy",
                 "Control")  # fmt: skip
USED_ELSEWHERE = ("Address", "Position", "Contract", "ContractAward")
_MAPPED = frozenset((*ENTITY_SCHEMATA, *LINK_SCHEMATA, *USED_ELSEWHERE))
_IDENTIFIERS = (("innCode", "RU-INN"), ("ogrnCode", "RU-OGRN"), ("leiCode", "XI-LEI"))
_KINSHIP = (  # (words in `relationship`, role); the first that matches wins
    (("spouse", "wife", "husband", "жена", "муж", "супруг", "дружина", "чоловік"), "spouse"),
    (("in-law", "in law",), "in_law"),
    (("grandson", "granddaughter", "grandchild", "внук", "внучка", "онук"), "grandchild"),
    (("grandfather", "grandmother", "grandparent", "дед", "бабушка", "дід", "баба"),
     "grandparent"),
    (("son", "daughter", "child", "сын", "дочь", "син", "донька", "дочка"), "child"),
    (("father", "mother", "parent", "отец", "мать", "батько", "мати"), "parent"),
    (("brother", "sister", "sibling", "брат", "сестра"), "sibling"),
)  # fmt: skip
_IN_LAW = {"spouse": "", "child": "child_in_law", "parent": "parent_in_law",
           "sibling": "sibling_in_law"}  # fmt: skip


def is_item(value: dict[str, Any]) -> bool:
    return "schema" in value and "properties" in value


@cache
def ancestry() -> dict[str, list[str]]:
    """Each followthemoney schema's ancestry, nearest first (itself, then what it extends)."""
    path = resource_dir("schemas") / "ftm" / "schemata.json"
    found: dict[str, list[str]] = json.loads(path.read_text("utf-8"))["ancestry"]
    return found


def read_as(schema: str) -> str:
    """The schema cofi reads an entity of `schema` as: the nearest of its ancestry that cofi maps
    ('' when none does)."""
    return next((s for s in ancestry().get(schema, [schema]) if s in _MAPPED), "")


def kinship_role(relationship: str) -> str:
    """The FAMILY role a FollowTheMoney `relationship` text names (`other` when none)."""
    words = relationship.casefold()
    in_law = any(w in words for w in ("in-law", "in law"))
    for keys, role in _KINSHIP:
        if role != "in_law" and any(re.search(rf"\b{re.escape(k)}", words) for k in keys):
            return (_IN_LAW.get(role) or role) if in_law else role
    return "other"


class _Index:
    """The first pass: what each referenced id is, addresses, positions, contracts."""

    def __init__(self) -> None:
        self.kind: dict[str, Kind] = {}
        self.address: dict[str, str] = {}
        self.position: dict[str, tuple[str, str]] = {}
        """Position id -> (name, organisation id)."""
        self.contract: dict[str, dict[str, list[Any]]] = {}
        self.authorities: set[str] = set()

    def add(self, e: dict[str, Any]) -> None:
        schema, eid, props = read_as(text(e.get("schema"))), text(e.get("id")), _props(e)
        if schema in ENTITY_SCHEMATA:
            self.kind[eid] = ENTITY_SCHEMATA[str(schema)]
        elif schema == "Address":
            self.address[eid] = text(props.get("full")) or text(e.get("caption"))
        elif schema == "Position":
            self.position[eid] = (text(e.get("caption")) or text(props.get("name")),
                                  text(props.get("organization")))  # fmt: skip
        elif schema == "Contract":
            self.contract[eid] = props
            self.authorities.update(text(a) for a in props.get("authority", []))


def _props(e: dict[str, Any]) -> dict[str, list[Any]]:
    props = e.get("properties")
    if not isinstance(props, dict):
        return {}
    return {k: v if isinstance(v, list) else [v] for k, v in props.items()}


def read(path: Path) -> Iterator[RawRow]:
    rows = Rows(path)
    return unique_links(rows, _read(rows, path))


def _read(rows: Rows, path: Path) -> Iterator[RawRow]:
    index = _Index()
    first, second = json_items_twice(path, (), is_item)
    for _, item in first:
        if isinstance(item, dict):
            index.add(item)
    skipped: Counter[str] = Counter()
    unlinked: Counter[str] = Counter()
    positions_made: set[str] = set()
    line = 0
    for line, e in second:
        if isinstance(e, JsonProblem):
            yield rows.problem(line, "row", str(e))
            continue
        if not isinstance(e, dict) or not is_item(e) or not text(e.get("id")):
            yield rows.problem(line, "row", "not a FollowTheMoney entity (id, schema, properties)")
            continue
        written = text(e.get("schema"))
        schema = read_as(written)
        if schema in ENTITY_SCHEMATA:
            yield _entity(rows, line, e, index, schema)
        elif schema in LINK_SCHEMATA:
            yield from _link(rows, line, e, index, positions_made, schema)
        elif schema == "ContractAward":
            yield from _award(rows, line, e, index)
        elif "Interest" in ancestry().get(written, ()):
            unlinked[written] += 1
        elif not schema:
            skipped[written] += 1
    if unlinked:
        listed = ", ".join(f"{n} {s}" for s, n in sorted(unlinked.items()))
        yield rows.note(line, "schema", f"relationships that no link type of cofi's stands for, "
                        f"not imported: {listed}")  # fmt: skip
    if skipped:
        listed = ", ".join(f"{n} {s}" for s, n in sorted(skipped.items()))
        yield rows.note(line, "schema", f"entities of schemata cofi has no use for, not imported: "
                        f"{listed}")  # fmt: skip


def _entity(rows: Rows, line: int, e: dict[str, Any], index: _Index, schema: str) -> RawRow:
    eid, props = text(e.get("id")), _props(e)
    kind = Kind.AGENCY if eid in index.authorities else ENTITY_SCHEMATA[schema]
    names = [text(n) for n in props.get("name", []) if text(n)]
    name = text(e.get("caption")) or (names[0] if names else "")
    aliases = tuple(dict.fromkeys(n for n in names if n != name))
    address = text(props.get("address"))
    if not address:
        address = next((index.address[text(a)] for a in props.get("addressEntity", [])
                        if text(a) in index.address), "")  # fmt: skip
    identifiers = [(scheme, v) for prop, scheme in _IDENTIFIERS for v in props.get(prop, [])]
    for prop in ("taxNumber", "registrationNumber", "idNumber"):
        for value in props.get(prop, []):
            digits = text(value)
            if len(digits) == 12 and digits.isdigit() and "kz" in _countries(props):
                identifiers.insert(0, ("KZ-IIN" if kind is Kind.PERSON else "KZ-BIN", digits))
    data: dict[str, Any] = {"id": f"ftm:{eid}", "name": name, "aliases": aliases,
                            "address": address}  # fmt: skip
    notes: list[tuple[str, str]] = []
    if kind is Kind.PERSON:
        births = props.get("birthDate", [])
        data["birth_date"] = first_day(births)
        if births and not data["birth_date"]:
            notes.append(("birth_date", f"ftm:{eid}: {text(births)!r} is not a full date; "
                                        "left out"))  # fmt: skip
    elif kind is Kind.COMPANY:
        data["founded"] = first_day(props.get("incorporationDate", []))
        data["dissolved"] = last_day(props.get("dissolutionDate", []))
    data.update(identifier_columns(kind, identifiers))
    return rows.entity(line, kind, data, tuple(notes))


def _countries(props: dict[str, list[Any]]) -> set[str]:
    keys = ("country", "jurisdiction", "nationality", "citizenship")
    return {text(c).lower() for k in keys for c in props.get(k, [])}


def _link(
    rows: Rows,
    line: int,
    e: dict[str, Any],
    index: _Index,
    positions_made: set[str],
    schema: str,
) -> Iterator[RawRow]:
    eid, props = text(e.get("id")), _props(e)
    datasets = ", ".join(text(d) for d in e.get("datasets") or [] if text(d))
    ref = f"ftm:{eid}" + (f" ({datasets})" if datasets else "")
    since = period_start(text(props.get("startDate")))
    until = period_end(text(props.get("endDate")))
    base = {"since": since, "until": until, "source_ref": ref}
    first = {k: text(v) for k, v in props.items()}
    if schema == "Family":
        relationship = first.get("relationship", "")
        yield rows.link(line, {**base, "source": f"ftm:{first.get('person')}",
                               "target": f"ftm:{first.get('relative')}", "type": "FAMILY",
                               "role": kinship_role(relationship)})  # fmt: skip
    elif schema == "Associate":
        yield rows.link(line, {**base, "source": f"ftm:{first.get('person')}",
                               "target": f"ftm:{first.get('associate')}", "type": "ASSOCIATE",
                               "role": first.get("relationship")})  # fmt: skip
    elif schema == "Ownership":
        share = _percentage(props.get("percentage", []))
        yield rows.link(line, {**base, "source": f"ftm:{first.get('owner')}",
                               "target": f"ftm:{first.get('asset')}", "type": "OWNS",
                               "role": first.get("role"), "share": share})  # fmt: skip
    elif schema == "Control":
        kind = first.get("controlType") or first.get("role") or "control"
        yield rows.link(line, {**base, "source": f"ftm:{first.get('controller')}",
                               "target": f"ftm:{first.get('controlled')}", "type": "OWNS",
                               "role": kind})  # fmt: skip
    elif schema == "Directorship":
        director = first.get("director", "")
        if index.kind.get(director, Kind.PERSON) is not Kind.PERSON:
            why = f"ftm:{eid}: the director ftm:{director} is not a person (DIRECTS joins a "
            yield rows.note(line, "director", why + "person to a company); left out")
            return
        yield rows.link(line, {**base, "source": f"ftm:{director}",
                               "target": f"ftm:{first.get('organization')}", "type": "DIRECTS",
                               "role": first.get("role")})  # fmt: skip
    elif schema == "Employment":
        yield rows.link(line, {**base, "source": f"ftm:{first.get('employee')}",
                               "target": f"ftm:{first.get('employer')}", "type": "EMPLOYED",
                               "role": first.get("role")})  # fmt: skip
    elif schema == "Occupancy":
        post = first.get("post", "")
        name, organisation = index.position.get(post, ("", ""))
        target = organisation
        if not organisation:
            target = f"position:{post}"
            if post not in positions_made:
                positions_made.add(post)
                yield rows.entity(line, Kind.AGENCY, {"id": f"ftm:{target}",
                                                      "name": name or post})  # fmt: skip
        yield rows.link(line, {**base, "source": f"ftm:{first.get('holder')}",
                               "target": f"ftm:{target}", "type": "EMPLOYED",
                               "role": name})  # fmt: skip


def _percentage(values: list[Any]) -> float | None:
    for value in values:
        raw = text(value).replace("%", "").strip()
        low = raw.split("-")[0].split("–")[0]
        share = number(low)
        if share is not None and 0 < share <= 100:
            return share
    return None


def _award(rows: Rows, line: int, e: dict[str, Any], index: _Index) -> Iterator[RawRow]:
    eid, props = text(e.get("id")), _props(e)
    contract_id = text(props.get("contract"))
    contract = index.contract.get(contract_id, {})
    dates = [props.get(k, []) for k in ("date", "startDate")]
    dates += [contract.get(k, []) for k in ("contractDate", "date", "startDate")]
    signed = next((d for values in dates for v in values if (d := day(v))), None)
    amount = number(text(props.get("amount"))) or number(text(contract.get("amount")))
    data = {
        "id": f"ftm:{eid}",
        "buyer_id": f"ftm:{text(contract.get('authority'))}" if contract else "",
        "supplier_id": f"ftm:{text(props.get('supplier'))}",
        "signed_on": signed,
        "title": text(contract.get("title")) or text(e.get("caption")),
        "value": amount,
        "currency": text(props.get("currency")) or text(contract.get("currency")),
    }
    if not contract:
        yield rows.problem(line, "contract", f"ftm:{eid}: its contract "
                           f"ftm:{contract_id} is not in the file", data)  # fmt: skip
        return
    yield rows.entity(line, Kind.CONTRACT, data)
