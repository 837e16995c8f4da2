// Forgets the touched log up to the sweep mark: the sweep has re-checked around it.
MATCH (t:CofiTouched)
WHERE t.rev <= $sweep_rev
DELETE t
