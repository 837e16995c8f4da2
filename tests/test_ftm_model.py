"""The FollowTheMoney importer against the `followthemoney` library's own schema model: the
shipped inheritance table is the model's, and every schema is read as its nearest mapped
ancestor."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Callable
from pathlib import Path

from click.testing import Result
from followthemoney import model

from cofi.importers import ftm
from cofi.vocab import Kind
from tests.test_importers import write_jsonl

TOOL = Path(__file__).resolve().parents[1] / "tools" / "ftm_schemata.py"


def test_the_shipped_inheritance_is_the_models() -> None:
    spec = importlib.util.spec_from_file_location("ftm_schemata", TOOL)
    assert spec and spec.loader
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    assert tool.table()["ancestry"] == ftm.ancestry()


def test_every_legal_entity_is_a_person_an_agency_or_a_company() -> None:
    kinds = {}
    for schema in model.schemata.values():
        if schema.is_a("LegalEntity"):
            kinds[schema.name] = ftm.ENTITY_SCHEMATA[ftm.read_as(schema.name)]
    assert kinds["Person"] is Kind.PERSON and kinds["PublicBody"] is Kind.AGENCY
    assert {n for n, k in kinds.items() if k is Kind.COMPANY} >= {"Company", "Organization",
                                                                   "LegalEntity"}  # fmt: skip
    for name, kind in kinds.items():  # a public body's descendants stay agencies, and so on
        assert (kind is Kind.AGENCY) == model.get(name).is_a("PublicBody")
        assert (kind is Kind.PERSON) == model.get(name).is_a("Person")


def test_every_interest_is_a_link_or_named_as_not_imported() -> None:
    mapped, unlinked = set(), set()
    for schema in model.schemata.values():
        if schema.is_a("Interest") and not schema.abstract:
            read = ftm.read_as(schema.name)
            (mapped if read else unlinked).add(schema.name)
            if read:
                assert model.get(schema.name).is_a(read)  # read as one of its own ancestors
    assert mapped == {"Ownership", "Directorship", "Employment", "Control", "ContractAward"}
    assert "Membership" in unlinked and "UnknownLink" in unlinked


def test_control_and_descendants_load_and_the_rest_is_named(
    run: Callable[..., Result], tmp_path: Path
) -> None:
    path = write_jsonl(tmp_path / "e.ftm.jsonl", [
        {"id": "p", "schema": "Person", "properties": {"name": ["Ерлан Жақсылықов"]}},
        {"id": "le", "schema": "LegalEntity", "properties": {"name": ["Holding"]}},
        {"id": "co", "schema": "Company", "properties": {"name": ["ТОО «Береке»"]}},
        {"id": "c1", "schema": "Control", "properties": {"controller": ["p"], "controlled": ["le"],
                                                         "controlType": ["golden share"]}},
        {"id": "o1", "schema": "Ownership", "properties": {"owner": ["le"], "asset": ["co"],
                                                           "percentage": ["51"]}},
        {"id": "m1", "schema": "Membership", "properties": {"member": ["p"],
                                                            "organization": ["co"]}},
        {"id": "x1", "schema": "Passport", "properties": {"holder": ["p"]}},
    ])  # fmt: skip
    result = run("load", str(path))
    assert result.exit_code == 0, result.output
    assert "relationships that no link type of cofi's stands for, not imported: 1 Membership" in (
        result.stderr
    )
    assert "cofi has no use for, not imported: 1 Passport" in result.stderr
    found = json.loads(run("path", "ftm:p", "ftm:co", "--json").stdout.splitlines()[0])
    assert [(e["type"], e["role"]) for e in found["path"][1::2]] == [
        ("OWNS", "golden share"), ("OWNS", None)]  # fmt: skip
