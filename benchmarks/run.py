"""`make bench`: measure cofi on this machine and record the results in benchmarks/README.md.

Load: a generated bundle of ROWS rows (entities + links) into a fresh embedded store, end to end
through the real `cofi load` command in a subprocess (validation included); wall time, rows/s and
peak memory (PSS of the load and its reader processes).

Detect: a graph-shaped bundle (ENTITIES entities, LINKS links besides the commissions' DECIDED
links, CONTRACTS contracts) is loaded, then `benchmarks/detect.py` times a full `sweep --all`
(peak memory as PSS of the sweep and its workers), `check` on 200 sampled contracts once the graph
is built, and the naive networkx way on the same sample.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

from memory import PeakMemory

from cofi.bulk import write_bulk_bundle, write_graph_bundle

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
    proc = subprocess.Popen(
        [sys.executable, "-m", "cofi", "--store", str(store), "load", str(bundle)],
        stdout=subprocess.DEVNULL,
    )
    with PeakMemory(proc.pid) as mem:
        if proc.wait() != 0:
            raise SystemExit(f"cofi load failed with exit code {proc.returncode}")
    seconds = time.perf_counter() - start
    return {"rows": total, "seconds": seconds, "rows_per_s": total / seconds,
            "peak_mb": mem.peak_kib / 1024}  # fmt: skip


def bench_detect(entities: int, links: int, contracts: int, work: Path) -> dict[str, Any]:
    bundle, store = work / "graph-bundle", work / "graph-store"
    write_graph_bundle(bundle, entities=entities, links=links, contracts=contracts, seed=1)
    subprocess.run(
        [sys.executable, "-m", "cofi", "--store", str(store), "load", str(bundle)],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    shutil.rmtree(bundle)
    done = subprocess.run(
        [sys.executable, str(HERE / "detect.py"), str(store), "200"],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def record(line: str) -> None:
    print(line)
    text = RESULTS.read_text(encoding="utf-8")
    head, _, tail = text.partition(MARK)
    RESULTS.write_text(f"{head}{MARK}\n{line}{tail}", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--what", choices=["load", "detect", "all"], default="all")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--entities", type=int, default=1_000_000)
    parser.add_argument("--links", type=int, default=3_000_000)
    parser.add_argument("--contracts", type=int, default=500_000)
    args = parser.parse_args()
    today = f"| {date.today()} | {machine()} |"
    if args.what in ("load", "all"):
        with tempfile.TemporaryDirectory() as tmp:
            load = bench_load(args.rows, Path(tmp))
        record(
            f"{today} load {load['rows']:,} rows, fresh embedded store | "
            f"{load['seconds']:.1f} s | {load['rows_per_s']:,.0f} rows/s | "
            f"{load['peak_mb']:,.0f} MB (PSS, load + readers) |"
        )
    if args.what in ("detect", "all"):
        with tempfile.TemporaryDirectory() as tmp:
            d = bench_detect(args.entities, args.links, args.contracts, Path(tmp))
        scale = (
            f"{args.entities:,} entities, {args.links:,} links + commissions, "
            f"{d['contracts']:,} contracts"
        )
        record(
            f"{today} `sweep --all` over {scale} ({d['findings']:,} findings; graph built in "
            f"{d['graph_s']:.1f} s) | {d['sweep_s']:.1f} s | {d['contracts'] / d['sweep_s']:,.0f} "
            f"contracts/s | {d['sweep_peak_mb']:,.0f} MB |"
        )
        record(
            f"{today} `check` of 200 sampled contracts on that graph: mean "
            f"{d['check_mean_ms']:.2f} ms, p95 {d['check_p95_ms']:.2f} ms, max "
            f"{d['check_max_ms']:.2f} ms; naive networkx `all_simple_edge_paths` "
            f"{d['naive_mean_ms']:.1f} ms mean ({d['naive_capped']} capped at 10 s) | "
            f"{d['speedup']:,.0f}× faster | | |"
        )


if __name__ == "__main__":
    main()
