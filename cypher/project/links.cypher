// Projects every link of one traversable type (the {{type}} slot) that touches one of the given records onto the
// `Resolved` nodes of its ends (none between two records of one entity): the same direction, the same role and share,
// since and until as dates, and the link's records and key, which identify it (MERGE: running it twice changes nothing).
UNWIND $ids AS id
MATCH (:Entity {id: id})-[l:{{type}}]-(:Entity)
WITH DISTINCT l
WITH l, startNode(l) AS s, endNode(l) AS t
MATCH (s)-[:RESOLVED_AS]->(rs:Resolved)
MATCH (t)-[:RESOLVED_AS]->(rt:Resolved)
WHERE rs <> rt
MERGE (rs)-[p:{{type}} {source: s.id, target: t.id, key: l.key}]->(rt)
SET p.role = l.role, p.share = l.share, p.since = date(l.since), p.until = date(l.until)
