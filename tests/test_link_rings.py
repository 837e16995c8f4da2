"""Ring reads from a link file (`cofi.store.embedded_link_rings`) against the `links` table's own
(`cofi.store.embedded_rings`): the same rows for every id of a store whose numbers are not in id
order (a later load added records that sort first), and the same findings and views when the
store reads its rings from the file."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from cofi.cli import cli
from cofi.link_file import of_store, write
from cofi.store import open_store
from cofi.store.embedded import EmbeddedStore
from cofi.store.embedded_link_rings import FileLinks, FileReader
from cofi.store.embedded_rings import EmbeddedReader
from tests.conftest import write_bundle
from tests.test_detect import SCENARIOS, expected
from tests.test_rings import (
    assert_explore_draws_the_whole_graphs_view,
    checks_on_rings_are_the_whole_graphs,
)


def cofi(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


_LATER = {
    "person": [
        {"id": "0-new-wife", "name": "Айгүл Жаңа"},
        {"id": "0-new-clerk", "name": "Болат Жаңа"},
    ],
    "link": [
        {"source": "0-new-wife", "target": "p-head-a", "type": "FAMILY", "role": "spouse",
         "since": "2001-01-01"},
        {"source": "0-new-clerk", "target": "ag-a", "type": "EMPLOYED", "role": "head",
         "since": "2024-01-01", "until": "2026-01-01"},
        {"source": "0-new-clerk", "target": "S01", "type": "DECIDED", "role": "member"},
        {"source": "0-new-clerk", "target": "0-new-wife", "type": "FAMILY", "role": "sibling"},
        {"source": "0-new-wife", "target": "co-s01", "type": "OWNS", "share": "30",
         "since": "2020-02-02"},
    ],
}  # fmt: skip
"""A later load: records whose ids sort before every other, numbered after them."""


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A store as an older cofi made it, every link in its `links` table (the reads of the
    table are the reference here)."""
    store = str(tmp_path / "store")
    with monkeypatch.context() as m:
        m.setattr(EmbeddedStore, "link_target", lambda self: None)
        assert cofi("--store", store, "load", str(SCENARIOS)).exit_code == 0
        later = write_bundle(tmp_path / "later", _LATER)
        result = cofi("--store", store, "load", str(later))
        assert result.exit_code == 0, result.output
    assert not list(Path(store).glob("links-*.bin"))
    assert cofi("--store", store, "sweep", "--out", os.devnull).exit_code == 0
    return store


def _file_reader(store: EmbeddedStore, tmp: Path) -> FileReader:
    db = store._db
    seal = write(tmp / "links-1.bin", *of_store(db), "t")
    return FileReader(db, store.kinds_of, FileLinks(tmp / "links-1.bin", seal, "t"))


def _same(got: list[Any], want: list[Any]) -> None:
    assert sorted(map(repr, got)) == sorted(map(repr, want))


def test_numbers_are_not_in_id_order(store: str) -> None:
    s = open_store(store)
    try:
        rows = s._db.execute("SELECT id FROM name_rows ORDER BY n").fetchall()
        assert [r[0] for r in rows] != sorted(r[0] for r in rows)
    finally:
        s.close()


@pytest.mark.parametrize("few", [50_000, 0], ids=["by-pread", "through-the-map"])
def test_every_ring_read_of_every_id_is_the_tables(
    store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, few: int
) -> None:
    """Read by `pread` (a ring's few rows) or through the map (a bulk read's many)."""
    from cofi import link_pages

    monkeypatch.setattr(link_pages, "FEW", few)
    s = open_store(store)
    assert isinstance(s, EmbeddedStore)
    try:
        file, table = _file_reader(s, tmp_path), EmbeddedReader(s._db, s.kinds_of)
        ids = [i for (i,) in s._db.execute("SELECT id FROM entities ORDER BY id")]
        agencies = [i for i in ids if i.startswith("ag-")]
        assert len(ids) > 50 and agencies
        batches = [ids, *([i] for i in ids)]
        for batch in batches:
            for at, not_before in (("2025-06-01", "2024-06-01"), ("2019-01-01", "2019-01-01")):
                _same(file.links_around(batch, at, not_before),
                      table.links_around(batch, at, not_before))  # fmt: skip
                _same(file.heads_of(batch, at, not_before), table.heads_of(batch, at, not_before))
            _same(file.contracts(batch), table.contracts(batch))
            for limit in (1, 3):
                _same(file.contracts_of(batch, limit), table.contracts_of(batch, limit))
            assert file.agencies_headed_by(batch) == table.agencies_headed_by(batch)
            _same(file.contracts_near(batch, agencies), table.contracts_near(batch, agencies))
        assert file.contracts(["S01"]) == table.contracts(["S01"])  # (deciders in order)
        assert any(d[0] == "0-new-clerk" for d in file.contracts(["S01"])[0][-1])
    finally:
        s.close()


def test_checks_and_views_from_the_file_are_the_whole_graphs(
    store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = open_store(store)
    assert isinstance(s, EmbeddedStore)
    try:
        reader = _file_reader(s, tmp_path)
        monkeypatch.setattr(EmbeddedStore, "_reader", property(lambda self: reader))
        found = checks_on_rings_are_the_whole_graphs(s)
        assert expected() <= found  # (and what the later load's records add)
        assert any(f[1] == "0-new-clerk" for f in found)
        assert_explore_draws_the_whole_graphs_view(s, s)
    finally:
        s.close()


def test_every_declarations_read_of_the_graphs_links_is_the_tables(
    store: str, tmp_path: Path
) -> None:
    from cofi.store.embedded_link_rings import FileDeclarations

    s = open_store(store)
    assert isinstance(s, EmbeddedStore)
    try:
        links = _file_reader(s, tmp_path).links
        table = s.declarations()
        file = FileDeclarations(s._path, s._db, links)
        ids = [i for (i,) in s._db.execute("SELECT id FROM entities ORDER BY id")]
        agencies = [i for i in ids if i.startswith("ag-")]
        for at in ("2019-06-01", "2025-06-01", "2026-06-01"):
            assert file.officials(at) == table.officials(at)
            assert file.officials(at)
        assert file.agency_jobs() == table.agency_jobs()
        some = [*agencies[:1], "p-head-a"]
        assert file.agency_jobs(some) == table.agency_jobs(some)
        for batch in [ids, *([i] for i in ids)]:
            for at in ("2019-06-01", "2025-06-01"):
                _same(list(file.audit_links(batch, at)), list(table.audit_links(batch, at)))
            assert file.agencies_of(batch) == table.agencies_of(batch)
            _same(list(file.family_of(batch)), list(table.family_of(batch)))
        assert any(k.source == "0-new-wife" for k in file.family_of(["p-head-a"]))
    finally:
        s.close()
