// Links each given contract to its buyer agency (BUYER) and winning company (SUPPLIER), replacing older such links.
UNWIND $rows AS row
MATCH (k:Contract {id: row.id})
CALL (k) {
  MATCH (k)-[old:BUYER|SUPPLIER]->()
  DELETE old
}
WITH k, row
MATCH (a:Agency {id: row.buyer_id})
MATCH (s:Company {id: row.supplier_id})
MERGE (k)-[:BUYER]->(a)
MERGE (k)-[:SUPPLIER]->(s)
