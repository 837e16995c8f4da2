// The schema: a uniqueness constraint per node kind, the contract date index, a full-text index on names.
// Labels are those of the vocabulary table (cofi/vocab.py); tests/test_cypher.py checks that every label has its constraint.
// Every person, agency, company and contract also carries the label Entity (ids are unique across kinds, as in a bundle).
CREATE CONSTRAINT entity_id IF NOT EXISTS FOR (n:Entity) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT person_id IF NOT EXISTS FOR (n:Person) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT agency_id IF NOT EXISTS FOR (n:Agency) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT company_id IF NOT EXISTS FOR (n:Company) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT contract_id IF NOT EXISTS FOR (n:Contract) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT address_key IF NOT EXISTS FOR (n:Address) REQUIRE n.key IS UNIQUE;
CREATE CONSTRAINT phone_key IF NOT EXISTS FOR (n:Phone) REQUIRE n.key IS UNIQUE;
CREATE CONSTRAINT email_key IF NOT EXISTS FOR (n:Email) REQUIRE n.key IS UNIQUE;
CREATE CONSTRAINT finding_id IF NOT EXISTS FOR (n:Finding) REQUIRE n.finding_id IS UNIQUE;
CREATE CONSTRAINT resolved_id IF NOT EXISTS FOR (n:Resolved) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT restriction_id IF NOT EXISTS FOR (n:Restriction) REQUIRE n.restriction_id IS UNIQUE;
CREATE CONSTRAINT match_decision_id IF NOT EXISTS FOR (n:MatchDecision) REQUIRE n.match_id IS UNIQUE;
CREATE CONSTRAINT cofi_meta_key IF NOT EXISTS FOR (n:CofiMeta) REQUIRE n.key IS UNIQUE;
CREATE INDEX contract_signed_on IF NOT EXISTS FOR (n:Contract) ON (n.signed_on);
CREATE INDEX entity_rev IF NOT EXISTS FOR (n:Entity) ON (n.rev);
CREATE INDEX entity_strong_key IF NOT EXISTS FOR (n:Entity) ON (n.strong_key);
CREATE INDEX finding_contract IF NOT EXISTS FOR (n:Finding) ON (n.contract_id);
CREATE INDEX touched_rev IF NOT EXISTS FOR (n:CofiTouched) ON (n.rev);
CREATE TEXT INDEX entity_search_key IF NOT EXISTS FOR (n:Entity) ON (n.search_key);
CREATE FULLTEXT INDEX entity_names IF NOT EXISTS FOR (n:Person|Company|Agency) ON EACH [n.name, n.search_key];
