// What a declarations audit compares with the filings: the FAMILY links touching the given person records (either
// direction) and their own OWNS, DIRECTS and EMPLOYED links, in force on $at (no lookback), with the target's kind.
UNWIND $ids AS id
MATCH (p:Entity {id: id})-[r:FAMILY|OWNS|DIRECTS|EMPLOYED]-(:Entity)
WHERE (r:FAMILY OR startNode(r) = p)
  AND (r.since IS NULL OR r.since <= $at) AND (r.until IS NULL OR r.until >= $at)
WITH DISTINCT r
WITH r, startNode(r) AS s, endNode(r) AS t
RETURN s.id AS source, t.id AS target, type(r) AS type, coalesce(r.role, '') AS role, r.share AS share,
       coalesce(r.since, '') AS since, coalesce(r.until, '') AS until, coalesce(r.source_ref, '') AS source_ref,
       t.kind AS target_kind
