// Records that the given contracts were checked at store revision $rev.
UNWIND $ids AS id
MATCH (k:Contract {id: id})
SET k.swept_rev = $rev
