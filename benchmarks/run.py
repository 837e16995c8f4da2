"""`make bench`: measure cofi on this machine and record the results in benchmarks/README.md.

Load: a generated bundle of ROWS rows (entities + links) into a fresh embedded store, end to end
through the real `cofi load` command in a subprocess (validation included); wall time, rows/s and
the subprocess's peak resident memory.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from cofi.bulk import write_bulk_bundle

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "README.md"
MARK = "<!-- results -->"


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores ({cpu}), {mem:.0f} GiB RAM, Python {platform.python_version()}"


def bench_load(rows: int, work: Path) -> dict[str, float]:
    bundle = work / "bundle"
    counts = write_bulk_bundle(bundle, rows, seed=1)
    total = sum(counts.values())
    store = work / "store"
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "cofi", "--store", str(store), "load", str(bundle)],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    seconds = time.perf_counter() - start
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {"rows": total, "seconds": seconds, "rows_per_s": total / seconds,
            "peak_mb": peak_kib / 1024}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        load = bench_load(args.rows, Path(tmp))
    line = (
        f"| {date.today()} | {machine()} | load {load['rows']:,} rows, fresh embedded store | "
        f"{load['seconds']:.1f} s | {load['rows_per_s']:,.0f} rows/s | {load['peak_mb']:,.0f} MB |"
    )
    print(line)
    text = RESULTS.read_text(encoding="utf-8")
    head, _, tail = text.partition(MARK)
    RESULTS.write_text(f"{head}{MARK}\n{line}{tail}", encoding="utf-8")


if __name__ == "__main__":
    main()
