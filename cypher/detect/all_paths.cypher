// Every valid path of at most $max_hops between two real entities (`Resolved` nodes of the path projection), for
// `cofi path`: each link in force (since on or before $at, until on or after $not_before; dates as dates), no
// identifier value held by more than $hub_limit entities entered, at most $max_family FAMILY links. No path selector:
// every path is enumerated, so the filter after the pattern loses nothing. The hop limit is the quantifier's bound,
// the max_hops slot (a whole number from 2 to 16, cofi/queries.py), with `size(r) <= $max_hops` for a limit of 1.
// Returns each path's steps: [type, from node, to node, source record, target record, role, share, since, until]
// (an identifier step names its value `kind:key` and has no records).
MATCH (a:Resolved {id: $source})
MATCH (b:Resolved {id: $target})
MATCH p = (a)
  (()-[r:{{walked_types}}
        WHERE (r.since IS NULL OR r.since <= $at) AND (r.until IS NULL OR r.until >= $not_before)]-
   (x WHERE (x:Resolved OR x:Address OR x:Phone OR x:Email) AND coalesce(x.entities, 0) <= $hub_limit)){1,{{max_hops}}}
  (b)
WHERE size(r) <= $max_hops AND size([rel IN r WHERE type(rel) = 'FAMILY']) <= $max_family
RETURN [rel IN relationships(p) | [type(rel), coalesce(startNode(rel).id, startNode(rel).kind + ':' + startNode(rel).key),
                                   coalesce(endNode(rel).id, endNode(rel).kind + ':' + endNode(rel).key),
                                   rel.source, rel.target, rel.role, rel.share, rel.since, rel.until]] AS steps
