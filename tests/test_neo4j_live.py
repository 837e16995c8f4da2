"""The Neo4j store against a live Neo4j 5.26 server (`make test` starts one): its error model
(only a lost connection is exit 3), credentials in a URI, the schema made once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner, Result

from cofi.bulk import write_bulk_bundle
from cofi.cli import cli
from tests.conftest import DEMO, write_bundle
from tests.neo4j_server import fresh_database, neo4j_uri
from tests.test_detect import SCENARIOS, expected
from tests.test_rings import assert_explore_draws_the_whole_graphs_view


@pytest.fixture
def live() -> Iterator[str]:
    uri = neo4j_uri()
    fresh_database(uri)
    yield uri


def cofi(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), env=env)


def driver() -> Any:
    """A driver for the suite's server (NEO4J_URI and its credentials)."""
    from neo4j import GraphDatabase

    auth = (os.environ.get("NEO4J_USERNAME") or "neo4j", os.environ.get("NEO4J_PASSWORD", ""))
    return GraphDatabase.driver(os.environ["NEO4J_URI"], auth=auth)


def run_cypher(text: str, **params: object) -> list[tuple[object, ...]]:
    with driver() as d:
        records, _, _ = d.execute_query(text, params)
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


def dump() -> tuple[list[object], list[object]]:
    """Every node and relationship of the store's graph, without what only records when it was
    written (`rev`, `swept_rev`) and without the store's own bookkeeping nodes."""
    nodes = run_cypher(
        "MATCH (n) WHERE NOT n:CofiMeta AND NOT n:CofiLoad AND NOT n:CofiTouched "
        "RETURN labels(n) AS labels, properties(n) AS props"
    )
    rels = run_cypher(
        "MATCH (a)-[r]->(b) RETURN type(r) AS type, coalesce(a.id, a.key) AS a, "
        "coalesce(b.id, b.key) AS b, properties(r) AS props"
    )

    def clean(props: object) -> list[tuple[str, str]]:
        assert isinstance(props, dict)
        return sorted((k, repr(v)) for k, v in props.items() if k not in ("rev", "swept_rev"))

    node_rows = sorted(repr((sorted(labels), clean(props))) for labels, props in nodes)  # type: ignore[arg-type]
    rel_rows = sorted(repr((t, a, b, clean(p))) for t, a, b, p in rels)
    return node_rows, rel_rows  # type: ignore[return-value]


def merged_bundles(directory: Path) -> tuple[Path, Path]:
    """Two loads of 40 people and 10 companies whose entities span records far apart in id
    order: a SAME_AS chain, equal IINs, and in the second load one IIN changed (splitting an
    old entity) and a new SAME_AS (joining two)."""
    from cofi.synth.kazakh import iin

    same = iin(date(1980, 3, 12), False, 7)

    def people(changed: bool) -> list[dict[str, Any]]:
        rows = [{"id": f"p{i:02d}", "name": f"Адам {i}", "birth_date": "1980-03-12"}
                for i in range(40)]  # fmt: skip
        for i in (5, 33, 39):
            rows[i]["iin"] = same
        if changed:
            rows[33]["iin"] = iin(date(1980, 3, 12), False, 900)
        return rows

    companies = [{"id": f"c{i:02d}", "name": f"Серік {i}"} for i in range(10)]
    links = [
        {"source": "p01", "target": "p38", "type": "SAME_AS"},
        {"source": "p02", "target": "p20", "type": "SAME_AS"},
        {"source": "p20", "target": "p37", "type": "SAME_AS"},
        *({"source": f"p{i:02d}", "target": f"p{i + 1:02d}", "type": "FAMILY", "role": "sibling"}
          for i in range(0, 39, 3)),
        *({"source": f"p{i:02d}", "target": f"c{i % 10:02d}", "type": "OWNS", "share": "50"}
          for i in range(0, 40, 4)),
    ]  # fmt: skip
    first = write_bundle(directory / "first", {"person": people(False), "company": companies,
                                               "link": links})  # fmt: skip
    second = write_bundle(directory / "second", {
        "person": people(True),
        "link": [{"source": "p10", "target": "p30", "type": "SAME_AS"}],
    })  # fmt: skip
    return first, second


def test_a_projection_made_a_few_records_at_a_time_is_the_one_made_at_once(
    live: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A load projects its records BATCH at a time, each batch widened to every record its
    entities join or split; with batches of 3 the graph is the one batches of 10,000 make,
    across two loads whose entities span records far apart (a merge chain, equal IINs, an old
    entity split and two joined)."""
    import cofi.store.neo4j as store_module

    first, second = merged_bundles(tmp_path)

    def loaded() -> tuple[list[object], list[object]]:
        fresh_database(live)
        for bundle in (first, second):
            result = cofi("--store", live, "load", str(bundle))
            assert result.exit_code == 0, result.output
        return dump()

    at_once = loaded()
    monkeypatch.setattr(store_module, "BATCH", 3)
    assert loaded() == at_once
    groups = run_cypher(
        "MATCH (e:Entity)-[:RESOLVED_AS]->(r:Resolved) WITH r, collect(e.id) AS ids "
        "WHERE size(ids) > 1 RETURN ids"
    )
    assert sorted(sorted(ids) for (ids,) in groups) == [  # type: ignore[call-overload]
        ["p01", "p38"],
        ["p02", "p20", "p37"],
        ["p05", "p39"],
        ["p10", "p30"],
    ]


def test_a_loads_memory_is_a_batch_not_the_bundle(
    live: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The peak Python memory of a load's writes to Neo4j (its entities with their contact keys,
    the contracts' parties, the identifiers' holders, the projection) is a batch's, BATCH rows
    (50 here), whether the bundle has 2,000 rows or 8,000; the bundle's (every record held for
    the projection, every contact key, every contract, as cofi once did) grows with it."""
    import tracemalloc

    import cofi.store.neo4j as store_module

    monkeypatch.setattr(store_module, "BATCH", 50)
    write = store_module.Neo4jStore.write
    peaks: list[int] = []

    def traced(self: Any, plan: Any) -> Any:
        plan.complete()  # (the loader's checks of the links, not the store's write: done first)
        tracemalloc.start()
        try:
            return write(self, plan)
        finally:
            peaks.append(tracemalloc.get_traced_memory()[1])
            tracemalloc.stop()

    monkeypatch.setattr(store_module.Neo4jStore, "write", traced)
    for rows in (500, 2_000, 8_000):  # (the first pays for what a write imports)
        bundle = tmp_path / str(rows)
        write_bulk_bundle(bundle, rows, seed=3)
        fresh_database(live)
        result = cofi("--store", live, "load", str(bundle))
        assert result.exit_code == 0, result.output
    _, small, large = peaks
    assert large < small * 1.1 + 256 * 1024, (small, large)


def cofi_process(uri: str, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "cofi", "--store", uri, *args],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip


def wait_for(condition: Callable[[], bool], seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.mark.slow
def test_a_load_killed_mid_way_and_run_again_ends_as_one_clean_load(
    live: str, tmp_path: Path
) -> None:
    bundle = tmp_path / "bulk"
    write_bulk_bundle(bundle, 12_000, seed=3)
    assert cofi_process(live, "load", str(bundle)).wait() == 0
    clean = dump()
    swept = cofi("--store", live, "sweep", "--format", "jsonl")
    assert swept.exit_code == 0
    clean_findings = sorted(swept.stdout.splitlines())
    # killed once some entity batch is written (the others, the derived links, the links: not),
    # and once some link batch is written
    for written in ("MATCH (n:Person) RETURN count(n) > 0", "MATCH ()-[r:FAMILY]->() RETURN count(r) > 0"):  # fmt: skip
        fresh_database(live)
        proc = cofi_process(live, "load", str(bundle))
        wait_for(lambda q=written: run_cypher(q)[0][0] is True)  # type: ignore[misc]
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert dump() != clean, "the load was not killed mid-way"
        again = cofi("--store", live, "load", str(bundle))
        assert again.exit_code == 0, again.output
        assert dump() == clean, written
        swept = cofi("--store", live, "sweep", "--format", "jsonl")
        assert sorted(swept.stdout.splitlines()) == clean_findings


@pytest.mark.slow
def test_two_loads_at_once_both_land_and_the_next_sweep_re_checks_both(
    live: str, tmp_path: Path
) -> None:
    """A slow load A and a quick load B overlap; a sweep runs after B and before A ends.  Both
    loads must land and A's change (a director link written last) must be re-checked by the next
    sweep: two loads once shared one revision, and the sweep marked it as seen."""
    assert cofi("--store", live, "load", str(SCENARIOS)).exit_code == 0
    assert cofi("--store", live, "sweep").exit_code == 0
    slow = tmp_path / "slow"
    write_bulk_bundle(slow, 60_000, seed=5)  # (the sweep meanwhile also looks for restrictions)
    with (slow / "links.csv").open("a", encoding="utf-8", newline="") as fh:
        fh.write("p-s11,co-s11,DIRECTS,,,2020-01-01,,written last\n")
    quick = write_bundle(tmp_path / "quick", {"link": [
        {"source": "p-s12", "target": "p-s12w", "type": "ASSOCIATE", "since": "2020-01-01"}]})  # fmt: skip
    load_a = cofi_process(live, "load", str(slow))
    wait_for(lambda: run_cypher("MATCH (n:Entity) WHERE n.id STARTS WITH 'p1' "
                                "RETURN count(n) > 0")[0][0] is True)  # fmt: skip
    assert cofi("--store", live, "load", str(quick)).exit_code == 0
    meanwhile = cofi("--store", live, "sweep", "--format", "jsonl")
    assert meanwhile.exit_code == 0
    assert load_a.poll() is None, "load A ended before the sweep: make its bundle larger"
    assert load_a.wait() == 0
    after = cofi("--store", live, "sweep", "--format", "jsonl")
    reported = {(f["contract_id"], f["decision_maker_id"], f["winner_id"])
                for f in map(json.loads, (meanwhile.stdout + after.stdout).splitlines())
                if f.get("kind") != "restriction"}  # fmt: skip
    assert ("S11", "p-s11", "co-s11") in reported  # load A's change
    assert ("S12", "p-s12", "co-s12") in reported  # load B's change


def named_records(name: str, **params: object) -> list[Any]:
    """The records of the query `cypher/<name>.cypher`, as the Browser would run it."""
    from cofi.queries import query

    q = query(name)
    q.check(params)
    with driver() as d:
        records, _, _ = d.execute_query(q.bind(), params)
        return list(records)


def named(name: str, **params: object) -> list[dict[str, Any]]:
    return [r.data() for r in named_records(name, **params)]


def ids_in(value: object) -> set[str]:
    """Every `id` in a record's data (nodes, paths and lists of them, as `Record.data` gives)."""
    found: set[str] = set()
    if isinstance(value, dict):
        if isinstance(value.get("id"), str):
            found.add(value["id"])
        for v in value.values():
            found |= ids_in(v)
    elif isinstance(value, list | tuple):
        for v in value:
            found |= ids_in(v)
    return found


def test_each_saved_browser_query_returns_what_its_comment_promises(live: str) -> None:
    assert cofi("--store", live, "load", str(DEMO)).exit_code == 0
    sweep = cofi("--store", live, "sweep", "--format", "jsonl")
    (k17,) = [f for f in map(json.loads, sweep.stdout.splitlines()) if f["contract_id"] == "K-17"]
    # a company's owners up the holding chain, with each share
    chains = named("browse/company_owners", company_id="co-altyn")
    assert ids_in(chains) == {"co-altyn", "co-steppe", "p-irina"}
    shares = {rel.start_node["id"]: rel["share"]
              for r in named_records("browse/company_owners", company_id="co-altyn")
              for rel in r["chain"].relationships}  # fmt: skip
    assert shares == {"co-steppe": 70.0, "p-irina": 30.0}
    # a finding with its contract, decision-maker, winner and path
    (row,) = named("browse/finding_path", finding_id=k17["finding_id"])
    assert [n["id"] for n in row["path"]] == [n["id"] for n in k17["path"][::2]]  # type: ignore[attr-defined]
    assert (row["k"]["id"], row["dm"]["id"], row["w"]["id"]) == (  # type: ignore[index]
        "K-17", k17["decision_maker_id"], k17["winner_id"])  # fmt: skip
    # identifier nodes shared by more than $hub_limit: the demo's mass-registration address
    (hub,) = named("browse/hubs", hub_limit=20)
    assert (hub["kind"], hub["holders"]) == ("Address", 23)
    assert named("browse/hubs", hub_limit=23) == []
    # an entity and everything up to two links away
    around = ids_in(named("browse/neighbourhood", id="p-aigerim"))
    assert {"p-aigerim", "p-nurlan", "co-dala", "ag-health", "K-17"} <= around
    # an official's family and associates, and the companies any of them owns or directs
    (family,) = named("browse/official_family_companies", person_id="p-aigerim")
    assert "p-nurlan" in ids_in(family["family"]) and "co-dala" in ids_in(family["business"])


def day(text: str) -> date:
    return date.fromisoformat(text)


def test_the_browser_path_query_finds_a_longer_valid_path_behind_a_family_heavy_one(
    live: str, tmp_path: Path
) -> None:
    """With at most one FAMILY link, the shortest path (spouse, sibling, owner: 3 hops) is
    invalid; the 4-hop path through associates is the answer.  Filtering after ALL SHORTEST
    returned nothing; the limits inside the path pattern prune during the search."""
    people = [{"id": x, "name": f"Person {x}"} for x in ("D", "A", "B", "E", "G", "H")]
    links = [
        {"source": "D", "target": "A", "type": "FAMILY", "role": "spouse"},
        {"source": "A", "target": "B", "type": "FAMILY", "role": "sibling"},
        {"source": "B", "target": "W", "type": "OWNS", "share": "50"},
        {"source": "D", "target": "E", "type": "ASSOCIATE"},
        {"source": "E", "target": "G", "type": "ASSOCIATE"},
        {"source": "G", "target": "H", "type": "ASSOCIATE"},
        {"source": "H", "target": "W", "type": "OWNS", "share": "10", "since": "2024-06-01"},
    ]
    bundle = write_bundle(tmp_path / "b", {"person": people, "link": links,
                                           "company": [{"id": "W", "name": "Winner"}]})  # fmt: skip
    assert cofi("--store", live, "load", str(bundle)).exit_code == 0
    params = {"decision_maker_id": "D", "winner_id": "W", "hub_limit": 20, "max_hops": 4}
    rows = named("related_paths", at=day("2025-01-01"), not_before=day("2024-01-01"), max_family=1,
                 **params)  # fmt: skip
    assert [r["nodes"] for r in rows] == [["D", "E", "G", "H", "W"]]
    cli = cofi(
        "--store", live, "path", "D", "W", "--at", "2025-01-01", "--max-family", "1", "--json"
    )
    assert json.loads(cli.stdout.splitlines()[0])["hops"] == 4  # cofi's own search agrees
    both = named("related_paths", at=day("2025-01-01"), not_before=day("2024-01-01"), max_family=2,
                 **params)  # fmt: skip
    assert [r["nodes"] for r in both] == [["D", "A", "B", "W"]]
    # in force on the date: the 4-hop path's last stake starts later
    early = named("related_paths", at=day("2024-03-01"), not_before=day("2023-03-01"), max_family=1,
                  **params)  # fmt: skip
    assert early == []


def test_paths_on_the_server_cross_merges_at_no_hop_and_count_a_hubs_entities(
    live: str, tmp_path: Path
) -> None:
    """The projection: M1 and M2 share a valid IIN (one person), so D's spouse M1 owning W
    through her other record M2 is a 2-hop path, which the records alone do not have; and an
    address held by D, D's second record D2 and Q is held by two real entities, not three, so
    with --hub-limit 2 it is no hub and D reaches Q's company V through it.  The Browser query
    and cofi's check both find them on the server."""
    from cofi.synth.kazakh import with_check_digit

    iin_m, iin_d = with_check_digit("850101400", 123), with_check_digit("790202300", 456)
    street = "г. Алматы, ул. Абая, 1"
    people = [
        {"id": "D", "name": "Д", "iin": iin_d, "address": street},
        {"id": "D2", "name": "Д", "iin": iin_d, "address": street},
        {"id": "Q", "name": "Қ", "address": street},
        {"id": "M1", "name": "М", "iin": iin_m},
        {"id": "M2", "name": "М", "iin": iin_m},
    ]
    links = [
        {"source": "D", "target": "M1", "type": "FAMILY", "role": "spouse"},
        {"source": "M2", "target": "W", "type": "OWNS", "share": "60"},
        {"source": "Q", "target": "V", "type": "DIRECTS"},
        {"source": "D", "target": "KW", "type": "DECIDED", "role": "chair"},
        {"source": "D", "target": "KV", "type": "DECIDED", "role": "chair"},
    ]
    contracts = [{"id": k, "buyer_id": "A", "supplier_id": k[1], "signed_on": "2025-01-10"}
                 for k in ("KW", "KV")]  # fmt: skip
    bundle = write_bundle(tmp_path / "b", {
        "person": people, "link": links, "contract": contracts,
        "agency": [{"id": "A", "name": "Агенттік"}],
        "company": [{"id": "W", "name": "W"}, {"id": "V", "name": "V"}],
    })  # fmt: skip
    assert cofi("--store", live, "load", str(bundle)).exit_code == 0
    when = {"at": day("2025-01-10"), "not_before": day("2024-01-10"), "max_family": 2}
    (spouse,) = named("related_paths", decision_maker_id="D", winner_id="W", hub_limit=2,
                      max_hops=4, **when)  # fmt: skip
    assert spouse["nodes"] == ["D", "M1", "W"]  # M1 and M2 are one node
    (shared,) = named("related_paths", decision_maker_id="D2", winner_id="V", hub_limit=2,
                      max_hops=4, **when)  # fmt: skip
    assert len(shared["nodes"]) == 4 and shared["nodes"][2] == "Q"
    assert named("related_paths", decision_maker_id="D", winner_id="V", hub_limit=1,
                 max_hops=4, **when) == []  # fmt: skip
    found = cofi("--store", live, "sweep", "--hub-limit", "2", "--format", "jsonl")
    got = {(f["contract_id"], f["pattern"], f["hops"])
           for f in map(json.loads, found.stdout.splitlines())}  # fmt: skip
    assert got == {("KW", "FAMILY", 2), ("KV", "SHARED_ADDRESS", 3)}, found.output


@pytest.mark.slow
def test_the_server_stopped_during_a_sweep_is_exit_3_and_the_next_sweep_completes(
    tmp_path: Path,
) -> None:
    """A server of the test's own (tools/neo4j_ctl.py), stopped while a sweep runs: one line,
    exit 3, nothing half-written; started again, the next sweep completes."""
    import shutil
    import socket

    if shutil.which("java") is None:
        pytest.skip("no Java here to start a second Neo4j")
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
    import neo4j_ctl

    home, password = tmp_path / "server", "a-password-for-this-test"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    uri = neo4j_ctl.start(home, port, password)
    env = {**os.environ, "NEO4J_URI": uri, "NEO4J_PASSWORD": password, "NEO4J_USERNAME": "neo4j"}
    env.pop("NEO4J_DATABASE", None)
    command = [sys.executable, "-m", "cofi", "--store", uri]
    try:
        bundle = tmp_path / "bulk"
        write_bulk_bundle(bundle, 12_000, seed=7)
        for path in (SCENARIOS, bundle):
            subprocess.run([*command, "load", str(path)], env=env, check=True,
                           capture_output=True)  # fmt: skip
        with subprocess.Popen([*command, "sweep", "--format", "jsonl"], env=env, text=True,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) as sweep:  # fmt: skip
            time.sleep(1.0)
            assert sweep.poll() is None, "the sweep ended before the server stopped"
            neo4j_ctl.stop(home)
            _, err = sweep.communicate(timeout=300)
        assert sweep.returncode == 3, err
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"cofi: error: {uri}: "), err
        neo4j_ctl.start(home, port, password)
        done = subprocess.run([*command, "sweep", "--format", "jsonl"], env=env, text=True,
                              capture_output=True)  # fmt: skip
        assert done.returncode == 0, done.stderr
        got = {(f["contract_id"], f["decision_maker_id"], f["winner_id"])
               for f in map(json.loads, done.stdout.splitlines())}  # fmt: skip
        assert {(c, d, w) for c, d, w, _, _ in expected()} <= got
    finally:
        neo4j_ctl.stop(home)


@pytest.fixture
def names(live: str, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The scenarios loaded; then the name of every query the store runs, in order."""
    import cofi.store.neo4j as store_module

    assert cofi("--store", live, "load", str(SCENARIOS)).exit_code == 0
    names: list[str] = []
    real_run = store_module.run

    def recording(runner: Any, name: str, *args: Any, **params: Any) -> Any:
        names.append(name)
        return real_run(runner, name, *args, **params)

    monkeypatch.setattr(store_module, "run", recording)
    return names


def test_check_on_neo4j_searches_on_the_server_and_reads_only_the_paths(
    live: str, names: list[str]
) -> None:
    """`check` sends the contract's decision-makers and winner to the server's path search and
    reads back the paths' records: no ring walk, no query that reads every node or link."""
    result = cofi("--store", live, "check", "S04", "--format", "jsonl")
    assert result.exit_code == 0, result.output
    (finding,) = map(json.loads, result.stdout.splitlines())
    assert (finding["pattern"], finding["hops"]) == ("ASSOCIATE", 2)
    assert "check/contracts" in names and "detect/shortest_paths" in names
    assert "check/links_around" not in names  # the server searches; no ring is read
    assert not [n for n in names if n.startswith("graph/")], names
    missing = cofi("--store", live, "check", "NO-SUCH")
    assert missing.exit_code == 1 and "no contract 'NO-SUCH' in the store" in missing.stderr


def test_no_command_reads_the_whole_graph_on_neo4j(
    live: str, tmp_path: Path, names: list[str]
) -> None:
    """`check`, `path`, `links`, `explore`, `stats` and every kind of sweep (the first, an
    incremental one after a load, `--all`, `--since`) ask the server for neighbourhoods only: no
    query that reads every node or link (`graph/*`) or every merge (`store/same_as`,
    `store/strong_groups`) runs, and each still gives its answer."""
    link = {"source": "p-s11", "target": "co-s11", "type": "DIRECTS", "since": "2020-01-01"}
    page = tmp_path / "view.html"
    commands: list[tuple[list[str], Callable[[Result], bool]]] = [
        (["check", "S04", "--format", "jsonl"], lambda r: '"ASSOCIATE"' in r.stdout),
        (["path", "p-s04", "co-s04"], lambda r: "ASSOCIATE" in r.stdout),
        (["links", "p-s04"], lambda r: "co-s04" in r.stdout),
        (["sweep", "--format", "jsonl"], lambda r: len(r.stdout.splitlines()) == len(expected())),
        (["load", str(write_bundle(tmp_path / "more", {"link": [link]}))], lambda r: True),
        (["sweep", "--format", "jsonl"], lambda r: "swept 1 of 24" in r.stderr),
        (["sweep", "--all", "--format", "jsonl"], lambda r: "swept 24 of 24" in r.stderr),
        (["sweep", "--since", "2025-01-01"], lambda r: "swept" in r.stderr),
        (["explore", "p-s04", "--out", str(page)], lambda r: page.exists()),
        (["stats", "--json"], lambda r: '"hubs"' in r.stdout),
    ]
    whole = ("store/same_as", "store/strong_groups")
    for args, answered in commands:
        names.clear()
        result = cofi("--store", live, *args)
        assert result.exit_code == 0 and answered(result), (args, result.output)
        assert not [n for n in names if n.startswith("graph/") or n in whole], (args, names)


def test_explore_on_neo4j_draws_what_it_draws_on_the_embedded_store(
    live: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The view drawn from the rings Neo4j reads is the view drawn from the whole graph of the
    same bundle on the embedded store (`assert_explore_draws_the_whole_graphs_view`), with 2
    contracts of each kind drawn around a node, so that many views are cut (Neo4j reads only
    the first 3 of each: `check/contracts_of`)."""
    from cofi.store import open_store

    monkeypatch.setattr("cofi.explore.PER_NODE", 2)

    embedded = str(tmp_path / "store")
    for where in (live, embedded):
        assert cofi("--store", where, "load", str(SCENARIOS)).exit_code == 0
        assert cofi("--store", where, "sweep", "--out", os.devnull).exit_code == 0
    whole_store, ring_store = open_store(embedded), open_store(live)
    try:
        assert assert_explore_draws_the_whole_graphs_view(ring_store, whole_store) > 20
    finally:
        whole_store.close()
        ring_store.close()


def test_a_sweeps_memory_stays_flat_as_the_graph_grows(
    live: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The scenarios swept in batches of 5 contracts (`--all`, and incrementally after a new
    link), before and after 30,000 rows of people and links that no contract reaches join the
    graph: neither sweep's peak Python memory grows with them, while a read of the whole graph
    (the control) does."""
    import tracemalloc

    import cofi.sweep as sweep_module
    from cofi.detect import Rules
    from cofi.graph import Graph
    from cofi.store import open_store

    monkeypatch.setattr(sweep_module, "BATCH_CONTRACTS", 5)
    assert cofi("--store", live, "load", str(SCENARIOS)).exit_code == 0
    assert cofi("--store", live, "sweep", "--out", os.devnull).exit_code == 0

    def traced(work: Callable[[], object]) -> int:
        tracemalloc.start()
        try:
            work()
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    def peaks(since: str) -> tuple[int, int, int]:
        """Peaks of an incremental sweep after a new link, of `sweep --all`, of a whole read."""
        link = {"source": "p-s11", "target": "co-s11", "type": "DIRECTS", "since": since}
        assert cofi("--store", live, "load", str(write_bundle(tmp_path / since, {"link": [link]}))
                    ).exit_code == 0  # fmt: skip
        store = open_store(live)
        try:
            results: list[sweep_module.SweepResult] = []
            rules = Rules()
            step = traced(lambda: results.append(sweep_module.sweep(store, rules, workers=1)))
            every = traced(
                lambda: results.append(sweep_module.sweep(store, rules, everything=True))
            )
            assert [r.checked for r in results] == [1, 24]
            assert len(results[1].reported) == len(expected()) + 1  # with S11's SELF_DEALING
            return step, every, traced(lambda: Graph.build(store.graph_rows()))
        finally:
            store.close()

    step_before, every_before, whole_before = peaks("2020-01-01")
    people = [{"id": f"x{i}", "name": f"Житель {i}", "birth_date": "1980-01-01"}
              for i in range(15_000)]  # fmt: skip
    links = [{"source": f"x{i}", "target": f"x{i + 1}", "type": "FAMILY", "role": "sibling"}
             for i in range(14_999)]  # fmt: skip
    crowd = write_bundle(tmp_path / "crowd", {"person": people, "link": links})
    assert cofi("--store", live, "load", str(crowd)).exit_code == 0
    assert cofi("--store", live, "sweep", "--out", os.devnull).exit_code == 0
    step_after, every_after, whole_after = peaks("2019-01-01")
    assert whole_after > 3 * whole_before  # the graph did grow
    assert step_after < step_before * 1.1 + 256 * 1024, (step_before, step_after)
    assert every_after < every_before * 1.1 + 256 * 1024, (every_before, every_after)


class Died(Exception):
    """A sweep's process dying between two of its transactions."""


def test_a_sweep_that_dies_between_its_batches_loses_nothing_the_next_one_must_report(
    live: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Neo4j sweep writes its findings FINDINGS_BATCH at a time (4 here) and moves its mark in
    a last transaction.  One that dies after two batches leaves 8 findings written and the mark
    unmoved; the next sweep still reports all of them, as the first sweep.  One that dies after
    writing a new finding and a gone one (before the mark) leaves the next sweep to report the
    new one and the gone one again, the dismissal kept."""
    import cofi.store.neo4j as store_module
    from cofi.detect import Rules
    from cofi.store import open_store
    from cofi.sweep import sweep

    monkeypatch.setattr(store_module, "FINDINGS_BATCH", 4)
    real_write = store_module._write

    def dying(name: str, after: int) -> Callable[..., None]:
        calls = [0]

        def write(session: Any, query_name: str, *args: Any, **params: Any) -> None:
            if query_name == name:
                if calls[0] == after:
                    raise Died(query_name)
                calls[0] += 1
            real_write(session, query_name, *args, **params)

        return write

    def found(store: Any, die: Callable[..., None] | None = None) -> Any:
        monkeypatch.setattr(store_module, "_write", die or real_write)
        return sweep(store, Rules())

    def reported(result: Any) -> set[tuple[str, str, str, str, int]]:
        return {(f.contract_id, f.decision_maker_id, f.winner_id, f.pattern, f.hops)
                for f in result.reported}  # fmt: skip

    assert cofi("--store", live, "load", str(SCENARIOS)).exit_code == 0
    store = open_store(live)
    try:
        with pytest.raises(Died):
            found(store, dying("sweep/findings_write", after=2))
        assert run_cypher("MATCH (f:Finding) RETURN count(f)") == [(8,)]  # died half-way
        first = found(store)
        assert reported(first) == expected()  # the 8 written are reported too
        assert reported(found(store)) == set()
        s04 = next(f for f in first.reported if f.contract_id == "S04").finding_id
        store.triage(s04, "dismissed", "declared")
        ended = {"source": "p-s04a", "target": "co-s04", "type": "DIRECTS", "role": "director",
                 "since": "2019-01-01", "until": "2020-01-01"}  # fmt: skip
        new = {"source": "p-s11", "target": "co-s11", "type": "DIRECTS", "since": "2020-01-01"}
        change = write_bundle(tmp_path / "change", {"link": [ended, new]})
        assert cofi("--store", live, "load", str(change)).exit_code == 0
        with pytest.raises(Died):
            found(store, dying("sweep/swept", after=0))  # S11's finding and S04 gone: written
        assert run_cypher("MATCH (f:Finding {contract_id: 'S04'}) RETURN f.active") == [(False,)]
        again = found(store)
        assert reported(again) == {("S11", "p-s11", "co-s11", "SELF_DEALING", 1)}
        assert (again.checked, again.gone) == (2, 1)
        assert reported(found(store)) == set()
        (gone,) = store.findings(contract_id="S04", active=False)
        assert (gone.status, gone.note) == ("dismissed", "declared")
        active = {f.contract_id for f in store.findings()}
        assert active == {k[0] for k in expected() if k[0] != "S04"} | {"S11"}
    finally:
        store.close()
