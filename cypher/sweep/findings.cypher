// Stored findings, highest score first: active ones only or all, optionally of one status or of one contract.
MATCH (f:Finding)
WHERE (f.active OR NOT $active_only)
  AND ($status IS NULL OR f.status = $status)
  AND ($contract_id IS NULL OR f.contract_id = $contract_id)
RETURN f.body AS body, f.signature AS signature, f.status AS status, f.note AS note,
       f.score AS score, f.finding_id AS finding_id
ORDER BY score DESC, finding_id
