// Every link but DECIDED and SAME_AS that touches one of the given records and is in force in the window a check
// looks at (since on or before $at, until on or after $not_before), with both ends' records: one ring of the
// neighbourhood a contract's check searches. An agency end is returned (its heads decide) but never walked on.
UNWIND $ids AS id
MATCH (a:Entity {id: id})-[r:{{projected_types}}]-(b:Entity)
WHERE NOT b:Contract
  AND (r.since IS NULL OR r.since <= $at) AND (r.until IS NULL OR r.until >= $not_before)
WITH DISTINCT r
WITH r, startNode(r) AS s, endNode(r) AS t
RETURN s.id AS source, t.id AS target, type(r) AS type, coalesce(r.role, '') AS role, r.share AS share,
       coalesce(r.since, '') AS since, coalesce(r.until, '') AS until,
       [x IN [s, t] | [x.id, x.kind, x.name, coalesce(x.strong_id, '')]] AS ends
