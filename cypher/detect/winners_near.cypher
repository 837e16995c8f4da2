// For `cofi links`: every shortest valid path from one real entity (`Resolved` node of the path projection) to each
// real entity within the hop limit that won a contract (one of its records is a contract's SUPPLIER), every rule
// applied inside ALL SHORTEST as in detect/shortest_paths: each link in force (since on or before $at, until on or
// after $not_before; dates as dates), no identifier value held by more than $hub_limit entities entered, the family
// limit as a WHERE inside the parenthesised path pattern and the hop limit as the quantifier's bound (the max_hops
// slot, a whole number from 2 to 16, with `size(r) <= $max_hops` for a limit of 1).
// Returns each path's winner and steps: [type, from node, to node, source record, target record, role, share, since,
// until] (an identifier step names its value `kind:key` and has no records).
MATCH (a:Resolved {id: $source})
MATCH p = ALL SHORTEST ((a)
  (()-[r:{{walked_types}}
        WHERE (r.since IS NULL OR r.since <= $at) AND (r.until IS NULL OR r.until >= $not_before)]-
   (x WHERE (x:Resolved OR x:Address OR x:Phone OR x:Email) AND coalesce(x.entities, 0) <= $hub_limit)){1,{{max_hops}}}
  (w:Resolved WHERE EXISTS { (w)<-[:RESOLVED_AS]-(:Company)<-[:SUPPLIER]-(:Contract) })
  WHERE size(r) <= $max_hops AND size([rel IN r WHERE type(rel) = 'FAMILY']) <= $max_family)
RETURN w.id AS winner,
       [rel IN relationships(p) | [type(rel), coalesce(startNode(rel).id, startNode(rel).kind + ':' + startNode(rel).key),
                                   coalesce(endNode(rel).id, endNode(rel).kind + ':' + endNode(rel).key),
                                   rel.source, rel.target, rel.role, rel.share, rel.since, rel.until]] AS steps
