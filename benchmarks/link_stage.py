"""What the staged link rows cost in SQLite, against the same rows in an Arrow IPC file: the
measurement behind the next step of issue 17's load (`benchmarks/README.md`, session 41).

    python benchmarks/link_stage.py STAGE_LINK_ROWS [ROUNDS]

STAGE_LINK_ROWS is a load's staging database of link rows (`stage-link-rows.sqlite`, kept by a
hook for the purpose; its `link` table).  Its rows are read once into memory; then, each round:
appended to a new SQLite database of the same table in blocks of 115,000 rows by ADBC (as
`link_columns.append` stages them), read back by the link checks' reader
(`loader._staged_file_links`), written as an Arrow IPC file in the same blocks, and read back
from it.  Prints each step's wall and CPU seconds.
"""

from __future__ import annotations

import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import adbc_driver_sqlite.dbapi as adbc
import pyarrow as pa
import pyarrow.compute as pc

from cofi.link_columns import append
from cofi.loader import _staged_file_links

_BLOCK_ROWS = 115_000


def timed(what: str, step: Callable[..., object], *args: object) -> None:
    wall, cpu = time.perf_counter(), time.process_time()
    step(*args)
    print(f"{what}: {time.perf_counter() - wall:.2f} s ({time.process_time() - cpu:.2f} CPU s)")


def to_sqlite(blocks: list[pa.RecordBatch], path: Path) -> None:
    for block in blocks:
        append(path, {"link": pa.Table.from_batches([block])})


def from_sqlite(path: Path) -> int:
    return sum(b.num_rows for b in _staged_file_links(path))


def to_ipc(blocks: list[pa.RecordBatch], path: Path) -> None:
    with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, blocks[0].schema) as writer:
        for block in blocks:
            writer.write_batch(block)


def from_ipc(path: Path) -> int:
    with pa.memory_map(str(path)) as source:
        reader = pa.ipc.open_file(source)
        return sum(reader.get_batch(i).num_rows for i in range(reader.num_record_batches))


def main() -> None:
    stage = Path(sys.argv[1])
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    with closing(adbc.connect(f"file:{stage}?mode=ro")) as con, closing(con.cursor()) as cur:
        # (no share is -1, and NULL again after: a column of NULLs in the driver's first batch
        # would be taken for integers)
        cur.execute(
            "SELECT seq, source, target, type, role, since, coalesce(share, -1.0) AS share, "
            "until, source_ref, fno, line FROM link"
        )
        rows = cur.fetch_arrow_table()
    share = rows["share"]
    rows = rows.set_column(
        6, "share", pc.if_else(pc.less(share, 0), pa.scalar(None, pa.float64()), share)
    )
    with closing(sqlite3.connect(stage)) as db:
        (schema,) = db.execute("SELECT sql FROM sqlite_master WHERE name = 'link'").fetchone()
    blocks = rows.combine_chunks().to_batches(_BLOCK_ROWS)
    print(f"{rows.num_rows:,} rows in {len(blocks)} blocks")
    for r in range(1, rounds + 1):
        print(f"round {r}")
        with tempfile.TemporaryDirectory() as tmp:
            db_path, ipc_path = Path(tmp) / "links.sqlite", Path(tmp) / "links.arrow"
            with closing(sqlite3.connect(db_path)) as db:
                db.execute(schema)
            timed("appended to SQLite by ADBC (staging's way)", to_sqlite, blocks, db_path)
            timed("read back by the link checks' reader", from_sqlite, db_path)
            timed("written as an Arrow IPC file", to_ipc, blocks, ipc_path)
            timed("read back from the IPC file", from_ipc, ipc_path)
            print(f"sizes: SQLite {db_path.stat().st_size / 2**20:,.0f} MB, "
                  f"IPC {ipc_path.stat().st_size / 2**20:,.0f} MB")  # fmt: skip


if __name__ == "__main__":
    main()
