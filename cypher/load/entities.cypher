// Writes a batch of entities of one kind (the {{label}} slot, filled from the vocabulary): new ones, and changed ones, at $rev.
// An entity whose name and fields are unchanged is not touched, so reloading a bundle changes nothing.
// `row.node` holds every property; SET n = replaces them all, so a field dropped from the input goes too.
UNWIND $rows AS row
OPTIONAL MATCH (old:Entity {id: row.id})
WITH row, old
WHERE old IS NULL OR old.name <> row.node.name OR old.props <> row.node.props
MERGE (n:Entity {id: row.id})
WITH row, old, n, n.swept_rev AS swept_rev
SET n = row.node
SET n:{{label}}, n.rev = $rev, n.swept_rev = swept_rev
RETURN n.id AS id, old IS NULL AS created
