// Ids of entities written after revision $since_rev, and of both ends of every link written after it.
MATCH (n:Entity)
WHERE n.rev > $since_rev
RETURN n.id AS id
UNION
MATCH (a:Entity)-[r]->(b:Entity)
WHERE r.rev > $since_rev
UNWIND [a.id, b.id] AS id
RETURN id
