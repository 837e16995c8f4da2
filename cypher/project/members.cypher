// The records of each given real entity (`Resolved` node).
UNWIND $ids AS id
MATCH (:Resolved {id: id})<-[:RESOLVED_AS]-(n:Entity)
RETURN n.id AS id
