// Every shortest valid path between each given pair of real entities on its date, searched on the projection
// (`Resolved` nodes: merged records are one node, so a merge costs no hop and a hub counts entities), every rule applied
// inside ALL SHORTEST: each link in force (since on or before pair.at, until on or after pair.not_before: the date minus
// the lookback; dates as dates), no identifier value held by more than $hub_limit entities entered, and the
// family limit as a WHERE inside the parenthesised path pattern (a pre-filter: a shorter path with too many FAMILY
// links never hides a longer valid one). The hop limit is the quantifier's bound, which Cypher takes only as a literal:
// the max_hops slot, filled with a whole number from 2 to 16 (cofi/queries.py; Neo4j refuses a parenthesised pattern
// whose quantifier is {1,1}, so a limit of 1 is the bound 2 and `size(r) <= $max_hops`). Returns each path's steps:
// [type, from node, to node, source record, target record, role, share, since, until]
// (an identifier step names its value `kind:key` and has no records).
UNWIND $pairs AS pair
MATCH (d:Resolved {id: pair.source})
MATCH (w:Resolved {id: pair.target})
MATCH p = ALL SHORTEST ((d)
  (()-[r:{{walked_types}}
        WHERE (r.since IS NULL OR r.since <= pair.at) AND (r.until IS NULL OR r.until >= pair.not_before)]-
   (x WHERE (x:Resolved OR x:Address OR x:Phone OR x:Email) AND coalesce(x.entities, 0) <= $hub_limit)){1,{{max_hops}}}
  (w)
  WHERE size(r) <= $max_hops AND size([rel IN r WHERE type(rel) = 'FAMILY']) <= $max_family)
RETURN pair.source AS source, pair.target AS target,
       [rel IN relationships(p) | [type(rel), coalesce(startNode(rel).id, startNode(rel).kind + ':' + startNode(rel).key),
                                   coalesce(endNode(rel).id, endNode(rel).kind + ':' + endNode(rel).key),
                                   rel.source, rel.target, rel.role, rel.share, rel.since, rel.until]] AS steps
