// Counts the input links of one type (the {{type}} slot, from the vocabulary): those leaving an `Entity`, so not the
// projection's copies between `Resolved` nodes. One label and one type: Neo4j's count store answers, no scan.
MATCH (:Entity)-[r:{{type}}]->()
RETURN count(r) AS n
