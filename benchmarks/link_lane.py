"""The link rows' lane of a load two ways, each in one process with nothing beside it: as cofi does
it (`link_columns.stage_link_file` appends each block of the links file to the staging database
through ADBC, then `loader._GROUP_LINKS` groups the rows by key in SQLite), and without SQLite until
the grouped keys (the same `stage_link_file`, its blocks kept as Arrow instead of appended; the rows
sorted by key in numpy, each key's first row and count taken, and those appended through ADBC to a
`link_keys` table of the staging schema, in key order).

    python benchmarks/link_lane.py /tmp/lg/bundle [RUNS]

prints the seconds and CPU seconds of each step, the two ways alternated RUNS times (default 3).
Its question (issue 17): does taking the link rows out of SQLite until they are grouped cut the CPU
a load spends on them?  (No odd rows and no conflicts are handled the second way: the synthetic
bundles have none; it measures, it loads nothing.)
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any, NamedTuple

import adbc_driver_sqlite.dbapi as adbc
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cofi import link_columns, loader
from cofi.importers import input_files
from cofi.staging import Stage, _new_stage, scratch

KEY = ["source", "target", "type", "role", "since"]


def _cpu() -> float:
    t = os.times()
    return t.user + t.system


class Lane(NamedTuple):
    """A bundle's files, the links file's number among them, its staging databases (made, empty)
    and the database of the grouped keys (`link_keys`, empty), in the scratch directory `dir`."""

    files: list[Any]
    number: int
    stage: Stage
    keys: Path
    dir: Path


@contextmanager
def lane(bundle: Path) -> Iterator[Lane]:
    """The `Lane` of `bundle`, in a scratch directory under `$TMPDIR` removed after."""
    files = input_files([bundle], None)
    number = next(i for i, f in enumerate(files) if f.path.name == "links.csv")
    with tempfile.TemporaryDirectory(dir=os.environ.get("TMPDIR")) as tmp:
        d = Path(tmp)
        stage = Stage(d / "stage.sqlite", d / "stage-link-rows.sqlite")
        _new_stage(stage, files)
        keys = d / "stage-links.sqlite"
        with closing(scratch({"stage_l": keys})) as db:
            db.executescript(loader._LINK_CHECK_SCHEMA)
        yield Lane(files, number, stage, keys, d)


def sorted_distinct(column: Any) -> tuple[Any, Any]:
    """The column's distinct values in sorted order (as SQLite's BINARY collation orders them:
    UTF-8 bytes), and each value's place among them."""
    encoded = pc.dictionary_encode(column)
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.combine_chunks()
    order = pc.sort_indices(encoded.dictionary)
    rank = np.empty(len(order), np.int32)
    rank[order.to_numpy()] = np.arange(len(order), dtype=np.int32)
    return encoded.dictionary.take(order), rank[encoded.indices.to_numpy()]


def key_starts(codes: list[Any]) -> tuple[Any, Any]:
    """The rows sorted by the key whose parts' ranks are `codes` (stably: a key's rows stay in
    row order), and where each key's rows begin in that order."""
    order = np.lexsort(codes[::-1])
    new = np.zeros(len(order), bool)
    new[:1] = True
    for code in codes:
        ordered = code[order]
        new[1:] |= ordered[1:] != ordered[:-1]
    return order, np.flatnonzero(new)


def arrow_stage(files: list[Any], number: int, stage: Stage) -> pa.Table:
    """`link_columns.stage_link_file` itself, but the blocks it would append to the staging
    database kept as one Arrow table instead."""
    kept: list[pa.Table] = []
    append = link_columns.append
    link_columns.append = lambda _db, tables: kept.append(tables["link"])  # type: ignore[assignment]
    try:
        link_columns.stage_link_file(files, number, stage, None)
    finally:
        link_columns.append = append  # type: ignore[assignment]
    return pa.concat_tables(kept)


def arrow_group(rows: pa.Table, keys_db: Path) -> int:
    """`_GROUP_LINKS` in numpy: the rows sorted by key (stably: a key's rows stay in row order),
    each key's first row with its count appended to `link_keys` in key order; the keys."""
    n = rows.num_rows
    _, ends = sorted_distinct(pa.chunked_array(rows["source"].chunks + rows["target"].chunks))
    codes = [ends[:n], ends[n:], *(sorted_distinct(rows[k])[1] for k in KEY[2:])]
    order, starts = key_starts(codes)
    first = pa.array(order[starts])
    keys = rows.select([*KEY, "seq", "share", "until", "source_ref"]).take(first)
    keys = keys.append_column("n", pa.array(np.diff(np.append(starts, n))))
    with closing(adbc.connect(str(keys_db), autocommit=True)) as con, closing(con.cursor()) as cur:
        for pragma in link_columns._PRAGMAS:
            cur.execute(f"PRAGMA {pragma}")
        cur.execute("BEGIN IMMEDIATE")
        cur.adbc_ingest("link_keys", keys, mode="append")
        cur.execute("COMMIT")
    return keys.num_rows


def run(bundle: Path, way: str) -> dict[str, tuple[float, float]]:
    steps: dict[str, tuple[float, float]] = {}
    with lane(bundle) as (files, number, stage, keys_db, _):
        t, c = time.perf_counter(), _cpu()
        if way == "sqlite":
            link_columns.stage_link_file(files, number, stage, None)
        else:
            rows = arrow_stage(files, number, stage)
        steps["stage"] = (time.perf_counter() - t, _cpu() - c)
        t, c = time.perf_counter(), _cpu()
        if way == "sqlite":
            with closing(scratch({"stage_link": stage.links, "stage_l": keys_db})) as db:
                db.execute(loader._GROUP_LINKS)
                db.commit()
        else:
            arrow_group(rows, keys_db)
        steps["group"] = (time.perf_counter() - t, _cpu() - c)
    return steps


if __name__ == "__main__":
    bundle = Path(sys.argv[1])
    for _ in range(int(sys.argv[2]) if len(sys.argv) > 2 else 3):
        for way in ("sqlite", "arrow"):
            steps = run(bundle, way)
            total = sum(cpu for _, cpu in steps.values())
            shown = ", ".join(f"{k} {s:.2f} s ({cpu:.2f} CPU)" for k, (s, cpu) in steps.items())
            print(f"{way:6}: {shown}; {total:.2f} CPU s", flush=True)
