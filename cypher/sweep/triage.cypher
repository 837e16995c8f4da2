// Sets a finding's triage status and, when one is given, its note; returns the finding.
MATCH (f:Finding {finding_id: $finding_id})
SET f.status = $status, f.note = coalesce($note, f.note), f.triaged_at = toString(datetime())
RETURN f.body AS body, f.signature AS signature, f.status AS status, f.note AS note
