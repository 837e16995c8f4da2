"""The benchmark's own tools (`benchmarks/run.py`): what `make bench` records must be what ran.

A whole command's time, CPU and memory come from `run_timed_cpu`, whose figures count every
process the command starts (a load forks readers and workers); a failed command stops the bench
with its exit code and the end of what it said; the incremental sweep's figure is of a day's
contracts that load and are swept alone.
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import run as bench  # (benchmarks/run.py, beside its `memory` module)

from cofi.synth import SCALES, generate

# A parent that starts a child which spins for 0.6 s of user CPU holding 200 MB it has written,
# then says so on stderr.
_TREE = """
import subprocess, sys
child = (
    "import resource\\n"
    "held = bytearray(200 << 20)\\n"
    "held[::4096] = b'x' * len(held[::4096])\\n"
    "end = resource.getrusage(resource.RUSAGE_SELF).ru_utime + 0.6\\n"
    "while resource.getrusage(resource.RUSAGE_SELF).ru_utime < end: pass\\n"
)
subprocess.run([sys.executable, "-c", child], check=True)
print("the child is done", file=sys.stderr)
"""


def test_run_timed_cpu_counts_the_whole_process_tree() -> None:
    seconds, mb, err, (user, _) = bench.run_timed_cpu([sys.executable, "-c", _TREE])
    assert "the child is done" in err
    assert seconds >= 0.6
    assert user >= 0.5  # the grandchild's CPU, not only the command's own
    assert mb >= 150  # the grandchild's 200 MB, sampled while it spins


def test_a_failed_command_stops_the_bench_with_its_exit_code_and_stderr() -> None:
    failing = [sys.executable, "-c", "import sys; sys.exit('disk full: no room for stage.sqlite')"]
    with pytest.raises(SystemExit) as stopped:
        bench.run_timed_cpu(failing)
    message = str(stopped.value)
    assert "failed with exit code 1" in message
    assert message.endswith("disk full: no room for stage.sqlite")


def test_the_fresh_memory_probe_gives_seconds_a_gb() -> None:
    per_gb = bench.fresh_memory_seconds_per_gb()
    # writing 512 MB takes some CPU, and on no machine a minute a GB
    assert 0 < per_gb < 60


def test_csv_read_reads_every_csv_file(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("x\n" + "1,2\n" * 10, encoding="utf-8")
    (tmp_path / "b.csv").write_text('"broken\n', encoding="utf-8")  # a read, not a check:
    bench.csv_read_seconds(tmp_path)  # no error
    (tmp_path / "c.csv").write_bytes(b"\xff\xfe")  # not UTF-8: the read reads every file
    with pytest.raises(UnicodeDecodeError):
        bench.csv_read_seconds(tmp_path)


def test_a_day_bundle_loads_onto_its_bundle_and_is_swept_alone(
    tmp_path: Path, run: Callable[..., Result]
) -> None:
    bundle, day = tmp_path / "bundle", tmp_path / "day"
    generate(bundle, SCALES["small"], seed=1)
    assert run("load", str(bundle)).exit_code == 0
    everything = run("sweep", "--all", "--out", str(tmp_path / "all.jsonl"))
    assert everything.exit_code == 0, everything.output
    signed = bench.day_bundle(bundle, day, 40, seed=1)
    with (bundle / "contracts.csv").open(encoding="utf-8", newline="") as fh:
        days = [row["signed_on"] for row in csv.DictReader(fh)]
    assert max(days) < signed  # the day after the last
    loaded = run("load", str(day))
    # every buyer, winner and decision-maker is one the store holds: nothing rejected
    assert loaded.exit_code == 0, loaded.output
    assert "40 entities created, 0 updated; 120 links created" in loaded.output
    swept = run("sweep", "--out", str(tmp_path / "day.jsonl"))
    assert swept.exit_code == 0, swept.output
    assert f"swept 40 of {len(days) + 40} contract(s)" in swept.output
