// Deletes every node and relationship in batches: the conformance suite's clean start, run only on a database cofi made.
// CALL … IN TRANSACTIONS must run in an auto-commit transaction (the driver's session.run).
MATCH (n)
CALL (n) {
  DETACH DELETE n
} IN TRANSACTIONS OF 10000 ROWS
