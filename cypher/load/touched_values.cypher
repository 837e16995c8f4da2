// Logs, at $rev, identifier values that changed entities hold now (the incremental sweep re-checks around them).
UNWIND $values AS value
CREATE (:CofiTouched {kind: value.kind, key: value.key, rev: $rev})
