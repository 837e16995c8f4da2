"""OCDS (Open Contracting Data Standard) 1.0 and 1.1 into cofi rows.

Reads release packages, record packages, bare releases and records, and JSON lines of any of
them, indented or compact.  Everything about one `ocid` in a file becomes one compiled release:
a record's `compiledRelease`, or else its (or the file's) releases compiled by the standard's
reference library, `ocdsmerge`, with the merge rules of the release schema of the data's OCDS
version (1.1.4 or 1.0.3, shipped in `cofi/schemas/ocds/`: nothing is fetched).  From it:

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

import json
import warnings
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

from ocdsmerge.exceptions import DuplicateIdValueWarning, InconsistentTypeError
from ocdsmerge.merge import CompiledRelease
from ocdsmerge.rules import get_merge_rules

from cofi.bundle import RawRow
from cofi.importers.common import Rows, day, identifier_columns, number, obj, text
from cofi.importers.jsonio import JsonProblem, json_package_items, two_passes
from cofi.resources import resource_dir
from cofi.vocab import Kind

PACKAGE_KEYS = ("records", "releases")
_RELEASE_SECTIONS = ("tender", "awards", "contracts")
_SKIPPED_AWARDS = ("pending", "cancelled", "unsuccessful")


def is_item(value: dict[str, Any]) -> bool:
    """A bare release or record (not a package)."""
    return "ocid" in value or "compiledRelease" in value or "versionedRelease" in value


def read(path: Path) -> Iterator[RawRow]:
    """The rows of an OCDS file; the releases of one ocid are compiled before any row is made,
    whatever the file's layout."""
    rows = Rows(path)
    first, items = two_passes(path, lambda: json_package_items(path, PACKAGE_KEYS, is_item))
    expected = Counter(_ocid(item) for _, item, _ in first if isinstance(item, dict))
    pending: dict[str, list[_Item]] = defaultdict(list)
    for line, item, package in items:
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
        pending[ocid].append(_Item(line, item, text(package.get("version"))))
        if len(pending[ocid]) >= expected.get(ocid, 1):
            yield from _compile_and_process(rows, ocid, pending.pop(ocid))
    for ocid, group in pending.items():  # fewer items than counted: the file changed meanwhile
        yield from _compile_and_process(rows, ocid, group)


class _Item(NamedTuple):
    line: int
    value: dict[str, Any]
    """A release or a record."""
    version: str
    """The `version` its package declares ('' when it came in none, or the package says none)."""


def _compile_and_process(rows: Rows, ocid: str, group: list[_Item]) -> Iterator[RawRow]:
    """The rows of one ocid's items: a record's compiled release, or its (or the file's)
    releases compiled by the merge rules of the OCDS version they are written in."""
    line = group[0].line
    version = _version(group)
    releases: list[tuple[int, dict[str, Any]]] = []
    for item in group:
        compiled = item.value.get("compiledRelease")
        if isinstance(compiled, dict):  # the publisher's own compilation stands for its record
            releases.append((item.line, compiled))
        elif "releases" in item.value and not any(k in item.value for k in _RELEASE_SECTIONS):
            full = [r for r in item.value["releases"] or []
                    if isinstance(r, dict) and _is_release(r)]  # fmt: skip
            if not full:
                yield rows.problem(item.line, "compiledRelease", (
                    "the record has no compiledRelease and its releases are links only "
                    "(url, date, tag): nothing to import without fetching them"))  # fmt: skip
                return
            releases += [(item.line, r) for r in full]
        else:
            releases.append((item.line, item.value))
    try:
        release, notes = compile_releases([r for _, r in releases], version)
    except InconsistentTypeError as exc:
        yield rows.problem(line, "releases", f"{ocid}: the releases cannot be compiled: {exc}")
        return
    for note in notes:
        yield rows.note(line, "releases", f"{ocid}: {note}")
    yield from _process(rows, line, ocid, release)


def _version(group: list[_Item]) -> str:
    """The OCDS version of one ocid's items: the one their package declares, else 1.1 when a
    release uses 1.1's `parties` or `buyer`, else 1.0 (a package without `version` is 1.0)."""
    declared = {item.version[:3] for item in group if item.version}
    if declared:
        return max(declared) if declared <= set(MERGE_SCHEMAS) else "1.1"
    for item in group:
        values = [item.value, *(r for r in item.value.get("releases") or [] if isinstance(r, dict))]
        if any("parties" in v or "buyer" in v for v in values):
            return "1.1"
    return "1.0"


MERGE_SCHEMAS = {"1.0": "release-schema-1__0__3.json", "1.1": "release-schema-1__1__4.json"}
"""The release schema whose merge rules compile each OCDS version (shipped in cofi/schemas)."""


@cache
def merge_rules(version: str) -> dict[tuple[str, ...], str]:
    """The merge rules (identifierMerge by default, wholeListMerge, omitWhenMerged) that the
    release schema of `version` ('1.0' or '1.1') declares, read by the standard's own library."""
    schema = resource_dir("schemas") / "ocds" / MERGE_SCHEMAS[version]
    rules: dict[tuple[str, ...], str] = get_merge_rules(json.loads(schema.read_text("utf-8")))
    return rules


def compile_releases(
    releases: list[dict[str, Any]], version: str = "1.1"
) -> tuple[dict[str, Any], list[str]]:
    """One ocid's releases compiled into one release, and remarks about them for the user.

    The standard's reference implementation (`ocdsmerge`) applies the rules: releases in date
    order, later values win, `null` removes a value, an omitted field keeps the last value,
    arrays of objects with an `id` are merged by it (identifierMerge) unless the schema says
    wholeListMerge (a later list replaces the whole list).  Raises InconsistentTypeError when
    one release has an object where another has an array.
    """
    if len(releases) == 1:  # its own compiled release: the rows read a `null` as absent
        return releases[0], []
    notes = [f"release {text(r.get('id'))!r} has no date: compiled as the earliest"
             for r in releases if not text(r.get("date"))]  # fmt: skip
    merged = CompiledRelease(merge_rules=merge_rules(version))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DuplicateIdValueWarning)
        for release in sorted(releases, key=_when):
            merged.append(release)
    notes += [f"{w.message} (the last one is kept)" for w in caught]
    return merged.asdict(), notes


def _when(release: dict[str, Any]) -> tuple[int, str]:
    """A release's place in date order: timestamps compared as instants (an offset counts)."""
    value = text(release.get("date"))
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return (0, value) if not value else (1, value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return 1, moment.astimezone(UTC).isoformat()


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


def _is_release(value: dict[str, Any]) -> bool:
    return any(k in value for k in (*_RELEASE_SECTIONS, "parties", "buyer"))


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
        party = ref
        if "id" in ref:  # the party's fields over the reference's (a `null` is no value)
            found = parties.get(str(ref.get("id")), {})
            party = {**ref, **{k: v for k, v in found.items() if v is not None}}
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
