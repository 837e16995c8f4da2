// Keeps a sweep's restrictions (in its last transaction): a new one as `new`; a known one with its triage, except that
// a dismissed one whose content changed (another signature) is reopened. Every kept one not among them is inactive.
UNWIND $rows AS row
MERGE (r:Restriction {restriction_id: row.restriction_id})
SET r.status = CASE
      WHEN r.status IS NULL THEN 'new'
      WHEN r.status = 'dismissed' AND r.signature <> row.signature THEN 'new'
      ELSE r.status
    END,
    r.note = coalesce(r.note, ''),
    r.signature = row.signature, r.body = row.body, r.active = true,
    r.agency_id = row.agency_id, r.superior_id = row.superior_id, r.relative_id = row.relative_id,
    r.explanation = row.explanation
WITH count(*) AS written
MATCH (old:Restriction)
WHERE old.active AND NOT old.restriction_id IN $ids
SET old.active = false
