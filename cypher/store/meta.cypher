// The store's own node (revision, sweep mark, maker) and whether the database holds anything else.
OPTIONAL MATCH (m:CofiMeta {key: $key})
RETURN m.rev AS rev, m.created_by AS created_by, m.schema_version AS schema_version,
       m.sweep_rev AS sweep_rev, m.sweep_rules AS sweep_rules,
       EXISTS { MATCH (n) WHERE NOT n:CofiMeta } AS has_data
