"""OCDS (Open Contracting Data Standard) 1.0 and 1.1 into cofi rows.

Reads release packages, record packages, bare releases and records, and JSON lines of any of
them.  Everything about one `ocid` becomes one compiled release: a record's `compiledRelease`,
or else its (or the file's) releases merged in date order by the OCDS merge rules (objects field
by field, arrays of objects with an `id` element by element).  From it:

- the buyer (1.1 `buyer`, else 1.0 `tender.procuringEntity`) becomes an agency;
- each supplier of each award becomes a company;
- each contract of an award (`awardID`), or the award itself when it has none, becomes a contract
  per supplier of the award (a contract that names its own `suppliers`, a common extension, is
  theirs only), `signed_on` its `dateSigned` or else (with a warning) the award's `date`;
- identifiers (`identifier`, `additionalIdentifiers`: a KZ-BIN fills `bin`, another register
  number `registry_id`), the address and the contact point's phone and email are kept.

Ids are `<ocid>/<party id>` for organisations (per process: the register number merges one
organisation's records across processes and sources), `<ocid>/contract/<id>` or
`<ocid>/award/<id>` for contracts.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from cofi.bundle import RawRow
from cofi.importers.common import Rows, day, identifier_columns, number, obj, text
from cofi.importers.jsonio import JsonProblem, json_items, json_items_twice, json_lines_file
from cofi.vocab import Kind

PACKAGE_KEYS = ("records", "releases")
_SKIPPED_AWARDS = ("pending", "cancelled", "unsuccessful")
_OCID = re.compile(r'"ocid"\s*:\s*"((?:[^"\\]|\\.)*)"')


def is_item(value: dict[str, Any]) -> bool:
    """A bare release or record (not a package)."""
    return "ocid" in value or "compiledRelease" in value or "versionedRelease" in value


def read(path: Path) -> Iterator[RawRow]:
    """The rows of an OCDS file; releases of one ocid are merged before any row is made."""
    rows = Rows(path)
    if json_lines_file(path):  # count with a regular expression, decode once
        expected = _ocids_per_line(path)
        items: Iterable[tuple[int, Any]] = json_items(path, PACKAGE_KEYS, is_item)
    else:
        first, items = json_items_twice(path, PACKAGE_KEYS, is_item)
        expected = Counter(_ocid(item) for _, item in first if isinstance(item, dict))
    pending: dict[str, list[tuple[int, dict[str, Any]]]] = defaultdict(list)
    for line, item in items:
        if isinstance(item, JsonProblem):
            yield rows.problem(line, "row", str(item))
            continue
        if not isinstance(item, dict):
            yield rows.problem(line, "row", "not a JSON object")
            continue
        ocid = _ocid(item)
        if not ocid:
            yield rows.problem(line, "ocid", "required (no ocid in this release or record)")
            continue
        release, why = _compiled(item)
        if release is None:
            yield rows.problem(line, "compiledRelease", why)
            continue
        pending[ocid].append((line, release))
        if len(pending[ocid]) >= expected.get(ocid, 1):
            items = pending.pop(ocid)
            merged = _merge([r for _, r in items])
            yield from _process(rows, items[0][0], ocid, merged)
    for ocid, items in pending.items():  # fewer items than counted: the file changed meanwhile
        yield from _process(rows, items[0][0], ocid, _merge([r for _, r in items]))


def _ocids_per_line(path: Path) -> Counter[str]:
    """How many lines of a JSON-lines file each ocid starts (so its releases merge once)."""
    counts: Counter[str] = Counter()
    with path.open(encoding="utf-8-sig") as fh:
        for line in fh:
            if match := _OCID.search(line):
                counts[match.group(1)] += 1
    return counts


def _ocid(item: dict[str, Any]) -> str:
    if isinstance(item.get("ocid"), str):
        return str(item["ocid"])
    compiled = item.get("compiledRelease")
    if isinstance(compiled, dict) and isinstance(compiled.get("ocid"), str):
        return str(compiled["ocid"])
    for release in item.get("releases") or []:
        if isinstance(release, dict) and isinstance(release.get("ocid"), str):
            return str(release["ocid"])
    return ""


def _compiled(item: dict[str, Any]) -> tuple[dict[str, Any] | None, str]:
    """The release an item stands for (a record's compiled release), or None and why not."""
    compiled = item.get("compiledRelease")
    if isinstance(compiled, dict):
        return compiled, ""
    if "releases" in item and not any(k in item for k in ("tender", "awards", "contracts")):
        full = [r for r in item["releases"] or [] if isinstance(r, dict) and _is_release(r)]
        if not full:
            return None, (
                "the record has no compiledRelease and its releases are links only "
                "(url, date, tag): nothing to import without fetching them"
            )
        return _merge(full), ""
    return item, ""


def _is_release(value: dict[str, Any]) -> bool:
    return any(k in value for k in ("tender", "awards", "contracts", "parties", "buyer"))


def _merge(releases: list[dict[str, Any]]) -> dict[str, Any]:
    """Releases of one ocid compiled in date order (OCDS merge: later values win)."""
    if len(releases) == 1:
        return releases[0]
    out: dict[str, Any] = {}
    for release in sorted(releases, key=lambda r: text(r.get("date"))):
        out = _merge_value(out, release)
    return out


def _merge_value(old: Any, new: Any) -> Any:
    if isinstance(old, dict) and isinstance(new, dict):
        merged = dict(old)
        for key, value in new.items():
            merged[key] = _merge_value(old.get(key), value) if value is not None else None
        return {k: v for k, v in merged.items() if v is not None}
    if (
        isinstance(old, list)
        and isinstance(new, list)
        and all(isinstance(x, dict) and "id" in x for x in old + new)
    ):
        by_id = {str(x["id"]): x for x in old}
        for x in new:
            by_id[str(x["id"])] = _merge_value(by_id.get(str(x["id"])), x)
        return list(by_id.values())
    return new


def _process(rows: Rows, line: int, ocid: str, release: dict[str, Any]) -> Iterator[RawRow]:
    """The agency, companies and contracts of one compiled release."""
    parties = {
        str(p["id"]): p
        for p in release.get("parties") or []
        if isinstance(p, dict) and p.get("id") is not None
    }
    emitted: dict[str, str] = {}

    def organisation(ref: Any, kind: Kind) -> tuple[str, list[RawRow]]:
        """The id of the organisation `ref` names (made on first sight) and its row."""
        if not isinstance(ref, dict):
            return "", []
        party = {**ref, **parties.get(str(ref.get("id")), {})} if "id" in ref else ref
        key = text(party.get("id")) or _identifier_key(party) or text(party.get("name"))
        if not key:
            return "", []
        eid = f"{ocid}/{key}"
        if eid in emitted:
            return eid, []
        emitted[eid] = kind.value
        identifier = obj(party.get("identifier"))
        name = text(party.get("name")) or text(identifier.get("legalName"))
        data: dict[str, Any] = {"id": eid, "name": name, **_contact(party)}
        data.update(identifier_columns(kind, _identifiers(party)))
        return eid, [rows.entity(line, kind, data)]

    tender = obj(release.get("tender"))
    buyer_ref = release.get("buyer") or tender.get("procuringEntity")
    buyer_id, made = organisation(buyer_ref, Kind.AGENCY)
    yield from made
    contracts: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for contract in release.get("contracts") or []:
        if isinstance(contract, dict):
            contracts[text(contract.get("awardID"))].append(contract)
    for award in release.get("awards") or []:
        if not isinstance(award, dict):
            continue
        award_id = text(award.get("id"))
        status = text(award.get("status"))
        if status in _SKIPPED_AWARDS:
            yield rows.note(line, "awards", f"{ocid} award {award_id!r} is {status}: no contract")
            continue
        suppliers = [s for s in award.get("suppliers") or [] if isinstance(s, dict)]
        if not suppliers:
            yield rows.note(line, "awards", f"{ocid} award {award_id!r} names no supplier")
            continue
        if not buyer_id:
            yield rows.problem(
                line, "buyer", f"{ocid}: no buyer or tender.procuringEntity for award {award_id!r}"
            )
            continue
        matching: list[dict[str, Any] | None] = list(contracts.get(award_id, []))
        for contract in matching or [None]:
            # a contract that names its own supplier (Paraguay's DNCP does) is that supplier's
            own = obj(contract).get("suppliers")
            own = [own] if isinstance(own, dict) else [s for s in own or [] if isinstance(s, dict)]
            for n, supplier in enumerate(own or suppliers):
                supplier_id, made = organisation(supplier, Kind.COMPANY)
                yield from made
                yield _contract(rows, line, ocid, award, contract, n, buyer_id, supplier_id,
                                tender)  # fmt: skip


def _contract(
    rows: Rows,
    line: int,
    ocid: str,
    award: dict[str, Any],
    contract: dict[str, Any] | None,
    n: int,
    buyer_id: str,
    supplier_id: str,
    tender: dict[str, Any],
) -> RawRow:
    source = contract or award
    cid = (
        f"{ocid}/contract/{text(source.get('id'))}"
        if contract
        else (f"{ocid}/award/{text(award.get('id'))}")
    )
    if n:
        cid += f"/{n + 1}"
    notes: list[tuple[str, str]] = []
    signed = day(contract.get("dateSigned")) if contract else None
    if signed is None:
        signed = day(award.get("date"))
        if signed is not None:
            what = "the contract has no dateSigned" if contract else "the award has no contract"
            notes.append(("signed_on", f"{cid}: {what}; the award date {signed} is used"))
    value = obj(source.get("value"))
    if not value and isinstance(award.get("value"), dict):
        value = award["value"]
    amount = number(value.get("amount"))
    if value.get("amount") not in (None, "") and amount is None:
        notes.append(("value", f"{cid}: amount {value.get('amount')!r} is not a number; left out"))
    data = {
        "id": cid,
        "buyer_id": buyer_id,
        "supplier_id": supplier_id,
        "signed_on": signed,
        "title": text(source.get("title")) or text(award.get("title")) or text(tender.get("title")),
        "value": amount,
        "currency": text(value.get("currency")),
        "procedure": text(tender.get("procurementMethod")),
    }
    return rows.entity(line, Kind.CONTRACT, data, tuple(notes))


def _identifiers(party: dict[str, Any]) -> list[tuple[Any, Any]]:
    found = []
    for ident in [party.get("identifier"), *(party.get("additionalIdentifiers") or [])]:
        if isinstance(ident, dict):
            found.append((ident.get("scheme"), ident.get("id")))
    return found


def _identifier_key(party: dict[str, Any]) -> str:
    ident = party.get("identifier")
    if isinstance(ident, dict) and text(ident.get("id")):
        return f"{text(ident.get('scheme'))}-{text(ident.get('id'))}"
    return ""


def _contact(party: dict[str, Any]) -> dict[str, str]:
    address = obj(party.get("address"))
    parts = (text(address.get(k)) for k in
             ("streetAddress", "locality", "region", "postalCode", "countryName"))  # fmt: skip
    point = obj(party.get("contactPoint"))
    return {
        "address": ", ".join(p for p in parts if p),
        "phone": text(point.get("telephone")),
        "email": text(point.get("email")),
    }
