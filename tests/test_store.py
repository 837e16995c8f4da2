"""The embedded store: crash safety, statistics and hubs, name search."""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from cofi import graph_file
from cofi.bulk import write_bulk_bundle
from cofi.graph import Graph
from cofi.loader import plan_load
from cofi.search import query_tokens
from cofi.sorting import SORT_RUN, sorted_in_runs
from cofi.store import embedded, embedded_names
from cofi.store.base import rank_hits
from cofi.store.embedded import GRAPH_NAME, EmbeddedStore
from tests.conftest import DEMO, snapshot, write_bundle
from tests.test_detect import SCENARIOS, expected
from tests.test_reference import same_graph


@pytest.mark.slow
def test_load_killed_mid_write_leaves_previous_state(tmp_path: Path) -> None:
    store = tmp_path / "store"
    cofi = [sys.executable, "-m", "cofi", "--store", str(store)]
    subprocess.run([*cofi, "load", str(DEMO)], check=True, capture_output=True)  # and its graph
    before = snapshot(store)
    kept = (store / GRAPH_NAME).read_bytes()
    bulk = tmp_path / "bulk"
    write_bulk_bundle(bulk, 300_000, seed=7)
    wal = store / "cofi.sqlite-wal"
    proc = subprocess.Popen([*cofi, "load", str(bulk)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)  # fmt: skip
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if wal.exists() and wal.stat().st_size > 4 << 20:
            break
        time.sleep(0.005)
    assert proc.poll() is None, "the load finished before it could be killed mid-write"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    db = sqlite3.connect(store / "cofi.sqlite")
    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    db.close()
    assert snapshot(store) == before
    # the graph file still describes the store, and is read as it is
    assert (store / GRAPH_NAME).read_bytes() == kept
    opened = EmbeddedStore(store, create=False)
    tag = graph_file.tag_of(store / GRAPH_NAME)
    assert tag is not None and tag.endswith(f":{opened.rev}")
    assert same_graph(opened.whole_graph(), Graph.build(opened.graph_rows()))
    opened.close()
    done = subprocess.run([*cofi, "load", str(bulk)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert len(snapshot(store)["entities"]) > len(before["entities"])
    opened = EmbeddedStore(store, create=False)  # a new revision, and its graph kept
    kept = graph_file.read(store / GRAPH_NAME, f"{tag.split(':')[0]}:{opened.rev}")
    assert kept is not None and same_graph(kept, Graph.build(opened.graph_rows()))
    opened.close()


def without_store_id(tables: Any) -> Any:
    tables["meta"] = [row for row in tables["meta"] if row[0] != "store_id"]
    return tables


@pytest.mark.slow
def test_a_load_killed_while_it_writes_the_graph_file_leaves_no_graph_file_in_use(
    tmp_path: Path,
) -> None:
    """The rows are committed before the graph file is written: killed then, the store holds
    the new rows and the old file (of the old revision) is never read; loading again keeps the
    graph, as one clean load does."""
    store = tmp_path / "store"
    cofi = [sys.executable, "-m", "cofi", "--store", str(store)]
    subprocess.run([*cofi, "load", str(DEMO)], check=True, capture_output=True)
    old = graph_file.tag_of(store / GRAPH_NAME)
    bulk = tmp_path / "bulk"
    write_bulk_bundle(bulk, 300_000, seed=7)
    proc = subprocess.Popen([*cofi, "load", str(bulk)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)  # fmt: skip
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and proc.poll() is None:
        if any(store.glob(f".{GRAPH_NAME}.*.tmp")):
            break
        time.sleep(0.0005)
    assert proc.poll() is None, "the load finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert graph_file.tag_of(store / GRAPH_NAME) == old  # the old file, under its old tag
    opened = EmbeddedStore(store, create=False)
    assert opened.rev == 2 and opened.kept_graph() is None  # the rows of revision 2 committed
    opened.close()
    again = subprocess.run([*cofi, "load", str(bulk)], capture_output=True, text=True)
    assert again.returncode == 0 and "graph kept for sweeps" in again.stderr, again.stderr
    clean = tmp_path / "clean"
    for bundle in (DEMO, bulk):
        subprocess.run([sys.executable, "-m", "cofi", "--store", str(clean), "load", str(bundle)],
                       check=True, capture_output=True)  # fmt: skip
    assert without_store_id(snapshot(store)) == without_store_id(snapshot(clean))
    one, other = EmbeddedStore(store, create=False), EmbeddedStore(clean, create=False)
    assert same_graph(one.whole_graph(), other.whole_graph())
    one.close()
    other.close()


def test_a_first_load_killed_mid_write_leaves_an_empty_store_that_loads_again(
    tmp_path: Path,
) -> None:
    """A first load writes with a rollback journal (data written once): killed while the
    database grows, the journal rolls it back to the empty store."""
    store = tmp_path / "store"
    cofi = [sys.executable, "-m", "cofi", "--store", str(store)]
    bulk = tmp_path / "bulk"
    write_bulk_bundle(bulk, 300_000, seed=7)
    db_file, journal = store / "cofi.sqlite", store / "cofi.sqlite-journal"
    proc = subprocess.Popen([*cofi, "load", str(bulk)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)  # fmt: skip
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if journal.exists() and db_file.stat().st_size > 4 << 20:
            break
        time.sleep(0.005)
    assert proc.poll() is None, "the load finished before it could be killed mid-write"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    db = sqlite3.connect(db_file)  # the hot journal is rolled back on first use
    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert db.execute("SELECT count(*) FROM entities").fetchone() == (0,)
    db.close()
    done = subprocess.run([*cofi, "load", str(bulk)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "165300 entities created" in done.stdout and len(snapshot(store)["entities"]) == 165_300
    db = sqlite3.connect(db_file)  # and the store is back in WAL mode for what follows
    assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    db.close()


def indexes(db: sqlite3.Connection) -> list[tuple[str, str]]:
    """The secondary indexes of the database `db`, each with its definition."""
    return db.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name"
    ).fetchall()


@pytest.fixture
def legacy_links(monkeypatch: pytest.MonkeyPatch) -> None:
    """Stores made here keep every link in their `links` table, as an older cofi's did (the
    SQLite links' machinery: a store without a link file, and the few links of one with)."""
    monkeypatch.setattr(EmbeddedStore, "link_target", lambda self: None)


@pytest.mark.usefixtures("legacy_links")
def test_a_first_load_leaves_every_index_of_the_schema_whole(tmp_path: Path) -> None:
    """A first load drops the secondary indexes while the rows go in and builds them again
    afterwards (but the few links' partial indexes, kept: `embedded._filled_alongside`): after
    it, the store has the schema's indexes, each holding exactly its table's rows."""
    new = EmbeddedStore(tmp_path / "new", create=True)
    new._materialise()
    schema = indexes(new._db)
    new.close()
    assert {"entities_rev", "links_rev", "links_same_as", "links_target"} <= {n for n, _ in schema}
    store = EmbeddedStore(tmp_path / "s", create=True)
    with plan_load([DEMO], store.kinds_of) as plan:
        assert store.write(plan).links_created > 0
    # (the indexes were sorted in small runs, with a helper thread: the store's own page cache
    # and threads are given back for what it reads after)
    assert store._db.execute("PRAGMA cache_size").fetchone() == (-262144,)
    assert store._db.execute("PRAGMA threads").fetchone() == (0,)
    store.close()
    db = sqlite3.connect(tmp_path / "s" / "cofi.sqlite")
    assert indexes(db) == schema
    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)  # (an entry for each row)
    # (the revision index leaves the first revision's links out)
    assert db.execute("SELECT count(*) FROM links WHERE rev = 1").fetchone()[0] > 0
    db.execute("ANALYZE links")  # (sqlite_stat1: how many entries each index has)
    stat = dict(db.execute("SELECT idx, stat FROM sqlite_stat1 WHERE tbl = 'links'"))
    (links,) = db.execute("SELECT count(*) FROM links").fetchone()
    assert stat["links_target"].split()[0] == str(links)
    assert "links_rev" not in stat  # (no entry)
    db.close()


@pytest.mark.usefixtures("legacy_links")
def test_the_partial_indexes_after_a_first_write_of_links_hold_their_links(
    tmp_path: Path,
) -> None:
    """Into an empty links table the links are written with the indexes of every link dropped
    and made again after, and those of a few links kept (`embedded._filled_alongside`): the
    indexes of a few links (SAME_AS, declarations) hold those, and the revision index holds every
    link written at a revision after the first (into the empty links table of a store that has
    entities; made again there), none at the first (kept there)."""

    def entries(store: Path) -> dict[str, int]:
        db = sqlite3.connect(store / "cofi.sqlite")
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        db.execute("ANALYZE links")
        stat = dict(db.execute("SELECT idx, stat FROM sqlite_stat1 WHERE tbl = 'links'"))
        db.close()
        return {name: int(stat[name].split()[0]) for name in stat}

    people = [{"id": f"x{i}", "name": f"P {i}"} for i in range(1, 5)]
    company = [{"id": "xc", "name": "C"}]
    links = [
        {"source": "x1", "target": "x2", "type": "SAME_AS"},
        {"source": "x1", "target": "xc", "type": "OWNS", "share": "40"},
        {"source": "x3", "target": "x4", "type": "FAMILY", "role": "sibling"},
    ]
    declaration = [{"person_id": "x3", "declared_on": "2024-01-02", "type": "interest",
                    "subject_id": "xc", "role": "owns"}]  # fmt: skip
    first = tmp_path / "first"
    rows = {"person": people, "company": company, "link": links, "declaration": declaration}
    assert run_load(first, write_bundle(tmp_path / "b1", rows)) == 1
    assert entries(first) == {
        "links": 4, "links_target": 4, "links_same_as": 1, "links_same_as_target": 1,
        "links_declared": 1,
    }  # fmt: skip
    later = tmp_path / "later"
    assert run_load(later, write_bundle(tmp_path / "b2", {"person": people, "company": company}))
    assert run_load(later, write_bundle(tmp_path / "b3", {"link": links})) == 2
    assert entries(later) == {
        "links": 3, "links_target": 3, "links_rev": 3, "links_same_as": 1,
        "links_same_as_target": 1,
    }  # fmt: skip


def run_load(store_dir: Path, bundle: Path) -> int:
    """Load `bundle` into the embedded store at `store_dir`; the store's revision after it."""
    store = EmbeddedStore(store_dir, create=True)
    with plan_load([bundle], store.kinds_of) as plan:
        store.write(plan)
    rev = store.rev
    store.close()
    return rev


@pytest.mark.parametrize("legacy", [True, False], ids=["links-table", "link-file"])
@pytest.mark.parametrize("share", [0.0, 1.0], ids=["indexes-made-again", "one-by-one"])
def test_a_first_loads_links_rejected_once_indexed_are_taken_out_of_every_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, share: float, legacy: bool
) -> None:
    """A first load writes and indexes its links while their ends are checked; the links whose
    ends are then rejected (with --skip-invalid) are taken out of the table and every index, one
    by one or with the indexes made again (`REINDEX_SHARE`): the store is the one a load of the
    valid rows alone makes."""
    monkeypatch.setattr(embedded, "REINDEX_SHARE", share)
    if legacy:
        monkeypatch.setattr(EmbeddedStore, "link_target", lambda self: None)
    new = EmbeddedStore(tmp_path / "new", create=True)
    new._materialise()
    schema = indexes(new._db)
    new.close()
    people = [{"id": "x1", "name": "A"}, {"id": "x2", "name": "B"}]
    kept = [{"source": "x1", "target": "xc", "type": "OWNS", "share": "40"},
            {"source": "x2", "target": "x1", "type": "FAMILY", "role": "spouse"}]  # fmt: skip
    bad = [{"source": "b1", "target": f"x{i % 2 + 1}", "type": "ASSOCIATE",
            "since": f"20{i:02}-01-01"} for i in range(10)]  # fmt: skip
    company = [{"id": "xc", "name": "C"}]
    bundles = {
        "all": {"person": [*people, {"id": "b1", "name": ""}], "company": company,
                "link": [kept[0], *bad, kept[1]]},
        "valid": {"person": people, "company": company, "link": kept},
    }  # fmt: skip
    stores = []
    for name, rows in bundles.items():
        store = EmbeddedStore(tmp_path / name, create=True)
        bundle = write_bundle(tmp_path / f"{name}-b", rows)
        with plan_load([bundle], store.kinds_of, skip_invalid=True) as plan:
            report = store.write(plan)
            assert len(plan.rejects) == (11 if name == "all" else 0)  # (b1 and its links)
        store.close()
        assert report.links_created == 2
        db = sqlite3.connect(tmp_path / name / "cofi.sqlite")
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert indexes(db) == schema
        db.execute("ANALYZE links")
        stat = dict(db.execute("SELECT idx, stat FROM sqlite_stat1 WHERE tbl = 'links'"))
        links = db.execute("SELECT count(*) FROM links").fetchone()[0]
        assert links == (2 if legacy else 0)  # (a link file holds them)
        if legacy:
            assert stat["links_target"].split()[0] == "2"  # (no entry of a link taken out)
        db.close()
        stores.append(without_store_id(snapshot(tmp_path / name)))
    assert stores[0] == stores[1]


@pytest.mark.parametrize("legacy", [True, False], ids=["links-table", "link-file"])
def test_what_changed_after_a_revision_is_read_through_the_revision_index_or_the_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, legacy: bool
) -> None:
    """`links_rev` holds the links written after revision 1 only: the scope of an incremental
    sweep after revision 1 or later reads it and finds a later load's links; after revision 0
    (every link is new) it reads the table and finds the first load's links too."""
    people = [{"id": f"p{i}", "name": f"Person {i}"} for i in range(1, 5)]
    first = {"person": people, "link": [{"source": "p1", "target": "p2", "type": "ASSOCIATE"}]}
    later = {"link": [{"source": "p3", "target": "p4", "type": "FAMILY", "role": "spouse"}]}
    if legacy:
        monkeypatch.setattr(EmbeddedStore, "link_target", lambda self: None)
    store = EmbeddedStore(tmp_path / "s", create=True)
    for n, rows in enumerate((first, later)):
        with plan_load([write_bundle(tmp_path / f"b{n}", rows)], store.kinds_of) as plan:
            store.write(plan)
    assert store.rev == 2
    if legacy:
        store._db.execute("ANALYZE links")  # (sqlite_stat1: how many entries each index has)
        stat = dict(store._db.execute("SELECT idx, stat FROM sqlite_stat1 WHERE tbl = 'links'"))
        assert stat["links_target"].split()[0] == "2" and stat["links_rev"].split()[0] == "1"
    assert {"p1", "p2", "p3", "p4"} <= store.changed_records(0)
    assert store.changed_records(1) == {"p3", "p4"}
    assert store.changed_records(2) == set()
    assert store.restrictions_changed(0) and store.restrictions_changed(1)
    assert not store.restrictions_changed(2)
    store.close()


def test_an_index_sorted_in_small_runs_holds_every_row_and_the_settings_come_back(
    tmp_path: Path,
) -> None:
    """`sorted_in_runs`: inside, SQLite sorts in runs of `SORT_RUN` (here 6 MB of keys: several
    runs, merged, with a helper thread); after, even when the block fails, the connection has
    its own cache and threads again."""
    db = sqlite3.connect(tmp_path / "t.sqlite", isolation_level=None)
    db.execute("PRAGMA cache_size = -65536")
    db.execute("CREATE TABLE t (a TEXT, b INTEGER)")
    rng = random.Random(5)
    values = ["".join(rng.choices("abcdefghij", k=40)) for _ in range(150_000)]
    db.executemany("INSERT INTO t VALUES (?, ?)", ((v, i) for i, v in enumerate(values)))
    with sorted_in_runs(db, threads=1):
        assert db.execute("PRAGMA cache_size").fetchone() == (SORT_RUN,)
        assert db.execute("PRAGMA threads").fetchone() == (1,)
        db.execute("CREATE INDEX t_a ON t (a)")
    assert db.execute("PRAGMA cache_size").fetchone() == (-65536,)
    assert db.execute("PRAGMA threads").fetchone() == (0,)
    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    read = db.execute("SELECT a FROM t INDEXED BY t_a WHERE a > '' ORDER BY a").fetchall()
    assert [a for (a,) in read] == sorted(values)
    with pytest.raises(ZeroDivisionError), sorted_in_runs(db, threads=1):
        _ = 1 / 0
    assert db.execute("PRAGMA cache_size").fetchone() == (-65536,)
    assert db.execute("PRAGMA threads").fetchone() == (0,)
    db.close()


def test_stats_counts_and_the_demo_hub(run: Callable[..., Result]) -> None:
    assert run("load", str(DEMO)).exit_code == 0
    result = run("stats", "--json")
    assert result.exit_code == 0
    import json

    stats = json.loads(result.stdout)
    assert stats["entities"] == {"agency": 2, "company": 27, "contract": 5, "person": 12}
    assert stats["links"]["OWNS"] == 5
    assert [(h["kind"], h["entities"]) for h in stats["hubs"]] == [("address", 23)]
    assert run("stats", "--hub-limit", "23", "--json").stdout.count('"key"') == 0
    text = run("stats").stdout
    assert "hubs (shared by more than 20 entities): 1" in text


def test_agency_contacts_never_become_identifiers(tmp_path: Path) -> None:
    rows = {
        "agency": [{"id": "a", "name": "A", "phone": "+7 701 000 00 00"}],
        "person": [{"id": "p", "name": "P", "phone": "8 701 000 00 00"}],
    }
    store = EmbeddedStore(tmp_path / "s", create=True)
    with plan_load([write_bundle(tmp_path / "b", rows)], store.kinds_of) as plan:
        store.write(plan)
    assert store.stats(hub_limit=20).identifiers == {"phone": 1}
    store.close()


@pytest.mark.parametrize(
    ("query", "first"),
    [
        ("Әйгерім Садықова", "p-aigerim"),
        ("aigerim sadykova", "p-aigerim"),
        ("САДЫКОВА", "p-aigerim"),
        ("Sadykov Nurlan", "p-nurlan"),
        ("Yerlan", "p-yerlan"),
        ("dala stroy", "co-dala"),
        ("Zhumabayeva", "p-dana"),
    ],
)
def test_search_across_scripts(run: Callable[..., Result], query: str, first: str) -> None:
    assert run("load", str(DEMO)).exit_code == 0
    result = run("search", query)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0].split("\t")[0] == first


def test_search_ranks_exact_over_partial(tmp_path: Path) -> None:
    rows = {"person": [{"id": "a", "name": "Болатбек Алиев"}, {"id": "b", "name": "Болат Алиев"},
                       {"id": "c", "name": "Алиев Болат"}]}  # fmt: skip
    store = EmbeddedStore(tmp_path / "s", create=True)
    with plan_load([write_bundle(tmp_path / "b", rows)], store.kinds_of) as plan:
        store.write(plan)
    hits = store.search("Болат Алиев", 10)
    assert [(h.id, h.rank) for h in hits] == [("b", 0), ("c", 2), ("a", 3)]
    assert store.search("Bolat Aliev", 10)[0].id == "b"
    assert store.search("Нұрсұлтан", 10) == []
    store.close()


def _scanned(store: EmbeddedStore, query: str, limit: int) -> list[Any]:
    """The search as a scan of every key (what `search` did before the names were indexed)."""
    tokens = query_tokens(query)
    where = " AND ".join("instr(search_key, ?) > 0" for _ in tokens)
    rows = store._db.execute(
        f"SELECT id, kind, name, props, search_key FROM entities WHERE {where}", tokens
    )
    return rank_hits(query, rows, limit)


def _named(tmp_path: Path) -> tuple[list[dict[str, str]], Path]:
    """People and companies named in Kazakh, Russian and Latin letters, and their bundle."""
    first = ["Болат", "Болатбек", "Әйгерім", "Aigerim", "Нұрлан", "Nurlan", "Дана", "Ли", "Ан"]
    last = ["Алиев", "Алиева", "Садықова", "Sadykova", "Жумабаева", "Ким", "О"]
    people = [{"id": f"p{i}", "name": f"{first[i % 9]} {last[i % 7]}"} for i in range(120)]
    companies = [{"id": "c1", "name": 'ТОО "Дала Строй"'}, {"id": "c2", "name": "Dala Stroy LLP"}]
    return people, write_bundle(tmp_path / "b", {"person": people, "company": companies})


@pytest.mark.parametrize("aside", [False, True], ids=["names indexed by the write", "beside"])
def test_search_reads_the_name_index_and_finds_what_a_scan_finds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, aside: bool
) -> None:
    if aside:  # (a first load's names indexed beside its write, as a large one's are)
        monkeypatch.setattr(embedded_names, "ASIDE_ENTITIES", 1)
    people, bundle = _named(tmp_path)
    store = EmbeddedStore(tmp_path / "s", create=True)
    with plan_load([bundle], store.kinds_of) as plan:
        store.write(plan)
    assert (store._names is not None) is aside
    # (a first load indexes the names with FTS5's automerge off: it is on again after)
    automerge = "SELECT v FROM names_config WHERE k = 'automerge'"
    assert store._db.execute(automerge).fetchone() == (4,)
    queries = ["Болат Алиев", "bolat", "aliev", "Алиева", "Sadyk", "ygerim sad", "dala stroy",
               "Ли Ким", "ан о", "Ли", "lat", "zzz", '"Дала', "Ким Дана"]  # fmt: skip
    for q in queries:
        assert store.search(q, 500) == _scanned(store, q, 500), q
    assert len(store.search("bolat", 500)) == 2 * 120 // 9 + 2  # Болат and Болатбек, 14 of each
    plan_of = store._db.execute(
        'EXPLAIN QUERY PLAN SELECT rowid FROM names WHERE names MATCH \'"bol" AND "ola"\''
    ).fetchall()
    assert any("VIRTUAL TABLE INDEX" in row[-1] for row in plan_of)
    # a renamed record is found by its new name only; a new one is found at once
    people[0]["name"], people[1]["name"] = "Qanat Serikuly", people[1]["name"]
    people.append({"id": "p-new", "name": "Bolat Qanatuly"})
    bundle = write_bundle(tmp_path / "b2", {"person": people})
    with plan_load([bundle], store.kinds_of) as plan:
        store.write(plan)
    assert [h.id for h in store.search("Qanat", 10)] == ["p0", "p-new"]
    assert "p0" not in {h.id for h in store.search("bolat", 500)}
    for q in queries:
        assert store.search(q, 500) == _scanned(store, q, 500), q
    store.close()
    # a store an older cofi made (no name index) has its names indexed when opened
    db = sqlite3.connect(tmp_path / "s" / "cofi.sqlite")
    db.executescript(
        "DROP TRIGGER entities_named; DROP TRIGGER entities_renamed; DROP TABLE names;"
        "DROP TABLE name_rows; UPDATE meta SET value = '4' WHERE key = 'schema_version';"
    )
    db.close()
    store = EmbeddedStore(tmp_path / "s", create=False)
    for q in queries:
        assert store.search(q, 500) == _scanned(store, q, 500), q
    assert len(store.search("bolat", 500)) == 2 * 120 // 9 + 2
    store.close()
    # a schema-8 store's name index, which kept each trigram's places, is made again without
    db = sqlite3.connect(tmp_path / "s" / "cofi.sqlite")
    db.executescript(
        "DROP TABLE names; CREATE VIRTUAL TABLE names USING "
        "fts5(key, content='', tokenize='trigram case_sensitive 1');"
        "UPDATE meta SET value = '8' WHERE key = 'schema_version';"
    )
    db.close()
    store = EmbeddedStore(tmp_path / "s", create=False)
    (made,) = store._db.execute("SELECT sql FROM sqlite_master WHERE name = 'names'").fetchone()
    assert "detail=none" in made and "columnsize=0" in made
    assert not store._db.execute(
        "SELECT 1 FROM sqlite_master WHERE name = 'names_docsize'"
    ).fetchall()
    for q in queries:
        assert store.search(q, 500) == _scanned(store, q, 500), q
    assert len(store.search("bolat", 500)) == 2 * 120 // 9 + 2
    store.close()


def _name_index(store: EmbeddedStore) -> dict[str, list[tuple[Any, ...]]]:
    tables = ("names_data", "names_idx", "names_config", "name_rows")
    return {t: store._db.execute(f"SELECT * FROM {t} ORDER BY 1, 2").fetchall() for t in tables}


@pytest.mark.parametrize("fails", [False, True], ids=["made beside", "failed beside"])
def test_a_name_index_made_beside_the_write_is_the_one_the_write_makes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fails: bool
) -> None:
    _, bundle = _named(tmp_path)
    made = {}
    for aside in (False, True):
        if aside:
            monkeypatch.setattr(embedded_names, "ASIDE_ENTITIES", 1)
        if aside and fails:  # (the process beside fails: the write indexes the names itself)
            monkeypatch.setattr(embedded_names, "_KEYS", "SELECT * FROM no_such_table")
        store = EmbeddedStore(tmp_path / f"s{aside}", create=True)
        with plan_load([bundle], store.kinds_of) as plan:
            store.write(plan)
        assert (store._names is not None) is aside
        made[aside] = _name_index(store)
        assert len(made[aside]["name_rows"]) == 122 and len(made[aside]["names_data"]) > 2
        store.close()
    assert made[True] == made[False]


def test_search_without_match_exits_1(run: Callable[..., Result]) -> None:
    assert run("load", str(DEMO)).exit_code == 0
    result = run("search", "Nobody Atall")
    assert result.exit_code == 1
    assert "no match" in result.stderr


@contextlib.contextmanager
def tmpfs(directory: Path, size: str) -> Iterator[Path]:
    """A tmpfs of `size` mounted at `directory` (root only; skipped where it cannot be)."""
    directory.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs",
                              str(directory)], capture_output=True, text=True)  # fmt: skip
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {mounted.stderr.strip()}")
    try:
        yield directory
    finally:
        subprocess.run(["umount", str(directory)], check=True)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 1 MB tmpfs."""
    with tmpfs(tmp_path / "disk", "1m") as disk:
        yield disk


@pytest.fixture
def disk_4m(tmp_path: Path) -> Iterator[Path]:
    with tmpfs(tmp_path / "disk4", "4m") as disk:
        yield disk


def test_a_load_and_a_sweep_on_a_full_disk_say_so_and_leave_the_store_as_it_was(
    small_disk: Path, tmp_path: Path
) -> None:
    cofi = [sys.executable, "-m", "cofi", "--store", str(small_disk / "store")]

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*cofi, *args], capture_output=True, text=True)

    assert run("load", str(SCENARIOS)).returncode == 0
    before = snapshot(small_disk / "store")
    kept = (small_disk / "store" / GRAPH_NAME).read_bytes()
    bulk = tmp_path / "bulk"
    write_bulk_bundle(bulk, 20_000, seed=1)  # several MB: does not fit
    failed = run("load", str(bulk))
    assert failed.returncode == 3, failed.stderr
    (line,) = failed.stderr.strip().splitlines()
    assert line.startswith(f"cofi: error: {small_disk / 'store'}: disk full (")
    assert line.endswith("nothing was written, the store is as it was")
    assert snapshot(small_disk / "store") == before
    assert (small_disk / "store" / GRAPH_NAME).read_bytes() == kept  # and its graph file
    filler = small_disk / "filler"
    with contextlib.suppress(OSError), filler.open("wb") as fh:  # what is left of the disk
        while True:
            fh.write(b"\0" * 4096)
            fh.flush()
    failed = run("sweep")
    assert failed.returncode == 3 and "disk full" in failed.stderr, failed.stderr
    assert len(failed.stderr.strip().splitlines()) == 1
    filler.unlink()  # (reading a WAL database needs a little room too)
    assert snapshot(small_disk / "store") == before
    done = run("sweep", "--format", "jsonl")
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.splitlines()) == len(expected())


def test_a_graph_file_that_does_not_fit_leaves_the_old_one_and_says_disk_full(
    disk_4m: Path, tmp_path: Path
) -> None:
    """The rows fit and commit; the graph file written after them does not: the load says so
    in one line, the old file (of the old revision, never read for the new one) stays, and no
    half-written file is left."""
    store = disk_4m / "store"
    cofi = [sys.executable, "-m", "cofi", "--store", str(store)]
    write_bulk_bundle(tmp_path / "bulk", 4000, seed=1)
    assert (
        subprocess.run([*cofi, "load", str(tmp_path / "bulk")], capture_output=True).returncode == 0
    )
    kept = (store / GRAPH_NAME).read_bytes()
    # room for the rows (a few pages of the WAL), not for the graph file as well
    room = shutil.disk_usage(disk_4m).free - (len(kept) - (16 << 10))
    (disk_4m / "filler").write_bytes(b"\0" * room)
    person = write_bundle(tmp_path / "one", {"person": [{"id": "P-ONE", "name": "Бір Адам"}]})
    done = subprocess.run([*cofi, "load", str(person)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith("graph not kept for sweeps: disk full (") and "rows are in" in line
    assert (store / GRAPH_NAME).read_bytes() == kept and not list(store.glob(".*.tmp"))
    opened = EmbeddedStore(store, create=False)
    assert "P-ONE" in opened.kinds_of(["P-ONE"]) and opened.kept_graph() is None
    opened.close()


def test_a_write_past_the_databases_size_limit_is_disk_full_and_rolled_back(
    tmp_path: Path,
) -> None:
    """The same path without a tmpfs: SQLite's `max_page_count` makes the database full."""
    from cofi.detect import Rules
    from cofi.errors import StoreFull
    from cofi.sweep import sweep

    store = EmbeddedStore(tmp_path / "store", create=True)
    try:
        with plan_load([SCENARIOS], store.kinds_of) as plan:
            store.write(plan)
        before = snapshot(tmp_path / "store")
        write_bulk_bundle(tmp_path / "bulk", 20_000, seed=1)
        ((pages,),) = store._db.execute("PRAGMA page_count").fetchall()
        store._db.execute(f"PRAGMA max_page_count = {pages}")
        with (
            pytest.raises(StoreFull, match="disk full"),
            plan_load([tmp_path / "bulk"], store.kinds_of) as plan,
        ):
            store.write(plan)
        assert snapshot(tmp_path / "store") == before
        with pytest.raises(StoreFull, match="disk full"):
            sweep(store, Rules(), workers=1)  # its findings do not fit either
        assert snapshot(tmp_path / "store") == before
    finally:
        store.close()


def _locked_elsewhere(db_path: Path) -> bool:
    """Whether another process finds the store locked for writing."""
    probe = (
        "import sqlite3, sys\n"
        "db = sqlite3.connect(sys.argv[1], timeout=0, isolation_level=None)\n"
        "try:\n    db.execute('BEGIN IMMEDIATE')\nexcept sqlite3.OperationalError:\n"
        "    sys.exit(3)\n"
    )
    return subprocess.run([sys.executable, "-c", probe, str(db_path)]).returncode == 3


def test_the_writing_back_begun_during_a_write_keeps_the_writes_lock(tmp_path: Path) -> None:
    """A write begins writing the store's file back to disk before its commit
    (`_start_writeback`): from a process of its own, since closing a descriptor of the file in
    this one would drop the lock SQLite holds on it, and another process could write."""
    store = EmbeddedStore(tmp_path / "store", create=True)
    try:
        with plan_load([DEMO], store.kinds_of) as plan:
            store.write(plan)
        db_path = tmp_path / "store" / "cofi.sqlite"
        db = sqlite3.connect(db_path, isolation_level=None)
        db.execute(
            "PRAGMA journal_mode = DELETE"
        )  # (as a first load writes: the lock is the file's)
        db.execute("BEGIN IMMEDIATE")
        db.execute("UPDATE meta SET value = value WHERE key = 'rev'")
        assert _locked_elsewhere(db_path)
        embedded._start_writeback(db_path)
        assert _locked_elsewhere(db_path)
        db.execute("ROLLBACK")
        assert not _locked_elsewhere(db_path)
        db.close()
    finally:
        store.close()
