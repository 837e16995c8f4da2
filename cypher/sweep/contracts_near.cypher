// Ids of the contracts won (SUPPLIER) or decided (DECIDED) by any of the records $ids, or bought (BUYER) by any of
// the agency records $agencies: what an incremental sweep re-checks after a change within reach of them.
UNWIND $ids AS id
MATCH (:Entity {id: id})<-[:SUPPLIER]-(k:Contract)
RETURN k.id AS id
UNION
UNWIND $ids AS id
MATCH (:Entity {id: id})-[:DECIDED]->(k:Contract)
RETURN k.id AS id
UNION
UNWIND $agencies AS id
MATCH (:Agency {id: id})<-[:BUYER]-(k:Contract)
RETURN k.id AS id
