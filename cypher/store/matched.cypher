// Every SAME_AS link `cofi match` made (its source_ref starts with "match:"): it carries the match's confidence and reasons.
MATCH (a:Entity)-[r:SAME_AS]->(b:Entity)
WHERE r.source_ref STARTS WITH 'match:'
RETURN a.id AS source, b.id AS target, r.source_ref AS source_ref
