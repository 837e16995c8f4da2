// The agency records the given person records have an EMPLOYED link into, at any date.
UNWIND $ids AS id
MATCH (:Entity {id: id})-[:EMPLOYED]->(a:Agency)
RETURN DISTINCT a.id AS agency
