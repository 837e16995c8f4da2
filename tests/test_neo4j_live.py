"""The Neo4j store against a live Neo4j 5.26 server (`make test` starts one): its error model
(only a lost connection is exit 3), credentials in a URI, the schema made once."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner, Result

from cofi.cli import cli
from tests.conftest import DEMO
from tests.neo4j_server import fresh_database, neo4j_uri


@pytest.fixture
def live() -> Iterator[str]:
    uri = neo4j_uri()
    fresh_database(uri)
    yield uri


def cofi(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), env=env)


def run_cypher(text: str, **params: object) -> list[tuple[object, ...]]:
    from neo4j import GraphDatabase

    auth = (os.environ.get("NEO4J_USERNAME") or "neo4j", os.environ.get("NEO4J_PASSWORD", ""))
    with GraphDatabase.driver(os.environ["NEO4J_URI"], auth=auth) as driver:
        records, _, _ = driver.execute_query(text, params)  # type: ignore[arg-type]
        return [tuple(r) for r in records]


def with_credentials(uri: str, user: str, password: str) -> str:
    parts = urlsplit(uri)
    return parts._replace(netloc=f"{user}:{password}@{parts.netloc}").geturl()


def test_credentials_in_the_uri_work_and_the_password_is_never_shown(live: str) -> None:
    password = os.environ.get("NEO4J_PASSWORD", "")
    user = os.environ.get("NEO4J_USERNAME") or "neo4j"
    env = {"NEO4J_PASSWORD": "", "NEO4J_USERNAME": ""}  # only the URI holds them
    good = with_credentials(live, user, password)
    result = cofi("--store", good, "load", str(DEMO), env=env)
    assert result.exit_code == 0, result.output
    assert password not in result.output
    secret = "s3cret-Do-Not-Print"
    port = urlsplit(live).port
    for uri in (with_credentials(live, user, secret),
                with_credentials(f"bolt://127.0.0.1:{(port or 7687) + 1}", user, secret)):  # fmt: skip
        for debug in ((), ("--debug",)):
            result = cofi(*debug, "--store", uri, "stats", env=env)
            assert result.exit_code != 0
            output = result.output + (repr(result.exception) if result.exception else "")
            assert secret not in output, output
            if not debug:
                assert result.exit_code == 3
                (line,) = result.stderr.strip().splitlines()
                assert line.startswith(f"cofi: error: {uri.replace(secret, '***')}: ")


def test_a_constraint_the_data_breaks_is_exit_1_not_unreachable(live: str, tmp_path: Path) -> None:
    """A node made outside cofi with a person's id but no Entity label: the load's MERGE makes a
    second Person with that id and the server refuses it.  That is a data error (exit 1, one
    line), not a lost connection (exit 3)."""
    assert cofi("--store", live, "load", str(DEMO)).exit_code == 0
    run_cypher("CREATE (:Person {id: 'p-outsider'})")
    bundle = tmp_path / "b"
    bundle.mkdir()
    (bundle / "people.csv").write_text("id,name\np-outsider,Бөтен Адам\n", encoding="utf-8")
    result = cofi("--store", live, "load", str(bundle))
    assert result.exit_code == 1, result.output
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"cofi: error: {live}: Neo4j refused the operation: "
                           "Neo.ClientError.Schema.ConstraintValidationFailed: ")  # fmt: skip
    assert "p-outsider" in line


def test_the_schema_is_made_once_not_on_every_write(live: str, tmp_path: Path) -> None:
    assert cofi("--store", live, "load", str(DEMO)).exit_code == 0
    run_cypher("DROP INDEX entity_rev")
    bundle = tmp_path / "b"
    bundle.mkdir()
    (bundle / "people.csv").write_text("id,name\np-new,Жаңа Адам\n", encoding="utf-8")
    assert cofi("--store", live, "load", str(bundle)).exit_code == 0
    names = {n for (n,) in run_cypher("SHOW INDEXES YIELD name RETURN name")}
    assert "entity_rev" not in names  # the write did not run the schema again
    run_cypher("MATCH (m:CofiMeta {key: 'store'}) SET m.schema_version = '0'")
    (bundle / "people.csv").write_text("id,name\np-new2,Тағы Адам\n", encoding="utf-8")
    assert cofi("--store", live, "load", str(bundle)).exit_code == 0
    names = {n for (n,) in run_cypher("SHOW INDEXES YIELD name RETURN name")}
    assert "entity_rev" in names  # a schema version change makes it again
