// The EMPLOYED links into the given agency records ('' for an empty field): the staff of some agencies, for the
// restrictions around one person or agency (`cofi explore`).
UNWIND $ids AS id
MATCH (p:Person)-[r:EMPLOYED]->(a:Entity {id: id})
WHERE a:Agency
RETURN p.id AS person, a.id AS agency, coalesce(r.role, '') AS role, coalesce(r.since, '') AS since,
       coalesce(r.until, '') AS until, coalesce(r.source_ref, '') AS source_ref
