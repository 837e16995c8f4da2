// The `cofi match` pairs a reviewer has decided (same or different).
MATCH (d:MatchDecision)
WHERE d.verdict <> ''
RETURN d.match_id AS match_id, d.left_id AS left_id, d.right_id AS right_id,
       d.verdict AS verdict, d.note AS note, d.decided_at AS decided_at
