"""The conformance suite, load half: the same tests on each store (`crun` runs them on both).

Detection, incremental sweeps and triage are the conformance tests of test_detect.py and
test_sweep.py, which take the same fixture.  The Neo4j half runs when NEO4J_URI names a server and
otherwise skips with its reason (see tests/neo4j_server.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from click.testing import Result

from tests.conftest import DEMO, write_bundle

DEMO_ENTITIES = {"agency": 2, "company": 27, "contract": 5, "person": 12}
DEMO_LINKS = {"ASSOCIATE": 1, "DECIDED": 5, "DIRECTS": 3, "EMPLOYED": 5, "FAMILY": 3, "OWNS": 5}
EVIL = "x'}) DETACH DELETE n //"


def stats(crun: Callable[..., Result]) -> dict[str, Any]:
    result = crun("stats", "--json")
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def search(crun: Callable[..., Result], name: str) -> list[dict[str, Any]]:
    result = crun("search", name, "--json")
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


def test_load_counts_and_an_idempotent_reload(crun: Callable[..., Result]) -> None:
    result = crun("load", str(DEMO))
    assert result.exit_code == 0, result.output
    assert "46 entities created, 0 updated; 22 links created, 0 updated" in result.stdout
    first = stats(crun)
    assert first["entities"] == DEMO_ENTITIES and first["links"] == DEMO_LINKS
    assert first["identifiers"] == {"address": 8, "email": 2, "phone": 1}
    assert [(h["kind"], h["entities"]) for h in first["hubs"]] == [("address", 23)]
    again = crun("load", str(DEMO))
    assert again.exit_code == 0 and "nothing changed" in again.stdout
    assert stats(crun) == first
    hits = search(crun, "Aigerim Sadykova")
    assert hits[0]["id"] == "p-aigerim" and hits[0]["name"] == "Әйгерім Садықова"


def test_a_hub_counts_distinct_entities_not_records(
    crun: Callable[..., Result], tmp_path: Path
) -> None:
    """Four people and a company at one address, three of the people one person (p0 = p1 by
    SAME_AS, p1 and p2 sharing a valid IIN): three entities hold it.  (Each store reads only the
    merges of the hub candidates' holders.)"""
    addr = "г. Алматы, ул. Абая, 1"
    people = [{"id": f"p{i}", "name": f"P{i}", "address": addr} for i in range(4)]
    people[1]["iin"] = people[2]["iin"] = "800312400002"
    links = [{"source": "p0", "target": "p1", "type": "SAME_AS"}]
    companies = [{"id": "c0", "name": "C", "address": addr}]
    bundle = write_bundle(tmp_path / "b", {"person": people, "company": companies, "link": links})
    assert crun("load", str(bundle)).exit_code == 0

    def hubs(limit: int) -> list[int]:
        result = crun("stats", "--hub-limit", str(limit), "--json")
        assert result.exit_code == 0, result.output
        return [h["entities"] for h in json.loads(result.stdout)["hubs"]]

    assert hubs(2) == [3]  # p0-p2, p3, c0
    assert hubs(3) == []


def test_a_changed_row_is_updated_in_place_and_a_bad_bundle_writes_nothing(
    crun: Callable[..., Result], tmp_path: Path
) -> None:
    assert crun("load", str(DEMO)).exit_code == 0
    before = stats(crun)
    renamed = {"id": "p-aigerim", "name": "Әйгерім Нұрланқызы", "birth_date": "1978-03-12"}
    result = crun("load", str(write_bundle(tmp_path / "renamed", {"person": [renamed]})))
    assert result.exit_code == 0, result.output
    assert "0 entities created, 1 updated" in result.stdout
    assert search(crun, "Нұрланқызы")[0]["id"] == "p-aigerim"
    assert stats(crun) == before
    bad = write_bundle(tmp_path / "bad", {
        "person": [{"id": "p-new", "name": "Жаңа Адам"}],
        "link": [{"source": "p-new", "target": "co-nowhere", "type": "OWNS", "share": "10"}],
    })  # fmt: skip
    result = crun("load", str(bad))
    assert result.exit_code == 1
    assert f"{bad / 'links.csv'}:2: target: unknown id 'co-nowhere'" in result.stderr
    assert stats(crun) == before and search(crun, "Жаңа Адам") == []


def test_names_that_look_like_cypher_load_and_come_back_unchanged(
    crun: Callable[..., Result], tmp_path: Path
) -> None:
    """Every value reaches Neo4j as a parameter: a name written as Cypher is only a name."""
    company = 'ТОО "Robert"); MATCH (n) DETACH DELETE n; //'
    bundle = write_bundle(tmp_path / "evil", {
        "person": [{"id": "p-evil'}) //", "name": EVIL, "address": EVIL}],
        "company": [{"id": "c-evil", "name": company, "address": EVIL}],
        "link": [{"source": "p-evil'}) //", "target": "c-evil", "type": "DIRECTS",
                  "role": "director'}) DETACH DELETE n //"}],
    })  # fmt: skip
    result = crun("load", str(bundle))
    assert result.exit_code == 0, result.output
    assert stats(crun)["entities"] == {"company": 1, "person": 1}
    (hit,) = search(crun, EVIL)
    assert (hit["id"], hit["name"]) == ("p-evil'}) //", EVIL)
    assert search(crun, "Robert")[0]["name"] == company
    paths = [
        json.loads(x)
        for x in crun("path", "p-evil'}) //", "c-evil", "--json").stdout.split("\n")
        if x
    ]
    assert [p["hops"] for p in paths] == [1, 2]  # directs it; shares its address
    first, second = paths
    assert first["path"][1]["role"] == "director'}) DETACH DELETE n //"
    assert first["path"][2]["name"] == company
    assert second["path"][2] == {"id": "address:" + second["path"][2]["id"].split(":", 1)[1],
                                 "kind": "address", "name": EVIL}  # fmt: skip


def test_a_value_too_long_for_an_index_key_is_an_invalid_row_on_both_stores(
    crun: Callable[..., Result], tmp_path: Path
) -> None:
    """Contact values and identifiers are keys of Neo4j's range indexes (8 KB at most): one limit,
    1,000 characters, checked at validation on both stores, so nothing is written half-way."""
    bundle = write_bundle(tmp_path / "long", {"person": [
        {"id": "p-ok", "name": "Жаңа Адам"},
        {"id": "p-long", "name": "Ұзын Мекенжай", "address": "А" * 4_000},
        {"id": "p-edge", "name": "Шеткі", "email": "e" * 995 + "@x.kz"},
    ]})  # fmt: skip
    result = crun("load", str(bundle))
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == (
        f"{bundle / 'people.csv'}:3: address: String should have at most 1000 characters"
    )
    assert search(crun, "Жаңа Адам") == []
    assert crun("load", str(write_bundle(tmp_path / "edge", {"person": [
        {"id": "p-edge", "name": "Шеткі", "email": "e" * 995 + "@x.kz"}]}))).exit_code == 0  # fmt: skip
