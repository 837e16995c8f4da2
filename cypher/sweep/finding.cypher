// One stored finding by its id, active or not, with its triage (`cofi explore F-…`).
MATCH (f:Finding {finding_id: $finding_id})
RETURN f.body AS body, f.signature AS signature, f.status AS status, f.note AS note
