// The contracts won by any of the given records (through their SUPPLIER links), with buyer, winner, date, value,
// currency and title.
UNWIND $ids AS id
MATCH (:Entity {id: id})<-[:SUPPLIER]-(k:Contract)
RETURN k.id AS id, k.buyer_id AS buyer_id, k.supplier_id AS supplier_id, k.signed_on AS signed_on,
       k.value AS value, coalesce(k.currency, '') AS currency, coalesce(k.title, '') AS title
