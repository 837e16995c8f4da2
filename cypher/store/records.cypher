// Each of the given ids that is in the store, with its kind, name and input fields (as canonical JSON).
UNWIND $ids AS id
MATCH (n:Entity {id: id})
RETURN n.id AS id, n.kind AS kind, n.name AS name, n.props AS props
