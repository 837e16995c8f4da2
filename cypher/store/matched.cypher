// Every SAME_AS link with its source_ref, when `cofi match` made any of them (its source_ref starts with "match:" and carries the match's confidence and reasons); else none.
MATCH (m:Entity)-[made:SAME_AS]->(:Entity)
WHERE made.source_ref STARTS WITH 'match:'
WITH count(made) > 0 AS some LIMIT 1
MATCH (a:Entity)-[r:SAME_AS]->(b:Entity)
WHERE some
RETURN a.id AS source, b.id AS target, coalesce(r.source_ref, '') AS source_ref
