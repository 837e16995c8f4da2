// Counts entities per kind.
MATCH (n:Entity)
RETURN n.kind AS kind, count(*) AS n
ORDER BY kind
