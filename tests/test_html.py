"""The HTML files cofi writes, opened in a real headless Chromium (Debian's, driven by Playwright).

`make test` installs Debian's `chromium` where it is missing; without it (or without Playwright)
these tests skip with the reason.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from cofi.html import CYTOSCAPE_SHA256, CYTOSCAPE_VERSION, cytoscape_js
from cofi.resources import resource_dir
from tests.conftest import DEMO, write_bundle

CHROMIUM = os.environ.get("COFI_CHROMIUM", "/usr/bin/chromium")
EVIL = "<img src=x onerror=alert(1)>"
EVIL_PERSON = "<script>alert(2)</script> Әлия"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (make test installs Debian's chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("Playwright is not installed (it is in the dev extras)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"])  # fmt: skip
        yield browser
        browser.close()


class Page:
    """A page opened from a file, every request other than the file itself recorded and
    refused, every dialog (an `alert` an injection would open) recorded and dismissed."""

    def __init__(self, browser: Any, path: Path) -> None:
        self.page = browser.new_page(viewport={"width": 1280, "height": 800})
        self.url = path.resolve().as_uri()
        self.requests: list[str] = []
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        self.page.route("**/*", self._route)
        self.page.on("dialog", self._dialog)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.goto(self.url)

    def _route(self, route: Any) -> None:
        if route.request.url == self.url:
            route.continue_()
        else:
            self.requests.append(route.request.url)
            route.abort()

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def js(self, expression: str) -> Any:
        return self.page.evaluate(expression)

    def close(self) -> None:
        self.page.close()


@pytest.fixture
def demo(run: Callable[..., Result], tmp_path: Path) -> Callable[..., Result]:
    assert run("load", str(DEMO)).exit_code == 0
    assert run("sweep").exit_code == 0
    return run


def finding_of(run: Callable[..., Result], contract: str) -> dict[str, Any]:
    result = run("findings", "--contract", contract, "--format", "jsonl")
    found: dict[str, Any] = json.loads(result.stdout.splitlines()[0])
    return found


def click_node(page: Page, node_id: str) -> None:
    """A real mouse click where the graph drew the node."""
    x, y = page.page.evaluate(
        """id => { const p = window.cofiGraph.getElementById(id).renderedPosition();
                   const r = document.getElementById('cy').getBoundingClientRect();
                   return [r.left + p.x, r.top + p.y]; }""",
        node_id,
    )
    page.page.mouse.click(x, y)


def test_explore_draws_the_finding_its_path_and_shows_a_node_when_clicked(
    demo: Callable[..., Result], tmp_path: Path, browser: Any
) -> None:
    f = finding_of(demo, "K-40")
    out = tmp_path / "finding.html"
    result = demo("explore", f["finding_id"], "--out", str(out))
    assert result.exit_code == 0, result.output
    page = Page(browser, out)
    try:
        page.page.wait_for_function("window.cofiGraph !== undefined")
        drawn = set(page.js("window.cofiGraph.nodes().map(n => n.id())"))
        data = json.loads(page.js("document.getElementById('cofi-data').textContent"))
        assert drawn == {n["id"] for n in data["nodes"]} and len(drawn) > 5
        assert {"p-marat", "co-astana", "K-40", "ag-health", "p-gulnara"} <= drawn
        path = [p["id"] for p in f["path"][::2]]
        assert page.js("window.cofiGraph.nodes('.path').map(n => n.id()).sort()") == sorted(path)
        highlighted = page.js("window.cofiGraph.edges('.path').map(e => e.data('label'))")
        assert highlighted == ["DIRECTS director 2019-01-01 – 2024-11-30"]
        click_node(page, "co-astana")
        panel = page.page.inner_text("#props")
        assert "ТОО «Astana Build»" in panel and "120740003003" in panel
        assert "г. Астана, ул. Достық, 13" in panel
        page.page.fill("#search", "гульнара")
        assert page.js("window.cofiGraph.nodes('.match').map(n => n.id())") == ["p-gulnara"]
        assert page.requests == [] and page.dialogs == [] and page.errors == []
    finally:
        page.close()


def test_explore_takes_an_entity_or_a_contract_and_says_when_an_id_is_unknown(
    demo: Callable[..., Result], tmp_path: Path, browser: Any
) -> None:
    out = tmp_path / "contract.html"
    assert demo("explore", "K-40", "--depth", "1", "--out", str(out)).exit_code == 0
    page = Page(browser, out)
    try:
        page.page.wait_for_function("window.cofiGraph !== undefined")
        drawn = set(page.js("window.cofiGraph.nodes().map(n => n.id())"))
        assert drawn == {"K-40", "ag-health", "co-astana", "p-marat"}  # buyer, winner, decider
    finally:
        page.close()
    result = demo("explore", "nobody", "--out", str(tmp_path / "x.html"))
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "cofi: error: no entity, contract or finding 'nobody' in the store"
    )
    assert not (tmp_path / "x.html").exists()


def test_the_report_sorts_filters_and_opens_a_row_onto_its_path(
    demo: Callable[..., Result], tmp_path: Path, browser: Any
) -> None:
    out = tmp_path / "report.html"
    result = demo("sweep", "--all", "--out", str(out))
    assert result.exit_code == 0 and out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    page = Page(browser, out)
    try:

        def column(n: int) -> list[str]:
            return list(page.js(
                f"[...document.querySelectorAll('tr.row td:nth-child({n})')].map(c => c.textContent)"
            ))  # fmt: skip

        scores = [float(s) for s in column(2)]
        assert len(scores) == 4 and scores == sorted(scores, reverse=True)  # by score at first
        page.page.click("th[data-key=contract_id]")
        assert column(4) == sorted(column(4))
        page.page.click("th[data-key=contract_id]")
        assert column(4) == sorted(column(4), reverse=True)
        page.page.fill("#filter", "astana")
        assert column(4) == ["K-40"]
        assert page.page.inner_text("#count") == "1 of 4 finding(s)"
        assert not page.page.is_visible("tr.detail")
        page.page.click("tr.row")
        detail = page.page.inner_text("tr.detail")
        assert "Марат Ахметов (person)" in detail and "DIRECTS director" in detail
        page.page.fill("#filter", "")
        page.page.select_option("#severity", "high")
        assert all(s == "high" for s in column(1))
        assert page.requests == [] and page.dialogs == [] and page.errors == []
    finally:
        page.close()


def test_names_written_as_html_show_as_text(
    run: Callable[..., Result], tmp_path: Path, browser: Any
) -> None:
    bundle = write_bundle(tmp_path / "evil", {
        "agency": [{"id": "ag", "name": "Агенттік"}],
        "person": [{"id": "p1", "name": EVIL_PERSON}, {"id": "p2", "name": "Жұбайы"}],
        "company": [{"id": "c1", "name": EVIL}],
        "contract": [{"id": "K1", "buyer_id": "ag", "supplier_id": "c1",
                      "signed_on": "2025-01-01", "title": "</script><b>bold</b>"}],
        "link": [{"source": "p1", "target": "K1", "type": "DECIDED", "role": "chair"},
                 {"source": "p1", "target": "p2", "type": "FAMILY", "role": "spouse"},
                 {"source": "p2", "target": "c1", "type": "OWNS", "share": "50"}],
    })  # fmt: skip
    assert run("load", str(bundle)).exit_code == 0
    assert run("sweep", "--out", str(tmp_path / "report.html")).exit_code == 0
    fid = finding_of(run, "K1")["finding_id"]
    assert run("explore", fid, "--out", str(tmp_path / "graph.html")).exit_code == 0
    for name in ("report.html", "graph.html"):
        text = (tmp_path / name).read_text(encoding="utf-8")
        assert EVIL not in text and "<script>alert" not in text  # only escaped in the source
        page = Page(browser, tmp_path / name)
        try:
            if name == "report.html":
                page.page.click("tr.row")
                shown = page.page.inner_text("body")
            else:
                page.page.wait_for_function("window.cofiGraph !== undefined")
                click_node(page, "c1")
                shown = page.page.inner_text("#props")
                labels = page.js("window.cofiGraph.nodes().map(n => n.data('label'))")
                assert EVIL in labels and EVIL_PERSON in labels
            assert EVIL in shown
            assert page.js("document.querySelectorAll('img, b').length") == 0
            assert page.dialogs == [] and page.requests == [] and page.errors == []
        finally:
            page.close()


def test_findings_html_goes_to_stdout_and_explore_on_neo4j_prints_browser_cypher(
    demo: Callable[..., Result],
) -> None:
    from cofi.cli import browser_cypher

    result = demo("findings", "--format", "html")
    assert result.exit_code == 0 and "Content-Security-Policy" in result.stdout
    assert "default-src 'none'" in result.stdout
    text = browser_cypher("F-1'}) DETACH DELETE n //", is_finding=True)
    lines = text.splitlines()
    assert lines[1] == ':param finding_id => "F-1\'}) DETACH DELETE n //"'
    assert "$finding_id" in text and "DETACH DELETE n //\n" not in text.split("\n", 2)[2]


def test_the_inlined_cytoscape_is_the_pinned_copy() -> None:
    vendor = resource_dir("vendor")
    data = (vendor / "cytoscape" / "cytoscape.min.js").read_bytes()
    assert hashlib.sha256(data).hexdigest() == CYTOSCAPE_SHA256
    assert data.startswith(b"/**\n * Copyright (c) 2016-") and b"Permission is hereby" in data
    notes = (vendor / "README.md").read_text(encoding="utf-8")
    assert f"npm pack cytoscape@{CYTOSCAPE_VERSION}" in notes and CYTOSCAPE_SHA256 in notes
    assert "</script" not in cytoscape_js()


def test_the_report_shows_disclosure_and_the_restrictions_a_sweep_found(
    run: Callable[..., Result], tmp_path: Path, browser: Any
) -> None:
    declarations = DEMO.parent / "declarations"
    assert run("load", str(declarations)).exit_code == 0
    out = tmp_path / "report.html"
    result = run("sweep", "--all", "--out", str(out))
    assert result.exit_code == 0, result.output
    page = Page(browser, out)
    try:

        def column(n: int, rows: str = "tr.row") -> list[str]:
            return list(page.js(
                f"[...document.querySelectorAll('{rows} td:nth-child({n})')].map(c => c.textContent)"
            ))  # fmt: skip

        assert sorted(column(9)) == sorted(
            ["declared"] * 6 + ["undeclared"] * 4 + ["notified", "not_declarable"]
        )
        page.page.select_option("#disclosure", "notified")
        assert column(4) == ["D06"] and page.page.inner_text("#count") == "1 of 12 finding(s)"
        assert page.page.is_visible("#restrictions")
        listed = column(6, "#restrictions tbody tr")
        assert len(listed) == 3 and any("his daughter Aizhan Bekova" in t for t in listed)
        assert page.requests == [] and page.dialogs == [] and page.errors == []
    finally:
        page.close()


def test_explore_of_a_person_says_their_restrictions(
    run: Callable[..., Result], tmp_path: Path, browser: Any
) -> None:
    assert run("load", str(DEMO.parent / "declarations")).exit_code == 0
    out = tmp_path / "head.html"
    assert run("explore", "p-r1h", "--out", str(out)).exit_code == 0
    page = Page(browser, out)
    try:
        note = page.page.inner_text("#note")
        assert note.startswith("Restriction R-") and "his daughter Aizhan Bekova" in note
        assert page.errors == [] and page.requests == []
    finally:
        page.close()
    clean = tmp_path / "clean.html"
    assert run("explore", "p-d05", "--out", str(clean)).exit_code == 0
    assert '"notes": []' in clean.read_text(encoding="utf-8")
