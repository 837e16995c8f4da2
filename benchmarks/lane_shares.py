"""How much of a first load each lane costs, measured by taking it away from a real `cofi load`
(issue 17), not by adding up the steps' profiles:

- **full**: `cofi load BUNDLE` into a new store, as a user runs it;
- **no graph links stored**: the same load, but the store's write of the links keeps only the
  types the graph does not walk or read (SAME_AS and the declarations'): the links are still
  parsed, staged, grouped and their ends checked, but not inserted, not indexed, not read back by
  the graph file and not counted for `stats`. That is the most a link store of its own
  (`docs/link-store.md`) could give back, less what it would spend itself;
- **entities only**: the bundle without its links file (the other files linked in): the entity
  lane alone.

    python benchmarks/lane_shares.py /tmp/lg/bundle [ROUNDS]

The three alternate ROUNDS times (default 2), each after Python's csv module reads the whole
bundle (the load target's baseline) and a rest of REST seconds (default 10: this virtual machine's
host takes back freed memory within seconds, and a page taken anew costs CPU). Prints each load's
wall and CPU seconds (user + system of the process tree) and its ratio to the csv read just before.
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from run import csv_read_seconds

from cofi.vocab import DECLARATION_LINK

_PATCHED = """
import sys
from cofi.store import embedded
kept = {kept!r}
kept_in = "FROM plan_links WHERE type IN (" + ",".join(map(repr, kept)) + ")"
embedded._UPSERT_LINK = embedded._UPSERT_LINK.replace("FROM plan_links WHERE true", kept_in)
assert "WHERE type IN" in embedded._UPSERT_LINK
from cofi.cli import main
if __name__ == "__main__":
    main()
"""


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _load(command: list[str], source: Path, store: Path) -> tuple[float, float, str]:
    shutil.rmtree(store, ignore_errors=True)
    start, cpu = time.perf_counter(), _children_cpu()
    command = [*command, "--store", str(store), "load", str(source)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"load failed: {done.stderr.strip().splitlines()[-1:]}")
    seconds, used = time.perf_counter() - start, _children_cpu() - cpu
    said = next(line for line in done.stdout.splitlines() if line.startswith("read "))
    shutil.rmtree(store)
    return seconds, used, said


def main(bundle: Path, rounds: int) -> None:
    work = Path(tempfile.mkdtemp(prefix="cofi-lanes-"))
    entities = work / "entities-bundle"
    entities.mkdir()
    for path in bundle.iterdir():
        if path.name != "links.csv":
            (entities / path.name).symlink_to(path.resolve())
    patched = work / "patched_cofi.py"
    patched.write_text(_PATCHED.format(kept=sorted({"SAME_AS", *DECLARATION_LINK.values()})))
    cofi = [sys.executable, "-m", "cofi"]
    variants = {
        "full": (cofi, bundle),
        "no graph links stored": ([sys.executable, str(patched)], bundle),
        "entities only": (cofi, entities),
    }
    try:
        for round_ in range(1, rounds + 1):
            for name, (command, source) in variants.items():
                csv = csv_read_seconds(bundle)
                time.sleep(float(os.environ.get("REST", "10")))
                seconds, cpu, said = _load(command, source, work / "store")
                print(
                    f"round {round_} {name:22} {seconds:6.1f} s, {cpu:6.1f} CPU s, "
                    f"csv read {csv:.2f} s: {seconds / csv:5.1f}x  ({said})",
                    flush=True,
                )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]).resolve(), int(sys.argv[2]) if len(sys.argv) > 2 else 2)
