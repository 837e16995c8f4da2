"""Peak memory of a process tree, as the sum of PSS (shared pages counted once across the tree)."""

from __future__ import annotations

import contextlib
import os
import threading
import time
from pathlib import Path


def _pss_kib(pid: int) -> int:
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return 0
    for line in text.splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1])
    return 0


def _descendants(pid: int) -> list[int]:
    out: list[int] = []
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            with contextlib.suppress(OSError):
                for child in (task / "children").read_text().split():
                    out += [int(child), *_descendants(int(child))]
    return out


class PeakMemory:
    """Samples the PSS of process `pid` (default: this one) and its descendants until stopped."""

    def __init__(self, pid: int | None = None) -> None:
        self.pid = pid or os.getpid()
        self.peak_kib = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        started = time.perf_counter()
        while not self._stop.is_set():
            total = _pss_kib(self.pid) + sum(_pss_kib(c) for c in _descendants(self.pid))
            self.peak_kib = max(self.peak_kib, total)
            # fifty times a second at first (a command of 0.1 s is sampled a few times), then
            # ten (each sample holds the process's memory map lock while it walks it)
            time.sleep(0.02 if time.perf_counter() - started < 2 else 0.1)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
