"""`make bench`: measure cofi on this machine and record the results in benchmarks/README.md.

Load: a generated bundle of ROWS rows (entities + links) into a fresh embedded store, end to end
through the real `cofi load` command in a subprocess (validation included); wall time, rows/s and
peak memory (PSS of the load and its reader processes).

Detect: the `cofi synth --scale SCALE` bundle (large: ~1,000,000 entities, ~3,000,000 links
besides the commissions' DECIDED links, ~500,000 contracts) is loaded, then `benchmarks/detect.py`
times a full `sweep --all` (graph build included; peak memory as PSS of the sweep and its workers),
`check` on 200 sampled contracts once the graph is built, and the naive networkx way on the same
sample.

OCDS (`--what ocds`): a generated JSON-lines file of RELEASES OCDS releases (one tender each)
loaded through `cofi load`: releases/s and peak memory.

Evaluate (`--what evaluate`, not part of `all`: about six minutes at the large scale): `cofi synth
--evaluate` on that bundle, planted found / planted, decoys flagged, extras emergent-valid / wrong.
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

from cofi.bulk import write_bulk_bundle, write_ocds_releases
from cofi.synth import SCALES, generate
from cofi.synth.evaluate import evaluate

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


def timed_load(store: Path, source: Path) -> tuple[float, float]:
    """Seconds and peak memory (MB, PSS of the load and its readers) of a real `cofi load`.

    Two loads into a fresh store: one timed, one whose memory is sampled.  Sampling PSS reads
    /proc/PID/smaps_rollup ten times a second, which holds the load's memory map lock while it
    walks it and slowed a one-million-row load by 0.7 s.
    """
    command = [sys.executable, "-m", "cofi", "--store", str(store), "load", str(source)]
    shutil.rmtree(store, ignore_errors=True)
    start = time.perf_counter()
    if subprocess.run(command, stdout=subprocess.DEVNULL).returncode != 0:
        raise SystemExit("cofi load failed")
    seconds = time.perf_counter() - start
    shutil.rmtree(store)
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    with PeakMemory(proc.pid) as mem:
        if proc.wait() != 0:
            raise SystemExit(f"cofi load failed with exit code {proc.returncode}")
    return seconds, mem.peak_kib / 1024


def bench_load(rows: int, work: Path) -> dict[str, float]:
    bundle = work / "bundle"
    total = sum(write_bulk_bundle(bundle, rows, seed=1).values())
    os.sync()  # the bundle on disk before the clock starts, not written back during the load
    seconds, peak = timed_load(work / "store", bundle)
    return {"rows": total, "seconds": seconds, "rows_per_s": total / seconds, "peak_mb": peak}


def bench_ocds(releases: int, work: Path) -> dict[str, float]:
    """`cofi load` of a JSON-lines file of `releases` OCDS releases into a fresh store."""
    path = work / "releases.jsonl"
    write_ocds_releases(path, releases, seed=1)
    seconds, peak = timed_load(work / "store", path)
    return {"releases": releases, "seconds": seconds, "per_s": releases / seconds,
            "peak_mb": peak, "mb": path.stat().st_size / 2**20}  # fmt: skip


def bench_detect(scale: str, work: Path) -> dict[str, Any]:
    bundle, store = work / "graph-bundle", work / "graph-store"
    counts = generate(bundle, SCALES[scale], seed=1)
    subprocess.run(
        [sys.executable, "-m", "cofi", "--store", str(store), "load", str(bundle)],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,  # the warnings of the planted invalid IINs, one per line
    )
    shutil.rmtree(bundle)
    done = subprocess.run(
        [sys.executable, str(HERE / "detect.py"), str(store), "200"],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, Any] = json.loads(done.stdout)
    result["rows"] = counts
    return result


def bench_evaluate(scale: str, work: Path) -> str:
    bundle = work / "bundle"
    generate(bundle, SCALES[scale], seed=1)
    start = time.perf_counter()
    with PeakMemory() as mem:
        result = evaluate(bundle)
    seconds = time.perf_counter() - start
    planted, found = sum(result.planted.values()), sum(result.found.values())
    decoys, flagged = sum(result.decoys.values()), len(result.flagged)
    phases = ", ".join(f"{k} {v:.0f} s" for k, v in result.seconds.items())
    return (
        f"`synth --evaluate` at {scale} scale (seed 1): {found:,}/{planted:,} planted found, "
        f"{flagged}/{decoys:,} decoys flagged, {result.emergent_valid:,} extra findings "
        f"emergent-valid, {len(result.wrong)} wrong; {phases} | {seconds:.0f} s | — | "
        f"{mem.peak_kib / 1024:,.0f} MB |"
    )


def record(line: str) -> None:
    print(line)
    text = RESULTS.read_text(encoding="utf-8")
    head, _, tail = text.partition(MARK)
    RESULTS.write_text(f"{head}{MARK}\n{line}{tail}", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--what", choices=["load", "ocds", "detect", "all", "evaluate"], default="all"
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--releases", type=int, default=100_000)
    parser.add_argument("--scale", choices=sorted(SCALES), default="large")
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
    if args.what in ("ocds", "all"):
        with tempfile.TemporaryDirectory() as tmp:
            o = bench_ocds(args.releases, Path(tmp))
        record(
            f"{today} OCDS import: {o['releases']:,} releases as JSON lines ({o['mb']:,.0f} MB; "
            f"each an agency, a company and a contract row), fresh embedded store | "
            f"{o['seconds']:.1f} s | {o['per_s']:,.0f} releases/s | "
            f"{o['peak_mb']:,.0f} MB (PSS) |"
        )
    if args.what in ("detect", "all"):
        with tempfile.TemporaryDirectory() as tmp:
            d = bench_detect(args.scale, Path(tmp))
        rows = d["rows"]
        entities = sum(rows[f] for f in ("people.csv", "companies.csv", "agencies.csv"))
        scale = (
            f"`cofi synth --scale {args.scale}`: {entities:,} entities, "
            f"{d['contracts']:,} contracts, {rows['links.csv']:,} links of which "
            f"{d['decided']:,} DECIDED ({d['nodes']:,} graph nodes with identifiers, "
            f"{d['edges']:,} traversable edges), 2 forked workers"
        )
        record(
            f"{today} `sweep --all` over {scale}; {d['findings']:,} findings; graph built in "
            f"{d['graph_s']:.1f} s | {d['sweep_s']:.1f} s | {d['contracts'] / d['sweep_s']:,.0f} "
            f"contracts/s | {d['sweep_peak_mb']:,.0f} MB (PSS, sweep + workers) |"
        )
        record(
            f"{today} `check` of 200 sampled contracts on that graph: mean "
            f"{d['check_mean_ms']:.2f} ms, p95 {d['check_p95_ms']:.2f} ms, max "
            f"{d['check_max_ms']:.2f} ms; naive networkx `all_simple_edge_paths` "
            f"{d['naive_mean_ms']:.1f} ms mean ({d['naive_capped']} capped at 10 s) | "
            f"{d['speedup']:,.0f}× faster | | |"
        )
    if args.what == "evaluate":
        with tempfile.TemporaryDirectory() as tmp:
            record(f"{today} {bench_evaluate(args.scale, Path(tmp))}")


if __name__ == "__main__":
    main()
