#!/bin/sh
# Two commits' loads side by side, with Python's csv module reading the same files before, between
# and after (this machine's speed drifts from day to day, and within a day):
#
#     sh benchmarks/ab_load.sh OLD_COMMIT NEW_COMMIT BUNDLE
#
# Each commit is checked out in a worktree under ${TMPDIR:-/tmp} and loaded into a new store by
# benchmarks/load_steps.py (its step times, then /usr/bin/time's wall, CPU and max RSS).  Run from
# the repository, with its virtual environment made (`make demo`).
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
for which in old new; do
    commit=$old; [ "$which" = new ] && commit=$new
    git -C "$repo" worktree add -q --detach "$tmp/$which" "$commit"
    csvread
    (cd "$tmp/$which" && PYTHONPATH=. /usr/bin/time -f "$which ($commit): wall %e s, user %U s, sys %S s, max RSS %M KB" \
        "$python" benchmarks/load_steps.py --store "$tmp/store-$which" load "$bundle" 2>&1 \
        | grep -v '^warning' | grep '<\|wall')
    rm -rf "$tmp/store-$which"
    git -C "$repo" worktree remove --force "$tmp/$which"
done
csvread
