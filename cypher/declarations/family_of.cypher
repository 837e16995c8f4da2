// The FAMILY links touching the given person records, either direction ('' for an empty field).
UNWIND $ids AS id
MATCH (:Entity {id: id})-[r:FAMILY]-(:Entity)
WITH DISTINCT r
RETURN startNode(r).id AS source, endNode(r).id AS target, coalesce(r.role, '') AS role,
       coalesce(r.since, '') AS since, coalesce(r.until, '') AS until, coalesce(r.source_ref, '') AS source_ref
