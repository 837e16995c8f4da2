// Each contract that one of the given records won (SUPPLIER), decided (DECIDED) or, for an agency, bought (BUYER):
// [record id, how, contract id] rows, what `explore` draws around a record.
UNWIND $ids AS id
MATCH (n:Entity {id: id})-[r:DECIDED]->(k:Contract)
RETURN n.id AS record, 'DECIDED' AS how, k.id AS contract
UNION
UNWIND $ids AS id
MATCH (n:Entity {id: id})<-[r:SUPPLIER|BUYER]-(k:Contract)
RETURN n.id AS record, type(r) AS how, k.id AS contract
