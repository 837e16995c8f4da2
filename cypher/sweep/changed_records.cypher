// Ids of entities written after revision $since_rev, and of the ends of every link written after it that it may
// affect: a DECIDED link, or an EMPLOYED link into an agency, changes who decides a contract, not any path between
// others, so only its contract (or agency) is returned; any other link may join or separate people within reach of
// either end, so both ends are.
MATCH (n:Entity)
WHERE n.rev > $since_rev
RETURN n.id AS id
UNION
MATCH (a:Entity)-[r]->(b:Entity)
WHERE r.rev > $since_rev
UNWIND CASE WHEN r:DECIDED OR b:Agency THEN [b.id] ELSE [a.id, b.id] END AS id
RETURN id
