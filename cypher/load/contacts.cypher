// Links entities to their identifier nodes of one kind (the {{label}} and {{type}} slots), making the nodes when new.
// One node per normalised value (`key`); each link keeps the value as that entity's row wrote it (`raw`).
UNWIND $rows AS row
MATCH (n:Entity {id: row.id})
MERGE (i:{{label}} {key: row.key})
ON CREATE SET i.kind = row.kind, i.raw = row.raw, i.name = row.raw
MERGE (n)-[h:{{type}}]->(i)
SET h.raw = row.raw
