// The SAME_AS links from each given record, with their source_ref (one `cofi match` made says its confidence and reasons).
UNWIND $ids AS id
MATCH (a:Entity {id: id})-[r:SAME_AS]->(b:Entity)
RETURN a.id AS source, b.id AS target, coalesce(r.source_ref, '') AS source_ref
