// Writes a batch of links of one type (the {{type}} slot, filled from the vocabulary): new ones, and changed ones, at $rev.
// A link is identified by its ends, type and `key` (role and since); share, until and source_ref are its fields.
// Empty values are absent properties (null), never '' — the path query reads a missing since/until as open.
UNWIND $rows AS row
MATCH (a:Entity {id: row.source})
MATCH (b:Entity {id: row.target})
MERGE (a)-[r:{{type}} {key: row.key}]->(b)
WITH r, row, r.rev IS NULL AS created
WHERE created
   OR coalesce(r.share, -1.0) <> coalesce(row.fields.share, -1.0)
   OR coalesce(r.until, '') <> coalesce(row.fields.until, '')
   OR coalesce(r.source_ref, '') <> coalesce(row.fields.source_ref, '')
SET r += row.fields, r.rev = $rev
RETURN count(*) AS changed, count(CASE WHEN created THEN 1 END) AS created
