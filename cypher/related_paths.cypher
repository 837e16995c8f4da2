// Every shortest related-party path from a decision-maker to a winner on a date, every rule applied inside the search,
// on the path projection: `Resolved` nodes, one per real person or company (records joined by SAME_AS or a valid
// IIN/BIN are one node, so a merge costs no hop), the traversable links between them with dates as dates, and their
// identifier values; no agency or contract is in it. Each link in force on $at (since on or before $at, until on or
// after $not_before = $at minus the lookback); no identifier value held by more than $hub_limit real entities
// (`entities`, not records). A shared address costs two hops, as DESIGN.md says.
// The hop and family limits are a WHERE inside the parenthesised path pattern: a pre-filter that Neo4j applies while
// ALL SHORTEST searches, so a shorter path with too many FAMILY links never hides a longer valid one (a WHERE after
// the pattern filters only the shortest paths already chosen). Quantifier bounds cannot be parameters: {1,16} is the
// ceiling, $max_hops the limit (cofi's own detection puts the limit in the bound itself, which is much faster).
// $at and $not_before are dates: :param at => date('2025-03-14').
MATCH (:Person {id: $decision_maker_id})-[:RESOLVED_AS]->(dm:Resolved)
MATCH (:Company {id: $winner_id})-[:RESOLVED_AS]->(w:Resolved)
MATCH p = ALL SHORTEST ((dm)
  (()-[r:FAMILY|OWNS|DIRECTS|ASSOCIATE|EMPLOYED|HAS_ADDRESS|HAS_PHONE|HAS_EMAIL
        WHERE (r.since IS NULL OR r.since <= $at) AND (r.until IS NULL OR r.until >= $not_before)]-
   (x WHERE (x:Resolved OR x:Address OR x:Phone OR x:Email) AND coalesce(x.entities, 0) <= $hub_limit)){1,16}
  (w)
  WHERE size(r) <= $max_hops AND size([rel IN r WHERE type(rel) = 'FAMILY']) <= $max_family)
RETURN [n IN nodes(p) | coalesce(n.id, n.key)] AS nodes,
       [rel IN relationships(p) | {type: type(rel), source: rel.source, target: rel.target, role: rel.role,
                                   share: rel.share, since: rel.since, until: rel.until}] AS links
