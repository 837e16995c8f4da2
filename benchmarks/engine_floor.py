"""What another storage engine takes to hold a bundle's rows: DuckDB (columnar, both cores) reading
BUNDLE's CSV files into an entities and a links table (links sorted by key), then, in turn, with
none of the store's indexes, with the links' target index alone, and with all three (entities by
id, links by key, links by target); beside it, Python's `csv` module reading the same files (the
load target's baseline), in the same run.

    pip install duckdb   # (not a cofi dependency: this only measures)
    python benchmarks/engine_floor.py /tmp/lg/bundle

A floor under a load into such a store: no row is checked, no search key or contact key made, no
name index and no graph file written.  Its question (issue 17): is SQLite's write of the store what
keeps a load above 6x the csv read, and would another engine lift that?
"""

from __future__ import annotations

import os
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from run import csv_read_seconds

_ENTITIES = """CREATE TABLE entities AS
SELECT id, 'person' AS kind, name, iin AS strong_id, birth_date AS day
FROM read_csv('{b}/people.csv', all_varchar = true)
UNION ALL SELECT id, 'company', name, bin, founded
FROM read_csv('{b}/companies.csv', all_varchar = true)
UNION ALL SELECT id, 'agency', name, NULL, NULL
FROM read_csv('{b}/agencies.csv', all_varchar = true)
UNION ALL SELECT id, 'contract', title, NULL, signed_on
FROM read_csv('{b}/contracts.csv', all_varchar = true) ORDER BY id"""
_LINKS = """CREATE TABLE links AS SELECT * FROM read_csv('{b}/links.csv', all_varchar = true)
ORDER BY source, target, type, role, since"""
_ENDS = "SELECT count(*) FROM links AS l ANTI JOIN entities AS e ON e.id = l.target"
INDEXES = {
    "none": [],
    "links target": ["CREATE INDEX links_target ON links (target)"],
    "all three": [
        "CREATE UNIQUE INDEX entities_id ON entities (id)",
        "CREATE UNIQUE INDEX links_key ON links (source, target, type, role, since)",
        "CREATE INDEX links_target ON links (target)",
    ],
}


def load(bundle: Path, indexes: list[str], into: Path) -> tuple[float, float, int]:
    """The rows of `bundle` written into a new DuckDB file `into` with `indexes`, committed and
    checkpointed: seconds, CPU seconds (this process's, both cores), the file's size."""
    import duckdb

    cpu = resource.getrusage(resource.RUSAGE_SELF)
    began = time.perf_counter()
    con = duckdb.connect(str(into))
    con.execute("BEGIN")
    for sql in (_ENTITIES, _LINKS):
        con.execute(sql.format(b=bundle))
    con.execute(_ENDS).fetchall()
    for sql in indexes:
        con.execute(sql)
    con.execute("COMMIT")
    con.execute("CHECKPOINT")
    con.close()
    took = time.perf_counter() - began
    end = resource.getrusage(resource.RUSAGE_SELF)
    used = end.ru_utime - cpu.ru_utime + end.ru_stime - cpu.ru_stime
    return took, used, into.stat().st_size


def main(bundle: Path) -> None:
    import duckdb

    read = csv_read_seconds(bundle)
    print(f"csv module read: {read:.2f} s (DuckDB {duckdb.__version__}, {os.cpu_count()} cores)")
    for name, indexes in INDEXES.items():
        with tempfile.TemporaryDirectory() as scratch:
            took, used, size = load(bundle, indexes, Path(scratch) / "store.duckdb")
        print(f"indexes {name:>12}: {took:6.2f} s = {took / read:4.1f}x the csv read, "
              f"CPU {used:5.1f} s, file {size >> 20} MB")  # fmt: skip
    print(f"csv module read again: {csv_read_seconds(bundle):.2f} s")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
