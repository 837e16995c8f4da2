// Writes a batch of a sweep's findings as (:Finding) nodes linked to their contract, decision-maker, winner and each
// node of the path. ON_PATH links carry the node's position on the path (`step`, from 0 at the decision-maker); an
// identifier node on a path is matched by its kind's label key. A finding's older links are replaced. Its triage is
// the one stored now, not the one the sweep read when it began (a triage made during a sweep is kept): its status,
// note and triage time stay, except that a dismissed finding whose path changed (another signature) is reopened.
// A sweep writes in batches and finishes with sweep/sweep_end; until then the finding carries the running sweep's
// id and, in was_*, what it was when the last finished sweep left it (kept, not overwritten, when the sweep that
// wrote it last never finished), so that a sweep killed half-way loses nothing the next one must report.
UNWIND $rows AS row
MERGE (f:Finding {finding_id: row.finding_id})
WITH row, f, f.triaged_at AS triaged_at, f.status AS status, f.note AS note, f.signature AS signature,
     f.active AS active, f.was_present AS was_present, f.was_signature AS was_signature,
     f.was_active AS was_active,
     NOT EXISTS { MATCH (by:CofiSweep) WHERE by.id = f.sweep_id } AS settled
SET f = row.props
SET f.triaged_at = triaged_at,
    f.note = CASE WHEN status IS NULL THEN row.props.note ELSE note END,
    f.status = CASE
      WHEN status IS NULL THEN row.props.status
      WHEN status = 'dismissed' AND signature <> row.props.signature THEN 'new'
      ELSE status
    END,
    f.sweep_id = $sweep_id,
    f.was_present = CASE WHEN settled THEN signature IS NOT NULL ELSE was_present END,
    f.was_signature = CASE WHEN settled THEN signature ELSE was_signature END,
    f.was_active = CASE WHEN settled THEN coalesce(active, false) ELSE was_active END
WITH row, f
CALL (f) {
  MATCH (f)-[old:OF_CONTRACT|DECISION_MAKER|WINNER|ON_PATH]->()
  DELETE old
}
CALL (f, row) {
  MATCH (k:Contract {id: row.contract_id})
  MERGE (f)-[:OF_CONTRACT]->(k)
}
CALL (f, row) {
  MATCH (dm:Entity {id: row.decision_maker_id})
  MERGE (f)-[:DECISION_MAKER]->(dm)
}
CALL (f, row) {
  MATCH (w:Entity {id: row.winner_id})
  MERGE (f)-[:WINNER]->(w)
}
CALL (f, row) {
  UNWIND row.steps AS s
  OPTIONAL MATCH (e:Entity {id: s.id})
  OPTIONAL MATCH (a:Address {key: s.address})
  OPTIONAL MATCH (p:Phone {key: s.phone})
  OPTIONAL MATCH (m:Email {key: s.email})
  WITH f, s, coalesce(e, a, p, m) AS n
  WHERE n IS NOT NULL
  CREATE (f)-[:ON_PATH {step: s.step}]->(n)
}
RETURN count(f) AS written
