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

Stores (`--what stores`, not part of `all`): the `cofi synth --scale SCALE` bundle on each store in
one run, embedded and Neo4j (a throwaway local Neo4j 5.26 started by tools/neo4j_ctl.py): whole
`cofi load` (rows/s), `cofi sweep --all` (contracts/s, peak memory of the cofi process tree) and
whole-process `cofi check` (median of five sampled contracts), each beside the time Python's `csv`
module takes to read the same files in the same run.

Embedded (`--what embedded`, not part of `all`): the `cofi synth --scale SCALE` bundle in a fresh
embedded store, every command a whole process as a user runs it: `load`, `sweep --all`, `check`
(median of five sampled contracts; `cofi --version` beside it, the start-up alone), `path` and
`links` of a finding's decision-maker, `stats`, `explore` of a finding, its contract and its
decision-maker, `search`, `declarations audit`, `restrictions`, `match`; then one day's 2,000
new contracts, each with three DECIDED links from people already in the store, loaded and swept
incrementally.  Beside the load: its CPU (user and system, the whole process tree) and what new
memory costs on the machine (`fresh_memory_seconds_per_gb`); the load is timed alone, and its
memory sampled in a second load of the same bundle into another new store.

Evaluate (`--what evaluate`, not part of `all`: about six minutes at the large scale): `cofi synth
--evaluate` on that bundle, planted found / planted, decoys flagged, extras emergent-valid / wrong.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
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
    return seconds, run_timed_cpu(command)[1]


def bench_load(rows: int, work: Path) -> dict[str, float]:
    bundle = work / "bundle"
    total = sum(write_bulk_bundle(bundle, rows, seed=1).values())
    os.sync()  # the bundle on disk before the clock starts, not written back during the load
    csv_read = csv_read_seconds(bundle)
    seconds, peak = timed_load(work / "store", bundle)
    return {"rows": total, "seconds": seconds, "rows_per_s": total / seconds, "peak_mb": peak,
            "csv_read": csv_read}  # fmt: skip


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


def csv_read_seconds(bundle: Path) -> float:
    """The baseline: Python's csv module reading every CSV file of `bundle`, row by row."""
    import csv

    start = time.perf_counter()
    for path in sorted(bundle.glob("*.csv")):
        with path.open(encoding="utf-8", newline="") as fh:
            for _ in csv.reader(fh):
                pass
    return time.perf_counter() - start


def timed(command: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """Seconds and peak memory (MB, PSS of the process tree) of one command."""
    seconds, mb, _, _ = run_timed_cpu(command, env)
    return seconds, mb


def synth_bundle(scale: str, bundle: Path) -> tuple[int, list[str], list[str]]:
    """`cofi synth --scale SCALE` (seed 1) written to `bundle` and on disk: its rows, its
    contract ids, and five of them spread over the list (the `check` sample)."""
    counts = generate(bundle, SCALES[scale], seed=1)
    rows = sum(n for name, n in counts.items() if name.endswith(".csv"))
    with (bundle / "contracts.csv").open(encoding="utf-8") as fh:
        contracts = [line.split(",", 1)[0] for line in fh][1:]
    os.sync()  # the bundle on disk before a clock starts
    return rows, contracts, contracts[:: max(1, len(contracts) // 5)][:5]


def bench_stores(scale: str, work: Path) -> list[dict[str, Any]]:
    """Load, sweep --all and check on the embedded store and on a throwaway local Neo4j."""
    sys.path.insert(0, str(HERE.parent / "tools"))
    import neo4j_ctl

    bundle = work / "bundle"
    rows, contracts, sample = synth_bundle(scale, bundle)
    baseline = csv_read_seconds(bundle)
    home, password = work / "neo4j", "bench-" + os.urandom(8).hex()
    uri = neo4j_ctl.start(home, neo4j_ctl.free_port(), password)
    env = {**os.environ, "NEO4J_PASSWORD": password, "NEO4J_USERNAME": "neo4j"}
    env.pop("NEO4J_DATABASE", None)
    out = []
    try:
        for name, location in (("embedded", str(work / "store")), ("Neo4j 5.26", uri)):
            cofi = [sys.executable, "-m", "cofi", "--store", location]
            load_s, load_mb = timed([*cofi, "load", str(bundle)], env)
            sweep_s, sweep_mb = timed([*cofi, "sweep", "--all", "--out", str(work / "f.jsonl")],
                                      env)  # fmt: skip
            checks = sorted(timed([*cofi, "check", c], env) for c in sample)
            check_s, check_mb = checks[len(checks) // 2]
            out.append({"store": name, "rows": rows, "contracts": len(contracts),
                        "baseline_s": baseline, "load_s": load_s, "load_mb": load_mb,
                        "sweep_s": sweep_s, "sweep_mb": sweep_mb, "check_s": check_s,
                        "check_mb": check_mb})  # fmt: skip
    finally:
        neo4j_ctl.stop(home)
    return out


def run_timed(command: list[str]) -> tuple[float, float, str]:
    """`timed`, with the command's stderr (where cofi writes its summary)."""
    seconds, mb, err, _ = run_timed_cpu(command)
    return seconds, mb, err


def run_timed_cpu(
    command: list[str], env: dict[str, str] | None = None, sampled: bool = True
) -> tuple[float, float, str, tuple[float, float]]:
    """`run_timed`, and the CPU seconds (user, system) of the command's whole process tree
    (`sampled` false: its memory is not sampled, and given as 0)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            env=env)  # fmt: skip
    with PeakMemory(proc.pid) if sampled else _Unsampled() as mem:
        _, err = proc.communicate()
        seconds = time.perf_counter() - start  # (not the wait for the sampler's last tick)
        if proc.returncode != 0:
            raise SystemExit(
                f"{' '.join(command)} failed with exit code {proc.returncode}: {err.strip()[-300:]}"
            )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime, after.ru_stime - before.ru_stime)
    return seconds, mem.peak_kib / 1024, err, cpu


class _Unsampled:
    """`PeakMemory`'s place when the memory is not sampled."""

    peak_kib = 0

    def __enter__(self) -> _Unsampled:
        return self

    def __exit__(self, *_: object) -> None:
        pass


_FRESH_MB = 512
_TOUCH = (
    "import resource, numpy as np\n"
    "r = resource.getrusage(resource.RUSAGE_SELF)\n"
    f"a = np.ones({_FRESH_MB} << 20, np.uint8)\n"
    "s = resource.getrusage(resource.RUSAGE_SELF)\n"
    "print(s.ru_utime + s.ru_stime - r.ru_utime - r.ru_stime)\n"
)


def fresh_memory_seconds_per_gb() -> float:
    """CPU seconds a new process spends to write 1 GB of memory it has not used before (it
    writes 512 MB).  Pages a process frees and takes again at once cost about 0.15 s/GB here;
    on a virtual machine whose host takes back the memory its guest has freed for a second or
    so (a balloon's free page reporting) each new page is a fault on the host too, and this
    machine has measured 3.8-6.9 s/GB, for memory and page cache alike.  A load writes several GB
    of staging databases, sort runs, the store and the graph file, where the csv read it is
    compared with writes none: the figure says how much of the load's system time is the
    machine's."""
    out = subprocess.run([sys.executable, "-c", _TOUCH], capture_output=True, text=True,
                         check=True).stdout  # fmt: skip
    return float(out) * 1024 / _FRESH_MB


def median(runs: list[tuple[float, float, str]]) -> tuple[float, float]:
    seconds, mb, _ = sorted(runs)[len(runs) // 2]
    return seconds, mb


def day_bundle(bundle: Path, day: Path, contracts: int, seed: int) -> str:
    """One day's `contracts` new contracts after the last one of `bundle`: buyers, winners and
    (three per contract) decision-makers drawn from those already in it.  Returns the day."""
    import csv
    import random

    from cofi.model import COLUMNS

    def ids(name: str) -> list[str]:
        with (bundle / name).open(encoding="utf-8", newline="") as fh:
            return [row["id"] for row in csv.DictReader(fh)]

    with (bundle / "contracts.csv").open(encoding="utf-8", newline="") as fh:
        last = max(row["signed_on"] for row in csv.DictReader(fh))
    signed = date.fromordinal(date.fromisoformat(last).toordinal() + 1).isoformat()
    people, companies, agencies = ids("people.csv"), ids("companies.csv"), ids("agencies.csv")
    rng = random.Random(seed)
    day.mkdir(parents=True)
    with (
        (day / "contracts.csv").open("w", encoding="utf-8", newline="") as kf,
        (day / "links.csv").open("w", encoding="utf-8", newline="") as lf,
    ):
        k = csv.DictWriter(kf, fieldnames=COLUMNS["contract"])
        links = csv.DictWriter(lf, fieldnames=COLUMNS["link"])
        k.writeheader()
        links.writeheader()
        for i in range(contracts):
            cid = f"day-{signed}-{i}"
            k.writerow({"id": cid, "buyer_id": rng.choice(agencies),
                        "supplier_id": rng.choice(companies), "signed_on": signed,
                        "value": "1000000", "currency": "KZT"})  # fmt: skip
            for role in ("chair", "member", "member"):
                links.writerow({"source": rng.choice(people), "target": cid,
                                "type": "DECIDED", "role": role})  # fmt: skip
    return signed


AUDIT_DAY = "2025-06-01"
"""The day the embedded benchmark runs `declarations audit` on (the README's example day)."""


def bench_embedded(scale: str, work: Path) -> dict[str, Any]:
    """Every command of the embedded store, a whole process each (see the module docstring)."""
    bundle, store = work / "bundle", work / "store"
    rows, contracts, sample = synth_bundle(scale, bundle)
    out: dict[str, Any] = {"rows": rows, "contracts": len(contracts)}
    # (before the csv read, which gives the host the seconds it takes to take back the memory
    # the probe frees: memory freed just before is not new to the load; and after a rest, the
    # memory the generator freed taken back in turn: after the load, the probe found 2.7 s/GB)
    time.sleep(5)
    out["fresh_s_gb"] = fresh_memory_seconds_per_gb()
    out["baseline_s"] = csv_read_seconds(bundle)
    cofi = [sys.executable, "-m", "cofi", "--store", str(store)]
    # The load timed alone, its memory sampled in a second load into another new store: sampling
    # PSS reads /proc/PID/smaps_rollup of each of its processes ten times a second, walking their
    # memory maps under the lock their page faults take (in two pairs of large loads
    # alternated, sampled ones took 0.5 s and 2.1 s longer; `timed_load` says the same of the
    # 1M-row load).
    seconds, _, _, out["load_cpu"] = run_timed_cpu([*cofi, "load", str(bundle)], sampled=False)
    # (read again after the load: this machine's speed drifts within a run, and one read alone
    # made the same load 13× or 21× the csv read)
    out["baseline_after_s"] = csv_read_seconds(bundle)
    sampled = work / "store-sampled"
    out["load_sampled_s"], mb, _, _ = run_timed_cpu(
        [sys.executable, "-m", "cofi", "--store", str(sampled), "load", str(bundle)]
    )
    shutil.rmtree(sampled)
    out["load"] = (seconds, mb)
    findings = work / "f.jsonl"
    out["sweep"] = run_timed([*cofi, "sweep", "--all", "--out", str(findings)])[:2]
    out["version"] = median([run_timed([sys.executable, "-m", "cofi", "--version"])
                             for _ in range(3)])  # fmt: skip
    out["check"] = median([run_timed([*cofi, "check", c]) for c in sample])
    with findings.open(encoding="utf-8") as fh:
        first = json.loads(fh.readline())
    dm, winner = first["decision_maker_id"], first["winner_id"]
    out["path"] = median([run_timed([*cofi, "path", dm, winner]) for _ in range(3)])
    out["links"] = median([run_timed([*cofi, "links", dm]) for _ in range(3)])
    out["stats"] = median([run_timed([*cofi, "stats"]) for _ in range(3)])
    # (the analyst's picture: a finding's path and one step around it, and its contract two steps
    # out, the default depths; each an HTML file)
    # (and the decision-maker two steps out: a person's page also says the restrictions of the
    # agencies they work in, which once read every agency's)
    for what in ("finding", "contract", "decision_maker"):
        explore = [*cofi, "explore", first[f"{what}_id"], "--out", str(work / f"{what}.html")]
        out[f"explore_{what}"] = median([run_timed(explore) for _ in range(3)])
    out["search"] = median([run_timed([*cofi, "search", first["path"][0]["name"].split()[0]])
                            for _ in range(3)])  # fmt: skip
    # (the registers against the declarations: every official's omissions on a day, and every
    # relative serving under a relative)
    out["audit"] = run_timed([*cofi, "declarations", "audit", "--at", AUDIT_DAY])[:2]
    out["restrictions"] = run_timed([*cofi, "restrictions", "--all"])[:2]
    seconds, mb, err = run_timed([*cofi, "match", "--format", "jsonl", "--out",
                                  str(work / "match.jsonl")])  # fmt: skip
    out["match"] = (seconds, mb)
    out["match_summary"] = err.strip().splitlines()[-1]
    day = work / "day"
    day_bundle(bundle, day, 2000, seed=1)
    out["day_load"] = run_timed([*cofi, "load", str(day)])[:2]
    seconds, mb, err = run_timed([*cofi, "sweep", "--out", str(work / "day.jsonl")])
    out["day_sweep"] = (seconds, mb)
    out["day_summary"] = err.strip().splitlines()[-1]
    return out


def record(line: str) -> None:
    print(line)
    text = RESULTS.read_text(encoding="utf-8")
    head, _, tail = text.partition(MARK)
    RESULTS.write_text(f"{head}{MARK}\n{line}{tail}", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--what",
        choices=["load", "ocds", "detect", "all", "evaluate", "stores", "embedded"],
        default="all",
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
            f"{today} load {load['rows']:,} rows, fresh embedded store (the csv module reads "
            f"them in {load['csv_read']:.2f} s: {load['seconds'] / load['csv_read']:.1f}×) | "
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
    if args.what == "stores":
        with tempfile.TemporaryDirectory() as tmp:
            for r in bench_stores(args.scale, Path(tmp)):
                base = r["baseline_s"]
                what = (f"{r['store']}, `cofi synth --scale {args.scale}` ({r['rows']:,} rows, "
                        f"{r['contracts']:,} contracts; csv module read {base:.2f} s)")  # fmt: skip
                record(f"{today} {what}: `cofi load` ({r['load_s'] / base:.0f}× the csv read) | "
                       f"{r['load_s']:.1f} s | {r['rows'] / r['load_s']:,.0f} rows/s | "
                       f"{r['load_mb']:,.0f} MB (PSS) |")  # fmt: skip
                record(f"{today} {what}: `cofi sweep --all` | {r['sweep_s']:.1f} s | "
                       f"{r['contracts'] / r['sweep_s']:,.0f} contracts/s | "
                       f"{r['sweep_mb']:,.0f} MB (PSS, the cofi process tree) |")  # fmt: skip
                record(f"{today} {what}: whole-process `cofi check`, median of 5 | "
                       f"{r['check_s']:.2f} s | — | {r['check_mb']:,.0f} MB (PSS) |")  # fmt: skip
    if args.what == "embedded":
        with tempfile.TemporaryDirectory() as tmp:
            e = bench_embedded(args.scale, Path(tmp))
        base, after = e["baseline_s"], e["baseline_after_s"]
        what = (f"embedded, `cofi synth --scale {args.scale}` ({e['rows']:,} rows, "
                f"{e['contracts']:,} contracts; csv module read {base:.2f} s)")  # fmt: skip
        load_s, load_mb = e["load"]
        user, system = e["load_cpu"]
        record(f"{today} {what}: `cofi load` ({load_s / base:.1f}× the csv read; "
               f"{load_s / after:.1f}× a read just after it, {after:.2f} s; CPU {user:.1f} s "
               f"user + {system:.1f} s system; new memory costs {e['fresh_s_gb']:.1f} CPU s/GB "
               f"here; the memory from a second load, sampled, which took "
               f"{e['load_sampled_s']:.1f} s) | "
               f"{load_s:.1f} s | {e['rows'] / load_s:,.0f} rows/s | "
               f"{load_mb:,.0f} MB (PSS) |")  # fmt: skip
        sweep_s, sweep_mb = e["sweep"]
        record(f"{today} {what}: `cofi sweep --all` | {sweep_s:.1f} s | "
               f"{e['contracts'] / sweep_s:,.0f} contracts/s | "
               f"{sweep_mb:,.0f} MB (PSS) |")  # fmt: skip
        for name, label in (("check", "`cofi check`, median of 5 contracts"),
                            ("path", "`cofi path` of a finding's ends, median of 3"),
                            ("links", "`cofi links` of a finding's decision-maker, median of 3"),
                            ("stats", "`cofi stats`, median of 3"),
                            ("explore_finding", "`cofi explore` of a finding (its path and one "
                             "step around it), median of 3"),
                            ("explore_contract", "`cofi explore` of that finding's contract (two "
                             "steps out), median of 3"),
                            ("explore_decision_maker", "`cofi explore` of that finding's "
                             "decision-maker (two steps out), median of 3"),
                            ("search", "`cofi search`, median of 3"),
                            ("audit", f"`cofi declarations audit --at {AUDIT_DAY}` (every "
                             "official), once"),
                            ("restrictions", "`cofi restrictions --all`, once")):  # fmt: skip
            seconds, mb = e[name]
            record(f"{today} {what}: whole-process {label} (`cofi --version`: "
                   f"{e['version'][0]:.2f} s) | {seconds:.2f} s | — | "
                   f"{mb:,.0f} MB (PSS) |")  # fmt: skip
        match_s, match_mb = e["match"]
        record(f"{today} {what}: `cofi match` over every person and company "
               f"({e['match_summary']}) | {match_s:.1f} s | — | "
               f"{match_mb:,.0f} MB (PSS) |")  # fmt: skip
        load_s, load_mb = e["day_load"]
        sweep_s, sweep_mb = e["day_sweep"]
        record(f"{today} {what}: then one day's 2,000 new contracts (6,000 DECIDED links): "
               f"`cofi load` {load_s:.1f} s, {load_mb:,.0f} MB; incremental `cofi sweep` "
               f"({e['day_summary']}) | {sweep_s:.1f} s | — | "
               f"{sweep_mb:,.0f} MB (PSS) |")  # fmt: skip
    if args.what == "evaluate":
        with tempfile.TemporaryDirectory() as tmp:
            record(f"{today} {bench_evaluate(args.scale, Path(tmp))}")


if __name__ == "__main__":
    main()
