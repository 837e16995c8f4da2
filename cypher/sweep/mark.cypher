// Moves the incremental sweep's mark: the store revision and the rules the sweep saw.
MATCH (m:CofiMeta {key: $key})
SET m.sweep_rev = $sweep_rev, m.sweep_rules = $sweep_rules
