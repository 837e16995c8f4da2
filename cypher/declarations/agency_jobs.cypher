// Every EMPLOYED link into an agency ('' for an empty field): who serves where, for `cofi restrictions`.
MATCH (p:Person)-[r:EMPLOYED]->(a:Agency)
RETURN p.id AS person, a.id AS agency, coalesce(r.role, '') AS role, coalesce(r.since, '') AS since,
       coalesce(r.until, '') AS until, coalesce(r.source_ref, '') AS source_ref
ORDER BY person, agency, role, since
