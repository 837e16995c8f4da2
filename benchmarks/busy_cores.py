"""How many cores a command keeps busy, second by second (from /proc/stat, the whole machine):

    python benchmarks/busy_cores.py [--every 0.5] [--window 2] -- COMMAND...

runs COMMAND (its output passes through) and then prints, for each `window` seconds since it
started, the mean number of busy cores sampled each `every` seconds.  Beside
`benchmarks/load_steps.py` it shows which steps of a load leave a core idle.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time


def _ticks() -> tuple[int, int]:
    """All ticks and idle ticks (idle and I/O wait) of the machine so far."""
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    return sum(values), values[3] + values[4]


def busy(command: list[str], every: float) -> tuple[int, list[tuple[float, float]]]:
    """Run `command`; its exit code and (seconds since it started, busy cores) each `every`."""
    cores = os.cpu_count() or 1
    began, (total, idle) = time.monotonic(), _ticks()
    samples = []
    proc = subprocess.Popen(command)
    while proc.poll() is None:
        time.sleep(every)
        now_total, now_idle = _ticks()
        spent = now_total - total
        if spent:
            samples.append((time.monotonic() - began, cores * (1 - (now_idle - idle) / spent)))
        total, idle = now_total, now_idle
    return proc.returncode, samples


if __name__ == "__main__":
    args = sys.argv[1:]
    every = float(args[args.index("--every") + 1]) if "--every" in args else 0.5
    window = float(args[args.index("--window") + 1]) if "--window" in args else 2.0
    code, samples = busy(args[args.index("--") + 1 :], every)
    windows: dict[int, list[float]] = {}
    for at, cores in samples:
        windows.setdefault(int(at // window), []).append(cores)
    for w, values in sorted(windows.items()):
        mean = sum(values) / len(values)
        print(f"{w * window:5.0f}-{(w + 1) * window:<5.0f} s  {mean:.2f} cores", file=sys.stderr)
    sys.exit(code)
