// Ids of entities now holding an identifier value of one kind ({{label}}, {{type}}) logged as touched after $since_rev.
MATCH (t:CofiTouched {kind: $kind})
WHERE t.rev > $since_rev
MATCH (:{{label}} {key: t.key})<-[:{{type}}]-(n:Entity)
RETURN DISTINCT n.id AS id
