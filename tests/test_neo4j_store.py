"""The Neo4j store where no Neo4j server runs: its error lines, and its queries' parameters.

The store's behaviour against a server is the Neo4j half of the conformance suite
(tests/test_conformance.py and the `crun` tests of test_detect.py and test_sweep.py).
"""

from __future__ import annotations

import ast
import socket
import struct
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from cofi.cli import cli
from cofi.queries import all_queries, query

ROOT = Path(__file__).resolve().parent.parent
CALLERS = (ROOT / "cofi" / "store" / "neo4j.py", ROOT / "tests" / "neo4j_server.py")
RUNNERS = {"run": 1, "_write": 1, "_rows": 0, "_stream": 0, "_rows_by": 0, "_detect": 0}
"""Functions that run a named query, and the position of the name among their arguments."""


def cofi(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), env=env)


def test_an_unreachable_server_is_one_line_naming_the_uri_and_exit_3() -> None:
    for uri in ("bolt://127.0.0.1:1", "neo4j://no-such-host.invalid:7687"):
        result = cofi("--store", uri, "stats")
        assert result.exit_code == 3
        (line,) = result.stderr.strip().splitlines()
        assert line.startswith(f"cofi: error: {uri}: cannot reach Neo4j (")
        assert "Traceback" not in result.output


@pytest.fixture
def refusing_server() -> Iterator[str]:
    """A Bolt 5.0 server that answers every login with Neo4j's authentication failure."""

    def text(value: str) -> bytes:
        data = value.encode()
        return (bytes([0x80 + len(data)]) if len(data) < 16 else bytes([0xD0, len(data)])) + data

    failure = bytes([0xB1, 0x7F, 0xA2]) + text("code")
    failure += text("Neo.ClientError.Security.Unauthorized") + text("message")
    failure += text("The client is unauthorized due to authentication failure.")
    reply = struct.pack(">H", len(failure)) + failure + b"\x00\x00"
    server = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            with conn:
                conn.recv(20)  # the handshake: magic and four proposed versions
                conn.sendall(bytes([0, 0, 0, 5]))  # Bolt 5.0: HELLO carries the credentials
                conn.recv(65536)
                conn.sendall(reply)
                conn.recv(65536)

    threading.Thread(target=serve, daemon=True).start()
    yield f"bolt://127.0.0.1:{server.getsockname()[1]}"
    server.close()


def test_a_wrong_password_is_one_line_saying_so(refusing_server: str) -> None:
    env = {"NEO4J_USERNAME": "analyst", "NEO4J_PASSWORD": "wrong"}
    result = cofi("--store", refusing_server, "stats", env=env)
    assert result.exit_code == 3
    assert result.stderr.strip().splitlines() == [
        f"cofi: error: {refusing_server}: Neo4j refused the user name or password "
        "(NEO4J_USERNAME='analyst', NEO4J_PASSWORD set)"
    ]
    assert "wrong" not in result.stderr  # the password itself is never shown


def _query_calls() -> list[tuple[Path, int, str, set[str], set[str]]]:
    """(file, line, query name, keyword parameters, slot names) of every call that runs a named
    query with a literal name."""
    calls = []
    for path in CALLERS:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name not in RUNNERS or len(node.args) <= RUNNERS[name]:
                continue
            arg = node.args[RUNNERS[name]]
            if not (isinstance(arg, ast.Constant) and isinstance(arg.value, str)):
                continue  # the runners' own bodies pass the name on
            params = {k.arg for k in node.keywords if k.arg is not None}
            for spread in (k.value for k in node.keywords if k.arg is None):
                # only `**_window(...)`, whose keys are known, may spread parameters
                assert isinstance(spread, ast.Call) and getattr(spread.func, "id", "") == (
                    "_window"), (path, node.lineno)  # fmt: skip
                params |= {"at", "not_before"}
            slots: set[str] = set()
            rest = node.args[RUNNERS[name] + 1 :]
            if name == "_detect":  # (name, rules, params): the rules fill these
                params |= {"hub_limit", "max_hops", "max_family"}
                slots = {"max_hops"}
                rest = []
            if name == "_rows_by":  # (name, list parameter, values, slots)
                key = rest[0]
                assert isinstance(key, ast.Constant) and isinstance(key.value, str)
                params.add(key.value)
                rest = rest[2:]
            if rest and isinstance(rest[0], ast.Dict):
                slots = {k.value for k in rest[0].keys if isinstance(k, ast.Constant)}
            elif rest and isinstance(rest[0], ast.Name):
                slots = _slot_dict(tree, rest[0].id, node.lineno)
            calls.append((path, node.lineno, arg.value, params, slots))
    return calls


def _slot_dict(tree: ast.Module, variable: str, line: int) -> set[str]:
    """The keys of the last dict literal assigned to `variable` before `line`."""
    keys: set[str] = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Assign)
            and node.lineno < line
            and any(isinstance(t, ast.Name) and t.id == variable for t in node.targets)
            and isinstance(node.value, ast.Dict)
        ):
            keys = {k.value for k in node.value.keys if isinstance(k, ast.Constant)}
    return keys


def test_the_code_passes_each_query_exactly_the_parameters_it_uses() -> None:
    calls = _query_calls()
    assert len(calls) > 30  # the AST walk does see the store's calls
    for path, line, name, params, slots in calls:
        q = query(name)
        where = f"{path.name}:{line}: cypher/{name}.cypher"
        assert params == set(q.params), f"{where}: passes {sorted(params)}, uses {sorted(q.params)}"
        assert slots == set(q.slots), f"{where}: fills {sorted(slots)}, has {sorted(q.slots)}"
    used = {name for _, _, name, _, _ in calls}
    for q in all_queries():
        if q.name.split("/")[0] in (
            "store", "load", "graph", "sweep", "admin", "check", "project", "detect", "match",
        ):  # fmt: skip
            assert q.name in used, f"cypher/{q.name}.cypher is run by no code"


def test_every_query_run_checks_its_parameters_before_it_reaches_the_server() -> None:
    from cofi.queries import CypherError
    from cofi.store.neo4j import run

    class Unreachable:
        def run(self, text: str, params: dict[str, object]) -> None:
            raise AssertionError("a query with wrong parameters reached the server")

    with pytest.raises(CypherError, match="missing: rev; unused: revision"):
        run(Unreachable(), "store/load_beat", revision=2)  # type: ignore[arg-type]
    with pytest.raises(CypherError, match="not in the vocabulary"):
        run(Unreachable(), "load/links", {"type": "OWNS]->() DETACH DELETE n //"},  # type: ignore[arg-type]
            rows=[], rev=1)  # fmt: skip


def test_the_conformance_suite_skips_its_neo4j_half_with_a_reason(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tests.neo4j_server import SKIP_REASON, neo4j_uri

    monkeypatch.delenv("NEO4J_URI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="NEO4J_URI is not set"):
        neo4j_uri()
    assert "Neo4j 5.26" in SKIP_REASON


def test_load_batches_share_one_kind_and_come_out_as_they_fill(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from cofi.store import neo4j

    monkeypatch.setattr(neo4j, "BATCH", 2)
    items = ["p1", "c1", "p2", "p3", "c2", "p4", "c3"]
    got = list(neo4j._batches_by(items, lambda s: s[0]))
    assert got == [("p", ["p1", "p2"]), ("c", ["c1", "c2"]), ("p", ["p3", "p4"]), ("c", ["c3"])]


def test_a_finding_is_written_with_each_path_node_matched_by_id_or_identifier_key(
    tmp_path: Path,
) -> None:
    """The rows `sweep/findings_write.cypher` receives, from a real finding through a shared
    address (an identifier node is matched by its kind's key, an entity by its id)."""
    from cofi.store.embedded import EmbeddedStore
    from cofi.store.neo4j import _finding_row
    from cofi.sweep import Rules, sweep
    from tests.test_detect import SCENARIOS

    runner = CliRunner()
    store_dir = tmp_path / "store"
    assert runner.invoke(cli, ["--store", str(store_dir), "load", str(SCENARIOS)]).exit_code == 0
    store = EmbeddedStore(store_dir, create=False)
    try:
        found = sweep(store, Rules(), everything=True, signed_since=None).reported
    finally:
        store.close()
    (f,) = [x for x in found if x.pattern == "SHARED_ADDRESS"]
    row = _finding_row(f)
    assert row["props"]["finding_id"] == f.finding_id and row["props"]["active"] is True
    assert set(row) == {"finding_id", "contract_id", "decision_maker_id", "winner_id", "props",
                        "steps"}  # fmt: skip
    first, middle, last = row["steps"]
    assert first == {"step": 0, "id": f.decision_maker_id, "address": None, "phone": None,
                     "email": None}  # fmt: skip
    assert middle["id"] is None and middle["address"] == f.path[2]["id"].split(":", 1)[1]
    assert last["id"] == f.winner_id and last["step"] == 2
    query("sweep/findings_write").check({"rows": [row], "sweep_id": "s1"})
