// Raises the store revision once a load that changed anything is written.
MATCH (m:CofiMeta {key: $key})
SET m.rev = $rev
