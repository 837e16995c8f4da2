"""`cofi demo`: synthesises a small bundle, loads it into a fresh store, sweeps, shows the top."""

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from cofi.cli import cli
from cofi.synth import PLANTED


def test_demo_synthesises_loads_sweeps_and_shows_each_pattern(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    outputs = []
    for _ in range(2):
        result = CliRunner().invoke(cli, ["demo"])
        assert result.exit_code == 0, result.output
        outputs.append(result.output)
    assert outputs[0] == outputs[1]  # a fresh store each time, the same seed, the same findings
    out = outputs[0]
    bundle = tmp_path / "cofi-demo" / "bundle"
    contracts = (bundle / "contracts.csv").read_text(encoding="utf-8").count("\n") - 1
    assert f"swept {contracts:,} contracts" in out
    assert "hub address:" in out
    shown = re.findall(r"^\w+ [01]\.\d\d  (\w+)  contract (\S+) ", out, flags=re.M)
    assert sorted(p for p, _ in shown) == sorted(PLANTED)
    # What the demo printed is what the store holds.
    listed = CliRunner().invoke(cli, ["--store", "cofi-demo", "findings", "--format", "jsonl"])
    stored = [json.loads(x) for x in listed.output.splitlines()]
    assert f": {len(stored):,} findings;" in out
    for pattern, contract in shown:
        best = min((f for f in stored if f["pattern"] == pattern),
                   key=lambda f: (-f["score"], f["finding_id"]))  # fmt: skip
        assert best["contract_id"] == contract
        assert best["explanation"] in out
    # Every planted conflict is among them.
    truth = [json.loads(x) for x in (bundle / "truth.jsonl").read_text().splitlines()]
    found = {(f["contract_id"], f["decision_maker_id"], f["winner_id"]) for f in stored}
    assert {(t["contract_id"], t["decision_maker_id"], t["winner_id"]) for t in truth} <= found
    # The README's quickstart shows a finding of this demo as `check` prints it: so it is.
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    shown_in_readme = readme.split("A finding reads like this (from the demo):")[1]
    block = shown_in_readme.split("```text\n")[1].split("```")[0]
    contract = re.search(r" contract (\S+) ", block)
    assert contract is not None
    checked = CliRunner().invoke(cli, ["--store", "cofi-demo", "check", contract[1]])
    assert checked.exit_code == 0 and block in checked.stdout
    # and the quickstart's `check` and `explore` of the demo's ids work
    for name, item in re.findall(r"^cofi --store cofi-demo (check|explore) (\S+)", readme, re.M):
        out = ["--out", "x.html"] if name == "explore" else []
        result = CliRunner().invoke(cli, ["--store", "cofi-demo", name, item, *out])
        assert result.exit_code == 0, (name, item, result.output)


def test_demo_refuses_to_replace_other_directories(tmp_path: Path) -> None:
    target = tmp_path / "precious"
    target.mkdir()
    (target / "notes.txt").write_text("keep me")
    result = CliRunner().invoke(cli, ["demo", "--out", str(target)])
    assert result.exit_code == 1
    assert "is not a cofi demo store" in result.stderr
    assert (target / "notes.txt").read_text() == "keep me"


def test_demo_builds_where_the_group_store_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`cofi --store X demo` builds X (not ./cofi-demo), so that `cofi --store X check …` reads
    it; COFI_STORE, the user's own store, is not the demo's."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COFI_STORE", str(tmp_path / "mine"))
    result = CliRunner().invoke(cli, ["--store", "here", "demo"])
    assert result.exit_code == 0, result.output
    assert not (tmp_path / "cofi-demo").exists() and not (tmp_path / "mine").exists()
    assert "try: cofi --store here check " in result.output
    contract = re.search(r"try: cofi --store here check (\S+)", result.output)
    assert contract is not None
    checked = CliRunner().invoke(cli, ["--store", "here", "check", contract[1]])
    assert checked.exit_code == 0 and "contract " + contract[1] in checked.output
    # From the environment alone, the demo keeps to its own default directory.
    result = CliRunner().invoke(cli, ["demo"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "cofi-demo" / "bundle").is_dir() and not (tmp_path / "mine").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--store", "a", "demo", "--out", "b"], "--store a and --out b name two stores: give one"),
        (["--store", "bolt://localhost:7687", "demo"],
         "the demo builds an embedded store, and --store bolt://localhost:7687 is a Neo4j server"),
    ],
)  # fmt: skip
def test_demo_refuses_two_places_or_a_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert list(tmp_path.iterdir()) == []  # nothing made


def test_the_readme_counts_what_the_demo_plants(tmp_path: Path) -> None:
    """The README's `demo` section says how many conflicts and near misses the demo plants: so
    many it does."""
    result = CliRunner().invoke(cli, ["demo", "--out", str(tmp_path / "d")])
    assert result.exit_code == 0, result.output
    made = re.search(r"(\d+) planted conflicts, (\d+) near misses", result.output)
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    said = re.search(r"(\d+) planted conflicts and (\d+) near misses", readme)
    assert made is not None and said is not None
    assert said.groups() == made.groups()
