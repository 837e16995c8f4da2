// Starts a sweep's writes: while this node exists, the findings it wrote are unsettled (see sweep/findings_write).
// A sweep killed before sweep/sweep_end leaves it, so its findings stay unsettled until a later sweep rewrites them.
CREATE (:CofiSweep {id: $sweep_id, started: datetime()})
