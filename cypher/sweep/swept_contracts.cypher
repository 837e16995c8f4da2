// Contracts that a sweep has checked.
MATCH (k:Contract)
WHERE k.swept_rev IS NOT NULL
RETURN k.id AS id
