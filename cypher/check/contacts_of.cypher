// The identifier values (address, phone, email) the given records hold, with how many records hold each.
UNWIND $ids AS id
MATCH (n:Entity {id: id})-[h:{{identifier_types}}]->(i)
RETURN n.id AS entity_id, i.kind AS kind, i.key AS key, h.raw AS raw, i.holders AS holders
