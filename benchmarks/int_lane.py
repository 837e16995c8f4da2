"""A prototype of the link rows' lane in a layout of integers, to measure what it would cost a load
(issue 17), not a load: the links file parsed and checked by `link_columns.stage_link_file` with
its blocks kept as Arrow (`link_lane.arrow_stage`) instead of appended to SQLite, each end made the
number of its entity (`TextLookup` over the bundle's ids, read here from the entity files as a
stand-in for staging's), type, role, days and reference coded as integers in text order, the rows
grouped by key in numpy (the last row of a key wins), each end's kind found by its number, the
other direction's order made and every column written to a file.  No SQLite, no B-tree: what a
links store of its own (columnar, sorted by key, its reverse order beside it) would spend.

    python benchmarks/int_lane.py /tmp/lg/bundle

prints each step's seconds and CPU seconds, then Python's csv module reading the same files.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv

sys.path.insert(0, str(Path(__file__).parent))
from link_lane import _cpu, arrow_stage, sorted_distinct
from run import csv_read_seconds

from cofi.importers import input_files
from cofi.staging import Stage, _new_stage
from cofi.text_lookup import TextLookup

ENTITY_FILES = ("people", "companies", "agencies", "contracts")
CODED = ("type", "role", "since", "until", "source_ref")


class Clock:
    def __init__(self) -> None:
        self.steps: list[tuple[str, float, float]] = []
        self.t, self.c = time.perf_counter(), _cpu()

    def done(self, name: str) -> None:
        t, c = time.perf_counter(), _cpu()
        self.steps.append((name, t - self.t, c - self.c))
        self.t, self.c = t, c


def lane(bundle: Path, clock: Clock) -> tuple[int, int, int]:
    columns = []
    for name in ENTITY_FILES:
        options = pcsv.ConvertOptions(include_columns=["id"], column_types={"id": pa.string()})
        columns.append(pcsv.read_csv(bundle / f"{name}.csv", convert_options=options)["id"])
    ids = pa.chunked_array([c for col in columns for c in col.chunks]).combine_chunks()
    kinds = np.concatenate([np.full(len(col), i, np.int8) for i, col in enumerate(columns)])
    clock.done("the entities' ids read (staging's stand-in)")
    files = input_files([bundle], None)
    number = next(i for i, f in enumerate(files) if f.path.name == "links.csv")
    with tempfile.TemporaryDirectory() as tmp:
        stage = Stage(Path(tmp) / "stage.sqlite", Path(tmp) / "stage-link-rows.sqlite")
        _new_stage(stage, files)
        rows = arrow_stage(files, number, stage)
    clock.done("links parsed and checked (stage_link_file, kept as Arrow)")
    lookup = TextLookup(ids, 0)
    source, target = lookup.places(rows["source"]), lookup.places(rows["target"])
    clock.done("each end made its entity's number (TextLookup)")
    coded = {name: sorted_distinct(rows[name])[1] for name in CODED}
    clock.done("type, role, days and reference coded")
    n = rows.num_rows
    key = [source, target, coded["type"], coded["role"], coded["since"]]
    order = np.lexsort((rows["seq"].to_numpy(), *key[::-1]))
    same = np.ones(n - 1, bool)
    for column in key:
        ranked = column[order]
        same &= ranked[1:] == ranked[:-1]
    last = np.append(~same, True)
    kept = order[last]
    links = {"source": source[kept], "target": target[kept]}
    links.update({name: coded[name][kept] for name in CODED})
    clock.done("grouped by key, the last row of a key kept")
    unknown = int(((links["source"] < 0) | (links["target"] < 0)).sum())
    kinds[np.maximum(links["source"], 0)], kinds[np.maximum(links["target"], 0)]  # (timed only)
    clock.done("ends' kinds by number")
    reverse = np.argsort(links["target"], kind="stable")
    fd, name = tempfile.mkstemp(dir=os.environ.get("TMPDIR"))
    with os.fdopen(fd, "wb") as fh:
        for values in (*links.values(), reverse):
            fh.write(np.ascontiguousarray(values).tobytes())
        fh.flush()
        os.fsync(fh.fileno())
    os.remove(name)
    clock.done("the other direction's order, the columns written")
    return n, len(kept), unknown


if __name__ == "__main__":
    bundle = Path(sys.argv[1])
    clock = Clock()
    began, cpu = clock.t, clock.c
    n, keys, unknown = lane(bundle, clock)
    for name, seconds, used in clock.steps:
        print(f"{name:60} {seconds:6.2f} s {used:6.2f} CPU s")
    print(f"{'the lane':60} {time.perf_counter() - began:6.2f} s {_cpu() - cpu:6.2f} CPU s "
          f"({n:,} rows, {keys:,} keys, {unknown} unknown ends)")  # fmt: skip
    print(f"csv module reading the bundle: {csv_read_seconds(bundle):.2f} s")
