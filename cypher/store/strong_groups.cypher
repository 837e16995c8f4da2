// Records of one kind sharing a valid IIN/BIN: each group is one real entity.
MATCH (n:Entity)
WHERE n.strong_key IS NOT NULL
WITH n.strong_key AS strong_key, collect(n.id) AS ids
WHERE size(ids) > 1
RETURN ids
