"""How much SQLite sorts at a time (a grouping's `ORDER BY`, a `CREATE INDEX`).

SQLite sorts rows in runs of at most a connection's `cache_size` (of its `main` database), each
run as a linked list, then merges the runs.  A run larger than the processor's caches sorts
slowly: grouping the large bundle's 5.5M staged links took 20.4 s with 256 MB runs, 14.0 s with
16 MB, 12.0-12.3 s with 4 MB and 13.9 s with 1 MB; indexing the store's 5.5M links by target
6.9 s with 256 MB runs and 4.2 s with 2-4 MB (one run each, the same store).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

SORT_RUN = -4096
"""The memory SQLite sorts at a time, in SQLite's `cache_size` terms (negative: KiB; 4 MB)."""


@contextmanager
def sorted_in_runs(db: sqlite3.Connection, threads: int = 0) -> Iterator[None]:
    """Sort in runs of `SORT_RUN` (and with `threads` helper threads) inside the block, then
    give the connection its own page cache and threads back.  (The page cache shrinks with it:
    the pages a block writes reach the file sooner, as they would at the commit.)"""
    (cache,) = db.execute("PRAGMA cache_size").fetchone()
    (before,) = db.execute("PRAGMA threads").fetchone()
    db.execute(f"PRAGMA cache_size = {SORT_RUN}")
    db.execute(f"PRAGMA threads = {threads}")
    try:
        yield
    finally:
        db.execute(f"PRAGMA cache_size = {cache}")
        db.execute(f"PRAGMA threads = {before}")
