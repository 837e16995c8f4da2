// Keeps the pairs `cofi match` proposed ([match id, left id, right id]), undecided; a pair known already is left as it is.
UNWIND $pairs AS p
MERGE (d:MatchDecision {match_id: p[0]})
ON CREATE SET d.left_id = p[1], d.right_id = p[2], d.verdict = '', d.note = '', d.decided_at = ''
