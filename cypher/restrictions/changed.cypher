// Whether a load after $since_rev wrote what restrictions are made of: a person or an agency, a FAMILY, EMPLOYED or
// SAME_AS link (when none did, a sweep keeps the restrictions it has).
RETURN EXISTS { MATCH (n:Person) WHERE n.rev > $since_rev }
    OR EXISTS { MATCH (n:Agency) WHERE n.rev > $since_rev }
    OR EXISTS { MATCH (:Entity)-[r:FAMILY|EMPLOYED|SAME_AS]->(:Entity) WHERE r.rev > $since_rev } AS changed
