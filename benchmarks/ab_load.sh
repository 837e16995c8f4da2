#!/bin/sh
# Two commits' loads alternated, with Python's csv module reading the same files before each load
# (this machine's speed drifts from day to day, and within a day):
#
#     sh benchmarks/ab_load.sh OLD_COMMIT NEW_COMMIT BUNDLE
#
# Each commit is checked out in a worktree under ${TMPDIR:-/tmp} and loaded into a new store by
# benchmarks/load_steps.py (its step times, then /usr/bin/time's wall, CPU and max RSS), ROUNDS
# times each (default 1), old first.  After each load the store is removed and the next waits REST
# seconds (default 10): this virtual machine's host takes back the memory its guest frees within
# a few seconds, and a load started at once takes the 2 GB the last store held in the page cache
# again for next to nothing, where a new page costs 3.8-6.9 s of CPU a GB (benchmarks/README.md: loads
# one after another took 39-49 s with 12-18 s of system time, `make bench` 48.7 s with 22.7 s).
# Run from the repository, with its virtual environment made (`make demo`).
set -eu
old=$1 new=$2 bundle=$(realpath "$3")
repo=$(pwd) python=$(pwd)/.venv/bin/python tmp=${TMPDIR:-/tmp}/cofi-ab
rm -rf "$tmp" && mkdir -p "$tmp"
csvread() {  # (the baseline of `make bench`: benchmarks/run.py's csv_read_seconds)
    (cd "$repo" && "$python" -c "
import sys; from pathlib import Path; sys.path.insert(0, 'benchmarks')
from run import csv_read_seconds
print(f'csv read {csv_read_seconds(Path(sys.argv[1])):.2f} s')" "$bundle")
}
git -C "$repo" worktree add -q --detach "$tmp/old" "$old"
git -C "$repo" worktree add -q --detach "$tmp/new" "$new"
round=0
while [ "$round" -lt "${ROUNDS:-1}" ]; do
    round=$((round + 1))
    for which in old new; do
        commit=$old; [ "$which" = new ] && commit=$new
        csvread
        (cd "$tmp/$which" && PYTHONPATH=. /usr/bin/time -f "$which ($commit), round $round: wall %e s, user %U s, sys %S s, max RSS %M KB" \
            "$python" benchmarks/load_steps.py --store "$tmp/store-$which" load "$bundle" 2>&1 \
            | grep -v '^warning' | grep '<\|wall')
        rm -rf "$tmp/store-$which"
        sleep "${REST:-10}"
    done
done
git -C "$repo" worktree remove --force "$tmp/old"
git -C "$repo" worktree remove --force "$tmp/new"
csvread
