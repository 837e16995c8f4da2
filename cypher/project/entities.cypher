// Counts the real entities (`Resolved` nodes) holding each of the given identifier values of one kind (the {{label}}
// and {{type}} slots): `entities` is what the hub rule of a path on the projection reads.
UNWIND $keys AS key
MATCH (i:{{label}} {key: key})
SET i.entities = COUNT { (i)<-[:{{type}}]-(:Resolved) }
