// Before a batch of entities is written: logs, at $rev, the identifier values and IIN/BIN that each changing entity holds now.
// The incremental sweep re-checks around every value logged since its last mark (an entity that drops a shared phone
// leaves the other holders' paths changed too).
UNWIND $rows AS row
MATCH (n:Entity {id: row.id})
WHERE n.name <> row.node.name OR n.props <> row.node.props
CALL (n) {
  MATCH (n)-[:{{identifier_types}}]->(i)
  RETURN collect([i.kind, i.key]) AS held
}
WITH row, n, held + CASE WHEN n.strong_id <> '' AND n.strong_id <> row.node.strong_id
                         THEN [['strong', n.strong_key]] ELSE [] END AS logged
UNWIND logged AS value
CREATE (:CofiTouched {kind: value[0], key: value[1], rev: $rev})
