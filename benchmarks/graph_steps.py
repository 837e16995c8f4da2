"""The graph file of a loaded embedded store written again (`graph_build.write_graph_file`, to a
file beside it that no command reads), each step's start and end on stderr, in the process that
runs it (the identifier and contract steps fork aside at the large scale):

    python benchmarks/graph_steps.py /tmp/lg/store [--one-process]

`--one-process` keeps every step in this process and prints each one's CPU instead.  Run it
under `/usr/bin/time` for the whole's CPU.
"""

from __future__ import annotations

import os
import sqlite3
import sys
import time
from pathlib import Path
from typing import Any

from cofi import graph_build
from cofi.store.embedded import EmbeddedStore

STEPS = ("_records", "_nodes", "_heads", "_links", "_contacts", "_edges", "_contracts")
START = time.monotonic()


def timed(name: str, one_process: bool) -> None:
    step = getattr(graph_build._Build, name)

    def run(self: Any) -> Any:
        began, cpu = time.monotonic(), time.process_time()
        try:
            return step(self)
        finally:
            spent = (f"{time.process_time() - cpu:.2f} s CPU" if one_process else
                     f"{began - START:.2f} -> {time.monotonic() - START:.2f} s")  # fmt: skip
            print(f"[{os.getpid()}] {name} {spent}", file=sys.stderr, flush=True)

    setattr(graph_build._Build, name, run)


if __name__ == "__main__":
    store, one_process = Path(sys.argv[1]), "--one-process" in sys.argv
    if one_process:
        graph_build.ASIDE_RECORDS = (1 << 62, 1 << 62)  # (no store is this big: nothing aside)
    for name in STEPS:
        timed(name, one_process)
    opened = EmbeddedStore(store, create=False)
    db = sqlite3.connect(store / "cofi.sqlite", isolation_level=None)
    db.execute("BEGIN")
    out = store / "graph-again.bin"
    try:
        graph_build.write_graph_file(db, out, "again:0", opened.file_links(db))
    finally:
        out.unlink(missing_ok=True)
    print(f"{time.monotonic() - START:.2f} s in all", file=sys.stderr)
