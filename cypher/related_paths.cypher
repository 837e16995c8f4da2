// Every shortest related-party path from a decision-maker to a winner on a date, every rule applied inside the search.
// Undirected; traversable link types and identifier links only; never through an agency or a contract;
// each link in force on $at (since on or before $at, until on or after $not_before = $at minus the lookback),
// compared as dates; no identifier node whose `holders` exceed $hub_limit.
// An identifier node sits between its holders, so a shared address costs two hops, as DESIGN.md says.
// The hop and family limits are a WHERE inside the parenthesised path pattern: a pre-filter that Neo4j applies
// while ALL SHORTEST searches, so a shorter path with too many FAMILY links never hides a longer valid one
// (a WHERE after the pattern, or a WITH … WHERE, filters only the shortest paths already chosen).
// Quantifier bounds cannot be parameters: {1,16} is the ceiling, $max_hops the limit (at most 16).
// For the Browser: records joined by SAME_AS or an IIN/BIN are separate nodes here, and a hub's `holders` counts
// records; cofi's own detection resolves both.
MATCH (dm:Person {id: $decision_maker_id})
MATCH (w:Company {id: $winner_id})
MATCH p = ALL SHORTEST ((dm)
  (()-[r:FAMILY|OWNS|DIRECTS|ASSOCIATE|EMPLOYED|HAS_ADDRESS|HAS_PHONE|HAS_EMAIL
        WHERE (r.since IS NULL OR date(r.since) <= date($at))
          AND (r.until IS NULL OR date(r.until) >= date($not_before))]-
   (x WHERE NOT x:Agency AND NOT x:Contract AND coalesce(x.holders, 0) <= $hub_limit)){1,16}
  (w)
  WHERE size(r) <= $max_hops AND size([rel IN r WHERE type(rel) = 'FAMILY']) <= $max_family)
RETURN [n IN nodes(p) | coalesce(n.id, n.key)] AS nodes,
       [rel IN relationships(p) | {type: type(rel), source: coalesce(startNode(rel).id, startNode(rel).key),
                                   role: rel.role, share: rel.share, since: rel.since, until: rel.until}] AS links
