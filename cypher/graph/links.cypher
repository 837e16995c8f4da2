// Every input link between entities except DECIDED, for the detection graph; '' for an empty role or date.
// In the order of the embedded store's key (source, target, type, role, since), so both stores build the same graph.
MATCH (a:Entity)-[r:{{projected_types}}|SAME_AS]->(b:Entity)
WITH a.id AS source, b.id AS target, type(r) AS type, coalesce(r.role, '') AS role, r.share AS share,
     coalesce(r.since, '') AS since, coalesce(r.until, '') AS until
ORDER BY source, target, type, role, since
RETURN source, target, type, role, share, since, until
