// Marks findings that a re-check of their contract no longer shows as inactive (kept, with their triage), in a batch
// of the running sweep $sweep_id: like sweep/findings_write, it keeps in was_* what the last finished sweep left.
UNWIND $ids AS id
MATCH (f:Finding {finding_id: id})
WITH f, NOT EXISTS { MATCH (by:CofiSweep) WHERE by.id = f.sweep_id } AS settled
WITH f, settled, f.signature AS signature, f.active AS active
SET f.active = false,
    f.sweep_id = $sweep_id,
    f.was_present = CASE WHEN settled THEN true ELSE f.was_present END,
    f.was_signature = CASE WHEN settled THEN signature ELSE f.was_signature END,
    f.was_active = CASE WHEN settled THEN active ELSE f.was_active END
