"""Time the steps of one `cofi load`, as a user runs it, by wrapping each step with a clock.

    python benchmarks/load_steps.py --store /tmp/lg/store load /tmp/lg/bundle

prints `[seconds since start] > step` and `< step N s` lines on stderr (steps in forked
processes print from there), then what `cofi load` prints.  It answers where a load's time goes;
`make bench` gives the load's whole time against the csv read.
"""

from __future__ import annotations

import functools
import importlib
import sys
import time
from typing import Any

START = time.monotonic()
STEPS = [
    ("cofi.loader", "plan_load"),
    ("cofi.loader", "stage_rows"),
    ("cofi.link_columns", "stage_link_file"),
    ("cofi.entity_columns", "stage_entity_file"),
    ("cofi.loader", "_EntityChecks.run"),
    ("cofi.loader", "_LinkCheckProcess.grouped"),
    ("cofi.loader", "_LinkCheckProcess.result"),
    *(("cofi.loader", f"_LinkChecks.{step}") for step in ("group", "_conflicts", "_ends")),
    ("cofi.store.embedded", "_bulk_upsert"),
    ("cofi.store.embedded", "_take_out_links"),
    ("cofi.store.embedded_names", "NamesAside.copy_into"),
    ("cofi.store.embedded", "EmbeddedStore._link_file_of"),
    ("cofi.store.embedded", "EmbeddedStore._write_staged"),
    ("cofi.store.embedded", "EmbeddedStore.write"),
    ("cofi.store.embedded", "EmbeddedStore.keep_graph"),
    ("cofi.store.embedded", "EmbeddedStore.stats"),
    *(("cofi.graph_build", f"_Build.{step}") for step in (
        "_records", "_nodes", "_heads", "_links", "_contacts", "_edges", "_contracts",
    )),
]  # fmt: skip


def timed(module: str, name: str) -> None:
    owner: Any = importlib.import_module(module)
    *path, last = name.split(".")
    for part in path:
        owner = getattr(owner, part)
    step = getattr(owner, last)

    @functools.wraps(step)
    def run(*args: Any, **kwargs: Any) -> Any:
        began = time.monotonic()
        print(f"[{began - START:7.1f}] > {name}", file=sys.stderr, flush=True)
        try:
            return step(*args, **kwargs)
        finally:
            now = time.monotonic()
            print(f"[{now - START:7.1f}] < {name} {now - began:.1f} s", file=sys.stderr, flush=True)

    setattr(owner, last, run)


if __name__ == "__main__":
    for module, name in STEPS:
        timed(module, name)
    from cofi.cli import main

    sys.argv = ["cofi", *sys.argv[1:]]
    main()
