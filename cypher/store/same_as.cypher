// Every SAME_AS link: two records that are one real entity.
MATCH (a:Entity)-[:SAME_AS]->(b:Entity)
RETURN a.id AS source, b.id AS target
