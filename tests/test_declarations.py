"""Declarations, conflict notices and recusals (issue 19), on both stores (`crun`).

`fixtures/declarations/` is a hand-checked bundle with one contract per case (its README lists
them); `expected.csv` is the exact set of findings with their disclosure.
"""

from __future__ import annotations

import contextlib
import csv
import json
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from cofi.declarations import DISCLOSURE_FACTOR
from cofi.restrictions import restrictions as find_restrictions
from cofi.store import open_store
from cofi.store.embedded import SCHEMA_VERSION
from tests.conftest import write_bundle

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "declarations"


def expected() -> set[tuple[str, ...]]:
    with (FIXTURE / "expected.csv").open(encoding="utf-8") as fh:
        return {tuple(row.values()) for row in csv.DictReader(fh)}


def sweep_all(crun: Callable[..., Result], tmp_path: Path) -> dict[str, dict[str, Any]]:
    out = tmp_path / "found.jsonl"
    result = crun("sweep", "--all", "--format", "jsonl", "--out", str(out))
    assert result.exit_code == 0, result.output
    found = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    return {f["contract_id"]: f for f in found if f.get("kind") != "restriction"}


def stats(crun: Callable[..., Result]) -> dict[str, Any]:
    result = crun("stats", "--json")
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def test_every_case_has_its_findings_and_disclosure(
    crun: Callable[..., Result], tmp_path: Path
) -> None:
    assert crun("load", str(FIXTURE)).exit_code == 0
    found = sweep_all(crun, tmp_path)
    got = {
        (f["contract_id"], f["decision_maker_id"], f["winner_id"], f["pattern"], str(f["hops"]),
         f["disclosure"])
        for f in found.values()
    }  # fmt: skip
    assert got == expected()
    said = {k: f["explanation"] for k, f in found.items()}
    assert said["D01"].endswith(
        "; Aigerim Sadykova declared her spouse Nurlan Sadykov on 2025-03-31"
    )
    assert said["D02"].endswith(
        "; Gulnara Omarova did not declare her spouse Yerlan Omarov "
        "(not in the declaration of 2025-03-31, in force then)"
    )
    # declared in 2024, left out of the 2025 filing: no longer in force
    assert (
        "did not declare her spouse Timur Zhaksylykov (not in the declaration of 2025-03-31"
        in (said["D03"])
    )
    assert said["D05"].endswith(
        "; Asel Nurgalieva did not declare the directorship of Tengri Service LLP (none filed)"
    )
    assert said["D06"].endswith(
        "; Bolat Kenzhebekov notified the conflict on 2025-05-20 and still took part in the decision"
    )
    assert said["D09"].endswith("signed on 2025-06-01")  # an address is not declarable
    # a job that ended before the signing, declared while it lasted
    assert said["D10"].endswith(
        "; Yerbol Mukanov declared the job at Kaspiy Energy LLP on 2024-03-31"
    )
    # only the first edge counts: the declared spouse, not her undeclared brother
    assert said["D11"].endswith(
        "; Madina Suleimenova declared her spouse Arman Suleimenov on 2025-03-31"
    )
    # the decider declared under another record of his; the relative named by another of hers
    assert found["D13"]["disclosure"] == found["D14"]["disclosure"] == "declared"


def test_the_score_orders_undeclared_before_declared_before_notified(
    crun: Callable[..., Result], tmp_path: Path
) -> None:
    assert crun("load", str(FIXTURE)).exit_code == 0
    found = sweep_all(crun, tmp_path)
    # D01 and D02 are the same path (a spouse owning 60%, the same value): only the disclosure
    undeclared, declared = found["D02"]["score"], found["D01"]["score"]
    assert declared == pytest.approx(undeclared * DISCLOSURE_FACTOR["declared"], abs=1e-4)
    assert found["D02"]["severity"] == "high" and found["D01"]["severity"] == "medium"
    # D08 (undeclared) and D05 (undeclared) are one directorship each; D04 a declared stake
    assert found["D05"]["score"] == found["D08"]["score"]
    assert (
        DISCLOSURE_FACTOR["undeclared"]
        > DISCLOSURE_FACTOR["declared"]
        > DISCLOSURE_FACTOR["notified"]
    )


def test_a_recusal_before_the_signing_removes_the_decider_and_check_says_so(
    crun: Callable[..., Result],
) -> None:
    assert crun("load", str(FIXTURE)).exit_code == 0
    result = crun("check", "D07")
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines()[0] == (
        "recused: Zhanar Tokhtarova [p-d07] withdrew from deciding on 2025-05-25 (minutes-D07): "
        "not a decision-maker"
    )
    assert "no related-party path for contract D07" in result.stderr and result.stdout == ""
    # the buyer's head, a decision-maker by his post, recused too
    head = crun("check", "D12")
    assert "recused: Nurbek Tulegenov [p-d12h] withdrew from deciding on 2025-05-01" in head.stderr
    assert head.stdout == ""
    late = crun("check", "D08", "--format", "jsonl")
    assert late.stderr.splitlines()[0] == (
        "recusal not counted: Kairat Seitkali [p-d08] withdrew on 2025-06-10 (minutes-D08-late), "
        "after the signing on 2025-06-01"
    )
    assert json.loads(late.stdout)["decision_maker_id"] == "p-d08"


def test_declarations_loaded_later_are_swept_again(
    crun: Callable[..., Result], tmp_path: Path
) -> None:
    bundle = Path(shutil.copytree(FIXTURE, tmp_path / "bundle"))
    declarations = (bundle / "declarations.csv").read_text(encoding="utf-8")
    (bundle / "declarations.csv").unlink()
    assert crun("load", str(bundle)).exit_code == 0
    first = crun("sweep", "--format", "jsonl")
    assert first.exit_code == 0, first.output
    rows = [json.loads(line) for line in first.stdout.splitlines()]
    before = {f["contract_id"]: f for f in rows if f.get("kind") != "restriction"}
    assert {"D07", "D12"} <= set(before) and before["D01"]["disclosure"] == "undeclared"
    later = tmp_path / "later"
    later.mkdir()
    (later / "declarations.csv").write_text(declarations, encoding="utf-8")
    assert crun("load", str(later)).exit_code == 0
    again = crun("sweep", "--format", "jsonl")
    assert again.exit_code == 0, again.output
    # the recusals took their findings away; the disclosures changed in place
    now = {f["contract_id"]: f for f in sweep_all(crun, tmp_path).values()}
    assert set(before) - set(now) == {"D07", "D12"}
    assert (
        now["D01"]["disclosure"] == "declared"
        and now["D01"]["finding_id"] == before["D01"]["finding_id"]
    )
    findings = crun("findings", "--format", "jsonl")
    listed = {json.loads(line)["contract_id"] for line in findings.stdout.splitlines()}
    assert "D07" not in listed and "D12" not in listed


def test_a_declaration_in_json_lines_loads_like_a_row_of_the_csv(
    crun: Callable[..., Result], tmp_path: Path
) -> None:
    assert crun("load", str(FIXTURE)).exit_code == 0
    before = stats(crun)["links"]
    extra = tmp_path / "extra.jsonl"
    extra.write_text(
        json.dumps({"kind": "declaration", "person_id": "p-d05", "declared_on": "2025-04-01",
                    "type": "interest", "subject_id": "co-d05", "role": "directs"}) + "\n",
        encoding="utf-8",
    )  # fmt: skip
    result = crun("load", str(extra))
    assert result.exit_code == 0, result.output
    assert sweep_all(crun, tmp_path)["D05"]["disclosure"] == "declared"
    after = stats(crun)["links"]
    assert (
        after == {**before, "DECLARED_INTEREST": before["DECLARED_INTEREST"] + 1}
        and after["DECLARED_INTEREST"] == 7
    )


BAD_CASES = [
    ({"type": "gift", "subject_id": "p-x"}, "type: unknown declaration type 'gift' (allowed: "
     "relative, interest, conflict_notice, recusal)"),
    ({"type": "recusal"}, "contract_id: required for a recusal"),
    ({"type": "relative", "subject_id": "co-x", "role": "spouse"},
     "subject_id: a relative names a person, not a company"),
    ({"type": "relative", "subject_id": "p-nobody", "role": "spouse"},
     "subject_id: unknown id 'p-nobody' (neither in the bundle nor in the store)"),
    ({"type": "recusal", "contract_id": "k-x", "declared_on": "2025-02-30"},
     "declared_on: not a calendar date (day is out of range for month)"),
    ({"type": "relative", "subject_id": "p-y", "role": "cousin"},
     "role: a relative needs a role, one of: spouse, parent, child, sibling, grandparent, "
     "grandchild, parent_in_law, child_in_law, sibling_in_law, other"),
    ({"type": "conflict_notice", "contract_id": "k-x", "subject_id": "p-y"},
     "subject_id: a conflict_notice has none"),
]  # fmt: skip


@pytest.mark.parametrize(("fields", "message"), BAD_CASES)
def test_a_bad_declaration_is_reported_and_nothing_is_written(
    crun: Callable[..., Result], tmp_path: Path, fields: dict[str, str], message: str
) -> None:
    assert crun("load", str(FIXTURE)).exit_code == 0
    before = stats(crun)
    row = {"person_id": "p-x", "declared_on": "2025-01-10", **fields}
    bundle = write_bundle(tmp_path / "bad", {
        "person": [{"id": "p-x", "name": "Erik Nurlanov"}, {"id": "p-y", "name": "Aru Nurlanova"}],
        "company": [{"id": "co-x", "name": "Bad Row LLP"}],
        "contract": [{"id": "k-x", "buyer_id": "ag-d", "supplier_id": "co-x",
                      "signed_on": "2025-03-01"}],
        "declaration": [row],
    })  # fmt: skip
    result = crun("load", str(bundle))
    assert result.exit_code == 1
    assert f"{bundle / 'declarations.csv'}:2: {message}" in result.stderr.splitlines()
    assert stats(crun) == before


def test_a_csv_file_cofi_does_not_know_is_named(
    crun: Callable[..., Result], tmp_path: Path
) -> None:
    bundle = Path(shutil.copytree(FIXTURE, tmp_path / "bundle"))
    (bundle / "declarations.csv").rename(bundle / "declaration.csv")
    result = crun("load", str(bundle))
    assert result.exit_code == 0, result.output
    assert f"warning: {bundle / 'declaration.csv'}: not a bundle file (" in result.stderr
    assert "DECLARED_RELATIVE" not in stats(crun)["links"]


def audit(crun: Callable[..., Result], *args: str) -> list[dict[str, Any]]:
    result = crun("declarations", "audit", *args, "--format", "jsonl")
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_the_audit_lists_what_the_declarations_in_force_omit(
    crun: Callable[..., Result],
) -> None:
    assert crun("load", str(FIXTURE)).exit_code == 0
    with (FIXTURE / "expected_audit.csv").open(encoding="utf-8") as fh:
        wanted = [tuple(row.values()) for row in csv.DictReader(fh)]
    found = audit(crun, "--at", "2025-06-01")
    columns = ("person_id", "what", "subject_id", "relation", "declaration")
    assert [tuple(o[c] for c in columns) for o in found] == wanted
    mother = next(o for o in found if o["subject_id"] == "p-d09m")
    assert mother["source_ref"] == "civil-registry" and mother["link_type"] == "FAMILY"
    assert mother["agencies"] == "Akimat of Declarations district"
    text = crun("declarations", "audit", "--at", "2025-06-01")
    assert text.stdout.splitlines()[0] == (
        "Gulnara Omarova [p-d02] (Akimat of Declarations district): relative Yerlan Omarov "
        "[p-d02s], spouse (FAMILY): not in the declaration of 2025-03-31"
    )
    assert "17 omission(s) of 17 person(s) on 2025-06-01" in text.stderr


def test_the_audit_of_one_person_on_a_day_uses_the_filing_in_force_then(
    crun: Callable[..., Result],
) -> None:
    assert crun("load", str(FIXTURE)).exit_code == 0
    # 2024: the spouse was declared (the filing of 2024-03-31); 2025: omitted
    assert audit(crun, "p-d03", "--at", "2024-06-01") == []
    assert [o["subject_id"] for o in audit(crun, "p-d03", "--at", "2025-06-01")] == ["p-d03s"]
    # the job at the winner, declared in 2024 while it lasted; in 2025 it had ended
    assert audit(crun, "p-d10", "--at", "2024-06-01") == []
    assert audit(crun, "p-d10", "--at", "2025-06-01") == []
    # before any filing
    early = audit(crun, "p-d10", "--at", "2023-06-01")
    assert [(o["subject_id"], o["relation"], o["declaration"]) for o in early] == [
        ("co-d10", "employed as engineer", "")
    ]
    # an official on 2025-04-01, not on 2025-06-01
    assert [
        o["subject_id"] for o in audit(crun, "--at", "2025-04-01") if o["person_id"] == "p-d08"
    ] == ["co-d08"]
    assert not [o for o in audit(crun, "--at", "2025-06-01") if o["person_id"] == "p-d08"]
    missing = crun("declarations", "audit", "co-d01")
    assert missing.exit_code == 1 and "no person 'co-d01' in the store" in missing.stderr


def restrictions(crun: Callable[..., Result], *args: str) -> list[dict[str, Any]]:
    result = crun("restrictions", *args, "--format", "jsonl")
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_relatives_serving_in_direct_subordination_are_listed(
    crun: Callable[..., Result],
) -> None:
    assert crun("load", str(FIXTURE)).exit_code == 0
    with (FIXTURE / "expected_restrictions.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    columns = ("agency_id", "superior_id", "relative_id", "relation", "since", "until")
    every = restrictions(crun, "--all")
    assert sorted(tuple(r[c] for c in columns) for r in every) == sorted(
        tuple(row[c] for c in columns) for row in rows
    )
    on_day = restrictions(crun, "--at", "2025-06-01")
    assert sorted(r["superior_id"] for r in on_day) == sorted(
        row["superior_id"] for row in rows if row["on_2025_06_01"] == "yes"
    )
    daughter = next(r for r in every if r["relative_id"] == "p-r1c")
    assert daughter["explanation"] == (
        "Yerlan Bekov, head of Ministry of Water Resources, and his daughter Aizhan Bekova "
        "(specialist there) have served together since 2021-03-01: close relatives may not "
        "serve in direct subordination"
    )
    assert daughter["source_refs"] == ["civil-registry", "hr-r1"]
    # the id is stable: the same on every listing and on every store
    assert daughter["restriction_id"] == next(
        r["restriction_id"] for r in on_day if r["relative_id"] == "p-r1c"
    )
    both = crun("restrictions", "--all", "--at", "2025-06-01")
    assert both.exit_code == 2


def test_the_restrictions_around_one_record_are_the_whole_lists_there(
    crun: Callable[..., Result], store_location: str
) -> None:
    """`explore` of a person or an agency reads only the agencies it is or works in: for every
    person and agency of the fixture, what that gives is exactly the whole list's restrictions
    naming its entity, on both stores."""
    assert crun("load", str(FIXTURE)).exit_code == 0
    ids = []
    for name in ("people.csv", "agencies.csv"):
        with (FIXTURE / name).open(encoding="utf-8") as fh:
            ids += [row["id"] for row in csv.DictReader(fh)]
    store = open_store(store_location)
    try:
        every = find_restrictions(store, None)
        merges = store.merges()
        merges.close(ids)
        shown = 0
        for record in ids:
            entity = merges.canonical(record)
            around = find_restrictions(store, None, around=record)
            assert {r.restriction_id for r in around} <= {r.restriction_id for r in every}
            mine = [r for r in every if entity in (r.agency_id, r.superior_id, r.relative_id)]
            assert [r for r in around if r in mine] == mine, record
            shown += len(mine)
        assert shown >= 3 * len(every) > 0  # each names its agency, superior and relative
    finally:
        store.close()


def test_a_sweep_keeps_restrictions_reports_new_ones_and_triage_works_on_them(
    crun: Callable[..., Result], tmp_path: Path
) -> None:
    assert crun("load", str(FIXTURE)).exit_code == 0
    first = crun("sweep", "--format", "jsonl")
    assert first.exit_code == 0, first.output
    told = [json.loads(line) for line in first.stdout.splitlines()]
    kept = {r["relative_id"]: r for r in told if r.get("kind") == "restriction"}
    assert sorted(kept) == ["p-r1c", "p-r5s", "p-r7c"]
    assert "12 finding(s), 12 reported; 3 restriction(s), 3 reported" in first.stderr
    again = crun("sweep", "--format", "jsonl")
    assert again.stdout == "" and "3 restriction(s), 0 reported" in again.stderr
    # a day's contracts change no restriction: the kept ones stand (counted, not searched again)
    day = write_bundle(tmp_path / "day", {"contract": [
        {"id": "D99", "buyer_id": "ag-r1", "supplier_id": "co-d01", "signed_on": "2025-07-01"},
    ]})  # fmt: skip
    assert crun("load", str(day)).exit_code == 0
    quiet = crun("sweep", "--format", "jsonl")
    assert "swept 1 of 15 contract(s)" in quiet.stderr
    assert "3 restriction(s), 0 reported" in quiet.stderr
    wife = kept["p-r5s"]["restriction_id"]
    done = crun("triage", wife, "--status", "dismissed", "--note", "she left in 2023")
    assert done.exit_code == 0 and f"{wife} is now dismissed: she left in 2023" in done.stdout
    listed = {r["restriction_id"]: r for r in restrictions(crun, "--all")}
    assert listed[wife]["status"] == "dismissed" and listed[wife]["note"] == "she left in 2023"
    # the period changes (she left earlier): the dismissed restriction is reopened and reported
    changed = write_bundle(tmp_path / "changed", {"link": [
        {"source": "p-r5s", "target": "ag-r1", "type": "EMPLOYED", "role": "specialist",
         "since": "2019-01-01", "until": "2021-06-30"},
    ]})  # fmt: skip
    assert crun("load", str(changed)).exit_code == 0
    later = crun("sweep", "--format", "jsonl")
    reopened = [json.loads(line) for line in later.stdout.splitlines()]
    assert [(r["restriction_id"], r["status"], r["until"]) for r in reopened] == [
        (wife, "new", "2021-06-30")
    ]
    unknown = crun("triage", "R-0000000000000000", "--status", "confirmed")
    assert unknown.exit_code == 1 and "no restriction 'R-0000000000000000'" in unknown.stderr


def test_declarations_reload_idempotently_and_skip_invalid_writes_them_as_given(
    crun: Callable[..., Result], tmp_path: Path
) -> None:
    assert crun("load", str(FIXTURE)).exit_code == 0
    again = crun("load", str(FIXTURE))
    assert again.exit_code == 0 and "nothing changed" in again.stdout
    bundle = write_bundle(tmp_path / "mixed", {"declaration": [
        {"person_id": "p-d05", "declared_on": "2025-04-01", "type": "interest",
         "subject_id": "co-d05", "role": "directs"},
        {"person_id": "p-d05", "declared_on": "2025-04-01", "type": "relative",
         "subject_id": "co-d05", "role": "spouse"},
    ]})  # fmt: skip
    rejects = tmp_path / "rejects.jsonl"
    result = crun("load", str(bundle), "--skip-invalid", "--rejects", str(rejects))
    assert result.exit_code == 0, result.output
    (bad,) = [json.loads(line) for line in rejects.read_text(encoding="utf-8").splitlines()]
    assert bad["line"] == 3 and bad["errors"] == [
        {"field": "subject_id", "reason": "a relative names a person, not a company"}
    ]
    assert bad["row"] == {"person_id": "p-d05", "declared_on": "2025-04-01", "type": "relative",
                          "subject_id": "co-d05", "role": "spouse"}  # fmt: skip
    assert sweep_all(crun, tmp_path)["D05"]["disclosure"] == "declared"


def test_a_store_of_schema_7_gets_the_declarations_index_of_schema_8(
    run: Callable[..., Result], tmp_path: Path
) -> None:
    """Schema 7 kept declarations in an index whose WHERE was `type IN (…)` (slow to build and to
    write); opened by this cofi, the store has it remade and answers the same."""
    assert run("load", str(FIXTURE)).exit_code == 0
    before = run("declarations", "audit", "--at", "2025-06-01", "--format", "jsonl").stdout
    old_where = "type IN ('DECLARED_RELATIVE', 'DECLARED_INTEREST', 'NOTIFIED_CONFLICT', 'RECUSED')"
    with contextlib.closing(sqlite3.connect(tmp_path / "store" / "cofi.sqlite")) as db:
        db.executescript(
            "DROP INDEX links_declared; "
            f"CREATE INDEX links_declared ON links (type, source) WHERE {old_where}; "
            "UPDATE meta SET value = '7' WHERE key = 'schema_version';"
        )
    after = run("declarations", "audit", "--at", "2025-06-01", "--format", "jsonl")
    assert after.exit_code == 0, after.output
    assert after.stdout == before and before.count("\n") == 17
    with contextlib.closing(sqlite3.connect(tmp_path / "store" / "cofi.sqlite")) as db:
        (sql,) = db.execute(
            "SELECT sql FROM sqlite_master WHERE name = 'links_declared'"
        ).fetchone()
        (version,) = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    assert " OR " in sql and " IN " not in sql and version == SCHEMA_VERSION
