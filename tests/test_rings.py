"""Neighbourhoods read ring by ring (`cofi.rings`): on the embedded store, `check`, `path`,
`links` and `explore` read only the rings around what they search, and find exactly what the
whole graph gives."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from cofi.cli import cli
from cofi.detect import PathSearch, Rules
from cofi.findings import check_contract
from cofi.store.base import Store
from cofi.sweep import contract_graph, explore_graph, load_graph
from tests.conftest import write_bundle
from tests.test_detect import SCENARIOS, expected
from tests.test_sweep import SHARED_PHONE


def cofi(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def assert_explore_draws_the_whole_graphs_view(part_store: Store, whole_store: Store) -> int:
    """Every entity, contract, identifier value and finding of `whole_store`, at depths 1 to 3:
    the view drawn from the rings `part_store` reads is the view drawn from the whole graph
    (nodes with their fields, links, whether it was cut); the number of views cut."""
    from cofi.explore import neighbourhood

    whole = load_graph(whole_store)
    findings = {f.finding_id: f for f in whole_store.findings(active=False)}
    ids = [*sorted(whole.rec_index), *sorted(whole.contracts), *sorted(findings),
           *sorted(whole.node_id(n) for n in whole.ident_value)]  # fmt: skip
    assert findings and len(ids) > 100
    cut = 0
    for depth in (1, 2, 3):
        for item in ids:
            finding = findings.get(item)
            want = neighbourhood(whole, item, depth=depth, hub_limit=3, finding=finding)
            part = explore_graph(part_store, item, depth, 3, finding)
            got = neighbourhood(part, item, depth=depth, hub_limit=3, finding=finding)
            assert (got.title, got.nodes, got.edges, got.truncated) == (
                want.title, want.nodes, want.edges, want.truncated), (item, depth)  # fmt: skip
            cut += want.truncated
    return cut


@pytest.fixture
def scenarios(tmp_path: Path) -> str:
    store = str(tmp_path / "store")
    assert cofi("--store", store, "load", str(SCENARIOS)).exit_code == 0
    assert cofi("--store", store, "sweep", "--out", os.devnull).exit_code == 0
    return store


def test_explore_on_the_embedded_store_reads_rings_and_draws_the_whole_graphs_view(
    scenarios: str,
) -> None:
    from cofi.store import open_store

    store = open_store(scenarios)
    try:
        assert_explore_draws_the_whole_graphs_view(store, store)
    finally:
        store.close()


def test_explore_reads_one_contract_more_than_it_draws_and_still_says_it_left_some_out(
    scenarios: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With two contracts drawn around a node instead of 25, many views are cut: the rings read
    the first three of each kind of a node's contracts, not all, and draw what the whole graph
    draws, cut where it is cut."""
    from cofi.store import open_store

    monkeypatch.setattr("cofi.explore.PER_NODE", 2)
    store = open_store(scenarios)
    try:
        assert assert_explore_draws_the_whole_graphs_view(store, store) > 20
    finally:
        store.close()


def test_no_neighbourhood_command_reads_the_whole_graph_on_the_embedded_store(
    scenarios: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`check`, `path`, `links` and `explore` answer with the whole-graph read made to fail."""
    from cofi.store.embedded import EmbeddedStore

    def refuse(_: EmbeddedStore) -> None:
        raise AssertionError("the whole graph was read")

    monkeypatch.setattr(EmbeddedStore, "graph_rows", refuse)
    page = tmp_path / "view.html"
    for args, answered in (
        (["check", "S04", "--format", "jsonl"], lambda r: '"ASSOCIATE"' in r.stdout),
        (["path", "p-s04", "co-s04"], lambda r: "ASSOCIATE" in r.stdout),
        (["links", "p-s04"], lambda r: "co-s04" in r.stdout),
        (["explore", "p-s04", "--out", str(page)], lambda r: page.exists()),
    ):
        result = cofi("--store", scenarios, *args)
        assert result.exit_code == 0 and answered(result), (args, result.output)
    missing = cofi("--store", scenarios, "check", "NO-SUCH")
    assert missing.exit_code == 1 and "no contract 'NO-SUCH' in the store" in missing.stderr


def checks_on_rings_are_the_whole_graphs(store: Store) -> set[tuple[Any, ...]]:
    """Every contract's findings from its rings are the whole graph's, field for field, under
    the default rules and tighter ones; the findings (contract, decision-maker, winner,
    pattern, hops) under the default rules."""
    whole = load_graph(store)
    for rules in (Rules(), Rules(max_hops=2, max_family=1, lookback_days=0, hub_limit=1)):
        search = PathSearch(whole, rules)
        for contract_id in sorted(whole.contracts):
            part = PathSearch(contract_graph(store, contract_id, rules), rules)
            got = [f.__dict__ for f in check_contract(part, contract_id)]
            assert got == [f.__dict__ for f in check_contract(search, contract_id)]
    return {(f.contract_id, f.decision_maker_id, f.winner_id, f.pattern, f.hops)
            for c in whole.contracts
            for f in check_contract(PathSearch(contract_graph(store, c, Rules()), Rules()), c)}  # fmt: skip


def test_every_scenario_check_on_rings_is_the_whole_graphs(scenarios: str) -> None:
    from cofi.store import open_store

    store = open_store(scenarios)
    try:
        assert checks_on_rings_are_the_whole_graphs(store) == expected()
    finally:
        store.close()


@pytest.mark.slow
def test_a_synthetic_bundles_checks_on_rings_are_the_whole_graphs(tmp_path: Path) -> None:
    """`cofi synth` (small, seed 3): every third contract's findings from its rings are those
    of the whole graph, field for field."""
    from cofi.store import open_store

    store_dir = str(tmp_path / "store")
    assert cofi("synth", "--out", str(tmp_path / "b"), "--seed", "3").exit_code == 0
    assert cofi("--store", store_dir, "load", str(tmp_path / "b")).exit_code == 0
    store = open_store(store_dir)
    try:
        whole = load_graph(store)
        search, rules = PathSearch(whole, Rules()), Rules()
        found = 0
        for contract_id in sorted(whole.contracts)[::3]:
            want = [f.__dict__ for f in check_contract(search, contract_id)]
            part = PathSearch(contract_graph(store, contract_id, rules), rules)
            assert [f.__dict__ for f in check_contract(part, contract_id)] == want, contract_id
            found += len(want)
        assert found > 50
    finally:
        store.close()


def test_a_small_incremental_sweep_on_the_embedded_store_reads_rings_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After the first sweep (the whole graph), a load's changes are scoped and checked on rings:
    with the whole-graph read made to fail, each incremental sweep re-checks what the same sweep
    on the whole graph re-checks and finds the same, in a second store swept the old way."""
    import cofi.sweep as sweep_module
    from cofi.store.embedded import EmbeddedStore

    rings_store, whole_store = str(tmp_path / "rings"), str(tmp_path / "whole")
    for store in (rings_store, whole_store):
        assert cofi("--store", store, "load", str(SCENARIOS)).exit_code == 0
        assert cofi("--store", store, "sweep", "--out", os.devnull).exit_code == 0
    changes = [
        {"link": [{"source": "p-s11", "target": "co-s11", "type": "DIRECTS",
                   "since": "2020-01-01"}]},
        {"person": SHARED_PHONE},
        {"link": [{"source": "p-s04a", "target": "co-s04", "type": "DIRECTS",
                   "role": "director", "since": "2019-01-01", "until": "2020-01-01"}]},
        {"contract": [{"id": "S99", "buyer_id": "ag-b", "supplier_id": "co-s01",
                       "signed_on": "2025-07-01", "value": "10"}],
         "link": [{"source": "p-s01", "target": "S99", "type": "DECIDED", "role": "chair"}]},
    ]  # fmt: skip
    real_rows = EmbeddedStore.graph_rows
    for n, rows in enumerate(changes):
        bundle = write_bundle(tmp_path / f"change{n}", rows)
        outputs = []
        for store, rings in ((rings_store, True), (whole_store, False)):
            assert cofi("--store", store, "load", str(bundle)).exit_code == 0, rows
            if rings:
                monkeypatch.setattr(EmbeddedStore, "graph_rows", _refuse)
            else:
                monkeypatch.setattr(EmbeddedStore, "graph_rows", real_rows)
                monkeypatch.setattr(sweep_module, "RINGS_SCOPE_MAX", -1)
                monkeypatch.setattr(sweep_module, "RINGS_CHECK_MAX", -1)
            result = cofi("--store", store, "sweep", "--format", "jsonl")
            assert result.exit_code == 0, result.output
            outputs.append((result.stdout, result.stderr))
            monkeypatch.undo()
        assert outputs[0] == outputs[1], rows
    assert '"S99"' in outputs[0][0]


def _refuse(_: object) -> None:
    raise AssertionError("the whole graph was read")
