// Entities whose search key holds every token of the query as a substring (ranked in Python, as on the embedded store).
// $first is one of $tokens, given alone so that the planner can answer it from the entity_search_key text index.
MATCH (n:Entity)
WHERE n.search_key CONTAINS $first AND all(t IN $tokens WHERE n.search_key CONTAINS t)
RETURN n.id AS id, n.kind AS kind, n.name AS name, n.props AS props, n.search_key AS search_key
