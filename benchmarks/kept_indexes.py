"""The links' small partial indexes made after a first load's rows, or kept while they go in
(`embedded._filled_alongside`), measured alone on a loaded store's links:

    python benchmarks/kept_indexes.py STORE_DIR [ROUNDS]

Each round copies the store's links in key order into a new table in a new database twice,
alternated: once with the partial indexes made after the rows ("after"), once with them made
before the rows, filled as the rows go in ("kept"); it prints each one's wall and CPU seconds.
"""

from __future__ import annotations

import resource
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

from cofi.store.embedded import _filled_alongside


def copy(store: Path, scratch: Path, kept: bool) -> tuple[float, float]:
    """Copy the links of `store` into `scratch` with the indexes of `_filled_alongside(1)` made
    before the rows (`kept`) or after them; wall and CPU seconds."""
    scratch.unlink(missing_ok=True)
    db = sqlite3.connect(scratch, isolation_level=None)
    db.execute("ATTACH ? AS s", (str(store / "cofi.sqlite"),))
    sql = dict(db.execute("SELECT name, sql FROM s.sqlite_master WHERE tbl_name = 'links' "
                          "AND sql IS NOT NULL"))  # fmt: skip
    db.execute(sql["links"].replace("IF NOT EXISTS ", ""))
    partial = [sql[name] for name in sorted(_filled_alongside(1))]
    db.execute("PRAGMA cache_size = -4096")
    before, began = resource.getrusage(resource.RUSAGE_SELF), time.monotonic()
    db.execute("BEGIN")
    for statement in partial if kept else []:
        db.execute(statement)
    db.execute("INSERT INTO links SELECT * FROM s.links ORDER BY source, target, type, role, since")
    for statement in [] if kept else partial:
        db.execute(statement)
    db.execute("COMMIT")
    after = resource.getrusage(resource.RUSAGE_SELF)
    db.close()
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return time.monotonic() - began, cpu


if __name__ == "__main__":
    store, rounds = Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 3
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(rounds):
            for kept in (False, True):
                wall, cpu = copy(store, Path(tmp) / "links.sqlite", kept)
                print(f"{'kept' if kept else 'after':5}  wall {wall:.2f} s  CPU {cpu:.2f} s",
                      flush=True)  # fmt: skip
