// Persons, agencies and companies for the in-memory detection graph, in id order.
MATCH (n:Entity)
WHERE NOT n:Contract
RETURN n.id AS id, n.kind AS kind, n.name AS name, n.strong_id AS strong_id
ORDER BY id
