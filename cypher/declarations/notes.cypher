// Every conflict notice and recusal, as the links they are stored as ('' for an empty field): read once by a sweep.
MATCH (p:Entity)-[r:NOTIFIED_CONFLICT|RECUSED]->(k:Entity)
RETURN p.id AS source, k.id AS target, type(r) AS type, coalesce(r.role, '') AS role,
       coalesce(r.since, '') AS since, r.share AS share, coalesce(r.source_ref, '') AS source_ref
