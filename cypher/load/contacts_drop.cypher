// Removes the identifier links of the given (changed) entities; returns the identifier values they held.
UNWIND $ids AS id
MATCH (:Entity {id: id})-[h:{{identifier_types}}]->(i)
WITH h, i.kind AS kind, i.key AS key
DELETE h
RETURN DISTINCT kind, key
