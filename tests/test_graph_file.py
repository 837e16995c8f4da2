"""The graph file a sweep keeps beside the embedded store, and the prefilter of large sweeps."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import Result
from hypothesis import given
from hypothesis import strategies as st

from cofi import graph_file, prefilter
from cofi.detect import PathSearch, Rules
from cofi.graph import Graph
from cofi.loader import plan_load
from cofi.store.embedded import GRAPH_NAME, EmbeddedStore
from cofi.sweep import sweep
from cofi.synth import SCALES, generate
from tests.conftest import DEMO, snapshot, write_bundle
from tests.test_reference import same_graph

NEW_PERSON = {"person": [{"id": "P-NEW", "name": "Новый Человек"}]}


def builds(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the graphs built from rows from here on: in memory, or into the graph file."""
    from cofi import graph_build

    calls: list[int] = []
    build = Graph.build.__func__  # type: ignore[attr-defined]
    write = graph_build.write_graph_file

    def counted(cls: type[Graph], rows: object) -> Graph:
        calls.append(1)
        return build(cls, rows)  # type: ignore[no-any-return]

    def written(*args: Any) -> tuple[int, int]:
        calls.append(1)
        return write(*args)

    monkeypatch.setattr(Graph, "build", classmethod(counted))
    monkeypatch.setattr(graph_build, "write_graph_file", written)
    return calls


def fresh(store: Path) -> Graph:
    s = EmbeddedStore(store, create=False)
    try:
        return Graph.build(s.graph_rows())
    finally:
        s.close()


def whole(store: Path) -> Graph:
    s = EmbeddedStore(store, create=False)
    try:
        return s.whole_graph()
    finally:
        s.close()


def test_a_load_keeps_the_graph_that_sweeps_read_and_keeps_it_again_when_the_graph_changes(
    run: Callable[..., Result], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = tmp_path / "store"
    loaded = run("load", str(DEMO))
    assert loaded.exit_code == 0 and "graph kept for sweeps: " in loaded.output
    assert (store / GRAPH_NAME).exists()
    built = builds(monkeypatch)
    first = run("sweep", "--all", "--format", "jsonl")
    assert first.exit_code == 0 and built == []  # read from the file, not built
    assert run("sweep", "--all", "--format", "jsonl").output == first.output
    assert run("load", str(DEMO)).exit_code == 0 and built == []  # nothing changed
    more = run("load", str(write_bundle(tmp_path / "more", NEW_PERSON)))
    assert more.exit_code == 0 and built == [1]  # a new person: the graph built and kept
    assert run("sweep", "--all", "--format", "jsonl").output == first.output
    assert built == [1]
    assert same_graph(whole(store), fresh(store))


def damage(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:-100])


def garbage(path: Path) -> None:
    path.write_bytes(b"not a graph file at all")


@pytest.mark.parametrize("spoil", [damage, truncate, garbage])
def test_a_damaged_graph_file_is_never_read_but_built_again(
    run: Callable[..., Result],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    spoil: Callable[[Path], None],
) -> None:
    store = tmp_path / "store"
    assert run("load", str(DEMO)).exit_code == 0
    spoil(store / GRAPH_NAME)
    built = builds(monkeypatch)
    assert same_graph(whole(store), fresh(store))
    assert len(built) == 2  # whole_graph built it (and `fresh` once)
    assert same_graph(graph_file.read(store / GRAPH_NAME, tag(store)) or Graph(), fresh(store))


def tag(store: Path) -> str:
    found = graph_file.tag_of(store / GRAPH_NAME)
    assert found is not None
    return found


def test_another_stores_graph_file_at_the_same_revision_is_not_read(
    run: Callable[..., Result], tmp_path: Path
) -> None:
    store = tmp_path / "store"
    other = tmp_path / "other"
    assert run("load", str(DEMO)).exit_code == 0
    assert run("--store", str(other), "load", str(write_bundle(tmp_path / "b", NEW_PERSON)))
    shutil.copy(other / GRAPH_NAME, store / GRAPH_NAME)
    assert tag(store).split(":")[1] == "1"  # both at revision 1
    assert same_graph(whole(store), fresh(store))
    assert tag(store) != graph_file.tag_of(other / GRAPH_NAME)


def test_a_writer_killed_before_its_rename_leaves_no_file_in_use_and_its_orphan_is_removed(
    run: Callable[..., Result], tmp_path: Path
) -> None:
    store = tmp_path / "store"
    assert run("load", str(DEMO)).exit_code == 0
    orphan = store / f".{GRAPH_NAME}.999999999.tmp"  # no such process
    orphan.write_bytes(b"half a graph")
    (store / GRAPH_NAME).unlink()
    assert run("sweep", "--all").exit_code == 0
    assert not orphan.exists() and graph_file.tag_of(store / GRAPH_NAME) is not None


def test_any_text_comes_back_from_the_file_as_written(
    run: Callable[..., Result], tmp_path: Path
) -> None:
    g = fresh_demo(run, tmp_path)
    g.rec_name[0] = "nul\x00, тенге ₸, Әйгерім, 🙂"
    graph_file.write(g, tmp_path / "g.bin", "t")
    back = graph_file.read(tmp_path / "g.bin", "t")
    assert back is not None and back.rec_name[0] == g.rec_name[0] and same_graph(back, g)


def fresh_demo(run: Callable[..., Result], tmp_path: Path) -> Graph:
    assert run("load", str(DEMO)).exit_code == 0
    return fresh(tmp_path / "store")


def findings(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith("{")]


DAY = {
    "contract": [
        {"id": "K-17b", "buyer_id": "ag-health", "supplier_id": "co-dala",
         "signed_on": "2025-03-20", "value": "5000000", "currency": "KZT"},
        # a contract the kept graph holds, now with another winner
        {"id": "K-33", "buyer_id": "ag-roads", "supplier_id": "co-dala",
         "signed_on": "2025-09-10", "title": "Поставка дорожных знаков", "value": "3150000",
         "currency": "KZT", "procedure": "request_for_quotations"},
    ],
    "link": [
        {"source": "p-aigerim", "target": "K-17b", "type": "DECIDED", "role": "chair"},
        {"source": "p-aigerim", "target": "K-33", "type": "DECIDED", "role": "member"},
    ],
}  # fmt: skip


def test_a_days_contracts_are_laid_over_the_kept_graph_without_building_it(
    run: Callable[..., Result], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """New contracts and DECIDED links change no path: neither their load nor the sweep after
    them builds the graph; the sweep opens the file of the revision before and lays them over
    it, and finds what a store built afresh finds."""
    store = tmp_path / "store"
    assert run("load", str(DEMO)).exit_code == 0
    assert run("sweep").exit_code == 0
    built = builds(monkeypatch)
    day_load = run("load", str(write_bundle(tmp_path / "day", DAY)))
    assert day_load.exit_code == 0 and "graph kept" not in day_load.output and built == []
    shutil.copytree(store, tmp_path / "afresh")
    (tmp_path / "afresh" / GRAPH_NAME).unlink()
    kept, built_now = whole(store), fresh(store)
    assert dict(kept.contracts) == dict(built_now.contracts) and len(kept.contracts) == 6
    assert dict(kept.decided) == dict(built_now.decided)
    assert built == [1]  # (`fresh` built one; `whole` laid the day over the kept one)
    built.clear()
    day = run("sweep", "--format", "jsonl")
    assert day.exit_code == 0 and built == []
    reported = {json.loads(line)["contract_id"] for line in findings(day.output)}
    assert "K-17b" in reported  # the new contract's finding, through the kept graph
    everything = run("sweep", "--all", "--format", "jsonl").output
    assert built == []
    again = run("--store", str(tmp_path / "afresh"), "sweep", "--all", "--format", "jsonl")
    assert sorted(findings(everything)) == sorted(findings(again.output))
    assert built == [1]


@pytest.fixture(scope="module")
def synth_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from cofi.loader import plan_load

    root = tmp_path_factory.mktemp("synth")
    generate(root / "bundle", SCALES["small"], seed=5)
    store = EmbeddedStore(root / "store", create=True)
    with plan_load([root / "bundle"], store.kinds_of) as plan:
        store.write(plan)
    store.close()
    return root / "store"


@pytest.mark.parametrize("rules", [Rules(), Rules(max_hops=5, hub_limit=3), Rules(max_hops=2)])
def test_the_prefilter_changes_no_finding_of_a_sweep(
    synth_store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rules: Rules
) -> None:
    """Every planted pattern and near miss of a synthetic bundle, swept with the prefilter and
    without: the same findings, field for field (the prefilter left some contracts out)."""
    results = []
    kept: list[int] = []
    may = prefilter.may_have_findings

    def counted(*args: object) -> set[str]:
        out = may(*args)  # type: ignore[arg-type]
        kept.append(len(out))
        return out

    monkeypatch.setattr(prefilter, "may_have_findings", counted)
    for least in (0, 10**9):
        monkeypatch.setattr(prefilter, "MIN_CONTRACTS", least)
        copy = tmp_path / f"store-{least}"
        shutil.copytree(synth_store, copy)
        store = EmbeddedStore(copy, create=False)
        found = sweep(store, rules, everything=True, workers=1).reported
        contracts = len(store.whole_graph().contracts)
        store.close()
        results.append([json.dumps(f.__dict__, sort_keys=True) for f in found])
    assert results[0] == results[1] and len(results[0]) > 10
    assert len(kept) == 1 and kept[0] < contracts


@pytest.mark.parametrize("rules", [Rules(), Rules(max_hops=5, hub_limit=3), Rules(max_hops=1)])
def test_the_prefilter_in_chunks_of_deciders_keeps_the_same_contracts(
    synth_store: Path, monkeypatch: pytest.MonkeyPatch, rules: Rules
) -> None:
    """A national register's decision-makers are taken a chunk at a time: chunks of 7 keep the
    very contracts that one chunk keeps."""
    store = EmbeddedStore(synth_store, create=False)
    try:
        search = PathSearch(store.whole_graph(), rules)
    finally:
        store.close()
    contracts = list(search.g.contracts)
    whole = prefilter.may_have_findings(search, contracts)
    monkeypatch.setattr(prefilter, "CHUNK", 7)
    assert prefilter.may_have_findings(search, contracts) == whole
    assert 0 < len(whole) < len(contracts)


def fresh_counts(store: Path) -> dict[str, dict[str, int]]:
    db = sqlite3.connect(store / "cofi.sqlite")
    try:
        return {
            "entities": dict(db.execute("SELECT kind, count(*) FROM entities GROUP BY kind")),
            "links": dict(Counter(row[2] for row in snapshot(store)["links"])),
            "identifiers": dict(
                db.execute("SELECT kind, count(DISTINCT key) FROM contacts GROUP BY kind")
            ),
        }
    finally:
        db.close()


def kept_counts(store: Path) -> dict[str, Any]:
    db = sqlite3.connect(store / "cofi.sqlite")
    try:
        rev, counts = (
            db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()[0]
            for key in ("rev", "counts")
        )
    finally:
        db.close()
    kept: dict[str, Any] = json.loads(counts)
    assert kept.pop("rev") == int(rev), "the counts kept are not of the store's revision"
    kept.pop("hubs", None)  # (compared as `stats` prints them)
    return kept


def test_stats_reads_counts_each_load_keeps_and_they_equal_a_fresh_count(
    run: Callable[..., Result], tmp_path: Path
) -> None:
    """A load that changes the graph counts afresh (and finds the hubs under the default
    limit); a day's contracts add what they created to the counts of the revision before;
    either way `stats` prints what counting now prints, under any hub limit."""
    store = tmp_path / "store"
    for bundle in (DEMO, write_bundle(tmp_path / "day", DAY),
                   write_bundle(tmp_path / "more", NEW_PERSON)):  # fmt: skip
        assert run("load", str(bundle)).exit_code == 0
        assert kept_counts(store) == fresh_counts(store)
        printed = [run("stats").output, run("stats", "--hub-limit", "1").output]
        db = sqlite3.connect(store / "cofi.sqlite")
        db.execute("DELETE FROM meta WHERE key = 'counts'")
        db.commit()
        db.close()
        again = [run("stats").output, run("stats", "--hub-limit", "1").output]
        assert again == printed and "hubs (shared by more than 1 entities)" in again[1]
        assert kept_counts(store) == fresh_counts(store)  # and kept again


@pytest.mark.parametrize("run_of", [2, 1000])
@pytest.mark.parametrize("loads", [1, 2])
def test_the_file_written_from_rows_is_the_graph_built_from_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run_of: int, loads: int
) -> None:
    """Read in Arrow batches of 2 rows whose link targets are looked up 2 batches at a time
    (and all in one), with U+001F (the separator of an identifier's kind and key) inside a
    name, a title, a role and an address, and contracts with no title and with their id for
    one: the same graph as `Graph.build` makes from the same
    rows.  After one load, the link file numbers its ids in id order (its links are in the
    table's order); after two, the second load's new ids come after the first's."""
    from cofi import graph_build

    monkeypatch.setattr(graph_build, "_BATCH_ROWS", run_of)
    monkeypatch.setattr(graph_build, "_LOOKUP_ROWS", 2 * run_of)
    bundle = tmp_path / "bundle"
    shutil.copytree(DEMO, bundle)
    odd = write_bundle(tmp_path / "odd", {
        "person": [{"id": "p-odd", "name": "Odd\x1fName", "address": "ул.\x1f Абая, 1"}],
        "contract": [{"id": "K-odd", "buyer_id": "ag-health", "supplier_id": "co-dala",
                      "signed_on": "2025-03-20", "title": "a\x1fb", "value": "1"},
                     {"id": "K-bare", "buyer_id": "ag-health", "supplier_id": "co-dala",
                      "signed_on": "2025-03-21"},
                     {"id": "K-self", "buyer_id": "ag-health", "supplier_id": "co-dala",
                      "signed_on": "2025-03-22", "title": "K-self", "value": "0.1"}],
        "link": [{"source": "p-odd", "target": "co-dala", "type": "DIRECTS",
                  "role": "dir\x1fector", "since": "2020-01-01"},
                 {"source": "p-odd", "target": "K-odd", "type": "DECIDED", "role": "chair"}],
    })  # fmt: skip
    store = EmbeddedStore(tmp_path / "store", create=True)
    for b in (bundle, odd)[:loads]:
        with plan_load([b], store.kinds_of) as plan:
            store.write(plan)
    with store._snapshot() as db:
        links = store.file_links(db)
        assert links is not None
        ids = links.file.ids.to_pylist()
        assert (ids == sorted(ids)) == (loads == 1)
        nodes, edges = graph_build.write_graph_file(db, tmp_path / "g.bin", "t", links)
        built = Graph.build(store.graph_rows())
    back = graph_file.read(tmp_path / "g.bin", "t")
    assert back is not None and same_graph(back, built)
    assert (nodes, edges) == (len(built.node_kind), built.edge_count)
    if loads == 2:
        assert "Odd\x1fName" in list(back.rec_name) and back.contracts["K-odd"].title == "a\x1fb"
        # (a contract's title read from its name, or from its fields when the name is its id)
        assert [back.contracts[k].title for k in ("K-bare", "K-self")] == ["", "K-self"]
    store.close()


@pytest.mark.parametrize("homes", [[15, 15, 15, 0, 1], [14, 15, 15, 15, 15, 0], [3, 3, 3, 4, 0]])
def test_the_hash_table_finds_every_key_from_its_home_slot(homes: list[int]) -> None:
    """Keys crowded at the end of the table go round to its first free slots, and every key
    is reached by probing forward from its home without crossing an empty slot."""
    import numpy as np

    from cofi.graph_build import hash_table

    table = hash_table(np.array(homes, np.int64))
    assert len(table) == 16 and sorted(table[table > 0]) == list(range(1, len(homes) + 1))
    for position, home in enumerate(homes):
        slot = home
        while table[slot] != position + 1:
            assert table[slot], f"key {position} not reached from slot {home}"
            slot = (slot + 1) % 16


@given(st.lists(st.integers(-(2**62), 2**62), max_size=60), st.integers(1, 5))
def test_distinct_gives_what_np_unique_gives(values: list[int], repeat: int) -> None:
    """The sorted distinct values, duplicates (each value `repeat` times) and all."""
    import numpy as np

    from cofi.link_file import distinct

    a = np.array(values * repeat, np.int64)
    assert distinct(a).tolist() == np.unique(a).tolist()


def test_a_graph_write_whose_temporary_tables_do_not_fit_says_disk_full(
    run: Callable[..., Result], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite's own "database or disk is full" from the numbering tables (kept in the
    temporary directory, which may be another disk): the load's rows are in, one line says the
    graph was not kept, and a sweep after it still finds what it should, from the rows."""
    from cofi import graph_build

    def full(*args: Any) -> tuple[int, int]:
        error = sqlite3.OperationalError("database or disk is full")
        error.sqlite_errorcode = sqlite3.SQLITE_FULL  # type: ignore[attr-defined]
        raise error

    monkeypatch.setattr(graph_build, "write_graph_file", full)
    loaded = run("load", str(DEMO))
    assert loaded.exit_code == 0, loaded.output
    (line,) = [x for x in loaded.stderr.splitlines() if x.startswith("graph ")]
    assert line.startswith("graph not kept for sweeps: disk full (database or disk is full)")
    assert not (tmp_path / "store" / GRAPH_NAME).exists()
    swept = run("sweep", "--all", "--format", "jsonl")
    monkeypatch.undo()
    other = ["--store", str(tmp_path / "other")]
    assert run(*other, "load", str(DEMO)).exit_code == 0
    assert (tmp_path / "other" / GRAPH_NAME).exists()
    kept = run(*other, "sweep", "--all", "--format", "jsonl")
    assert swept.exit_code == 0 and findings(swept.output) == findings(kept.output)
    assert len(findings(kept.output)) == 4


def test_a_graph_write_that_fails_otherwise_says_so_in_one_line_and_keeps_the_rows(
    run: Callable[..., Result], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An error of another kind after the load's commit (here one the graph file's reader
    sends back) is no "unexpected" failure of the load: its rows are in, the exit code is 0,
    one line says the graph was not kept and why, and a sweep still works from the rows."""
    from cofi import graph_build

    def broken(*args: Any) -> tuple[int, int]:
        raise RuntimeError("reading the store for the graph file: ArrowInvalid: bad batch")

    monkeypatch.setattr(graph_build, "write_graph_file", broken)
    loaded = run("load", str(DEMO))
    assert loaded.exit_code == 0, loaded.output
    (line,) = [x for x in loaded.stderr.splitlines() if x.startswith("graph ")]
    assert line == (
        "graph not kept for sweeps: RuntimeError: reading the store for the graph file: "
        "ArrowInvalid: bad batch; the loaded rows are in, a sweep builds it"
    )
    assert "unexpected" not in loaded.stderr
    assert not (tmp_path / "store" / GRAPH_NAME).exists()
    monkeypatch.undo()
    swept = run("sweep", "--all", "--format", "jsonl")
    assert swept.exit_code == 0 and len(findings(swept.output)) == 4


_ORPHAN = """
import os, sys
from pathlib import Path
import cofi.store.embedded as embedded
from cofi.store.embedded import EmbeddedStore
counts = embedded._stats_counts
embedded._stats_counts = lambda db, links: {**counts(db, links), "pad": "x" * 1_000_000}  # (room)
store = EmbeddedStore(Path(sys.argv[1]), create=False)
store._counted_aside(1)
import multiprocessing
(child,) = multiprocessing.active_children()
print(child.pid, flush=True)
os._exit(0)  # (as if killed: the counts are never read)
"""


def test_the_counting_process_ends_when_the_load_that_started_it_dies(tmp_path: Path) -> None:
    """The process a load forks to count `stats`' figures, its parent gone before it read them,
    ends (its send fails) instead of waiting for ever with its memory."""
    store = tmp_path / "store"
    with plan_load([DEMO], lambda ids: {}) as plan:
        s = EmbeddedStore(store, create=True)
        s.write(plan)
        s.close()
    out = subprocess.run([sys.executable, "-c", _ORPHAN, str(store)], capture_output=True,
                         text=True, check=True, timeout=60)  # fmt: skip
    pid = int(out.stdout)

    def running() -> bool:
        try:
            state = Path(f"/proc/{pid}/status").read_text()
        except FileNotFoundError:
            return False
        return "\nState:\tZ" not in state

    waited = time.monotonic()
    while running() and time.monotonic() - waited < 20:
        time.sleep(0.1)
    still = running()
    if still:
        os.kill(pid, 9)
    assert not still


def _graph_bytes(store: Path) -> bytes:
    s = EmbeddedStore(store, create=False)
    try:
        s._write_graph_file()
    finally:
        s.close()
    return (store / GRAPH_NAME).read_bytes()


def test_the_records_looked_up_by_their_own_table_write_the_same_file(
    synth_store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A national register's records' ids are looked up in a hash table made once
    (`TextLookup`), a smaller store's by Arrow's `index_in`: the same file byte for byte."""
    from cofi import text_lookup

    monkeypatch.setattr(text_lookup, "TABLE_IDS", 10**9)
    by_arrow = _graph_bytes(synth_store)
    made: list[bool] = []
    start = text_lookup.TextLookup.__init__

    def counted(self: Any, ids: Any, table_ids: Any = None) -> None:
        start(self, ids, table_ids)
        made.append(self._table is not None)

    monkeypatch.setattr(text_lookup.TextLookup, "__init__", counted)
    monkeypatch.setattr(text_lookup, "TABLE_IDS", 0)
    assert _graph_bytes(synth_store) == by_arrow
    assert made == [True]  # (the records' ids: the contracts are found by the link file's own)


def test_the_steps_beside_the_links_write_the_same_file(
    synth_store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A big store's identifier and contract steps run in forked processes beside the links
    step: the file is the same byte for byte as one written in one process, and it is still when
    those processes fail (the steps are then done in the parent) or see another state of the
    store."""
    from cofi import graph_build

    monkeypatch.setattr(graph_build, "ASIDE_RECORDS", (10**9, 10**9))
    alone = _graph_bytes(synth_store)
    forked: list[bool] = []
    ran_here: list[str] = []
    start = graph_build._Build._aside

    def counted(self: Any, step: Any, kept: Any) -> Any:
        started = start(self, step, kept)
        forked.append(started is not None)
        return started

    def here(name: str) -> Any:
        step = getattr(graph_build._Build, name)

        def run(self: Any) -> None:
            ran_here.append(f"{name} in {os.getpid()}")
            step(self)

        return run

    monkeypatch.setattr(graph_build._Build, "_aside", counted)
    for name in ("_contacts", "_contracts"):
        monkeypatch.setattr(graph_build._Build, name, here(name))
    monkeypatch.setattr(graph_build, "ASIDE_RECORDS", (0, 10**9))
    assert _graph_bytes(synth_store) == alone
    assert forked == [True, True] and ran_here == []  # (each step ran in its process)
    in_parent = [f"_contacts in {os.getpid()}", f"_contracts in {os.getpid()}"]

    def broken(self: Any, step: str, kept: Any, store: str, snapshot: Any) -> None:
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as m:
        m.setattr(graph_build._Build, "_aside_made", broken)  # (inherited by the forks)
        assert _graph_bytes(synth_store) == alone and ran_here == in_parent
    child = graph_build._Build._aside_child

    def elsewhen(self: Any, *args: Any) -> None:
        graph_build._SNAPSHOT = "SELECT random()"  # (set in the child alone: another state)
        child(self, *args)

    with monkeypatch.context() as m:
        m.setattr(graph_build._Build, "_aside_child", elsewhen)
        assert _graph_bytes(synth_store) == alone and ran_here == in_parent * 2
    assert forked == [True] * 6
    assert not list(synth_store.glob(".*-aside.tmp"))


def test_a_store_changed_under_the_graph_file_is_not_written_into_it(tmp_path: Path) -> None:
    """The links are read on a connection of their own: when another load commits after the
    graph file's snapshot was taken, the file is not written from two states of the store (the
    load says the graph was not kept; a sweep builds it from the rows)."""
    from cofi import graph_build

    store = EmbeddedStore(tmp_path / "store", create=True)
    with plan_load([DEMO], store.kinds_of) as plan:
        store.write(plan)
    other = EmbeddedStore(tmp_path / "store", create=False)
    try:
        with store._snapshot() as db:
            tag = store._graph_tag()  # (the snapshot begins with this read)
            # (a new link between known people: the records, and their count, stay the same)
            wed = {"link": [{"source": "p-bolat", "target": "p-aigerim", "type": "FAMILY",
                             "role": "sibling", "since": "2001-01-01"}]}  # fmt: skip
            with plan_load([write_bundle(tmp_path / "new", wed)], other.kinds_of) as plan:
                other.write(plan)
            with pytest.raises(sqlite3.OperationalError, match="the store changed"):
                graph_build.write_graph_file(
                    db, tmp_path / "store" / GRAPH_NAME, tag, store.file_links(db)
                )
        assert graph_file.tag_of(tmp_path / "store" / GRAPH_NAME) is None
        graph_build.write_graph_file(
            store._db, tmp_path / "g.bin", store._graph_tag(), store.file_links()
        )
        back = graph_file.read(tmp_path / "g.bin", store._graph_tag())
        assert back is not None and same_graph(back, fresh(tmp_path / "store"))  # (the new state)
    finally:
        other.close()
        store.close()


def _log_truncated_elsewhere(db_path: Path) -> bool:
    """Whether another process could check the store's log into it and truncate it (it cannot
    while a process reads the store in a snapshot that needs the log: it holds a lock on it)."""
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", "import sqlite3, sys; print(sqlite3.connect(sys.argv[1])"
         ".execute('PRAGMA wal_checkpoint(TRUNCATE)').fetchone()[0])", str(db_path)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return done.stdout.strip() == "0"


def test_writing_the_graph_file_keeps_this_processs_locks_on_the_store(tmp_path: Path) -> None:
    """The links are read by a SQLite library of their own (ADBC's) in a process of its own:
    in this one, opening and closing it on the store would drop every lock this process holds
    on it (POSIX locks are the process's), and another process could truncate the log under
    the snapshot the graph file is written from."""
    from cofi import graph_build

    store = EmbeddedStore(tmp_path / "store", create=True)
    try:
        for bundle in (DEMO, write_bundle(tmp_path / "new", NEW_PERSON)):
            with plan_load([bundle], store.kinds_of) as plan:
                store.write(plan)  # (the second into the log: the store is in WAL mode)
        db_path = tmp_path / "store" / "cofi.sqlite"
        with store._snapshot() as db:
            tag = store._graph_tag()  # (the snapshot begins with this read)
            assert not _log_truncated_elsewhere(db_path)
            graph_build.write_graph_file(db, tmp_path / "g.bin", tag, store.file_links(db))
            assert not _log_truncated_elsewhere(db_path)
            assert db.execute("SELECT name FROM entities WHERE id = 'P-NEW'").fetchone()
        assert _log_truncated_elsewhere(db_path)  # (once the snapshot ends, it can)
        back = graph_file.read(tmp_path / "g.bin", tag)
        assert back is not None and same_graph(back, fresh(tmp_path / "store"))
    finally:
        store.close()


def test_the_counts_are_kept_when_their_process_fails(
    run: Callable[..., Result], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`stats`' counts are made in a process beside the graph file; when it sends nothing (it
    failed), the load counts them itself: the same counts are kept."""

    def failed(self: EmbeddedStore, out: Any, hub_limit: int) -> None:
        raise OSError(28, "No space left on device")  # (in the forked process alone)

    monkeypatch.setattr(EmbeddedStore, "_count_into", failed)
    store = tmp_path / "store"
    result = run("load", str(DEMO))
    assert result.exit_code == 0 and "graph kept for sweeps" in result.output
    assert kept_counts(store) == fresh_counts(store)


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["agency", "company", "person"]),
            st.sampled_from(["", "100340005001", "800312400002", "x"]),
        ),
        max_size=30,
    )
)
def test_the_strong_groups_told_apart_by_arrow_are_the_store_indexs(
    records: list[tuple[str, str]],
) -> None:
    """`_Build._strong_groups` against the query of the store's `entities_strong` index it
    replaced: the same groups, in the same order, each in id order (records of one strong id
    and another kind stay apart; an empty one groups nothing)."""
    import pyarrow as pa

    from cofi.graph_build import _KINDS, _Build
    from cofi.text_lookup import TextLookup

    ids = [f"e{i:02d}" for i in range(len(records))]
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE entities (id TEXT PRIMARY KEY, kind TEXT, strong_id TEXT)")
    db.execute("CREATE INDEX entities_strong ON entities (kind, strong_id) WHERE strong_id <> ''")
    db.executemany("INSERT INTO entities VALUES (?, ?, ?)",
                   [(i, k, s) for i, (k, s) in zip(ids, records, strict=True)])  # fmt: skip
    want = [json.loads(group) for (group,) in db.execute(
        "SELECT json_group_array(id) FROM entities INDEXED BY entities_strong "
        "WHERE strong_id <> '' AND kind IN ('person', 'agency', 'company') "
        "GROUP BY kind, strong_id HAVING count(*) > 1"
    )]  # fmt: skip
    build = _Build.__new__(_Build)
    build.rec_lookup = TextLookup(pa.array(ids, pa.string()))
    build.kind = np.array([[k.value for k in _KINDS].index(k) for k, _ in records], np.int8)
    build.rec_strong = pa.array([s for _, s in records], pa.string())
    assert build._strong_groups() == want


@given(st.lists(st.sampled_from(["", "chair", "2020-01-01"]), max_size=5), st.integers(0, 3))
def test_a_value_added_n_times_is_coded_as_added_one_by_one(before: list[str], n: int) -> None:
    """`_Codes.add_repeated` (an identifier edge's empty role and days) against `_Codes.add`:
    the same table and codes, and no entry for a value added no times."""
    from cofi.graph_build import _Codes

    one_by_one, repeated = _Codes(), _Codes()
    for codes in (one_by_one, repeated):
        codes.add(before)
    one_by_one.add([""] * n)
    repeated.add_repeated("", n)
    assert repeated.table == one_by_one.table
    assert [c.tolist() for c in repeated.codes] == [c.tolist() for c in one_by_one.codes]
