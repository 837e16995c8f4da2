// Every contract's id and signing date, in date order: what a sweep checks, batch by batch, without reading the graph.
MATCH (k:Contract)
RETURN k.id AS id, k.signed_on AS signed_on
ORDER BY signed_on, id
