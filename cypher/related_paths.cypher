// Every shortest related-party path from a decision-maker to a winner on a date, every rule applied inside the search.
// Undirected; traversable link types and identifier links only; never through an agency or a contract;
// each link in force on $at (since on or before $at, until on or after $not_before = $at minus the lookback);
// no identifier node shared by more than $hub_limit entities (its `holders`); at most $max_family FAMILY links.
// An identifier node sits between its holders, so a shared address costs two hops, as DESIGN.md says.
// The path predicate is in the MATCH's WHERE: Cypher applies it before ALL SHORTEST selects, so a
// shorter path that breaks a rule never hides a longer valid one (a WITH … WHERE after it would).
// Quantifier bounds cannot be parameters: {1,8} is the ceiling, $max_hops the limit (at most 8).
MATCH (dm:Person {id: $decision_maker_id})
MATCH (w:Company {id: $winner_id})
MATCH p = ALL SHORTEST (dm)
  (()-[r:FAMILY|OWNS|DIRECTS|ASSOCIATE|EMPLOYED|HAS_ADDRESS|HAS_PHONE|HAS_EMAIL
        WHERE (r.since IS NULL OR r.since <= $at) AND (r.until IS NULL OR r.until >= $not_before)]-
   (x WHERE NOT x:Agency AND NOT x:Contract AND coalesce(x.holders, 0) <= $hub_limit)){1,8}
  (w)
WHERE length(p) <= $max_hops
  AND size([rel IN relationships(p) WHERE type(rel) = 'FAMILY']) <= $max_family
RETURN [n IN nodes(p) | coalesce(n.id, n.key)] AS nodes,
       [rel IN relationships(p) | {type: type(rel), source: coalesce(startNode(rel).id, startNode(rel).key),
                                   role: rel.role, share: rel.share, since: rel.since, until: rel.until}] AS links
