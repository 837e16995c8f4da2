// Marks the database as a cofi store at revision 0 the first time cofi writes to it, and records
// the schema version its constraints and indexes were made for (they are made again on a change).
MERGE (m:CofiMeta {key: $key})
ON CREATE SET m.rev = 0, m.created_by = $created_by
SET m.schema_version = $schema_version
RETURN m.created_by AS created_by
