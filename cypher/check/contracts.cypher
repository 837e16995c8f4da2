// The given contracts with their buyer, winner, date, value, currency and title, and who decided each
// ([person id, role] pairs).
UNWIND $contract_ids AS contract_id
MATCH (k:Contract {id: contract_id})
OPTIONAL MATCH (p:Entity)-[r:DECIDED]->(k)
WITH k, p.id AS person_id, coalesce(r.role, '') AS role, coalesce(r.since, '') AS since
ORDER BY person_id, role, since
WITH k, collect(CASE WHEN person_id IS NOT NULL THEN [person_id, role] END) AS deciders
RETURN k.id AS id, k.buyer_id AS buyer_id, k.supplier_id AS supplier_id, k.signed_on AS signed_on,
       k.value AS value, coalesce(k.currency, '') AS currency, coalesce(k.title, '') AS title, deciders
