"""The xlarge target of issue 17, whole: a load of the bundle into a new embedded store and a
`sweep --all` of it, each command alone in a memory cgroup (cgroup v1, 8 GB by default) after the
page cache is dropped, then the sweep's findings against the bundle's planted truth.

    python benchmarks/xlarge.py BUNDLE STORE [--limit 8G] [--every 2] [--steps]

BUNDLE is `cofi synth --scale xlarge` (about 70M rows; 16 min to write); STORE must not exist.
Needs root (the cgroup, `drop_caches`).  Prints, for the `csv` module's read of the bundle's CSV
files and for each command: its time, user and system CPU, and the most anonymous memory
(`total_rss`) and mapped file pages (`total_mapped_file`) the cgroup held, sampled every
`--every` seconds, and `memory.failcnt` (how often the limit was reached); then planted findings
found (the same contract, decision-maker, winner, pattern and hops) and near misses flagged.
(The cgroup counts what every process of the command holds, the forked steps' too, which
`/usr/bin/time`'s maximum RSS of one process does not.)  Each command's output goes to
STORE-load.log and STORE-sweep.log; its lines but the warnings are printed after its figures.
With `--steps`, the load runs through `benchmarks/load_steps.py`: the steps running at its peak
are printed, and the samples written to STORE-memory.tsv (seconds, MB anonymous).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path

from run import csv_read_seconds

CGROUPS = Path("/sys/fs/cgroup/memory")


def _stat(group: Path) -> dict[str, int]:
    with (group / "memory.stat").open() as f:
        return {k: int(v) for k, v in (line.split() for line in f)}


def in_cgroup(command: list[str], limit: str, every: float, log: Path) -> dict[str, float]:
    """Run `command` alone in a new memory cgroup limited to `limit`, the page cache dropped
    before, its output (a large load's warnings) to the file `log`: its exit code, seconds, CPU
    and the cgroup's peaks (MB)."""
    group = CGROUPS / f"cofi-bench-{os.getpid()}"
    group.mkdir()
    try:
        (group / "memory.limit_in_bytes").write_text(limit)
        subprocess.run(["sync"], check=True)
        Path("/proc/sys/vm/drop_caches").write_text("3\n")
        peaks = {"total_rss": 0, "total_mapped_file": 0}
        samples: list[tuple[float, int]] = []
        done = threading.Event()

        def sample() -> None:
            while not done.wait(every):
                stat = _stat(group)
                samples.append((time.perf_counter() - began, stat["total_rss"]))
                for k in peaks:
                    peaks[k] = max(peaks[k], stat[k])

        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        began = time.perf_counter()
        with log.open("wb") as out:
            proc = subprocess.Popen(
                command,
                stdout=out,
                stderr=subprocess.STDOUT,
                preexec_fn=lambda: (group / "cgroup.procs").write_text(str(os.getpid())),
            )
        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        code = proc.wait()
        seconds = time.perf_counter() - began
        done.set()
        sampler.join()
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        return {
            "code": code,
            "seconds": seconds,
            "user": after.ru_utime - before.ru_utime,
            "system": after.ru_stime - before.ru_stime,
            "rss_mb": peaks["total_rss"] / 2**20,
            "mapped_mb": peaks["total_mapped_file"] / 2**20,
            "failcnt": int((group / "memory.failcnt").read_text()),
            "samples": samples,
        }
    finally:
        _remove(group)


def _remove(group: Path) -> None:
    """Remove the cgroup once the last of its processes is gone (a forked step of the command
    can end a moment after the command)."""
    for _ in range(300):
        if not (group / "cgroup.procs").read_text().strip():
            break
        time.sleep(0.1)
    try:
        group.rmdir()
    except OSError as exc:
        print(f"(the cgroup {group} stays: {exc})", file=sys.stderr)


def at_peak(samples: list[tuple[float, int]], lines: list[str]) -> str:
    """The steps `benchmarks/load_steps.py` printed (`lines`) as running when the anonymous
    memory `samples` peaked (its clock starts with the process, a moment after the samples')."""
    if not samples:
        return "no samples"
    when, most = max(samples, key=lambda s: s[1])
    open_steps: list[str] = []
    for line in lines:
        parts = line.split()
        if not line.startswith("[") or len(parts) < 4 or float(parts[1].rstrip("]")) > when:
            continue
        step = parts[3]
        if parts[2] == ">":
            open_steps.append(step)
        elif step in open_steps:
            open_steps.remove(step)
    return f"peak {most / 2**20:,.0f} MB at {when:.0f} s, in: {', '.join(open_steps) or '-'}"


def _jsonl(path: Path) -> list[dict[str, object]]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def scored(bundle: Path, findings: Path) -> str:
    """Planted findings found and near misses flagged, as `synth --evaluate` counts them."""
    got = {
        (f["contract_id"], f["decision_maker_id"], f["winner_id"]): f
        for f in _jsonl(findings)
        if "contract_id" in f  # (the restrictions share the file)
    }
    truth, decoys = _jsonl(bundle / "truth.jsonl"), _jsonl(bundle / "decoys.jsonl")
    found = 0
    for t in truth:
        f = got.get((t["contract_id"], t["decision_maker_id"], t["winner_id"]))
        found += f is not None and f["pattern"] == t["pattern"] and f["hops"] == t["hops"]
    flagged = sum((d["contract_id"], d["decision_maker_id"], d["winner_id"]) in got for d in decoys)
    return (
        f"{len(got):,} findings; planted found {found:,} of {len(truth):,}; "
        f"near misses flagged {flagged:,} of {len(decoys):,}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bundle", type=Path)
    parser.add_argument("store", type=Path)
    parser.add_argument("--limit", default="8G")
    parser.add_argument("--every", type=float, default=2.0)
    parser.add_argument(
        "--steps",
        action="store_true",
        help="run the load through benchmarks/load_steps.py, and say which steps ran at its peak",
    )
    args = parser.parse_args()
    if args.store.exists():
        parser.error(f"{args.store} exists: the load must make a new store")
    cofi = [str(Path(sys.executable).with_name("cofi")), "--store", str(args.store)]
    seconds = csv_read_seconds(args.bundle)
    print(f"csv read: {seconds:.1f} s", flush=True)
    out = args.store.with_name(args.store.name + "-findings.jsonl")
    load = [*cofi, "load", str(args.bundle)]
    if args.steps:
        load = [sys.executable, str(Path(__file__).with_name("load_steps.py")), *load[1:]]
    for name, command in (
        ("load", load),
        ("sweep --all", [*cofi, "sweep", "--all", "--out", str(out)]),
    ):
        log = args.store.with_name(f"{args.store.name}-{name.split()[0]}.log")
        r = in_cgroup(command, args.limit, args.every, log)
        ratio = r["seconds"] / seconds
        print(
            f"{name}: exit {r['code']}, {r['seconds']:.1f} s ({ratio:.1f}x the csv read), "
            f"{r['user']:.1f} s user, {r['system']:.1f} s system; at most "
            f"{r['rss_mb']:,.0f} MB anonymous, {r['mapped_mb']:,.0f} MB mapped file; the "
            f"limit reached {r['failcnt']} times (page cache then reclaimed)",
            flush=True,
        )
        lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
        if args.steps and name == "load":
            print("  " + at_peak(r["samples"], lines))
            with args.store.with_name(f"{args.store.name}-memory.tsv").open("w") as f:
                f.writelines(f"{t:.1f}\t{b / 2**20:.0f}\n" for t, b in r["samples"])
        print("  " + "\n  ".join(line for line in lines if not line.startswith(("warning: ", "["))))
        if r["code"]:
            return int(r["code"])
    print(scored(args.bundle, out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
