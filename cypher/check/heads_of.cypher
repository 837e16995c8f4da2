// EMPLOYED links into the given agency records whose role is $head_role (any case and spacing), in force at some
// time from $not_before to $at, with the head's record: the agency heads who may decide its contracts then.
UNWIND $ids AS id
MATCH (p:Entity)-[r:EMPLOYED]->(a:Agency {id: id})
WHERE toLower(trim(r.role)) = $head_role
  AND (r.since IS NULL OR r.since <= $at) AND (r.until IS NULL OR r.until >= $not_before)
RETURN p.id AS source, a.id AS target, type(r) AS type, r.role AS role, r.share AS share,
       coalesce(r.since, '') AS since, coalesce(r.until, '') AS until,
       [p.id, p.kind, p.name, coalesce(p.strong_id, '')] AS record
