// The `Resolved` node (real entity) of each given person or company record.
UNWIND $ids AS id
MATCH (:Entity {id: id})-[:RESOLVED_AS]->(r:Resolved)
RETURN id, r.id AS resolved
