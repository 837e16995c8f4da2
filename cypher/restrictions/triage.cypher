// Sets a restriction's triage status and, when one is given, its note; returns it.
MATCH (r:Restriction {restriction_id: $restriction_id})
SET r.status = $status, r.note = coalesce($note, r.note), r.triaged_at = toString(datetime())
RETURN r.body AS body, r.status AS status, r.note AS note
