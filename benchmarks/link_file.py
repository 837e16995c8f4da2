"""What the link file (`cofi/link_file.py`, `docs/link-store.md`) costs against the `links` table
it would replace, on a loaded store (issue 17).

    python benchmarks/link_file.py STORE [ROUNDS]

Reads STORE's links as Arrow (ADBC), then, each step timed with its CPU seconds: the columns made
from them (each end numbered by `name_rows`, texts coded), written and synced, opened, the links
from and into 5,000 entities found, and a day's 6,000 new DECIDED links (to 2,000 new contracts)
merged in and written as a new file, as a later load would.  The same rows' SQLite costs, for
comparison: copied in key order into an empty `links` table of the store's schema and its target
index made, as a first load does.
"""

from __future__ import annotations

import os
import sqlite3
import sys
import tempfile
import time
from contextlib import closing
from pathlib import Path

import adbc_driver_sqlite.dbapi as adbc
import numpy as np
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).parent))
from link_lane import _cpu

from cofi.link_file import FILE_TYPES, LinkColumns, LinkFile, from_arrow, merged, write
from cofi.sorting import sorted_in_runs

_COLUMNS = "source, target, type, role, since, share, until, source_ref, rev"


class Clock:
    def __init__(self) -> None:
        self.t, self.c = time.perf_counter(), _cpu()

    def lap(self, what: str) -> None:
        t, c = time.perf_counter(), _cpu()
        print(f"  {what:58} {t - self.t:6.2f} s {c - self.c:6.2f} CPU s", flush=True)
        self.t, self.c = time.perf_counter(), _cpu()


def _read(store: Path) -> pa.Table:
    types = ", ".join(f"'{t}'" for t in FILE_TYPES)
    with closing(adbc.connect(f"file:{store}?mode=ro")) as con, closing(con.cursor()) as cur:
        cur.execute(
            f"SELECT {_COLUMNS} FROM links WHERE type IN ({types}) "
            "ORDER BY source, target, type, role, since"
        )
        return cur.fetch_arrow_table()


def _day(links: LinkColumns) -> LinkColumns:
    """2,000 new contracts, each decided by three people already linked."""
    people = np.unique(links.columns["source"])[:6000]
    top = int(max(links.columns["source"].max(), links.columns["target"].max()))
    return LinkColumns.from_rows(
        (int(p), top + 1 + i // 3, "DECIDED", "", "", None, "", "", 0)
        for i, p in enumerate(people.tolist())
    )


def _sqlite(links: pa.Table, d: Path) -> None:
    """The same rows written as a first load's store writes them."""
    from cofi.store.embedded import _SCHEMA

    path = d / "cofi.sqlite"
    with closing(sqlite3.connect(path, isolation_level=None)) as db:
        db.execute("PRAGMA page_size = 16384")
        db.executescript(_SCHEMA)
        db.execute("DROP INDEX links_target")
        db.execute("PRAGMA journal_mode = OFF")
        db.execute("PRAGMA synchronous = OFF")
    con = adbc.connect(str(d / "rows.sqlite"), autocommit=True)
    with closing(con), closing(con.cursor()) as cur:
        cur.adbc_ingest("rows", links, mode="create")
    clock = Clock()
    with closing(sqlite3.connect(path, isolation_level=None)) as db:
        db.execute("ATTACH ? AS r", (str(d / "rows.sqlite"),))
        db.execute("BEGIN")
        db.execute(f"INSERT INTO links SELECT {_COLUMNS} FROM r.rows")
        db.execute("COMMIT")
        clock.lap("SQLite: the rows into an empty links table")
        with sorted_in_runs(db, 1):
            db.execute("CREATE INDEX links_target ON links (target)")
        clock.lap("SQLite: its target index")


def main(store: Path, rounds: int) -> None:
    clock = Clock()
    rows = _read(store)
    clock.lap(f"read {rows.num_rows:,} links as Arrow (not counted below)")
    with tempfile.TemporaryDirectory(dir=os.environ.get("TMPDIR")) as tmp:
        d = Path(tmp)
        for r in range(rounds):
            print(f"round {r + 1}")
            clock = Clock()
            links, ids = from_arrow(rows, None)
            clock.lap("columns: ends numbered, texts coded, key order checked")
            seal = write(d / f"links-{r}-1.bin", links, ids, "store:1")
            clock.lap(f"written and synced ({seal.size / 2**20:.0f} MB)")
            opened = LinkFile(d / f"links-{r}-1.bin", seal, "store:1")
            clock.lap("opened (seal checked)")
            some = np.random.default_rng(r).choice(len(ids), 5000, replace=False)
            numbers = opened.numbers_of(ids.take(pa.array(some)).to_pylist())
            found = len(opened.rows_from(numbers)) + len(opened.rows_into(numbers))
            clock.lap(f"5,000 ids numbered, the links from and into them ({found:,})")
            day = _day(links)
            later = merged(opened.links, day, 2).links
            clock.lap(f"a day's {len(day):,} DECIDED links merged in")
            more = pa.array([f"k-new-{i}" for i in range(2000)], pa.large_string())
            write(d / f"links-{r}-2.bin", later, pa.concat_arrays([opened.ids, more]), "store:2")
            clock.lap("the merged file written and synced")
            opened.verify()
            clock.lap("every column's CRC checked")
            del opened
            _sqlite(rows, d)
            for f in d.iterdir():
                f.unlink()


if __name__ == "__main__":
    main(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 2)
