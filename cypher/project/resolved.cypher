// Makes one `Resolved` node per given group of person or company records (one real entity: its id, kind and name are
// its canonical record's, the smallest id) and links each member to it (RESOLVED_AS). Agencies and contracts have none.
UNWIND $groups AS g
MATCH (head:Entity {id: g.id})
WHERE head:Person OR head:Company
CREATE (r:Resolved {id: head.id, kind: head.kind, name: head.name})
WITH r, g
UNWIND g.members AS member
MATCH (n:Entity {id: member})
CREATE (n)-[:RESOLVED_AS]->(r)
