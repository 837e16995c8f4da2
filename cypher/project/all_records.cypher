// Every person and company record's id: what a store made before the path projection projects once, on upgrade.
MATCH (n:Entity)
WHERE n:Person OR n:Company
RETURN n.id AS id
