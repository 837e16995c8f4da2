"""Time the link checks' ends query (`cofi.loader._LinkChecks._ends`) alone, and its parts: plan
a load of BUNDLE into no store, then run the query and the scans and lookups it is made of, and
the two halves of it side by side as a load runs them (`_LinkChecks._flagged`).

    python benchmarks/link_ends.py /tmp/lg/bundle
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from cofi.loader import ENDS, _LinkChecks, plan_load

PARTS = {
    "scanning the keys": "SELECT count(*) FROM stage_l.link_keys WHERE ok",
    "each source's kind": "SELECT count(*) FROM stage_l.link_keys k "
    "JOIN stage_e.ent_ids a ON a.id = k.source",
    "each target's kind": "SELECT count(*) FROM stage_l.link_keys k "
    "JOIN stage_e.ent_ids b ON b.id = k.target",
    "the whole ends query": ENDS.format(half=">="),  # (every source is >= '')
}

if __name__ == "__main__":
    began = time.monotonic()
    with plan_load([Path(sys.argv[1])], lambda ids: {}) as plan:
        plan.complete()
        print(f"planned in {time.monotonic() - began:.1f} s")
        db = plan.connect()
        for what, query in PARTS.items():
            began = time.monotonic()
            rows = db.execute(query, ("",) if "?" in query else ()).fetchall()
            print(f"{what}: {time.monotonic() - began:.2f} s ({len(rows)} row(s))")
        began = time.monotonic()
        rows = _LinkChecks(plan, {})._flagged(db)
        print(f"its two halves side by side: {time.monotonic() - began:.2f} s ({len(rows)} row(s))")
        db.close()
