// A running load's heartbeat, after each batch it writes.
MATCH (l:CofiLoad {rev: $rev})
SET l.beat = datetime()
