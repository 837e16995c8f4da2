// Finishes a sweep's writes: its findings become settled, in the same transaction as the mark (sweep/mark) it moves.
MATCH (s:CofiSweep {id: $sweep_id})
DELETE s
