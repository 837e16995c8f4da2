"""OCDS releases compiled by the standard's merge rules: each rule as the OCDS documentation
("Merging", release schema 1.1 and 1.0) states it, every layout of one package giving the same
rows, and the false accusation a stale identifier made before."""

from __future__ import annotations

import copy
import json
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from cofi.importers import ocds
from cofi.importers.ocds import compile_releases
from tests.conftest import snapshot, write_bundle

REFERENCE = Path(__file__).parent / "fixtures" / "ocds-merge"


def release(rid: str, date: str, **more: Any) -> dict[str, Any]:
    return {"ocid": "ocds-t-1", "id": rid, "date": date, "tag": ["tender"], **more}


# -- the merge rules, from the OCDS documentation ---------------------------------------------


def test_whole_list_merge_array_is_replaced_by_a_later_list() -> None:
    """1.1: `additionalIdentifiers` is wholeListMerge: the later release's list is the list."""
    first = release("1", "2025-01-01", parties=[
        {"id": "S", "name": "Dala", "additionalIdentifiers": [{"scheme": "GB-COH", "id": "1"},
                                                              {"scheme": "GB-COH", "id": "2"}]}])  # fmt: skip
    later = release("2", "2025-02-01", parties=[
        {"id": "S", "additionalIdentifiers": [{"scheme": "GB-COH", "id": "3"}]}])  # fmt: skip
    compiled, notes = compile_releases([later, first], "1.1")
    assert compiled["parties"] == [
        {"id": "S", "name": "Dala", "additionalIdentifiers": [{"scheme": "GB-COH", "id": "3"}]}
    ]
    assert notes == []


def test_identifier_merge_array_is_merged_by_id() -> None:
    """Arrays of objects with an `id` (awards, parties) are merged object by object."""
    first = release("1", "2025-01-01", awards=[{"id": "A1", "status": "pending", "title": "Road"}])
    later = release("2", "2025-02-01", awards=[{"id": "A1", "status": "active"},
                                               {"id": "A2", "status": "active"}])  # fmt: skip
    compiled, _ = compile_releases([first, later], "1.1")
    assert compiled["awards"] == [{"id": "A1", "status": "active", "title": "Road"},
                                  {"id": "A2", "status": "active"}]  # fmt: skip


def test_null_removes_a_value_and_an_omitted_field_is_kept() -> None:
    first = release("1", "2025-01-01", tender={"id": "T", "title": "Road", "status": "active"},
                    buyer={"id": "B", "name": "Akimat"})  # fmt: skip
    later = release("2", "2025-02-01", tender={"id": "T", "title": None})
    compiled, _ = compile_releases([first, later], "1.1")
    assert compiled["tender"] == {"id": "T", "status": "active"}  # title gone, status kept
    assert compiled["buyer"] == {"id": "B", "name": "Akimat"}  # omitted in the later release


def test_releases_are_compiled_in_date_order_with_offsets_compared_as_instants() -> None:
    # 09:00+05:00 is 04:00 UTC: before 05:00Z, though its text sorts after it
    early = release("1", "2025-01-01T09:00:00+05:00", tender={"id": "T", "title": "early"})
    late = release("2", "2025-01-01T05:00:00Z", tender={"id": "T", "title": "late"})
    compiled, _ = compile_releases([late, early], "1.1")
    assert compiled["tender"]["title"] == "late"


def test_ocds_1_0_replaces_an_awards_suppliers_where_1_1_merges_them_by_id() -> None:
    """In 1.0 `awards.suppliers` is wholeListMerge (Organization has no `id`); in 1.1 a supplier
    is an OrganizationReference with an `id`, merged by it."""
    first = release(
        "1", "2025-01-01", awards=[{"id": "A", "suppliers": [{"id": "S1", "name": "One"}]}]
    )
    later = release(
        "2", "2025-02-01", awards=[{"id": "A", "suppliers": [{"id": "S2", "name": "Two"}]}]
    )
    old, _ = compile_releases([first, later], "1.0")
    new, _ = compile_releases([first, later], "1.1")
    assert [s["id"] for s in old["awards"][0]["suppliers"]] == ["S2"]
    assert [s["id"] for s in new["awards"][0]["suppliers"]] == ["S1", "S2"]


def test_two_objects_with_one_id_in_a_release_keep_the_last_and_say_so() -> None:
    one = release("1", "2025-01-01", awards=[{"id": "A", "title": "x"}, {"id": "A", "title": "y"}])
    two = release("2", "2025-02-01", tender={"id": "T"})
    compiled, notes = compile_releases([one, two], "1.1")
    assert compiled["awards"] == [{"id": "A", "title": "y"}]
    assert notes == ["Multiple objects have the `id` value 'A' in the `awards` array "
                     "(the last one is kept)"]  # fmt: skip


def test_the_rules_come_from_the_shipped_schema_without_the_network(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_network(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the OCDS merge tried to reach the network")

    monkeypatch.setattr(socket, "socket", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    ocds.merge_rules.cache_clear()
    try:
        assert ocds.merge_rules("1.1")[("parties", "additionalIdentifiers")] == "wholeListMerge"
        assert ocds.merge_rules("1.0")[("awards", "suppliers")] == "wholeListMerge"
        assert ("parties", "additionalIdentifiers") not in ocds.merge_rules("1.0")  # no parties
    finally:
        ocds.merge_rules.cache_clear()


@pytest.mark.parametrize("case", sorted(p.name for p in REFERENCE.glob("1.*/*.json")
                                        if not p.name.endswith("-compiled.json")))  # fmt: skip
def test_the_reference_librarys_own_cases_compile_alike(case: str) -> None:
    """The multi-release cases of open-contracting/ocds-merge's test suite (tests/fixtures,
    BSD-3), compiled with the OCDS version cofi detects from the releases themselves."""
    (path,) = [p for p in REFERENCE.glob(f"1.*/{case}")]
    releases = json.loads(path.read_text(encoding="utf-8"))
    expected = json.loads(path.with_name(case.replace(".json", "-compiled.json")).read_text())
    items = [ocds._Item(1, r, "") for r in releases]
    assert ocds._version(items) == path.parent.name or path.parent.name == "1.1"
    compiled, _ = compile_releases(releases, ocds._version(items))
    assert compiled == expected


# -- layouts: one package, any shape ---------------------------------------------------------


def two_releases() -> list[dict[str, Any]]:
    party = {"id": "S", "name": "Dala Build Ltd", "roles": ["supplier"],
             "additionalIdentifiers": [{"scheme": "GB-COH", "id": "06400001"}]}  # fmt: skip
    buyer = {"id": "B", "name": "City Council", "roles": ["buyer"],
             "identifier": {"scheme": "GB-GOR", "id": "E0001"}}  # fmt: skip
    first = release("1", "2025-01-10T00:00:00Z", parties=[buyer, party],
                    buyer={"id": "B", "name": "City Council"},
                    tender={"id": "T", "title": "Bridge repair"})  # fmt: skip
    moved = {**party, "additionalIdentifiers": [{"scheme": "GB-COH", "id": "06400002"}]}
    later = release("2", "2025-03-05T00:00:00Z", parties=[buyer, moved], tag=["award", "contract"],
                    awards=[{"id": "A1", "date": "2025-03-01", "status": "active",
                             "suppliers": [{"id": "S", "name": "Dala Build Ltd"}]}],
                    contracts=[{"id": "C1", "awardID": "A1", "dateSigned": "2025-03-04",
                                "value": {"amount": 900000, "currency": "GBP"}}])  # fmt: skip
    return [first, later]


def layouts(directory: Path) -> dict[str, Path]:
    releases = two_releases()
    package = {"uri": "https://example.org/p", "version": "1.1", "publishedDate": "2025-03-05",
               "releases": releases}  # fmt: skip
    record_package = {"version": "1.1", "records": [{"ocid": "ocds-t-1", "releases": releases}]}
    texts = {
        "indented.json": json.dumps(package, indent=2),
        "compact.json": json.dumps(package, separators=(",", ":")),
        "lines.jsonl": "".join(json.dumps(r) + "\n" for r in releases),
        "packages.jsonl": "".join(
            json.dumps({**package, "releases": [r]}) + "\n" for r in reversed(releases)
        ),
        "records.json": json.dumps(record_package, indent=1),
        "array.json": json.dumps(releases),
    }
    out = {}
    for name, text in texts.items():
        out[name] = directory / name
        out[name].write_text(text, encoding="utf-8")
    return out


def rows_of(path: Path) -> list[tuple[str, dict[str, Any], Any, Any]]:
    return [(r.kind, r.data, r.problem and r.problem.reason, r.notes) for r in ocds.read(path)]


def test_every_layout_of_one_package_gives_the_same_rows(tmp_path: Path) -> None:
    found = {name: rows_of(path) for name, path in layouts(tmp_path).items()}
    expected = found["indented.json"]
    kinds = sorted(kind for kind, *_ in expected)
    assert kinds == ["agency", "company", "contract"]  # the supplier once, compiled
    (company,) = [data for kind, data, *_ in expected if kind == "company"]
    assert company["registry_id"] == "GB-COH:06400002"  # the later list replaced the first
    for name, rows in found.items():
        assert rows == expected, name


def test_a_compact_one_line_package_loads(run: Callable[..., Result], tmp_path: Path) -> None:
    path = layouts(tmp_path)["compact.json"]
    result = run("load", str(path))
    assert result.exit_code == 0, result.output
    assert "read 3 row(s): 3 entities created" in result.stdout


def test_a_conflicting_id_on_one_line_names_the_place(
    run: Callable[..., Result], tmp_path: Path
) -> None:
    """Two statements with one id and different fields, both on line 1 of a compact file: the
    message names the other place, not an empty list."""
    path = tmp_path / "one-line.json"
    path.write_text(json.dumps([
        {"statementID": "e1", "statementType": "entityStatement", "name": "Dala"},
        {"statementID": "e1", "statementType": "entityStatement", "name": "Dala Build"},
    ]), encoding="utf-8")  # fmt: skip
    result = run("load", str(path))
    assert result.exit_code == 1
    assert (f"{path}:1: id: id 'bods:e1' appears with conflicting fields at {path}:1 "
            "(another item on the same line)") in result.stderr  # fmt: skip
    assert "conflicting fields at \n" not in result.stderr
    assert snapshot(tmp_path / "store") is None


# -- a stale identifier must not accuse anyone ------------------------------------------------


def official_owning(directory: Path, registry_id: str, contract_id: str) -> Path:
    """A bundle: the chair of the contract owns all of a company registered as `registry_id`."""
    return write_bundle(directory, {
        "person": [{"id": "P1", "name": "Marat Chair"}],
        "company": [{"id": "CO1", "name": "Dala Build Limited", "registry_id": registry_id}],
        "link": [{"source": "P1", "target": "CO1", "type": "OWNS", "share": "100"},
                 {"source": "P1", "target": contract_id, "type": "DECIDED", "role": "chair"}],
    })  # fmt: skip


def bods_official_owning(path: Path, registry_number: str) -> Path:
    path.write_text(json.dumps({"statements": [
        {"statementID": "p1", "statementType": "personStatement", "personType": "knownPerson",
         "names": [{"fullName": "Marat Chair"}]},
        {"statementID": "e1", "statementType": "entityStatement", "entityType": "registeredEntity",
         "name": "Dala Build Limited", "identifiers": [{"scheme": "GB-COH", "id": registry_number}]},
        {"statementID": "o1", "statementType": "ownershipOrControlStatement",
         "subject": {"describedByEntityStatement": "e1"},
         "interestedParty": {"describedByPersonStatement": "p1"},
         "interests": [{"type": "shareholding", "share": {"exact": 100}}]},
    ]}), encoding="utf-8")  # fmt: skip
    return path


def findings(run: Callable[..., Result], contract_id: str) -> list[dict[str, Any]]:
    result = run("check", contract_id, "--format", "jsonl")
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines()]


@pytest.mark.parametrize("register", ["bundle", "bods"])
@pytest.mark.parametrize("keeps_number", [False, True])
def test_a_withdrawn_identifier_makes_no_finding(
    run: Callable[..., Result], tmp_path: Path, register: str, keeps_number: bool
) -> None:
    """The award release replaces the supplier's identifier list; the register holds another
    company under the withdrawn number, owned by the chair.  Only the control (the later
    release keeps the number) is a finding."""
    releases = two_releases()
    if keeps_number:
        releases[1]["parties"][1] = copy.deepcopy(releases[0]["parties"][1])
    package = tmp_path / "package.json"
    package.write_text(json.dumps({"version": "1.1", "releases": releases}), encoding="utf-8")
    contract = "ocds-t-1/contract/C1"
    assert run("load", str(package)).exit_code == 0
    if register == "bundle":
        loaded = run(
            "load", str(official_owning(tmp_path / "register", "GB-COH:06400001", contract))
        )
    else:
        bods = bods_official_owning(tmp_path / "register.json", "06400001")
        decided = write_bundle(tmp_path / "decided", {"link": [
            {"source": "bods:p1", "target": contract, "type": "DECIDED", "role": "chair"}]})  # fmt: skip
        loaded = run("load", str(bods), str(decided))
    assert loaded.exit_code == 0, loaded.output
    found = findings(run, contract)
    if not keeps_number:
        assert found == []
        return
    (finding,) = found
    assert finding["pattern"] == "SELF_DEALING" and finding["winner_id"] == "ocds-t-1/S"
    assert "owns 100% of Dala Build Limited" in finding["explanation"]
