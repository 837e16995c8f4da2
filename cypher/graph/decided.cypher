// Who decided each contract: one [person id, role] pair per DECIDED link, grouped by contract.
MATCH (p:Entity)-[r:DECIDED]->(k:Contract)
WITH k.id AS contract_id, p.id AS person_id, coalesce(r.role, '') AS role, coalesce(r.since, '') AS since
ORDER BY contract_id, person_id, role, since
RETURN contract_id, collect([person_id, role]) AS deciders
