// The declared relatives and interests filed under the given person records ('' for an empty field).
UNWIND $ids AS id
MATCH (p:Entity {id: id})-[r:DECLARED_RELATIVE|DECLARED_INTEREST]->(s:Entity)
RETURN p.id AS source, s.id AS target, type(r) AS type, coalesce(r.role, '') AS role,
       coalesce(r.since, '') AS since, r.share AS share, coalesce(r.source_ref, '') AS source_ref
