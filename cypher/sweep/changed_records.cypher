// Ids of entities written after revision $since_rev, and of the ends of every link written after it that it may
// affect: a DECIDED link, an EMPLOYED link into an agency, a conflict notice or a recusal changes who decides a
// contract or what they disclosed, not any path between others, so only its contract (or agency) is returned; a
// declared relative or interest changes its person's findings, so the person is; any other link may join or separate
// people within reach of either end, so both ends are.
MATCH (n:Entity)
WHERE n.rev > $since_rev
RETURN n.id AS id
UNION
MATCH (a:Entity)-[r]->(b:Entity)
WHERE r.rev > $since_rev
UNWIND CASE
         WHEN r:DECLARED_RELATIVE OR r:DECLARED_INTEREST THEN [a.id]
         WHEN r:DECIDED OR r:NOTIFIED_CONFLICT OR r:RECUSED OR b:Agency THEN [b.id]
         ELSE [a.id, b.id]
       END AS id
RETURN id
