"""Time the link checks' ends query (`cofi.loader._LinkChecks._ends`) alone, and its parts: plan
a load of BUNDLE into no store, then run the query and the scans and lookups it is made of.

    python benchmarks/link_ends.py /tmp/lg/bundle
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from cofi.loader import plan_load

ENDS = """
SELECT k.seq, coalesce(a.kind, sa.kind), coalesce(b.kind, sb.kind) FROM stage_l.link_keys k
LEFT JOIN stage_e.ent_ids a ON a.id = k.source LEFT JOIN stage_e.stored sa ON sa.id = k.source
LEFT JOIN stage_e.ent_ids b ON b.id = k.target LEFT JOIN stage_e.stored sb ON sb.id = k.target
WHERE k.ok AND (a.kind IS NULL AND sa.kind IS NULL OR b.kind IS NULL AND sb.kind IS NULL
OR k.source IN stage_e.bad OR k.target IN stage_e.bad
OR NOT EXISTS (SELECT 1 FROM stage_l.allowed w WHERE w.type = k.type
AND w.source = coalesce(a.kind, sa.kind) AND w.target = coalesce(b.kind, sb.kind)))
ORDER BY k.seq
"""
"""The query of `_LinkChecks._ends`, as of 0aba945."""
PARTS = {
    "scanning the keys": "SELECT count(*) FROM stage_l.link_keys WHERE ok",
    "each source's kind": "SELECT count(*) FROM stage_l.link_keys k "
    "JOIN stage_e.ent_ids a ON a.id = k.source",
    "each target's kind": "SELECT count(*) FROM stage_l.link_keys k "
    "JOIN stage_e.ent_ids b ON b.id = k.target",
    "the whole ends query": ENDS,
}

if __name__ == "__main__":
    began = time.monotonic()
    with plan_load([Path(sys.argv[1])], lambda ids: {}) as plan:
        plan.complete()
        print(f"planned in {time.monotonic() - began:.1f} s")
        db = plan.connect()
        for what, query in PARTS.items():
            began = time.monotonic()
            rows = db.execute(query).fetchall()
            print(f"{what}: {time.monotonic() - began:.2f} s ({len(rows)} row(s))")
        db.close()
