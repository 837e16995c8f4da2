// A finding with its contract, decision-maker and winner, the nodes of its path, and the links between them.
MATCH (f:Finding {finding_id: $finding_id})-[:OF_CONTRACT]->(k:Contract)
MATCH (f)-[:DECISION_MAKER]->(dm)
MATCH (f)-[:WINNER]->(w)
MATCH (f)-[step:ON_PATH]->(n)
WITH f, k, dm, w, n ORDER BY step.step
WITH f, k, dm, w, collect(n) AS path
UNWIND range(0, size(path) - 2) AS i
OPTIONAL MATCH (a)-[link]-(b) WHERE a = path[i] AND b = path[i + 1]
RETURN f, k, dm, w, path, collect(link) AS links
