"""The embedded store's link file as the store keeps it (`cofi.link_file`, named in `meta`): a
load killed while it writes one leaves the store as it was, a damaged one is refused in one line,
the files of killed and superseded loads are removed, and a store an older cofi made keeps its
links table."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from cofi.bulk import write_bulk_bundle
from cofi.cli import cli
from cofi.store.embedded import EmbeddedStore
from cofi.vocab import FILE_TYPES
from tests.conftest import DEMO, snapshot, write_bundle
from tests.test_store import without_store_id


def _cofi(store: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cofi", "--store", str(store), *args],
                          capture_output=True, text=True)  # fmt: skip


@pytest.mark.slow
def test_a_load_killed_while_it_writes_its_link_file_leaves_the_store_as_it_was(
    tmp_path: Path,
) -> None:
    """Killed once its new link file is on disk, unnamed: the store is the one before (its rows
    and the link file it names); the next load removes the killed one's file and ends as one
    clean load does."""
    store = tmp_path / "store"
    assert _cofi(store, "load", str(DEMO)).returncode == 0
    before = snapshot(store)
    (first,) = store.glob("links-*.bin")
    bulk = tmp_path / "bulk"
    write_bulk_bundle(bulk, 300_000, seed=7)
    proc = subprocess.Popen([sys.executable, "-m", "cofi", "--store", str(store), "load",
                             str(bulk)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and proc.poll() is None:
        if any(p != first for p in store.glob("links-*.bin")):
            break
        time.sleep(0.0005)
    assert proc.poll() is None, "the load finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    time.sleep(0.5)  # (the link checks' process, left alone, ends)
    assert snapshot(store) == before
    killed = {p.name for p in store.glob("links-*.bin")} - {first.name}
    assert killed and all(f"-{proc.pid}." in name for name in killed)
    again = _cofi(store, "load", str(bulk))
    assert again.returncode == 0, again.stderr
    left = {p.name for p in store.glob("links-*.bin")}
    assert not left & killed and first.name in left  # (superseded: kept until the next load)
    clean = tmp_path / "clean"
    for bundle in (DEMO, bulk):
        assert _cofi(clean, "load", str(bundle)).returncode == 0
    assert without_store_id(snapshot(store)) == without_store_id(snapshot(clean))
    assert _cofi(store, "load", str(DEMO)).returncode == 0  # (the next load, changing nothing)
    assert {p.name for p in store.glob("links-*.bin")} == left - {first.name}


@pytest.mark.parametrize(
    "harm",
    [lambda p: p.write_bytes(p.read_bytes()[:-7]), lambda p: p.unlink()],
    ids=["cut-short", "missing"],
)
def test_a_damaged_or_missing_link_file_is_refused_in_one_line(tmp_path: Path, harm) -> None:
    store = tmp_path / "store"
    assert _cofi(store, "load", str(DEMO)).returncode == 0
    (links,) = store.glob("links-*.bin")
    harm(links)
    for args in (("check", "K-17"), ("sweep", "--all"), ("links", "p-aigerim")):
        done = _cofi(store, *args)
        assert done.returncode == 3, (args, done.stderr)
        (line,) = done.stderr.strip().splitlines()
        assert line.startswith(f"cofi: error: {store}: link file {links.name} damaged (")
        assert line.endswith("the store cannot be read")


def test_a_store_an_older_cofi_made_keeps_its_links_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A store whose graph links are in its `links` table (as cofi made them before the link
    file) is loaded into and read as before: no link file is made for it."""
    store = tmp_path / "store"
    with monkeypatch.context() as m:
        m.setattr(EmbeddedStore, "link_target", lambda self: None)
        assert CliRunner().invoke(cli, ["--store", str(store), "load", str(DEMO)]).exit_code == 0
    small = write_bundle(tmp_path / "small", {"person": [{"id": "p-new", "name": "New"}],
                         "link": [{"source": "p-new", "target": "p-aigerim", "type": "FAMILY",
                                   "role": "sibling"}]})  # fmt: skip
    assert _cofi(store, "load", str(small)).returncode == 0
    assert not list(store.glob("links-*.bin"))
    rows = [r for r in snapshot(store)["links"] if r[0] == "p-new"]
    assert [r[:3] for r in rows] == [("p-new", "p-aigerim", "FAMILY")]
    assert "New's sister Әйгерім Садықова" in _cofi(store, "links", "p-new").stdout


def test_a_later_load_links_records_the_store_knew_without_links(tmp_path: Path) -> None:
    """Ends that are neither in the link file nor in the load (records a first load brought
    with no link) are numbered as they come: the link is kept; an end no one knows is refused
    as before."""
    store = tmp_path / "store"
    people = [{"id": "a1", "name": "A One"}, {"id": "b2", "name": "B Two"}]
    first = write_bundle(tmp_path / "first", {"person": people})
    assert _cofi(store, "load", str(first)).returncode == 0
    later = write_bundle(tmp_path / "later", {"link": [
        {"source": "a1", "target": "b2", "type": "FAMILY", "role": "spouse"},
        {"source": "a1", "target": "nobody", "type": "FAMILY", "role": "child"},
    ]})  # fmt: skip
    refused = _cofi(store, "load", str(later))
    assert refused.returncode == 1
    assert "links.csv:3: target: unknown id 'nobody' (neither in the bundle nor in the store)" in (
        refused.stderr
    )
    skipped = _cofi(store, "load", "--skip-invalid", str(later))
    assert skipped.returncode == 0, skipped.stderr
    rows = snapshot(store)["links"]
    assert [r[:4] for r in rows] == [("a1", "b2", "FAMILY", "spouse")]
    assert "spouse" in _cofi(store, "path", "a1", "b2").stdout


def _loaded(tmp_path: Path, name: str, bundle: Path, workers: int) -> Any:
    """The rows of a new store `name` that one load of `bundle` by `workers` readers made (but
    what tells one store and its link file from another)."""
    from cofi.loader import plan_load

    store = EmbeddedStore(tmp_path / name, create=True)
    try:
        with plan_load(
            [bundle], store.kinds_of, workers=workers, links_into=store.link_target()
        ) as plan:
            store.write(plan)
    finally:
        store.close()
    rows = without_store_id(snapshot(tmp_path / name))
    rows["meta"] = [r for r in rows["meta"] if r[0] not in ("links_file", "links_seal")]
    return rows


@pytest.mark.parametrize("odd", [False, True], ids=["all-by-columns", "one-the-csv-way"])
def test_the_link_rows_staged_as_columns_are_grouped_as_those_in_sqlite(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, odd: bool
) -> None:
    """Staged by columns (two readers), a links file's rows of the link file's types are kept
    as Arrow columns only, not in SQLite, and the link checks read them there; a row that went
    the csv module's way (a space at the end of a cell) is in SQLite, and read there.  Other
    links and declarations (staged from their own file) are in SQLite either way.  The store is
    the one a load that stages every row in SQLite makes, and each row is read once."""
    import sqlite3

    from cofi import loader

    log = tmp_path / "read.log"  # (the link checks of two readers run in a forked process)
    staged = loader._staged_file_links

    def counted(links: Path) -> Any:
        batches = list(staged(links))
        marks = ", ".join("?" * len(FILE_TYPES))
        with sqlite3.connect(links) as db:  # (after ADBC has closed it)
            (in_sqlite,) = db.execute(
                f"SELECT count(*) FROM link WHERE type IN ({marks})", FILE_TYPES
            ).fetchone()
        columns = len(loader.link_column_files(links))
        with log.open("a") as f:
            f.write(f"{sum(b.num_rows for b in batches)} {in_sqlite} {columns}\n")
        return iter(batches)

    monkeypatch.setattr(loader, "_staged_file_links", counted)
    bundle = tmp_path / "bundle"
    shutil.copytree(DEMO.parent / "declarations", bundle)
    if odd:
        with (bundle / "links.csv").open("a", encoding="utf-8") as f:
            f.write("p-d01,p-head-d,ASSOCIATE,partner ,,,,\n")
    by_sqlite = _loaded(tmp_path, "one", bundle, 0)
    by_columns = _loaded(tmp_path, "two", bundle, 2)
    assert by_columns == by_sqlite
    assert any(row[2] == "ASSOCIATE" for row in by_sqlite["links"]) == odd
    with (bundle / "links.csv").open(encoding="utf-8") as f:
        rows = [line.split(",") for line in f.read().splitlines()[1:]]
    graph_rows = sum(row[2] in FILE_TYPES for row in rows)
    one, two = (tuple(map(int, line.split())) for line in log.read_text().splitlines())
    assert one == (graph_rows, graph_rows, 0)  # (one reader: every row in SQLite)
    assert two == (graph_rows, 1 if odd else 0, 1)  # (each row read once, from one place)


def _later_load(tmp_path: Path, name: str, bundle: Path, workers: int, skip: bool) -> Any:
    """A copy of a store holding the demo, then a load of `bundle` by `workers` readers: the
    errors it was refused with, or the store's rows after it (`skip`: invalid rows skipped)."""
    from cofi.errors import LoadRejected
    from cofi.loader import plan_load

    store_dir = tmp_path / name
    shutil.copytree(tmp_path / "demo-store", store_dir)
    store = EmbeddedStore(store_dir, create=False)
    try:
        with plan_load([bundle], store.kinds_of, workers=workers, skip_invalid=skip,
                       links_into=store.link_target()) as plan:  # fmt: skip
            store.write(plan)
    except LoadRejected as exc:
        return [str(e) for e in exc.errors]
    finally:
        store.close()
    rows = without_store_id(snapshot(store_dir))
    rows["meta"] = [r for r in rows["meta"] if r[0] not in ("links_file", "links_seal")]
    return rows


def test_link_rows_kept_as_columns_are_checked_and_named_as_those_in_sqlite(
    tmp_path: Path,
) -> None:
    """A later load's plain link rows, kept as Arrow columns only (two readers): ends the store
    alone knows are found there; a key given twice with other fields, an unknown end and a pair
    of kinds the type may not join are refused with each row's file, line and fields, as when
    every row is in SQLite (one reader); skipped, they leave the same store."""
    assert _cofi(tmp_path / "demo-store", "load", str(DEMO)).returncode == 0
    rows = [
        ["p-aigerim", "p-timur", "ASSOCIATE", "partner", "", "", "", "register"],
        ["p-bolat", "co-steppe", "OWNS", "", "10", "2020-01-01", "", "a"],
        ["p-bolat", "co-steppe", "OWNS", "", "20", "2020-01-01", "", "b"],
        ["p-dana", "nobody", "FAMILY", "sibling", "", "", "", ""],
        ["p-dana", "co-dala", "FAMILY", "sibling", "", "", "", ""],
        ["p-timur", "co-steppe", "DIRECTS", "", "", "2021-05-05", "", "c"],
    ]
    bundle = tmp_path / "later"
    bundle.mkdir()
    (bundle / "links.csv").write_text(
        "source,target,type,role,share,since,until,source_ref\n"
        + "".join(",".join(r) + "\n" for r in rows)
    )
    by_sqlite = _later_load(tmp_path, "one", bundle, 0, False)
    by_columns = _later_load(tmp_path, "two", bundle, 2, False)
    assert by_columns == by_sqlite
    before = snapshot(tmp_path / "demo-store")
    for refused in ("one", "two"):  # (nothing written: the store and its link file as they were)
        assert snapshot(tmp_path / refused) == before
        assert {p.name for p in (tmp_path / refused).glob("links-*.bin")} == {
            p.name for p in (tmp_path / "demo-store").glob("links-*.bin")
        }
    where = f"{bundle / 'links.csv'}"
    assert [e.split(": ", 1)[0] for e in by_columns] == [f"{where}:{n}" for n in (3, 4, 5, 6)]
    assert "unknown id 'nobody'" in by_columns[2]
    assert "FAMILY cannot join a person to a company" in by_columns[3]
    skipped = _later_load(tmp_path, "three", bundle, 0, True)
    assert _later_load(tmp_path, "four", bundle, 2, True) == skipped
    kept = [r[:3] for r in skipped["links"] if r[0] in ("p-aigerim", "p-timur")]
    assert ("p-aigerim", "p-timur", "ASSOCIATE") in kept
    assert ("p-timur", "co-steppe", "DIRECTS") in kept
