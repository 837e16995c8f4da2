// The revision a sweep may mark as seen: every revision taken so far, or, while loads run, the one before the
// oldest running load (its rows are still being written; a load whose heartbeat stopped $alive_seconds ago is dead).
MATCH (m:CofiMeta {key: $key})
OPTIONAL MATCH (l:CofiLoad)
WHERE l.beat >= datetime() - duration({seconds: $alive_seconds})
WITH m, min(l.rev) AS oldest
RETURN coalesce(oldest - 1, m.next_rev, m.rev, 0) AS rev
