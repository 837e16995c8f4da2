"""The bundle loader: every invalid-row case, error policy, idempotence, encodings."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from cofi.errors import LoadRejected
from cofi.loader import plan_load
from cofi.store.embedded import EmbeddedStore
from tests.conftest import DEMO, snapshot, write_bundle

PEOPLE = [
    {"id": "x1", "name": "Асқар Бекұлы", "iin": "800312400002"},
    {"id": "x2", "name": "Мадина Бекова"},
]
COMPANY = [{"id": "xc", "name": "ТОО «Тест»", "bin": "100340005001"}]
AGENCY = [{"id": "xa", "name": "Әкімдік"}]


def good(**extra: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    rows: dict[str, list[dict[str, Any]]] = {
        "person": list(PEOPLE),
        "company": list(COMPANY),
        "agency": list(AGENCY),
        "link": [{"source": "x1", "target": "x2", "type": "FAMILY", "role": "spouse"}],
    }
    for kind, items in extra.items():
        rows[kind] = rows.get(kind, []) + items
    return rows


BAD_CASES = [
    ("required field empty", {"person": [{"id": "b1", "name": ""}]},
     "people.csv:4: name: required"),
    ("required id empty", {"company": [{"id": "", "name": "Nameless"}]},
     "companies.csv:3: id: required"),
    ("date in the wrong format", {"person": [{"id": "b1", "name": "B", "birth_date": "12.03.1980"}]},
     "people.csv:4: birth_date: not an ISO date (YYYY-MM-DD)"),
    ("date that is not a day", {"company": [{"id": "b1", "name": "B", "founded": "2020-02-30"}]},
     "companies.csv:3: founded: not a calendar date"),
    ("number that does not parse",
     {"contract": [{"id": "k", "buyer_id": "xa", "supplier_id": "xc", "signed_on": "2025-01-01",
                    "value": "12,400,000"}]},
     "contracts.csv:2: value: "),
    ("share of zero", {"link": [{"source": "x1", "target": "xc", "type": "OWNS", "share": "0"}]},
     "links.csv:3: share: Input should be greater than 0"),
    ("share above 100", {"link": [{"source": "x1", "target": "xc", "type": "OWNS", "share": "100.5"}]},
     "links.csv:3: share: Input should be less than or equal to 100"),
    ("unknown link type", {"link": [{"source": "x1", "target": "x2", "type": "COUSIN"}]},
     "links.csv:3: type: unknown link type 'COUSIN'"),
    ("endpoint kinds not allowed",
     {"link": [{"source": "x1", "target": "xc", "type": "FAMILY", "role": "spouse"}]},
     "links.csv:3: type: FAMILY cannot join a person to a company"),
    ("EMPLOYED from a company", {"link": [{"source": "xc", "target": "xa", "type": "EMPLOYED"}]},
     "links.csv:3: type: EMPLOYED cannot join a company to an agency"),
    ("reference to an unknown id", {"link": [{"source": "x1", "target": "ghost", "type": "ASSOCIATE"}]},
     "links.csv:3: target: unknown id 'ghost' (neither in the bundle nor in the store)"),
    ("contract buyer that is a company",
     {"contract": [{"id": "k", "buyer_id": "xc", "supplier_id": "xc", "signed_on": "2025-01-01"}]},
     "contracts.csv:2: buyer_id: 'xc' is a company, must be an agency"),
    ("FAMILY without a role", {"link": [{"source": "x2", "target": "x1", "type": "FAMILY"}]},
     "links.csv:3: role: FAMILY needs a role"),
    ("an id twice with conflicting fields", {"person": [{"id": "x1", "name": "Someone Else"}]},
     "people.csv:4: id: id 'x1' appears with conflicting fields at "),
    ("one id as two kinds", {"company": [{"id": "x2", "name": "Мадина Бекова"}]},
     "companies.csv:3: id: id 'x2' appears with conflicting fields"),
    ("until before since",
     {"link": [{"source": "x1", "target": "xc", "type": "DIRECTS", "since": "2020-01-01",
                "until": "2019-01-01"}]},
     "links.csv:3: until: until 2019-01-01 is before since 2020-01-01"),
]  # fmt: skip


@pytest.fixture(params=["serial", "parallel"])
def readers(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Loads validated in this process, or (as a large bundle is) by forked readers, with the
    link checks in a process of their own while the store writes the entities."""
    if request.param == "parallel":
        monkeypatch.setattr("cofi.loader._PARALLEL_BYTES", 0)
        monkeypatch.setattr("cofi.loader.os.cpu_count", lambda: 2)
    return str(request.param)


@pytest.mark.parametrize(("case", "rows", "message"), BAD_CASES, ids=[c[0] for c in BAD_CASES])
def test_invalid_row_is_reported_and_nothing_written(
    run: Callable[..., Result],
    store_dir: Path,
    tmp_path: Path,
    case: str,
    rows: dict[str, list[dict[str, Any]]],
    message: str,
    readers: str,
) -> None:
    assert run("load", str(DEMO)).exit_code == 0
    before = snapshot(store_dir)
    bundle = write_bundle(tmp_path / "bad", good(**rows))
    result = run("load", str(bundle))
    assert result.exit_code == 1, result.output
    assert message in result.stderr
    assert str(bundle) in result.stderr
    assert "nothing was written" in result.stderr.splitlines()[-1]
    assert "Traceback" not in result.output
    assert snapshot(store_dir) == before


@pytest.mark.parametrize(
    "bad",
    [
        {"person": [{"id": "b", "name": ""}]},
        {"link": [{"source": "x1", "target": "ghost", "type": "ASSOCIATE"}]},
    ],
    ids=["bad entity", "bad link"],
)
def test_failed_first_load_creates_no_store(
    run: Callable[..., Result],
    store_dir: Path,
    tmp_path: Path,
    bad: dict[str, list[dict[str, Any]]],
    readers: str,
) -> None:
    """Also when the link checks end only after the store began writing the entities."""
    bundle = write_bundle(tmp_path / "bad", good(**bad))
    result = run("load", str(bundle))
    assert result.exit_code == 1
    assert "nothing was written" in result.stderr
    assert not store_dir.exists()


def test_a_bad_link_found_while_the_entities_are_written_rolls_the_write_back(
    tmp_path: Path,
) -> None:
    """plan_load hands over the plan with the link checks still running; the store writes the
    entities, then `complete()` raises: the transaction is rolled back."""
    store = EmbeddedStore(tmp_path / "store", create=True)
    with plan_load([DEMO], store.kinds_of) as plan:
        store.write(plan)
    before = snapshot(tmp_path / "store")
    rows = good(
        person=[{"id": "x9", "name": "New Person"}],
        link=[{"source": "x1", "target": "ghost", "type": "ASSOCIATE"}],
    )
    bundle = write_bundle(tmp_path / "b", rows)
    with plan_load([bundle], store.kinds_of, workers=2) as plan:
        assert plan._link_checks is not None  # still running
        with pytest.raises(LoadRejected) as err:
            store.write(plan)
    assert [str(e) for e in err.value.errors] == [
        f"{bundle}/links.csv:3: target: unknown id 'ghost' (neither in the bundle nor in the store)"
    ]
    assert snapshot(tmp_path / "store") == before


def test_a_failure_of_the_link_checks_process_reaches_the_caller(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self: object) -> None:
        raise ValueError("disk on fire")

    monkeypatch.setattr("cofi.loader._LinkChecks.run", broken)  # inherited by the fork
    store = EmbeddedStore(tmp_path / "store", create=True)
    with (
        plan_load([DEMO], store.kinds_of, workers=2) as plan,
        pytest.raises(ValueError, match="disk on fire"),
    ):
        store.write(plan)
    assert snapshot(tmp_path / "store") is None


def test_conflict_reports_both_places(tmp_path: Path) -> None:
    bundle = write_bundle(tmp_path / "b", good(person=[{"id": "x1", "name": "Other"}]))
    with pytest.raises(LoadRejected) as err:
        plan_load([bundle], lambda ids: {})
    lines = {str(e) for e in err.value.errors}
    assert any(line.startswith(f"{bundle}/people.csv:2: id:") for line in lines)
    assert any(line.startswith(f"{bundle}/people.csv:4: id:") for line in lines)


@pytest.mark.parametrize("workers", [0, 2])
def test_a_link_given_twice_with_other_fields_is_rejected_at_both_places(
    tmp_path: Path, workers: int
) -> None:
    stake = {"source": "x1", "target": "xc", "type": "OWNS", "since": "2020-01-01"}
    bundle = write_bundle(tmp_path / "b", good(link=[
        {**stake, "share": "40"}, {**stake, "share": "40"}, {**stake, "share": "60"},
        {"source": "x2", "target": "xc", "type": "DIRECTS"},
        {"source": "x2", "target": "xc", "type": "DIRECTS"},
    ]))  # fmt: skip
    with (
        plan_load([bundle], lambda ids: {}, workers=workers) as plan,
        pytest.raises(LoadRejected) as err,
    ):
        plan.complete()  # (what a store calls before it writes the links)
    links = f"{bundle}/links.csv"
    why = "row: link 'x1/xc/OWNS//2020-01-01' appears with conflicting fields at"
    assert sorted(str(e) for e in err.value.errors) == [
        f"{links}:3: {why} {links}:4, {links}:5",
        f"{links}:4: {why} {links}:3, {links}:5",
        f"{links}:5: {why} {links}:3, {links}:4",
    ]  # (the DIRECTS link given twice alike is fine)


def test_exact_duplicate_rows_are_fine(tmp_path: Path) -> None:
    bundle = write_bundle(tmp_path / "b", good(person=[PEOPLE[0]]))
    with plan_load([bundle], lambda ids: {}) as plan:
        assert sorted(e.id for e in plan.entities()) == ["x1", "x2", "xa", "xc"]


def test_unknown_column_names_the_header(run: Callable[..., Result], tmp_path: Path,
                                         store_dir: Path) -> None:  # fmt: skip
    bundle = tmp_path / "b"
    bundle.mkdir()
    (bundle / "people.csv").write_text("id,name,nickname\np1,A,Ace\n", encoding="utf-8")
    result = run("load", str(bundle))
    assert result.exit_code == 1
    assert f"{bundle}/people.csv:1: nickname: unknown column" in result.stderr
    assert snapshot(store_dir) is None


@pytest.mark.parametrize(("sep", "said"), [(";", "semicolons"), ("\t", "tabs")])
def test_a_spreadsheets_semicolon_or_tab_export_is_named_as_such(
    run: Callable[..., Result], tmp_path: Path, store_dir: Path, sep: str, said: str
) -> None:
    bundle = tmp_path / "b"
    bundle.mkdir()
    header = sep.join(("id", "name", "birth_date", "iin"))
    (bundle / "people.csv").write_text(f"{header}\np1{sep}A{sep}{sep}\n", encoding="utf-8")
    result = run("load", str(bundle))
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        f"cofi: error: {bundle}/people.csv:1: header: columns separated by {said}, not commas "
        "(save the file as CSV UTF-8, comma-delimited)"
    ]
    assert snapshot(store_dir) is None
    # (a single unknown column with a semicolon in it is still just an unknown column)
    (bundle / "people.csv").write_text("id;nickname\np1;Ace\n", encoding="utf-8")
    assert "id;nickname: unknown column" in run("load", str(bundle)).stderr


def test_missing_required_column(run: Callable[..., Result], tmp_path: Path) -> None:
    bundle = tmp_path / "b"
    bundle.mkdir()
    (bundle / "contracts.csv").write_text("id,buyer_id,supplier_id\nk,a,c\n", encoding="utf-8")
    result = run("load", str(bundle))
    assert result.exit_code == 1
    assert "contracts.csv:1: signed_on: required column missing" in result.stderr


def test_not_utf8_is_one_clear_line(run: Callable[..., Result], tmp_path: Path) -> None:
    bundle = tmp_path / "b"
    bundle.mkdir()
    (bundle / "people.csv").write_bytes("id,name\np1,Асқар\n".encode("cp1251", errors="replace"))
    result = run("load", str(bundle))
    assert result.exit_code == 1
    assert "people.csv: not UTF-8 text" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_ragged_row(run: Callable[..., Result], tmp_path: Path) -> None:
    bundle = tmp_path / "b"
    bundle.mkdir()
    (bundle / "people.csv").write_text("id,name\np1,A,extra\n", encoding="utf-8")
    result = run("load", str(bundle))
    assert result.exit_code == 1
    assert "people.csv:2: row: has 3 fields, the header has 2" in result.stderr


def test_bom_and_crlf_are_accepted(run: Callable[..., Result], tmp_path: Path,
                                   store_dir: Path) -> None:  # fmt: skip
    bundle = tmp_path / "b"
    bundle.mkdir()
    text = 'id,name,aliases\r\np1,"Асқар ""Ace"" Бек",A;B\r\np2,"Multi\r\nline",\r\n'
    (bundle / "people.csv").write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    (bundle / "links.csv").write_bytes(
        b"\xef\xbb\xbfsource,target,type,role\r\np1,p2,FAMILY,sibling\r\n"
    )
    result = run("load", str(bundle))
    assert result.exit_code == 0, result.output
    db = snapshot(store_dir)
    names = {row[0]: row[2] for row in db["entities"]}
    assert names == {"p1": 'Асқар "Ace" Бек', "p2": "Multi\r\nline"}
    assert [row[:3] for row in db["links"]] == [("p1", "p2", "FAMILY")]


def test_line_numbers_count_physical_lines(tmp_path: Path) -> None:
    bundle = tmp_path / "b"
    bundle.mkdir()
    (bundle / "people.csv").write_text('id,name\np1,"two\nlines"\np2,\n', encoding="utf-8")
    with pytest.raises(LoadRejected) as err:
        plan_load([bundle], lambda ids: {})
    assert [str(e) for e in err.value.errors] == [f"{bundle}/people.csv:4: name: required"]


def test_reload_changes_nothing(run: Callable[..., Result], store_dir: Path) -> None:
    assert run("load", str(DEMO)).exit_code == 0
    before = snapshot(store_dir)
    result = run("load", str(DEMO))
    assert result.exit_code == 0
    assert "nothing changed" in result.stdout
    assert snapshot(store_dir) == before


def test_reload_with_a_change_updates_in_place(run: Callable[..., Result], store_dir: Path,
                                               demo_copy: Path) -> None:  # fmt: skip
    assert run("load", str(demo_copy)).exit_code == 0
    links = demo_copy / "links.csv"
    links.write_text(
        links.read_text(encoding="utf-8").replace(
            "p-nurlan,co-dala,OWNS,,60,2010-03-15,,",
            "p-nurlan,co-dala,OWNS,,60,2010-03-15,2025-01-01,",
        ),
        encoding="utf-8",
    )
    result = run("load", str(demo_copy))
    assert "0 links created, 1 updated" in result.stdout
    owns = [r for r in snapshot(store_dir)["links"] if r[:3] == ("p-nurlan", "co-dala", "OWNS")]
    assert len(owns) == 1 and owns[0][6] == "2025-01-01"


def test_references_may_point_into_the_store(run: Callable[..., Result], tmp_path: Path) -> None:
    assert run("load", str(DEMO)).exit_code == 0
    bundle = write_bundle(
        tmp_path / "b", {"link": [{"source": "p-oleg", "target": "co-dala", "type": "DIRECTS"}]}
    )
    result = run("load", str(bundle))
    assert result.exit_code == 0, result.output
    assert "1 links created" in result.stdout


def test_an_id_cannot_change_kind_across_loads(run: Callable[..., Result], tmp_path: Path) -> None:
    assert run("load", str(DEMO)).exit_code == 0
    bundle = write_bundle(tmp_path / "b", {"company": [{"id": "p-oleg", "name": "Oleg LLP"}]})
    result = run("load", str(bundle))
    assert result.exit_code == 1
    assert "companies.csv:2: id: id is already a person in the store" in result.stderr


def test_skip_invalid_loads_the_rest_and_writes_rejects(
    run: Callable[..., Result], tmp_path: Path, store_dir: Path, readers: str
) -> None:
    rows = good(
        person=[{"id": "b1", "name": ""}],
        link=[
            {"source": "b1", "target": "x1", "type": "ASSOCIATE"},
            {"source": "x1", "target": "xc", "type": "OWNS", "share": "150"},
            {"source": "x1", "target": "xc", "type": "DIRECTS", "role": "director"},
        ],
    )
    bundle = write_bundle(tmp_path / "b", rows)
    rejects = tmp_path / "bad.jsonl"
    result = run("load", str(bundle), "--skip-invalid", "--rejects", str(rejects))
    assert result.exit_code == 0, result.output
    assert "3 invalid row(s) skipped" in result.stderr
    # (the link to b1 is written beside the check of its ends, then taken out and not counted)
    assert "; 2 links created, 0 updated" in result.output
    found = [json.loads(line) for line in rejects.read_text(encoding="utf-8").splitlines()]
    reasons = {(Path(r["file"]).name, r["line"]): r["errors"][0] for r in found}
    assert reasons[("people.csv", 4)] == {"field": "name", "reason": "required"}
    assert reasons[("links.csv", 3)]["reason"] == "refers to 'b1', whose row is invalid"
    assert reasons[("links.csv", 4)]["field"] == "share"
    db = snapshot(store_dir)
    assert sorted(r[0] for r in db["entities"]) == ["x1", "x2", "xa", "xc"]
    assert sorted(r[2] for r in db["links"]) == ["DIRECTS", "FAMILY"]


def test_contracts_with_wrong_references_are_each_rejected_once_at_their_first_row(
    run: Callable[..., Result], tmp_path: Path, store_dir: Path, readers: str
) -> None:
    """A contract's buyer must be an agency and its supplier a company: a contract given twice
    alike is rejected at its first row alone, with each of its problems; one whose supplier's
    row is invalid is rejected for it; the good ones are written."""
    day = {"signed_on": "2025-01-01"}
    both = {"id": "k2", "buyer_id": "xc", "supplier_id": "x1", **day}
    rows = good(
        company=[{"id": "bad", "name": "", "bin": ""}],
        contract=[
            {"id": "k1", "buyer_id": "xa", "supplier_id": "xc", **day},
            both,
            {"id": "k3", "buyer_id": "xa", "supplier_id": "bad", **day},
            both,
            {"id": "k4", "buyer_id": "xa", "supplier_id": "ghost", **day},
        ],
    )
    rejects = tmp_path / "r.jsonl"
    bundle = write_bundle(tmp_path / "b", rows)
    result = run("load", str(bundle), "--skip-invalid", "--rejects", str(rejects))
    assert result.exit_code == 0, result.output
    found = [json.loads(line) for line in rejects.read_text(encoding="utf-8").splitlines()]
    contracts = [(r["line"], [(e["field"], e["reason"]) for e in r["errors"]]) for r in found
                 if Path(r["file"]).name == "contracts.csv"]  # fmt: skip
    assert contracts == [
        (3, [("buyer_id", "'xc' is a company, must be an agency"),
             ("supplier_id", "'x1' is a person, must be a company")]),
        (4, [("supplier_id", "refers to 'bad', whose row is invalid")]),
        (6, [("supplier_id", "unknown id 'ghost' (neither in the bundle nor in the store)")]),
    ]  # fmt: skip
    written = snapshot(store_dir)["entities"]
    assert sorted(r[0] for r in written if r[1] == "contract") == ["k1"]


def test_a_stored_link_whose_new_row_is_rejected_for_its_ends_stays_as_it_was(
    run: Callable[..., Result], tmp_path: Path, store_dir: Path, readers: str
) -> None:
    """Into a links table that holds links, the ends are checked before any link is written (a
    first load writes them beside that check and takes the rejected ones out again)."""
    stake = {"source": "x1", "target": "xc", "type": "OWNS", "share": "40"}
    assert run("load", str(write_bundle(tmp_path / "a", good(link=[stake])))).exit_code == 0
    before = snapshot(store_dir)["links"]
    assert any(r[:3] == ("x1", "xc", "OWNS") and r[5] == 40.0 for r in before)
    bundle = write_bundle(tmp_path / "b", {
        "person": [{"id": "x1", "name": ""}], "link": [{**stake, "share": "60"}],
    })  # fmt: skip
    result = run("load", str(bundle), "--skip-invalid", "--rejects", str(tmp_path / "r.jsonl"))
    assert result.exit_code == 0, result.output
    assert "refers to 'x1', whose row is invalid" in (tmp_path / "r.jsonl").read_text("utf-8")
    assert snapshot(store_dir)["links"] == before


def test_skip_invalid_with_no_bad_row_leaves_no_rejects_file(
    run: Callable[..., Result], tmp_path: Path, readers: str
) -> None:
    result = run("load", str(DEMO), "--skip-invalid")
    assert result.exit_code == 0, result.output
    assert not (tmp_path / "rejects.jsonl").exists()


def test_a_rejects_file_that_cannot_be_written_stops_the_load_first(
    run: Callable[..., Result], tmp_path: Path, store_dir: Path, readers: str
) -> None:
    bundle = write_bundle(tmp_path / "b", good(link=[{"source": "x1", "target": "ghost",
                                                      "type": "ASSOCIATE"}]))  # fmt: skip
    target = tmp_path / "no" / "such" / "dir" / "bad.jsonl"
    result = run("load", str(bundle), "--skip-invalid", "--rejects", str(target))
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and str(target) in result.stderr
    assert "Traceback" not in result.output
    assert snapshot(store_dir) is None


def test_rejects_needs_skip_invalid(run: Callable[..., Result]) -> None:
    result = run("load", str(DEMO), "--rejects", "x.jsonl")
    assert result.exit_code == 2
    assert "--rejects goes with --skip-invalid" in result.output


def test_bad_iin_is_a_warning_and_never_merges(tmp_path: Path) -> None:
    rows = {
        "person": [
            {"id": "a", "name": "A", "iin": "800312400003"},
            {"id": "b", "name": "B", "iin": "800312400003"},
            {"id": "c", "name": "C", "iin": "800312400002"},
            {"id": "d", "name": "D", "iin": "800312400002"},
        ]
    }
    bundle = write_bundle(tmp_path / "b", rows)
    store = EmbeddedStore(tmp_path / "s", create=True)
    with plan_load([bundle], store.kinds_of) as plan:
        assert [str(w) for w in plan.warnings] == [
            f"{bundle}/people.csv:{n}: iin: '800312400003' fails the IIN check; kept, not used "
            "to match records"
            for n in (2, 3)
        ]
        store.write(plan)
        assert {e.id: e.props.get("iin") for e in plan.entities()}["a"] == "800312400003"
    assert store.canonical_ids() == {"c": "c", "d": "c"}
    store.close()


def test_a_row_given_twice_the_same_is_one_entity_warned_about_at_its_first_line(
    tmp_path: Path,
) -> None:
    """Identical rows of one id are one entity (no conflict), written once; what is said about
    its fields is said once, at the first of its lines."""
    twice = {"id": "a", "name": "A", "iin": "800312400003", "address": "Абая, 1"}
    rows = {"person": [twice, {"id": "b", "name": "B"}, twice, twice]}
    bundle = write_bundle(tmp_path / "b", rows)
    store = EmbeddedStore(tmp_path / "s", create=True)
    with plan_load([bundle], store.kinds_of) as plan:
        assert not plan.rejects
        assert [str(w) for w in plan.warnings] == [
            f"{bundle}/people.csv:2: iin: '800312400003' fails the IIN check; kept, not used "
            "to match records"
        ]
        assert [e.id for e in plan.entities()] == ["a", "b"]
        assert store.write(plan).entities_created == 2
    store.close()


def test_jsonl_bundle(run: Callable[..., Result], tmp_path: Path, store_dir: Path) -> None:
    path = tmp_path / "day.jsonl"
    lines = [
        {"kind": "person", "id": "j1", "name": "Ж. Бір", "aliases": ["J One", "Jay"]},
        {"kind": "company", "id": "jc", "name": "JC", "bin": 100340005001},
        {"kind": "link", "source": "j1", "target": "jc", "type": "owns", "share": 25},
    ]
    path.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines) + "\n\n")
    result = run("load", str(path))
    assert result.exit_code == 0, result.output
    db = snapshot(store_dir)
    assert [(*r[:3], r[5]) for r in db["links"]] == [("j1", "jc", "OWNS", 25.0)]
    assert json.loads(dict((r[0], r[3]) for r in db["entities"])["j1"]) == {
        "aliases": ["J One", "Jay"]
    }


def test_jsonl_bad_lines(run: Callable[..., Result], tmp_path: Path) -> None:
    path = tmp_path / "day.jsonl"
    path.write_text('{"kind": "spaceship", "id": "s"}\nnot json\n[1]\n', encoding="utf-8")
    result = run("load", str(path))
    assert result.exit_code == 1
    assert f"{path}:1: kind: must be one of" in result.stderr
    assert f"{path}:2: row: not JSON" in result.stderr
    assert f"{path}:3: row: not a JSON object" in result.stderr


def test_missing_path(run: Callable[..., Result]) -> None:
    result = run("load", "nowhere")
    assert result.exit_code == 1
    assert result.stderr.strip() == "cofi: error: nowhere: no such file or directory"


def test_parallel_readers_give_the_serial_plan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Forked readers taking runs of 4 rows each stage exactly what one reader stages."""
    rows = good(
        person=[{"id": "x1", "name": "Someone Else"}, PEOPLE[1],
                {"id": "x3", "name": "C", "iin": "800312400003"}],
        link=[{"source": "x2", "target": "ghost", "type": "ASSOCIATE"},
              {"source": "x2", "target": "x3", "type": "FAMILY", "role": "sibling"},
              {"source": "x3", "target": "xc", "type": "OWNS", "share": "40"}],
    )  # fmt: skip
    bundle = write_bundle(tmp_path / "b", rows)
    monkeypatch.setattr("cofi.staging.BATCH", 4)
    plans = []
    for workers in (0, 2):
        with plan_load([bundle, DEMO], lambda ids: {}, skip_invalid=True, workers=workers) as p:
            plans.append((p.rows_read, p.rejects, p.warnings, list(p.entities()), list(p.links())))
    assert plans[0] == plans[1]
    rows_read, rejects, warnings, entities, links = plans[0]
    assert rows_read > 60
    assert {(Path(r.file).name, r.line) for r in rejects} == {
        ("people.csv", 2),
        ("people.csv", 4),
        ("links.csv", 2),  # x1's spouse link: x1's row is invalid
        ("links.csv", 3),
    }
    assert [Path(w.file).name for w in warnings].count("people.csv") == 2
    assert ("x2", "x3", "FAMILY") in {(lk.source, lk.target, lk.type) for lk in links}
    assert "x1" not in {e.id for e in entities}


def test_a_killed_loads_staging_directory_is_removed_by_the_next_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A load killed mid-way leaves its staging databases (a large bundle's run to gigabytes);
    the next load removes those of processes that are gone, and no other."""
    import os
    import subprocess
    import sys
    import tempfile

    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    orphan = scratch / f"cofi-load-{gone}-x1y2"
    orphan.mkdir()
    (orphan / "stage.sqlite").write_bytes(b"\0" * 1000)
    mine = scratch / f"cofi-load-{os.getpid()}-inuse"  # a live process's: left alone
    mine.mkdir()
    older = scratch / "cofi-load-abcdef"  # not named by a pid: left alone
    older.mkdir()
    store = EmbeddedStore(tmp_path / "s", create=True)
    with plan_load([DEMO], store.kinds_of) as plan:
        assert plan.directory.parent == scratch and plan.directory.name.startswith(
            f"cofi-load-{os.getpid()}-"
        )
        store.write(plan)
    store.close()
    assert not orphan.exists() and mine.exists() and older.exists()
    assert sorted(p.name for p in scratch.iterdir()) == sorted([mine.name, older.name])
