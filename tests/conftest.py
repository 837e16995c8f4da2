"""Shared helpers: writing small bundles, snapshotting a store, running the CLI."""

from __future__ import annotations

import csv
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from cofi.cli import cli
from cofi.model import COLUMNS
from cofi.resources import resource_dir
from tests.neo4j_server import fresh_database, neo4j_uri

DEMO = resource_dir("fixtures") / "demo"
FILES = {"person": "people.csv", "agency": "agencies.csv", "company": "companies.csv",
         "contract": "contracts.csv", "link": "links.csv",
         "declaration": "declarations.csv"}  # fmt: skip


def write_bundle(directory: Path, rows: dict[str, list[dict[str, Any]]]) -> Path:
    """Write `rows` (kind -> list of column dicts) as a CSV bundle in `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    for kind, items in rows.items():
        with (directory / FILES[kind]).open("w", encoding="utf-8", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=COLUMNS[kind])
            writer.writeheader()
            for item in items:
                writer.writerow(item)
    return directory


def snapshot(store: Path) -> Any:
    """Every row of every table of an embedded store, or None when there is no store.  (A
    virtual table's rows are those of its own tables: the name index cannot be scanned.)"""
    db_path = store / "cofi.sqlite"
    if not db_path.exists():
        return None
    db = sqlite3.connect(db_path)
    try:
        tables = [r[0] for r in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' "
            "AND sql NOT LIKE 'CREATE VIRTUAL TABLE%'"
        )]  # fmt: skip
        out = {t: sorted(db.execute(f"SELECT * FROM {t}").fetchall()) for t in sorted(tables)}
        meta = dict(out["meta"]) if "meta" in out else {}
        if "links_file" in meta:  # (with the links the store keeps in its link file)
            from cofi.link_pages import Seal
            from cofi.store.embedded_link_rings import FileLinks

            file = FileLinks(store / meta["links_file"], Seal.from_text(meta["links_seal"]))
            links = file.file
            out["links"] = sorted([*out["links"], *(
                (*row, int(rev))
                for row, rev in zip(file.texts(range(len(links.links))),
                                    links.links.columns["rev"], strict=True)
            )], key=repr)  # fmt: skip
            out["meta"] = [r for r in out["meta"] if r[0] not in ("links_file", "links_seal")]
        return out
    finally:
        db.close()


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    """Run the CLI against a store in the test's temporary directory."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("COFI_STORE", raising=False)

    def invoke(*args: str) -> Result:
        return CliRunner().invoke(cli, ["--store", str(tmp_path / "store"), *args])

    return invoke


@pytest.fixture(params=["embedded", "neo4j"])
def store_location(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each store in turn: the conformance suite's tests take it (through `crun`).

    The Neo4j half skips, with its reason, unless NEO4J_URI names a server.
    """
    if request.param == "embedded":
        return str(tmp_path / "store")
    uri = neo4j_uri()
    fresh_database(uri)
    return uri


@pytest.fixture
def crun(
    store_location: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Callable[..., Result]:
    """Run the CLI against each store in turn (the conformance suite)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("COFI_STORE", raising=False)

    def invoke(*args: str) -> Result:
        return CliRunner().invoke(cli, ["--store", store_location, *args])

    return invoke


@pytest.fixture
def store_dir(tmp_path: Path) -> Path:
    return tmp_path / "store"


@pytest.fixture
def demo_copy(tmp_path: Path) -> Path:
    """A writable copy of the demo bundle."""
    return Path(shutil.copytree(DEMO, tmp_path / "demo"))
