"""`cypher/`: every file is one named query whose `$parameters` are checked before it runs."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from cofi.queries import CypherError, Query, all_queries, cypher_dir, query
from cofi.vocab import (
    FINDING_LINKS,
    IDENTIFIER_KINDS,
    IDENTIFIER_LINK,
    INPUT_LINK_TYPES,
    LINK_TYPES,
    RESOLVED_AS,
    STORE_LABELS,
    Kind,
)

PACKAGE = Path(__file__).resolve().parent.parent / "cofi"


def test_every_file_is_a_named_query_with_a_comment_saying_what_it_does() -> None:
    names = {q.name for q in all_queries()}
    assert {"schema", "related_paths", "browse/finding_path", "browse/hubs",
            "browse/company_owners", "browse/official_family_companies"} <= names  # fmt: skip
    for q in all_queries():
        assert q.comment, f"cypher/{q.name}.cypher has no comment line"
        assert q.code and "//" not in q.code.splitlines()[0]


def test_parameters_are_read_from_the_code_not_the_comments() -> None:
    q = query("related_paths")
    assert q.params == {"decision_maker_id", "winner_id", "at", "not_before", "hub_limit",
                        "max_hops", "max_family"}  # fmt: skip
    assert query("browse/hubs").params == {"hub_limit"}
    fake = Query("x", "// uses $nothing\nMATCH (n {id: $id}) RETURN n")
    assert fake.params == {"id"}


def test_check_refuses_missing_and_unused_parameters() -> None:
    q = query("browse/hubs")
    q.check({"hub_limit": 20})
    with pytest.raises(CypherError, match="missing: hub_limit; unused: limit"):
        q.check({"limit": 20})
    with pytest.raises(CypherError, match="missing: none; unused: extra"):
        q.check({"hub_limit": 20, "extra": 1})


def test_slots_take_vocabulary_names_only() -> None:
    q = Query("x", "UNWIND $rows AS row MERGE (n:{{label}} {id: row.id})")
    assert q.slots == {"label"}
    assert q.bind(label=Kind.PERSON.label) == "UNWIND $rows AS row MERGE (n:Person {id: row.id})"
    with pytest.raises(CypherError, match="not in the vocabulary"):
        q.bind(label="Person {id: 1}) DETACH DELETE n //")
    with pytest.raises(CypherError, match="slots"):
        q.bind()


def test_no_query_names_a_label_or_type_outside_the_vocabulary() -> None:
    known = {k.label for k in Kind} | set(LINK_TYPES) | set(STORE_LABELS) | set(FINDING_LINKS)
    known.add(RESOLVED_AS)
    seen: set[str] = set()
    for q in all_queries():
        code = re.sub(r"'[^']*'", "''", q.code)  # string literals are values, not names
        names = set(re.findall(r"(?:\b\w+|\()?:([A-Z][A-Za-z]*)\b", code))  # n:Person, (:Person)
        for types in re.findall(r"\[\w*:([A-Z_|]+)", code):  # [r:FAMILY|OWNS
            names |= set(types.split("|"))
        assert names <= known, (q.name, names - known)
        seen |= names
    assert {"Person", "Company", "FAMILY", "OWNS", "Finding"} <= seen  # the regexes do see names


def test_the_schema_has_a_uniqueness_constraint_for_every_kind() -> None:
    statements = query("schema").statements()
    assert all(s.startswith("CREATE ") and "IF NOT EXISTS" in s for s in statements)
    for kind in Kind:
        key = "key" if kind in IDENTIFIER_KINDS else "id"
        assert any(f"(n:{kind.label}) REQUIRE n.{key} IS UNIQUE" in s for s in statements), kind
    assert any("FULLTEXT INDEX" in s for s in statements)
    assert any("ON (n.signed_on)" in s for s in statements)


@pytest.mark.parametrize("name", ["related_paths", "detect/shortest_paths"])
def test_the_path_queries_apply_their_rules_inside_the_search(name: str) -> None:
    q = query(name)
    code = q.bind(
        **{slot: "4" for slot in q.slots}
    )  # (the hop bound; the type sets fill themselves)
    assert "shortestPath" not in code and "ALL SHORTEST" in code
    match = code[code.index("ALL SHORTEST"):code.index("RETURN")]  # fmt: skip
    assert "WITH" not in match  # a WITH … WHERE after the search would be a post-filter
    for rule in ("at", "not_before", "$hub_limit", "$max_family", "$max_hops"):
        assert rule in match
    for link_name, link in LINK_TYPES.items():  # the traversable types and identifier links
        assert (link_name in match) == link.traversable, link_name


def test_a_hop_bound_slot_takes_a_whole_number_from_1_to_16_only() -> None:
    q = query("detect/shortest_paths")
    assert "{1,4}" in q.bind(max_hops="4")
    for bad in ("0", "17", "4} ) DETACH DELETE x //", "OWNS", "-1"):
        with pytest.raises(CypherError, match="hop bound"):
            q.bind(max_hops=bad)


def test_the_graph_read_out_names_every_input_link_type_but_decided() -> None:
    """Detection on Neo4j reads links through graph/links.cypher: a type left out of it would be
    silently missing from every Neo4j finding."""
    (types,) = re.findall(r"\[r:([A-Z_|]+)\]", query("graph/links").bind())
    assert set(types.split("|")) == set(INPUT_LINK_TYPES) - {"DECIDED"}
    (identifiers,) = re.findall(r"\[h:([A-Z_|]+)\]", query("graph/contacts").bind())
    assert set(identifiers.split("|")) == set(IDENTIFIER_LINK.values())


LINTER = PACKAGE.parent / "tools" / "cypher-lint"


def _lint(*files: Path) -> subprocess.CompletedProcess[str]:
    if shutil.which("node") is None or not (LINTER / "node_modules").is_dir():
        pytest.skip("Neo4j's Cypher analyser is not installed (make test installs it with npm)")
    return subprocess.run(["node", str(LINTER / "lint.js"), *map(str, files)],
                          capture_output=True, text=True, check=False)  # fmt: skip


def test_neo4j_own_parser_and_semantic_analysis_accept_every_query() -> None:
    """Neo4j's Cypher front end (as the Browser and the VS Code extension ship it) checks each
    file as Cypher 5 (syntax, variable scope, types of clauses, deprecations) without a server;
    the live server then runs them in the Neo4j half of the suite."""
    files = sorted(cypher_dir().rglob("*.cypher"))
    result = _lint(*files)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_analyser_rejects_what_neo4j_would_reject(tmp_path: Path) -> None:
    bad = tmp_path / "bad.cypher"
    bad.write_text("// ordering by a variable a DISTINCT hides\nMATCH (n:Person)\n"
                   "RETURN DISTINCT n.name AS name ORDER BY n.id\n", encoding="utf-8")  # fmt: skip
    old = tmp_path / "old.cypher"
    old.write_text("// the pre-5.23 subquery import\nMATCH (f:Finding)\n"
                   "CALL { WITH f MATCH (f)-[r]->() DELETE r }\nRETURN f\n", encoding="utf-8")  # fmt: skip
    result = _lint(bad, old)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"{bad}:3: In a WITH/RETURN with DISTINCT")
    assert lines[1].startswith(f"{old}:3: CALL subquery without a variable scope clause")


def test_no_value_is_formatted_into_cypher_anywhere_in_the_package() -> None:
    """Cypher text comes from cypher/ only; nothing in cofi/ builds a query with f-strings,
    `%` or `.format`, and no Cypher keyword phrase appears in Python source."""
    phrases = re.compile(r"\b(MATCH \(|MERGE \(|UNWIND \$|DETACH DELETE|CREATE CONSTRAINT)")
    for path in PACKAGE.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert not phrases.search(text), f"{path}: Cypher outside cypher/"


def test_the_browser_style_sheet_colours_every_label() -> None:
    grass = (cypher_dir() / "style.grass").read_text(encoding="utf-8")
    for kind in Kind:
        assert f"node.{kind.label} {{" in grass
    assert "node.Finding {" in grass


def test_the_wheel_carries_cypher(tmp_path: Path) -> None:
    """The wheel built from pyproject.toml holds every query and the style sheet."""
    root = PACKAGE.parent
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet",
         "--wheel-dir", str(tmp_path), str(root)],
        check=True,
    )  # fmt: skip
    (wheel,) = tmp_path.glob("cofi-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for path in sorted(cypher_dir().rglob("*")):
        if path.is_file():
            assert f"cofi/cypher/{path.relative_to(cypher_dir()).as_posix()}" in names
    assert "cofi/queries.py" in names
    # and what the HTML files inline (the pinned Cytoscape.js and its licence)
    assert {"cofi/vendor/cytoscape/cytoscape.min.js", "cofi/vendor/cytoscape/LICENSE"} <= names
