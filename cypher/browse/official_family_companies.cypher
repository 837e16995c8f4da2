// An official's family and close associates, and the companies any of them owns, directs or works for.
MATCH (o:Person {id: $person_id})
OPTIONAL MATCH family = (o)-[:FAMILY|ASSOCIATE]-(relative:Person)
OPTIONAL MATCH business = (o)-[:FAMILY|ASSOCIATE]-{0,1}(:Person)-[:OWNS|DIRECTS|EMPLOYED]->(c:Company)
RETURN o, collect(DISTINCT family) AS family, collect(DISTINCT business) AS business
