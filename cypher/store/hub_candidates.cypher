// Identifier nodes held by more than $hub_limit records, with the records (hubs count merged entities, in Python).
MATCH (i:Address|Phone|Email)
WHERE i.holders > $hub_limit
MATCH (i)<-[h:{{identifier_types}}]-(n:Entity)
RETURN i.kind AS kind, i.key AS key, min(h.raw) AS raw, collect(n.id) AS holders
