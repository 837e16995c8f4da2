// The records directly merged with each given record: its SAME_AS neighbours (either way) and the records of its kind
// with the same valid IIN/BIN (`strong_key`). A check follows them until closed: merged records are one entity.
UNWIND $ids AS id
MATCH (n:Entity {id: id})
OPTIONAL MATCH (n)-[:SAME_AS]-(s:Entity)
WITH n, id, collect(DISTINCT s.id) AS same_as
OPTIONAL MATCH (t:Entity {strong_key: n.strong_key})
WHERE t <> n
RETURN id, same_as, collect(DISTINCT t.id) AS same_id
