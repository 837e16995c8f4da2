"""OCDS, BODS and FollowTheMoney files into the store: the real published files, and the cases
that decide a mapping (merging by ocid, the award-date fallback, register identifiers, a path
across all three formats)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from cofi.importers import input_files, sniff
from cofi.importers.ftm import kinship_role
from cofi.normalize import registry_key
from cofi.resources import resource_dir
from cofi.synth.kazakh import with_check_digit
from tests.conftest import snapshot, write_bundle

REAL = resource_dir("fixtures") / "realdata"
SHARED = Path(__file__).resolve().parents[2] / "shared" / "realdata"


def shared(relative: str) -> Path:
    path = SHARED / relative
    if not path.exists():
        pytest.skip(f"{path} is absent (the non-open real files stay in ../shared/realdata)")
    return path


def stats(run: Callable[..., Result]) -> dict[str, Any]:
    result = run("stats", "--json")
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def ok(result: Result) -> Result:
    assert result.exit_code == 0, result.output
    return result


def write_jsonl(path: Path, items: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(i, ensure_ascii=False) + "\n" for i in items), "utf-8")
    return path


# -- the real files ------------------------------------------------------------------------------


def test_prozorro_records_and_releases_load_strictly_and_reload_as_no_change(
    run: Callable[..., Result],
) -> None:
    result = ok(run("load", str(REAL / "ua-prozorro" / "records")))
    assert "read 19 row(s): 19 entities created" in result.stdout
    # one contract has no dateSigned: the award date stands in, and the user is told
    assert "the contract has no dateSigned; the award date 2017-01-13 is used" in result.stderr
    assert "is unsuccessful: no contract" in result.stderr
    counts = stats(run)["entities"]
    assert counts == {"agency": 7, "company": 6, "contract": 6}
    assert "nothing changed" in ok(run("load", str(REAL / "ua-prozorro" / "records"))).stdout
    # the same tenders as bare releases (no parties): the same ids, nothing new
    result = ok(run("load", "--format", "ocds", str(REAL / "ua-prozorro" / "releases")))
    assert stats(run)["entities"]["contract"] == 6
    hits = json.loads(ok(run("search", "ОКСИМЕД", "--json")).stdout.splitlines()[0])
    assert hits["kind"] == "company"


def test_paraguay_ocds_1_0_reports_the_broken_files_and_loads_the_rest(
    run: Callable[..., Result], tmp_path: Path
) -> None:
    folder = str(REAL / "py-dncp")
    result = run("load", folder)
    assert result.exit_code == 1
    assert f"{REAL / 'py-dncp' / '283826.json'}:1: file: the file is empty" in result.stderr
    assert "284437.json:15: compiledRelease: the record has no compiledRelease and its " in (
        result.stderr
    )
    assert snapshot(tmp_path / "store") is None  # nothing written
    result = ok(run("load", folder, "--skip-invalid", "--rejects", str(tmp_path / "rej.jsonl")))
    assert "2 invalid row(s) skipped" in result.stderr
    counts = stats(run)["entities"]
    # 1.0: the buyer is tender.procuringEntity, suppliers only inside awards
    assert counts["agency"] == 2 and counts["contract"] == 5 and counts["company"] >= 4
    contract = json.loads(ok(run("search", "RIEDER", "--json")).stdout.splitlines()[0])
    assert contract["kind"] == "company"


def test_bods_0_4_state_owned_chain(run: Callable[..., Result]) -> None:
    ok(run("load", str(REAL / "bods-package-fi-soe.json")))
    data = stats(run)
    assert data["entities"] == {"company": 4} and data["links"] == {"OWNS": 5}
    paths = [json.loads(x) for x in ok(run("path", "bods:0199c515a699", "bods:19f1c5afe9d7",
                                           "--json")).stdout.splitlines()]  # fmt: skip
    assert paths[0]["path"][1]["share"] == 76.5 and paths[0]["path"][1]["role"] == "shareholding"


def test_bods_uk_psc_register_identifiers_match_with_or_without_leading_zeros(
    run: Callable[..., Result], tmp_path: Path
) -> None:
    result = ok(run("load", str(REAL / "oo-register-aimia-real.json")))
    assert "the interested party is unspecified; no link" in result.stderr
    assert stats(run)["entities"] == {"company": 3}
    # an OCDS award to the same company, its number written without the leading zero
    release = {"ocid": "ocds-test-1", "id": "1", "date": "2024-01-10",
               "buyer": {"id": "b", "name": "Council", "identifier": {"scheme": "GB-GOR",
                                                                      "id": "E123"}},
               "awards": [{"id": "a", "date": "2024-01-10", "suppliers": [
                   {"id": "s", "name": "Aimia Holdings UK Ltd",
                    "identifier": {"scheme": "GB-COH", "id": "6436883"}}]}]}  # fmt: skip
    ok(run("load", str(write_jsonl(tmp_path / "award.jsonl", [release]))))
    lines = ok(run("path", "bods:openownership-register-4464213138928640503",
                   "ocds-test-1/s", "--json")).stdout.splitlines()  # fmt: skip
    assert json.loads(lines[0])["hops"] == 1  # the owner of the register's record owns the winner


def test_gleif_bods_dangling_references_are_reported(run: Callable[..., Result]) -> None:
    folder = shared("bods/oo-gleif")
    result = run("load", str(folder))
    assert result.exit_code == 1
    assert "rr-data-out.json:2: source: unknown id 'bods:97e2090a" in result.stderr
    assert result.stderr.count("unknown id") == 20  # 10 relationships, both ends missing
    result = ok(run("load", str(folder), "--skip-invalid"))
    assert "stands for no one known" in result.stderr
    data = stats(run)
    assert data["entities"] == {"company": 17}  # 5 + 12 GLEIF entities; 4 unknown not imported
    assert data["links"]["OWNS"] == 11


@pytest.mark.parametrize("name", ["opensanctions-zala.entities.ftm.jsonl",
                                  "opensanctions-t1.entities.ftm.jsonl"])  # fmt: skip
def test_opensanctions_ftm_exports_load(run: Callable[..., Result], name: str) -> None:
    path = shared(f"ftm/{name}")
    result = ok(run("load", str(path)))
    data = stats(run)
    if name.startswith("opensanctions-zala"):
        assert data["entities"] == {"company": 11, "person": 6}
        assert data["links"]["FAMILY"] == 4 and data["links"]["DIRECTS"] == 3
        assert "not imported: 1 Passport, 41 Sanction" in result.stderr
        assert "repeats the link read at line" in result.stderr
    else:
        assert data["entities"] == {"company": 2, "person": 4}
    assert "nothing changed" in ok(run("load", str(path))).stdout


def test_every_real_file_is_told_apart_by_its_content() -> None:
    assert {f.format for f in input_files([REAL / "ua-prozorro"])} == {"ocds"}
    assert sniff(REAL / "bods-package-fi-soe.json") == "bods"
    assert sniff(REAL / "oo-register-aimia-real.json") == "bods"
    assert sniff(REAL / "py-dncp" / "283826.json") == ""  # empty
    assert input_files([resource_dir("fixtures") / "demo"])[0].format == "bundle"


# -- mappings ------------------------------------------------------------------------------------


def _release(rid: str, date: str, **more: Any) -> dict[str, Any]:
    return {"ocid": "ocds-x-1", "id": rid, "date": date,
            "parties": [{"id": "B", "name": "Әкімдік", "roles": ["buyer"],
                         "identifier": {"scheme": "KZ-BIN", "id": BIN_BUYER}},
                        {"id": "S", "name": "ТОО «Дала Строй»", "roles": ["supplier"],
                         "identifier": {"scheme": "KZ-BIN", "id": BIN_WINNER},
                         "contactPoint": {"telephone": "+7 701 111 22 33"}}],
            "buyer": {"id": "B", "name": "Әкімдік"}, **more}  # fmt: skip


BIN_BUYER = with_check_digit("990340001", 23)
BIN_WINNER = with_check_digit("120440004", 56)
IIN_OFFICIAL = with_check_digit("750101300", 12)
IIN_SPOUSE = with_check_digit("770202400", 34)


def test_releases_of_one_ocid_are_merged_in_date_order(
    run: Callable[..., Result], tmp_path: Path
) -> None:
    award = {"id": "A1", "date": "2025-03-01", "status": "active",
             "suppliers": [{"id": "S", "name": "ТОО «Дала Строй»"}],
             "value": {"amount": 1000, "currency": "KZT"}}  # fmt: skip
    later = _release("2", "2025-03-05", awards=[award], contracts=[
        {"id": "C1", "awardID": "A1", "dateSigned": "2025-03-04T10:00:00+05:00",
         "value": {"amount": 12_400_000, "currency": "KZT"}}])  # fmt: skip
    first = _release("1", "2025-01-10", tender={"id": "T", "title": "Жол жөндеу"})
    package = {"uri": "x", "releases": [later, first]}  # out of date order on purpose
    path = tmp_path / "package.json"
    path.write_text(json.dumps(package, ensure_ascii=False, indent=2), encoding="utf-8")
    result = ok(run("load", str(path)))
    assert "read 3 row(s): 3 entities created" in result.stdout  # agency, company, contract once
    found = json.loads(ok(run("search", "Жол жөндеу", "--json")).stdout.splitlines()[0])
    assert found["id"] == "ocds-x-1/contract/C1"


def test_an_invalid_release_names_its_line_and_writes_nothing(
    run: Callable[..., Result], tmp_path: Path
) -> None:
    good = _release("1", "2025-01-10", awards=[{"id": "A", "date": "2025-02-01",
                                                "suppliers": [{"id": "S"}]}])  # fmt: skip
    nameless = json.loads(json.dumps(good))
    nameless["ocid"] = "ocds-x-2"
    nameless["parties"][1].pop("name")
    path = write_jsonl(tmp_path / "r.jsonl", [good, nameless])
    result = run("load", str(path))
    assert result.exit_code == 1
    assert f"{path}:2: name: required" in result.stderr
    assert f"{path}:2: supplier_id: refers to 'ocds-x-2/S', whose row is invalid" in result.stderr
    assert snapshot(tmp_path / "store") is None


def test_kinship_words_become_family_roles() -> None:
    assert [kinship_role(w) for w in ("wife", "Son", "daughter-in-law", "mother", "жена",
                                      "Family member of", "for some reason")] == [
        "spouse", "child", "child_in_law", "parent", "spouse", "other", "other"]  # fmt: skip
    assert registry_key("GB-COH: 06436883") == registry_key("gb-coh:6436883") == "GB-COH:6436883"
    assert registry_key("06436883") is None


def test_a_path_across_ftm_bods_and_ocds_yields_the_finding(
    run: Callable[..., Result], tmp_path: Path
) -> None:
    """The official and his wife from FtM (PEP data), her stake from a BODS register, the award
    from OCDS: one company by BIN, one wife by IIN, one agency by BIN."""
    ftm = write_jsonl(tmp_path / "pep.ftm.jsonl", [
        {"id": "off", "schema": "Person", "properties": {
            "name": ["Нұрлан Сәрсенов"], "taxNumber": [IIN_OFFICIAL], "country": ["kz"]}},
        {"id": "wife", "schema": "Person", "properties": {
            "name": ["Айгүл Сәрсенова"], "taxNumber": [IIN_SPOUSE], "country": ["kz"]}},
        {"id": "akimat", "schema": "PublicBody", "properties": {
            "name": ["Әкімдік"], "taxNumber": [BIN_BUYER], "jurisdiction": ["kz"]}},
        {"id": "fam", "schema": "Family", "properties": {
            "person": ["off"], "relative": ["wife"], "relationship": ["wife"]}},
        {"id": "job", "schema": "Employment", "properties": {
            "employee": ["off"], "employer": ["akimat"], "role": ["head"],
            "startDate": ["2020"]}},
    ])  # fmt: skip
    bods = tmp_path / "register.json"
    bods.write_text(json.dumps([
        {"statementID": "p1", "statementType": "personStatement", "personType": "knownPerson",
         "names": [{"fullName": "Сәрсенова Айгүл"}],
         "identifiers": [{"scheme": "KZ-IIN", "id": IIN_SPOUSE}]},
        {"statementID": "e1", "statementType": "entityStatement", "entityType": "registeredEntity",
         "name": "ТОО «Дала Строй»", "identifiers": [{"scheme": "KZ-BIN", "id": BIN_WINNER}]},
        {"statementID": "o1", "statementType": "ownershipOrControlStatement",
         "subject": {"describedByEntityStatement": "e1"},
         "interestedParty": {"describedByPersonStatement": "p1"},
         "interests": [{"type": "shareholding", "share": {"exact": 60}, "startDate": "2021-05-01"}]},
    ], ensure_ascii=False, indent=1), encoding="utf-8")  # fmt: skip
    award = {"id": "A1", "date": "2025-03-01", "suppliers": [{"id": "S"}]}
    contract = {"id": "C1", "awardID": "A1", "dateSigned": "2025-03-04",
                "value": {"amount": 12_400_000, "currency": "KZT"}}  # fmt: skip
    ocds = write_jsonl(
        tmp_path / "award.jsonl",
        [_release("1", "2025-03-05", awards=[award], contracts=[contract])],
    )
    ok(run("load", str(ftm), str(bods), str(ocds)))
    (finding,) = [
        json.loads(x)
        for x in ok(run("check", "ocds-x-1/contract/C1", "--format", "jsonl")).stdout.splitlines()
    ]
    assert (finding["decision_maker_id"], finding["decision_role"]) == ("ftm:off", "head")
    assert finding["winner_id"] == "ocds-x-1/S" and finding["pattern"] == "FAMILY"
    assert [n["id"] for n in finding["path"][::2]] == ["ftm:off", "bods:p1", "ocds-x-1/S"]
    assert [e["type"] for e in finding["path"][1::2]] == ["FAMILY", "OWNS"]
    assert finding["path"][3]["share"] == 60


def test_ftm_positions_associates_and_contract_awards(
    run: Callable[..., Result], tmp_path: Path
) -> None:
    path = write_jsonl(tmp_path / "more.ftm.jsonl", [
        {"id": "min", "schema": "Person", "properties": {"name": ["Ерлан Жақсылықов"],
                                                         "birthDate": ["1970"]}},
        {"id": "friend", "schema": "Person", "properties": {"name": ["Бауыржан Омаров"]}},
        {"id": "ministry", "schema": "Organization", "properties": {"name": ["Министрлік"]}},
        {"id": "co", "schema": "Company", "properties": {"name": ["ТОО «Береке»"],
                                                         "leiCode": ["5493001KJTIIGC8Y1R12"]}},
        {"id": "pos1", "schema": "Position", "properties": {"name": ["Minister of Energy"],
                                                            "organization": ["ministry"]}},
        {"id": "pos2", "schema": "Position", "properties": {"name": ["Member of Parliament"]}},
        {"id": "occ1", "schema": "Occupancy", "properties": {"holder": ["min"], "post": ["pos1"],
                                                             "startDate": ["2021-03"]}},
        {"id": "occ2", "schema": "Occupancy", "properties": {"holder": ["min"], "post": ["pos2"],
                                                             "endDate": ["2020"]}},
        {"id": "as", "schema": "Associate", "properties": {"person": ["min"],
                                                           "associate": ["friend"],
                                                           "relationship": ["business partner"]}},
        {"id": "own", "schema": "Ownership", "properties": {"owner": ["friend"], "asset": ["co"],
                                                            "percentage": ["40-50%"]}},
        {"id": "k", "schema": "Contract", "properties": {"authority": ["ministry"],
                                                         "title": ["Электр желілері"],
                                                         "amount": ["5000000"],
                                                         "currency": ["KZT"]}},
        {"id": "aw", "schema": "ContractAward", "properties": {"contract": ["k"],
                                                               "supplier": ["co"],
                                                               "date": ["2024-05-06"]}},
        {"id": "s1", "schema": "Sanction", "properties": {"entity": ["co"]}},
    ])  # fmt: skip
    result = ok(run("load", str(path)))
    assert "'1970' is not a full date; left out" in result.stderr
    assert "not imported: 1 Sanction" in result.stderr
    data = stats(run)
    # the contract's authority is an agency; the parliament seat became an agency of its own
    assert data["entities"] == {"agency": 2, "company": 1, "contract": 1, "person": 2}
    assert data["links"] == {"ASSOCIATE": 1, "EMPLOYED": 2, "OWNS": 1}
    (line,) = ok(run("path", "ftm:min", "ftm:co", "--json")).stdout.splitlines()
    found = json.loads(line)
    assert [e["type"] for e in found["path"][1::2]] == ["ASSOCIATE", "OWNS"]
    assert found["path"][1]["role"] == "business partner" and found["path"][3]["share"] == 40
    result = run("check", "ftm:aw")  # the minister is not its decider: no finding, no error
    assert result.exit_code == 0 and "no related-party path for contract ftm:aw" in result.stderr
    hit = json.loads(ok(run("search", "Member of Parliament", "--json")).stdout.splitlines()[0])
    assert (hit["id"], hit["kind"]) == ("ftm:position:pos2", "agency")


@pytest.mark.parametrize("name", ["py-dncp/277004.json", "py-dncp/274231.json",
                                  "bods-package-fi-soe.json", "oo-register-aimia-real.json"])  # fmt: skip
def test_a_large_document_is_streamed_to_the_same_items_and_lines(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Packages past STREAM_BYTES are decoded item by item from a sliding buffer (constant
    memory); forced on these small files, the items and their lines are the whole-file ones."""
    from cofi.importers import jsonio

    path = REAL / name
    keys = ("records", "releases", "statements")

    def whole() -> list[tuple[int, Any]]:
        return list(jsonio.json_items(path, keys, lambda d: False))

    expected = whole()
    monkeypatch.setattr(jsonio, "STREAM_BYTES", 0)
    monkeypatch.setattr(jsonio, "_CHUNK", 97)  # a tiny buffer: values cut at every edge
    assert whole() == expected and len(expected) >= 1


def test_a_broken_large_document_is_reported_at_its_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cofi.importers import jsonio

    path = tmp_path / "broken.json"
    path.write_text('{"statements": [\n {"statementID": "a"},\n {"statementID": "b",,}\n]}\n',
                    encoding="utf-8")  # fmt: skip
    monkeypatch.setattr(jsonio, "STREAM_BYTES", 0)
    items = list(jsonio.json_items(path, ("statements",), lambda d: False))
    assert items[0] == (2, {"statementID": "a"})
    line, problem = items[1]
    assert line == 3 and isinstance(problem, jsonio.JsonProblem) and "not JSON" in problem


def test_bods_indirect_interest_stays_indirect_with_its_chain(run: Callable[..., Result]) -> None:
    """The Finnish state-owned example: the Republic owns Gasgrid indirectly (a statement that
    summarises its component chain); the link says so, and so does every explanation."""
    ok(run("load", str(REAL / "bods-package-fi-soe.json")))
    (first, *_) = [json.loads(x) for x in ok(run("path", "bods:05ce06ec97b1", "bods:19f1c5afe9d7",
                                                 "--json")).stdout.splitlines()]  # fmt: skip
    assert first["hops"] == 1
    assert first["path"][1]["role"] == (
        "shareholding (indirect, through Valtiovarainministerio, Suomen Kaasuverkko Oy)"
    )
    assert first["explanation"] == (
        "Suomen tasavalta indirectly owns 100% of Gasgrid Finland Oy (through "
        "Valtiovarainministerio, Suomen Kaasuverkko Oy; since 2020-01-01)"
    )
    # a direct component keeps its plain wording
    direct = ok(run("path", "bods:0199c515a699", "bods:19f1c5afe9d7", "--json")).stdout
    assert json.loads(direct.splitlines()[0])["path"][1]["role"] == "shareholding"


@pytest.mark.parametrize("listed", [True, False])
def test_a_finding_through_a_bods_0_3_indirect_holding_says_indirectly(
    run: Callable[..., Result], tmp_path: Path, listed: bool
) -> None:
    statements: list[dict[str, Any]] = [
        {"statementID": "p1", "statementType": "personStatement", "personType": "knownPerson",
         "names": [{"fullName": "Marat Chair"}]},
        {"statementID": "h", "statementType": "entityStatement", "entityType": "registeredEntity",
         "name": "Holding LLP"},
        {"statementID": "w", "statementType": "entityStatement", "entityType": "registeredEntity",
         "name": "Winner LLP"},
        {"statementID": "o1", "statementType": "ownershipOrControlStatement", "isComponent": True,
         "subject": {"describedByEntityStatement": "h"},
         "interestedParty": {"describedByPersonStatement": "p1"},
         "interests": [{"type": "shareholding", "interestLevel": "direct", "share": {"exact": 100}}]},
        {"statementID": "o2", "statementType": "ownershipOrControlStatement", "isComponent": True,
         "subject": {"describedByEntityStatement": "w"},
         "interestedParty": {"describedByEntityStatement": "h"},
         "interests": [{"type": "shareholding", "interestLevel": "direct", "share": {"exact": 60}}]},
        {"statementID": "o3", "statementType": "ownershipOrControlStatement",
         "subject": {"describedByEntityStatement": "w"},
         "interestedParty": {"describedByPersonStatement": "p1"},
         "componentStatementIDs": ["o1", "o2"],
         "interests": [{"type": "shareholding", "interestLevel": "indirect",
                        "share": {"exact": 60}}]},
    ]  # fmt: skip
    if not listed:  # the summary alone, its chain not in the file
        statements = [s for s in statements if s["statementID"] not in ("o1", "o2", "h")]
        del statements[-1]["componentStatementIDs"]
    register = tmp_path / "register.json"
    register.write_text(json.dumps(statements), encoding="utf-8")
    bundle = write_bundle(tmp_path / "award", {
        "agency": [{"id": "A", "name": "Akimat"}],
        "contract": [{"id": "K", "buyer_id": "A", "supplier_id": "bods:w",
                      "signed_on": "2025-03-04", "value": "1000000"}],
        "link": [{"source": "bods:p1", "target": "K", "type": "DECIDED", "role": "chair"}],
    })  # fmt: skip
    ok(run("load", str(register), str(bundle)))
    (finding,) = [
        json.loads(x) for x in ok(run("check", "K", "--format", "jsonl")).stdout.splitlines()
    ]
    assert finding["hops"] == 1 and finding["pattern"] == "SELF_DEALING"
    through = " (through Holding LLP)" if listed else ""
    assert (
        f"indirectly owns 60% of Winner LLP{through}, which won contract K"
        in (finding["explanation"])
    )


@pytest.mark.parametrize(("signed_on", "pattern"), [("2025-01-01", None),
                                                    ("2024-03-01", "REVOLVING_DOOR")])  # fmt: skip
def test_a_closed_bods_0_4_relationship_has_ended(
    run: Callable[..., Result], tmp_path: Path, signed_on: str, pattern: str | None
) -> None:
    """The latest statement of the relationship record closes it without an end date on its
    interest: it ended on that statement's date, so a stake closed long before the award
    accuses no one, and one closed within the lookback is a revolving door."""
    holding = {"isComponent": False, "subject": "W", "interestedParty": "P",
               "interests": [{"type": "shareholding", "directOrIndirect": "direct",
                              "share": {"exact": 100}, "startDate": "2019-01-01"}]}  # fmt: skip
    statements = [
        {"statementId": "s1", "statementDate": "2020-01-01", "recordId": "P",
         "recordType": "person", "recordStatus": "new",
         "recordDetails": {"isComponent": False, "personType": "knownPerson",
                           "names": [{"type": "individual", "fullName": "Marat Chair"}]}},
        {"statementId": "s2", "statementDate": "2020-01-01", "recordId": "W",
         "recordType": "entity", "recordStatus": "new",
         "recordDetails": {"isComponent": False, "entityType": {"type": "registeredEntity"},
                           "name": "Winner LLP"}},
        {"statementId": "s3", "statementDate": "2020-01-01", "recordId": "R",
         "recordType": "relationship", "recordStatus": "new", "recordDetails": holding},
        {"statementId": "s4", "statementDate": "2023-06-30", "recordId": "R",
         "recordType": "relationship", "recordStatus": "closed", "recordDetails": holding},
    ]  # fmt: skip
    register = tmp_path / "register.json"
    register.write_text(json.dumps(statements), encoding="utf-8")
    bundle = write_bundle(tmp_path / "award", {
        "agency": [{"id": "A", "name": "Akimat"}],
        "contract": [{"id": "K", "buyer_id": "A", "supplier_id": "bods:W", "signed_on": signed_on}],
        "link": [{"source": "bods:P", "target": "K", "type": "DECIDED", "role": "chair"}],
    })  # fmt: skip
    result = ok(run("load", str(register), str(bundle)))
    assert "it ends on the closing statement's date 2023-06-30" in result.stderr
    found = [json.loads(x) for x in ok(run("check", "K", "--format", "jsonl")).stdout.splitlines()]
    assert [f["pattern"] for f in found] == ([pattern] if pattern else [])
