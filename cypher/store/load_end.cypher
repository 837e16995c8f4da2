// Ends a load: it no longer holds sweeps back; the store's revision is raised to the load's when it changed anything.
MATCH (m:CofiMeta {key: $key})
SET m.rev = CASE WHEN $changed AND coalesce(m.rev, 0) < $rev THEN $rev ELSE m.rev END
WITH m
OPTIONAL MATCH (l:CofiLoad {rev: $rev})
DELETE l
