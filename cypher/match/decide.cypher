// Records (or replaces) a reviewer's decision on a pair `cofi match` proposed; returns the pair (none if never proposed).
MATCH (d:MatchDecision {match_id: $match_id})
SET d.verdict = $verdict, d.note = $note,
    d.decided_at = toString(datetime.truncate('second', datetime()))
RETURN d.match_id AS match_id, d.left_id AS left_id, d.right_id AS right_id,
       d.verdict AS verdict, d.note AS note, d.decided_at AS decided_at
