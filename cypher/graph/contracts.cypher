// Every contract with its buyer, winner, date, value, currency and title, in id order.
MATCH (k:Contract)
RETURN k.id AS id, k.buyer_id AS buyer_id, k.supplier_id AS supplier_id, k.signed_on AS signed_on,
       k.value AS value, coalesce(k.currency, '') AS currency, coalesce(k.title, '') AS title
ORDER BY id
