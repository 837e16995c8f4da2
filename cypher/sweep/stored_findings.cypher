// The stored findings of the given contracts, with their triage status.
UNWIND $contract_ids AS contract_id
MATCH (f:Finding {contract_id: contract_id})
RETURN f.finding_id AS finding_id, f.contract_id AS contract_id, f.signature AS signature,
       f.status AS status, f.note AS note, f.active AS active
