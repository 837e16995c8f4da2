// Starts a load: takes the next revision atomically (the write lock on the store's node orders concurrent loads, so
// two never share one) and records the load as running, with a heartbeat, until load_end. Loads whose heartbeat
// stopped longer ago than $alive_seconds are dead (killed): their records go.
MATCH (m:CofiMeta {key: $key})
SET m.next_rev = coalesce(m.next_rev, m.rev, 0) + 1
WITH m
CALL (m) {
  MATCH (dead:CofiLoad)
  WHERE dead.beat < datetime() - duration({seconds: $alive_seconds})
  DELETE dead
}
CREATE (l:CofiLoad {rev: m.next_rev, beat: datetime()})
RETURN l.rev AS rev
