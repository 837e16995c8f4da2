// The officials on $at: every person with an EMPLOYED link into an agency in force on that day (no lookback).
MATCH (p:Person)-[r:EMPLOYED]->(:Agency)
WHERE (r.since IS NULL OR r.since <= $at) AND (r.until IS NULL OR r.until >= $at)
RETURN DISTINCT p.id AS id
