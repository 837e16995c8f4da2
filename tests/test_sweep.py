"""The incremental sweep: nothing re-reported, changes re-checked, triage remembered, crash-safe."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from cofi.normalize import valid_iin_bin
from cofi.synth.kazakh import with_check_digit
from tests.conftest import snapshot, write_bundle
from tests.test_detect import SCENARIOS, expected, jsonl, keys


@pytest.fixture
def swept(crun: Callable[..., Result]) -> Callable[..., Result]:
    """The scenario bundle loaded and swept once, in each store in turn (conformance tests)."""
    assert crun("load", str(SCENARIOS)).exit_code == 0
    assert keys(jsonl(crun("sweep", "--format", "jsonl"))) == expected()
    return crun


def load_rows(run: Callable[..., Result], tmp_path: Path, name: str, rows: dict[str, Any]) -> None:
    result = run("load", str(write_bundle(tmp_path / name, rows)))
    assert result.exit_code == 0, result.output


def by_contract(run: Callable[..., Result], contract: str) -> dict[str, Any]:
    (f,) = jsonl(run("findings", "--contract", contract, "--format", "jsonl"))
    return f


def test_a_second_sweep_reports_nothing(swept: Callable[..., Result]) -> None:
    result = swept("sweep", "--format", "jsonl")
    assert jsonl(result) == []
    assert "swept 0 of 24 contract(s)" in result.stderr
    assert len(jsonl(swept("findings", "--format", "jsonl"))) == len(expected())


def test_a_new_link_makes_an_old_contract_show_up(
    swept: Callable[..., Result], tmp_path: Path
) -> None:
    link = {"source": "p-s11", "target": "co-s11", "type": "DIRECTS", "since": "2020-01-01"}
    load_rows(swept, tmp_path, "more", {"link": [link]})
    result = swept("sweep", "--format", "jsonl")
    assert keys(jsonl(result)) == {("S11", "p-s11", "co-s11", "SELF_DEALING", 1)}
    assert "swept 1 of 24 contract(s)" in result.stderr  # only S11 is near the change


def test_a_change_re_checks_only_the_contracts_a_path_through_it_could_serve(
    swept: Callable[..., Result], tmp_path: Path
) -> None:
    """S12's decision-maker gains a relative who is linked to nobody else: no path from him to
    S12's winner can run through the new link, so nothing is re-checked (a walk out to max_hops
    from the change would re-check S12).  Then the relative marries into the winner's owner's
    family: that change ripples, S12 is re-checked and shows the 3-hop path."""
    person = {"id": "p-far", "name": "Дамир Сейітов", "birth_date": "1979-03-03"}
    link = {"source": "p-s12", "target": "p-far", "type": "FAMILY", "role": "sibling"}
    load_rows(swept, tmp_path, "relative", {"person": [person], "link": [link]})
    result = swept("sweep", "--format", "jsonl")
    assert jsonl(result) == [] and "swept 0 of 24" in result.stderr
    link = {"source": "p-far", "target": "p-s12w", "type": "FAMILY", "role": "spouse"}
    load_rows(swept, tmp_path, "married", {"link": [link]})
    result = swept("sweep", "--format", "jsonl")
    assert "swept 1 of 24" in result.stderr
    assert keys(jsonl(result)) == {("S12", "p-s12", "co-s12", "FAMILY", 3)}


SHARED_PHONE = [
    {"id": "p-s12", "name": "Нурбол Ахметжанов", "birth_date": "1982-12-12",
     "phone": "+7 700 000 11 22"},
    {"id": "p-s12w", "name": "Рустем Әлиев", "birth_date": "1984-02-14",
     "phone": "8 700 000 11 22"},
]  # fmt: skip
"""p-s12 (decider of S12) and p-s12w (who owns co-s12) turn out to share one phone number."""


def test_a_new_identifier_value_re_checks_its_holders_contracts(
    swept: Callable[..., Result], tmp_path: Path
) -> None:
    load_rows(swept, tmp_path, "phones", {"person": SHARED_PHONE})
    got = keys(jsonl(swept("sweep", "--format", "jsonl")))
    assert got == {("S12", "p-s12", "co-s12", "SHARED_CONTACT", 3)}


def test_a_dismissed_finding_stays_quiet_until_its_best_path_changes(
    swept: Callable[..., Result], tmp_path: Path
) -> None:
    old = by_contract(swept, "S04")
    result = swept("triage", old["finding_id"], "--status", "dismissed", "--note", "declared")
    assert result.exit_code == 0 and "dismissed" in result.stdout
    # a change next to the finding: re-checked, same best path, nothing reported
    person = {"id": "p-s04a", "name": "Тимур Сейтқали", "birth_date": "1984-06-06",
              "email": "timur@example.kz"}  # fmt: skip
    load_rows(swept, tmp_path, "email", {"person": [person]})
    result = swept("sweep", "--format", "jsonl")
    assert jsonl(result) == [] and "swept 1 of 24" in result.stderr
    assert by_contract(swept, "S04")["status"] == "dismissed"
    # a new, shorter path: the finding is reported again, reopened as new, note kept
    link = {"source": "p-s04", "target": "co-s04", "type": "OWNS", "share": "10",
            "since": "2024-01-01"}  # fmt: skip
    load_rows(swept, tmp_path, "owns", {"link": [link]})
    (f,) = jsonl(swept("sweep", "--format", "jsonl"))
    assert f["finding_id"] == old["finding_id"]
    assert (f["pattern"], f["hops"], f["status"], f["note"]) == (
        "SELF_DEALING",
        1,
        "new",
        "declared",
    )


def test_a_finding_whose_path_ends_goes_inactive(
    swept: Callable[..., Result], tmp_path: Path
) -> None:
    link = {"source": "p-s04a", "target": "co-s04", "type": "DIRECTS", "role": "director",
            "since": "2019-01-01", "until": "2020-01-01"}  # fmt: skip
    load_rows(swept, tmp_path, "ended", {"link": [link]})
    result = swept("sweep", "--format", "jsonl")
    assert jsonl(result) == [] and "1 no longer found" in result.stderr
    active = keys(jsonl(swept("findings", "--format", "jsonl")))
    assert active == {k for k in expected() if k[0] != "S04"}
    everything = keys(jsonl(swept("findings", "--inactive", "--format", "jsonl")))
    assert everything == expected()


def test_records_that_stop_sharing_an_iin_unmerge_and_the_finding_goes(
    swept: Callable[..., Result], tmp_path: Path
) -> None:
    # S23: the decider's other record (same valid IIN) directs the winner.  The register corrects
    # the decider's IIN: the two records are two people again, and the finding must go.
    corrected = with_check_digit("800415300", 200)
    assert corrected != "800415300122" and valid_iin_bin(corrected)
    person = {"id": "p-s23", "name": "Жандос Байжанов", "birth_date": "1980-04-15",
              "iin": corrected}  # fmt: skip
    load_rows(swept, tmp_path, "corrected", {"person": [person]})
    result = swept("sweep", "--format", "jsonl")
    assert jsonl(result) == [] and "1 no longer found" in result.stderr
    active = keys(jsonl(swept("findings", "--format", "jsonl")))
    assert active == {k for k in expected() if k[0] != "S23"}


def test_correcting_the_other_records_iin_unmerges_them_and_the_finding_goes(
    swept: Callable[..., Result], tmp_path: Path
) -> None:
    # S23 again, but the register corrects the IIN of the record that directs the winner (not
    # the decider's): the decider's record changed in nothing, yet held the IIN the changed one
    # gave up, so it is walked out from too and S23, and only S23, is re-checked.
    corrected = with_check_digit("800415300", 200)
    person = {"id": "p-s23b", "name": "Zhandos Baizhanov", "birth_date": "1980-04-15",
              "iin": corrected}  # fmt: skip
    load_rows(swept, tmp_path, "corrected", {"person": [person]})
    result = swept("sweep", "--format", "jsonl")
    assert jsonl(result) == [] and "1 no longer found" in result.stderr
    assert "swept 1 of 24" in result.stderr
    active = keys(jsonl(swept("findings", "--format", "jsonl")))
    assert active == {k for k in expected() if k[0] != "S23"}


def test_other_rules_re_check_everything_and_report_only_what_is_new(
    swept: Callable[..., Result],
) -> None:
    result = swept("sweep", "--max-hops", "5", "--format", "jsonl")
    assert keys(jsonl(result)) == {("S14", "p-s14", "co-s14", "FAMILY", 5)}
    assert "swept 24 of 24" in result.stderr


def test_all_reports_everything_with_its_status_and_since_re_checks_a_window(
    swept: Callable[..., Result],
) -> None:
    fid = by_contract(swept, "S07")["finding_id"]
    assert swept("triage", fid, "--status", "confirmed").exit_code == 0
    found = jsonl(swept("sweep", "--all", "--format", "jsonl"))
    assert keys(found) == expected()
    assert {f["finding_id"]: f["status"] for f in found}[fid] == "confirmed"
    result = swept("sweep", "--since", "2025-06-01", "--format", "jsonl")
    assert jsonl(result) == [] and "swept 24 of 24" in result.stderr
    result = swept("sweep", "--since", "2025-06-02")
    assert "swept 0 of 24" in result.stderr
    assert swept("sweep", "--all", "--since", "2025-01-01").exit_code == 2


def test_a_note_of_several_lines_stays_under_its_finding_in_text(
    swept: Callable[..., Result],
) -> None:
    fid = by_contract(swept, "S07")["finding_id"]
    note = "called the registry\nstake confirmed"
    assert swept("triage", fid, "--status", "confirmed", "--note", note).exit_code == 0
    assert by_contract(swept, "S07")["note"] == note
    text = swept("findings", "--contract", "S07", "--format", "text").stdout
    assert text.endswith("  note: called the registry\n        stake confirmed\n")


def test_triage_of_an_unknown_finding_is_one_line_and_exit_1(
    swept: Callable[..., Result], tmp_path: Path
) -> None:
    before = snapshot(tmp_path / "store")
    result = swept("triage", "F-0000000000000000", "--status", "confirmed")
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        "cofi: error: no finding 'F-0000000000000000' in the store (run `cofi sweep` first?)"
    ]
    assert swept("triage", "F-0000000000000000", "--status", "maybe").exit_code == 2
    assert swept("sweep", "--all", "--since", "2025-01-01").exit_code == 2
    assert swept("sweep", "--since", "2025-13-01").exit_code == 2
    assert snapshot(tmp_path / "store") == before  # nothing written by any of them


def test_sweep_writes_the_out_file_in_the_format_its_name_says(
    swept: Callable[..., Result], tmp_path: Path
) -> None:
    result = swept("sweep", "--all", "--out", str(tmp_path / "all.csv"))
    assert result.exit_code == 0
    text = (tmp_path / "all.csv").read_text(encoding="utf-8")
    assert text.startswith("finding_id,contract_id,") and len(text.splitlines()) == 16
    swept("sweep", "--all", "--out", str(tmp_path / "all.jsonl"))
    lines = (tmp_path / "all.jsonl").read_text(encoding="utf-8").splitlines()
    assert keys([json.loads(x) for x in lines]) == expected()


def _many_findings_bundle(directory: Path, n: int) -> Path:
    people, companies, contracts, links = [], [], [], []
    for i in range(n):
        people += [{"id": f"d{i}", "name": f"Decider {i}"}, {"id": f"s{i}", "name": f"Spouse {i}"}]
        companies.append({"id": f"c{i}", "name": f"Company {i}"})
        contracts.append({"id": f"K{i:06d}", "buyer_id": "ag", "supplier_id": f"c{i}",
                          "signed_on": "2025-01-01", "value": "1000"})  # fmt: skip
        links += [
            {"source": f"d{i}", "target": f"K{i:06d}", "type": "DECIDED", "role": "chair"},
            {"source": f"d{i}", "target": f"s{i}", "type": "FAMILY", "role": "spouse"},
            {"source": f"s{i}", "target": f"c{i}", "type": "OWNS", "share": "50"},
        ]
    return write_bundle(directory, {"agency": [{"id": "ag", "name": "Agency"}], "person": people,
                                    "company": companies, "contract": contracts, "link": links})  # fmt: skip


def _findings_table(store: Path) -> list[tuple[Any, ...]]:
    db = sqlite3.connect(store / "cofi.sqlite")
    try:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        return sorted(db.execute("SELECT finding_id, signature, status, active FROM findings"))
    finally:
        db.close()


def test_a_sweep_killed_mid_way_leaves_the_store_as_before_and_the_rerun_completes(
    tmp_path: Path,
) -> None:
    n = 6000
    bundle = _many_findings_bundle(tmp_path / "bundle", n)
    cofi = [sys.executable, "-m", "cofi"]
    clean, store = tmp_path / "clean", tmp_path / "store"
    for s in (clean, store):
        subprocess.run([*cofi, "--store", str(s), "load", str(bundle)], check=True,
                       capture_output=True)  # fmt: skip
    start = time.perf_counter()
    subprocess.run([*cofi, "--store", str(clean), "sweep", "--out", str(tmp_path / "c.jsonl")],
                   check=True, capture_output=True)  # fmt: skip
    duration = time.perf_counter() - start
    want = _findings_table(clean)
    assert len(want) == n
    for fraction in (0.3, 0.6, 0.85, 0.95):
        proc = subprocess.Popen([*cofi, "--store", str(store), "sweep", "--out", os.devnull],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        time.sleep(duration * fraction)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert _findings_table(store) in ([], want)  # never a partial sweep
    subprocess.run([*cofi, "--store", str(store), "sweep", "--out", os.devnull], check=True,
                   capture_output=True)  # fmt: skip
    assert _findings_table(store) == want
    again = subprocess.run([*cofi, "--store", str(store), "sweep"], check=True,
                           capture_output=True, text=True)  # fmt: skip
    assert again.stdout == "" and "swept 0 of" in again.stderr


def test_a_triage_made_while_a_sweep_runs_is_kept(
    swept: Callable[..., Result], store_location: str
) -> None:
    """The sweep reads each finding's triage when it begins and commits at its end; a reviewer
    who confirms a finding in between must not see the sweep put it back to `new`."""
    from cofi.detect import Rules
    from cofi.store import open_store
    from cofi.sweep import sweep

    target = by_contract(swept, "S04")["finding_id"]
    store = open_store(store_location)

    def triage_meanwhile(_: int) -> None:
        result = swept("triage", target, "--status", "confirmed", "--note", "checked by hand")
        assert result.exit_code == 0, result.output

    try:
        sweep(store, Rules(), everything=True, workers=1, progress=triage_meanwhile)
    finally:
        store.close()
    after = by_contract(swept, "S04")
    assert (after["status"], after["note"]) == ("confirmed", "checked by hand")


def test_a_new_contract_and_its_deciders_re_check_that_contract_only(
    swept: Callable[..., Result], tmp_path: Path
) -> None:
    """The cron job's day: a new contract with a DECIDED link from a person who decides another
    contract.  A DECIDED link changes who decides this contract, no path between anybody else:
    nothing is walked out from the person (S04, the person's other contract, is not re-checked)."""
    load_rows(swept, tmp_path, "day", {
        "contract": [{"id": "S99", "buyer_id": "ag-b", "supplier_id": "co-s04",
                      "signed_on": "2025-07-01"}],
        "link": [{"source": "p-s04", "target": "S99", "type": "DECIDED", "role": "chair"}],
    })  # fmt: skip
    result = swept("sweep", "--format", "jsonl")
    assert "swept 1 of 25 contract(s)" in result.stderr
    assert keys(jsonl(result)) == {("S99", "p-s04", "co-s04", "ASSOCIATE", 2)}


def test_a_contract_no_sweep_checked_is_checked_with_a_days_new_one(
    run: Callable[..., Result], tmp_path: Path
) -> None:
    """The embedded store reads only the contracts written since the last sweep when they are
    all the unswept ones (a day's new contract here); when an older one was never checked too
    (its record of being swept gone), every contract is read, and both are checked."""
    assert run("load", str(SCENARIOS)).exit_code == 0
    assert "swept 24 of 24" in run("sweep").stderr
    day = {"contract": [{"id": "S99", "buyer_id": "ag-b", "supplier_id": "co-s04",
                         "signed_on": "2025-07-01"}]}  # fmt: skip
    load_rows(run, tmp_path, "day", day)
    assert "swept 1 of 25" in run("sweep").stderr
    day["contract"][0]["id"] = "S98"
    load_rows(run, tmp_path, "day2", day)
    db = sqlite3.connect(tmp_path / "store" / "cofi.sqlite")
    with db:
        db.execute("DELETE FROM swept WHERE contract_id = 'S07'")
    db.close()
    result = run("sweep", "--format", "jsonl")
    assert "swept 2 of 26" in result.stderr
    assert keys(jsonl(result)) == set()  # (S07's finding was reported before, and still holds)
    assert "swept 0 of 26" in run("sweep").stderr


def test_a_new_head_of_an_agency_re_checks_its_contracts_without_a_walk(
    swept: Callable[..., Result], tmp_path: Path
) -> None:
    contracts = sum(1 for line in (SCENARIOS / "contracts.csv").read_text().splitlines()[1:]
                    if line.split(",")[1] == "ag-a")  # fmt: skip
    load_rows(swept, tmp_path, "head", {"link": [
        {"source": "p-s04", "target": "ag-a", "type": "EMPLOYED", "role": "specialist"}]})  # fmt: skip
    result = swept("sweep", "--format", "jsonl")
    assert f"swept {contracts} of 24 contract(s)" in result.stderr  # not S04 through p-s04
