// Identifier nodes (addresses, phones, emails) shared by more than $hub_limit entities: mass registrations the search does not cross.
MATCH (i) WHERE (i:Address OR i:Phone OR i:Email) AND i.holders > $hub_limit
RETURN labels(i)[0] AS kind, i.raw AS value, i.holders AS holders
ORDER BY holders DESC
