// Recounts the records holding each of the given identifier nodes of one kind (the {{label}} and {{type}} slots).
// `holders` is what the path query's hub rule reads; a node no record holds any more is removed.
UNWIND $keys AS key
MATCH (i:{{label}} {key: key})
WITH i, COUNT { (i)<-[:{{type}}]-(:Entity) } AS holders
SET i.holders = holders
WITH i, holders
WHERE holders = 0
DETACH DELETE i
