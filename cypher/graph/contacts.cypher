// Each person's and company's identifier values (normalised key, raw text as written), in (entity id, kind) order.
MATCH (n:Entity)-[h:{{identifier_types}}]->(i)
RETURN n.id AS entity_id, i.kind AS kind, i.key AS key, h.raw AS raw
ORDER BY entity_id, kind
