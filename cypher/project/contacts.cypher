// Links the `Resolved` node of each given record to the identifier values of one kind (the {{label}} and {{type}}
// slots) that the record holds; returns those values' keys, whose entity counts must be made again.
UNWIND $ids AS id
MATCH (n:Entity {id: id})-[:{{type}}]->(i:{{label}})
MATCH (n)-[:RESOLVED_AS]->(r:Resolved)
MERGE (r)-[:{{type}}]->(i)
RETURN DISTINCT i.key AS key
