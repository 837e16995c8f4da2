// One pair `cofi match` proposed, decided or not (no row if it never proposed it).
MATCH (d:MatchDecision {match_id: $match_id})
RETURN d.match_id AS match_id, d.left_id AS left_id, d.right_id AS right_id,
       d.verdict AS verdict, d.note AS note, d.decided_at AS decided_at
