"""What sampling a load's memory costs its time: loads of BUNDLE into a new embedded store,
alternately timed alone and with `make bench`'s sampler (`memory.PeakMemory`: PSS of every
process, ten times a second), ROUNDS pairs (default 2), the csv module's read of the bundle
before each:

    python benchmarks/sampled_load.py /tmp/lg2/bundle
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from run import csv_read_seconds, run_timed_cpu

if __name__ == "__main__":
    bundle = Path(sys.argv[1])
    with tempfile.TemporaryDirectory() as tmp:
        store = Path(tmp) / "store"
        for round_ in range(int(os.environ.get("ROUNDS", "2"))):
            for sampled in (False, True):
                shutil.rmtree(store, ignore_errors=True)
                time.sleep(10)  # (as `ab_load.sh`: the memory the last load freed taken back)
                csv = csv_read_seconds(bundle)
                command = [sys.executable, "-m", "cofi", "--store", str(store), "load", str(bundle)]
                seconds, mb, _, (user, system) = run_timed_cpu(command, sampled=sampled)
                print(f"round {round_ + 1}, {'sampled' if sampled else 'alone'}: {seconds:.2f} s "
                      f"({seconds / csv:.2f}x a csv read of {csv:.2f} s), {mb:,.0f} MB, CPU "
                      f"{user:.1f} s user + {system:.1f} s system", flush=True)  # fmt: skip
