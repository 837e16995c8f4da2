"""Time the link checks' ends (`cofi.link_ends.flagged_ends`) alone, against the SQL query it
replaced (four joins a key, the two halves of the keys side by side): plan a load of BUNDLE
into no store, then run each on the plan's staging databases.

    python benchmarks/link_ends.py /tmp/lg/bundle
"""

from __future__ import annotations

import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from cofi.link_ends import flagged_ends
from cofi.loader import plan_load

SQL = (
    "SELECT k.seq, coalesce(a.kind, sa.kind), coalesce(b.kind, sb.kind) "
    "FROM stage_l.link_keys k "
    "LEFT JOIN stage_e.ent_ids a ON a.id = k.source "
    "LEFT JOIN stage_e.stored sa ON sa.id = k.source "
    "LEFT JOIN stage_e.ent_ids b ON b.id = k.target "
    "LEFT JOIN stage_e.stored sb ON sb.id = k.target "
    "WHERE k.ok AND k.source {half} ? AND (a.kind IS NULL AND sa.kind IS NULL OR b.kind IS NULL "
    "AND sb.kind IS NULL OR k.source IN stage_e.bad OR k.target IN stage_e.bad) ORDER BY k.seq"
)
"""The former query, but for its check of the kinds a type may join (a small table)."""
HALFWAY = (
    "SELECT source FROM stage_l.link_keys "
    "LIMIT 1 OFFSET (SELECT count(*) / 2 FROM stage_l.link_keys)"
)


def cpu() -> float:
    return time.process_time()


if __name__ == "__main__":
    began = time.monotonic()
    with plan_load([Path(sys.argv[1])], lambda ids: {}) as plan:
        plan.complete()
        print(f"planned in {time.monotonic() - began:.1f} s")
        stages = plan.databases
        began, used = time.monotonic(), cpu()
        rows = flagged_ends(stages["stage_e"], stages["stage_l"])
        print(f"flagged_ends: {time.monotonic() - began:.2f} s, {cpu() - used:.2f} s of CPU "
              f"({len(rows)} row(s))")  # fmt: skip
        with plan.connect() as db:
            row = db.execute(HALFWAY).fetchone()

            def half(side: str) -> int:
                with plan.connect() as own:
                    return len(own.execute(SQL.format(half=side), row).fetchall())

            began, used = time.monotonic(), cpu()
            with ThreadPoolExecutor(1) as pool:
                below = pool.submit(half, "<")
                n = half(">=") + below.result()
            print(f"the SQL joins, two halves side by side: {time.monotonic() - began:.2f} s, "
                  f"{cpu() - used:.2f} s of CPU ({n} row(s))")  # fmt: skip
