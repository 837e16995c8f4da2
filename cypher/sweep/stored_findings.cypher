// The stored findings of the given contracts, with their triage status. A finding last written by a sweep that never
// finished (its CofiSweep node is still there) reads as the last finished sweep left it: its signature and active
// flag from was_*, and no signature at all if that sweep added it; `unsettled` says so.
UNWIND $contract_ids AS contract_id
MATCH (f:Finding {contract_id: contract_id})
WITH f, EXISTS { MATCH (by:CofiSweep) WHERE by.id = f.sweep_id } AS unsettled
RETURN f.finding_id AS finding_id, f.contract_id AS contract_id,
       CASE WHEN NOT unsettled THEN f.signature WHEN f.was_present THEN f.was_signature END AS signature,
       f.status AS status, f.note AS note,
       CASE WHEN unsettled THEN coalesce(f.was_present AND f.was_active, false) ELSE f.active END AS active,
       unsettled
