// An entity or contract and everything up to two links away, with the links (the Browser draws them).
MATCH (n:Entity {id: $id})
OPTIONAL MATCH p = (n)-[*1..2]-()
RETURN n, collect(p) AS around
