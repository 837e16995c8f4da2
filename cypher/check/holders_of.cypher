// Every record holding one of the given identifier values of one kind (the {{label}} and {{type}} slots), with the record.
UNWIND $keys AS key
MATCH (i:{{label}} {key: key})<-[h:{{type}}]-(n:Entity)
RETURN n.id AS entity_id, i.kind AS kind, i.key AS key, h.raw AS raw,
       [n.id, n.kind, n.name, coalesce(n.strong_id, '')] AS record
