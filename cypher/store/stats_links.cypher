// Counts links per type, over the link types a bundle may hold ($types, from the vocabulary table).
MATCH (:Entity)-[r]->(:Entity)
WHERE type(r) IN $types
RETURN type(r) AS type, count(*) AS n
ORDER BY type
