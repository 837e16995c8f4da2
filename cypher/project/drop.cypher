// Removes the `Resolved` nodes of the given records, with their projected links; returns the identifier values
// ([kind, key]) they held, whose entity counts must be made again.
UNWIND $ids AS id
MATCH (:Entity {id: id})-[:RESOLVED_AS]->(r:Resolved)
WITH DISTINCT r
OPTIONAL MATCH (r)-[:{{identifier_types}}]->(i)
WITH r, collect([i.kind, i.key]) AS held
DETACH DELETE r
WITH held
UNWIND held AS value
RETURN DISTINCT value[0] AS kind, value[1] AS key
