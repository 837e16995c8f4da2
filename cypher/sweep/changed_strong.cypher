// Ids of records holding an IIN/BIN that a changed record held before (logged as touched after $since_rev).
MATCH (t:CofiTouched {kind: $kind})
WHERE t.rev > $since_rev
MATCH (n:Entity {strong_key: t.key})
RETURN DISTINCT n.id AS id
