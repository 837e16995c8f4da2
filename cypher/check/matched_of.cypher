// The SAME_AS links `cofi match` made from each given record (its source_ref starts with "match:").
UNWIND $ids AS id
MATCH (a:Entity {id: id})-[r:SAME_AS]->(b:Entity)
WHERE r.source_ref STARTS WITH 'match:'
RETURN a.id AS source, b.id AS target, r.source_ref AS source_ref
