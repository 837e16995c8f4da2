// The records that share a `Resolved` node (one real entity, as last projected) with any of the given records.
UNWIND $ids AS id
MATCH (:Entity {id: id})-[:RESOLVED_AS]->(r:Resolved)<-[:RESOLVED_AS]-(m:Entity)
RETURN DISTINCT m.id AS id, r.id AS resolved
