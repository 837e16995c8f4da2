"""What SQLite alone takes to write a loaded store's rows once: each table of STORE copied into a
new database of the same schema in its key order, then each index made, one thread, and the
CPU of each step; beside it, Python's `csv` module reading BUNDLE's files (the load target's
baseline).  The copy reads its rows through a SELECT (not SQLite's transfer of whole records, as
`VACUUM INTO` does), as a load's write reads them from the staging databases.

    python benchmarks/store_floor.py /tmp/lg/store /tmp/lg/bundle

A floor under any load that writes this store, however it parses, checks and groups the rows:
the name index and the graph file come on top.
"""

from __future__ import annotations

import sqlite3
import sys
import tempfile
import time
from contextlib import closing
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from run import csv_read_seconds

TABLES = ("entities", "contacts", "links")


def copied(store: Path, into: Path) -> list[tuple[str, float]]:
    """Each table's rows and each index of `TABLES` written into the new database `into`, with
    the CPU seconds each took."""
    steps: list[tuple[str, float]] = []
    with closing(sqlite3.connect(store / "cofi.sqlite")) as src:
        schema = src.execute(
            "SELECT type, tbl_name, sql FROM sqlite_master WHERE sql IS NOT NULL "
            f"AND tbl_name IN ({','.join('?' * len(TABLES))}) ORDER BY rowid",
            TABLES,
        ).fetchall()
        keys = {t: [c for _, c, *_ in sorted(
            (r for r in src.execute(f"PRAGMA table_info({t})") if r[5]), key=lambda r: r[5])]
            for t in TABLES}  # fmt: skip
    with closing(sqlite3.connect(into, isolation_level=None)) as db:
        for pragma in ("page_size = 16384", "journal_mode = OFF", "cache_size = -262144"):
            db.execute(f"PRAGMA {pragma}")
        db.execute("ATTACH DATABASE ? AS s", (str(store / "cofi.sqlite"),))
        for kind, _, sql in schema:
            if kind == "table":
                db.execute(sql)
        db.execute("BEGIN")
        for table in TABLES:
            order = f" ORDER BY {', '.join(keys[table])}" if keys[table] else ""
            began = time.process_time()
            db.execute(f"INSERT INTO main.{table} SELECT * FROM s.{table} WHERE true{order}")
            steps.append((f"{table}: rows", time.process_time() - began))
        for kind, table, sql in schema:
            if kind == "index":
                began = time.process_time()
                db.execute(sql)
                steps.append(
                    (f"{table}: {sql.split(' ON ')[0].split()[-1]}", time.process_time() - began)
                )
        db.execute("COMMIT")
    return steps


if __name__ == "__main__":
    store, bundle = Path(sys.argv[1]), Path(sys.argv[2])
    baseline = csv_read_seconds(bundle)
    with tempfile.TemporaryDirectory(dir=store.parent) as tmp:
        steps = copied(store, Path(tmp) / "floor.sqlite")
    total = sum(s for _, s in steps)
    for name, seconds in steps:
        print(f"{name:40} {seconds:6.2f} s")
    print(f"{'all, one thread':40} {total:6.2f} s of CPU = {total / baseline:.1f}x the csv read "
          f"({baseline:.2f} s)")  # fmt: skip
