// Every restriction a sweep has kept, with its triage.
MATCH (r:Restriction)
RETURN r.restriction_id AS restriction_id, r.signature AS signature, r.status AS status, r.note AS note,
       r.active AS active
