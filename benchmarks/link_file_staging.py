"""The CPU of staging a bundle's CSV file of links by columns (`link_columns.stage_link_file`)
alone, as a load with a link file stages it (its rows of the link file's types kept as Arrow
columns only), three times, each into new staging databases:

    python benchmarks/link_file_staging.py /tmp/lg2/bundle/links.csv

prints the rows staged, the CPU and the wall seconds of each run.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

from cofi.importers import input_files
from cofi.link_columns import stage_link_file
from cofi.staging import Stage, _new_stage
from cofi.vocab import FILE_TYPES

if __name__ == "__main__":
    links = Path(sys.argv[1]).resolve()
    for _ in range(3):
        with tempfile.TemporaryDirectory() as tmp:
            bundle = Path(tmp) / "bundle"
            bundle.mkdir()
            os.symlink(links, bundle / "links.csv")
            files = input_files([bundle])
            stage = Stage(Path(tmp) / "s.db", Path(tmp) / "sl.db", frozenset(FILE_TYPES))
            _new_stage(stage, files)
            cpu, wall = time.process_time(), time.perf_counter()
            rows = stage_link_file(files, 0, stage, None)
            print(f"{rows} rows: {time.process_time() - cpu:.2f} s CPU, "
                  f"{time.perf_counter() - wall:.2f} s", flush=True)  # fmt: skip
