// The agencies that any of the given records heads or headed, at any time (an EMPLOYED link whose role is $head_role,
// any case and spacing): a head decides the agency's contracts, so a change near the head re-checks them.
UNWIND $ids AS id
MATCH (:Entity {id: id})-[r:EMPLOYED]->(a:Agency)
WHERE toLower(trim(r.role)) = $head_role
RETURN DISTINCT a.id AS id
