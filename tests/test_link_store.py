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
    """Staged by columns (two readers), a links file's rows are kept as Arrow columns too, and
    the link checks read them there, unless one of its rows went the csv module's way (a space
    at the end of a cell): then the file's rows come from SQLite.  Declarations (staged from
    their own file, in SQLite only) come from SQLite either way.  The store is the one a load
    that stages every row in SQLite makes."""
    from cofi import loader

    log = tmp_path / "read.log"  # (the link checks of two readers run in a forked process)
    columns = loader._staged_columns

    def spied(files: list[Path]) -> Any:
        with log.open("a") as f:
            f.write(" ".join(p.name for p in files) + "\n")
        return columns(files)

    staged = loader._staged_file_links

    def counted(links: Path) -> Any:
        batches = list(staged(links))
        with log.open("a") as f:
            f.write(f"rows {sum(b.num_rows for b in batches)}\n")
        return iter(batches)

    monkeypatch.setattr(loader, "_staged_columns", spied)
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
    lines = log.read_text().splitlines()
    counts = [int(line.split()[1]) for line in lines if line.startswith("rows ")]
    read = [line.split() for line in lines if not line.startswith("rows ")]
    assert read[0] == []  # (one reader: nothing staged by columns)
    assert len(read[1]) == (0 if odd else 1)
    with (bundle / "links.csv").open(encoding="utf-8") as f:
        rows = [line.split(",") for line in f.read().splitlines()[1:]]
    assert counts == [sum(row[2] in FILE_TYPES for row in rows)] * 2  # (each row read once)
