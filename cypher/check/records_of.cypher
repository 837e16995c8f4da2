// The given persons, agencies and companies as the detection graph takes them: id, kind, name, IIN/BIN.
UNWIND $ids AS id
MATCH (n:Entity {id: id})
WHERE NOT n:Contract
RETURN n.id AS id, n.kind AS kind, n.name AS name, coalesce(n.strong_id, '') AS strong_id
