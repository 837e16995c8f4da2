// Whether anyone declared a relative or an interest at all (when nobody did, a check reads no filings).
RETURN EXISTS { MATCH (:Entity)-[:DECLARED_RELATIVE|DECLARED_INTEREST]->(:Entity) } AS any
