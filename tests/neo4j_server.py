"""The Neo4j half of the conformance suite: a clean database to run on, or a visible skip.

The suite runs on the server `NEO4J_URI` points at (credentials from `NEO4J_USERNAME` /
`NEO4J_PASSWORD`, database from `NEO4J_DATABASE`).  Before each test it wipes the database, but
only one that is empty or that this suite marked as its own (a `CofiMeta` node with key
`conformance`): a database holding anything else, a real cofi store included, is refused.
"""

from __future__ import annotations

import os

import pytest

from cofi.queries import query
from cofi.store.neo4j import SCHEMA_VERSION, run

SUITE_KEY = "conformance"
SKIP_REASON = (
    "Neo4j half of the conformance suite: NEO4J_URI is not set (it needs a Neo4j 5.26 server: "
    "`make test` starts one wherever Java is installed; README, 'Neo4j')"
)


def neo4j_uri() -> str:
    uri = os.environ.get("NEO4J_URI", "")
    if not uri:
        pytest.skip(SKIP_REASON)
    return uri


def fresh_database(uri: str) -> None:
    """Wipe the suite's own database (refusing any other) and mark it as the suite's."""
    from neo4j import GraphDatabase

    auth = (os.environ.get("NEO4J_USERNAME") or "neo4j", os.environ.get("NEO4J_PASSWORD", ""))
    database = os.environ.get("NEO4J_DATABASE") or None
    with (
        GraphDatabase.driver(uri, auth=auth) as driver,
        driver.session(database=database) as s,
    ):
        meta = run(s, "store/meta", key=SUITE_KEY).single(strict=True)
        if meta["created_by"] is None and meta["has_data"]:
            pytest.fail(
                f"{uri}: refusing to run the conformance suite on a database that holds data "
                "it did not create; point NEO4J_URI / NEO4J_DATABASE at an empty database"
            )
        run(s, "admin/wipe").consume()
        for statement in query("schema").statements():
            s.run(statement).consume()
        run(s, "store/meta_create", key=SUITE_KEY, created_by="cofi conformance suite",
            schema_version=SCHEMA_VERSION).consume()  # fmt: skip
