// Counts identifier nodes (addresses, phones, emails) per kind.
MATCH (i:Address|Phone|Email)
RETURN i.kind AS kind, count(*) AS n
ORDER BY kind
