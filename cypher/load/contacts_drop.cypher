// Removes the identifier links of the given (changed) entities; returns the identifier values they held.
UNWIND $ids AS id
MATCH (:Entity {id: id})-[h:HAS_ADDRESS|HAS_PHONE|HAS_EMAIL]->(i)
WITH h, i.kind AS kind, i.key AS key
DELETE h
RETURN DISTINCT kind, key
