// Of the contracts each given record won (SUPPLIER), decided (DECIDED) or, for an agency, bought (BUYER), the $limit of
// each kind with the smallest ids: [record id, how, contract id] rows, what `explore` draws around a record (it draws
// fewer and says when more were left out).
UNWIND $ids AS id
MATCH (n:Entity {id: id})
CALL (n) {
  MATCH (n)-[:DECIDED]->(k:Contract)
  RETURN DISTINCT 'DECIDED' AS how, k.id AS contract ORDER BY contract LIMIT $limit
  UNION
  MATCH (n)<-[:SUPPLIER]-(k:Contract)
  RETURN DISTINCT 'SUPPLIER' AS how, k.id AS contract ORDER BY contract LIMIT $limit
  UNION
  MATCH (n)<-[:BUYER]-(k:Contract)
  RETURN DISTINCT 'BUYER' AS how, k.id AS contract ORDER BY contract LIMIT $limit
}
RETURN n.id AS record, how, contract
