// Counts the nodes of one kind (the {{label}} slot: an entity or identifier kind's label, from the vocabulary).
// A count of one label with no property read comes from Neo4j's count store: no node is scanned.
MATCH (n:{{label}})
RETURN count(n) AS n
