// Marks findings that a re-check of their contract no longer shows as inactive (kept, with their triage).
UNWIND $ids AS id
MATCH (f:Finding {finding_id: id})
SET f.active = false
