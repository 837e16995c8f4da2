"""The README's picture: `cofi explore` of a demo finding, drawn by the same headless Chromium the
tests use.  Usage: python tools/screenshot.py OUT.png  (make screenshot)."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from cofi.resources import resource_dir


def main(out: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store, page_file = Path(tmp) / "store", Path(tmp) / "explore.html"
        cofi = [sys.executable, "-m", "cofi", "--store", str(store)]
        subprocess.run([*cofi, "load", str(resource_dir("fixtures") / "demo")], check=True,
                       capture_output=True)  # fmt: skip
        subprocess.run([*cofi, "sweep"], check=True, capture_output=True)
        found = subprocess.run([*cofi, "findings", "--contract", "K-40", "--format", "jsonl"],
                               check=True, capture_output=True, text=True).stdout  # fmt: skip
        finding = json.loads(found.splitlines()[0])["finding_id"]
        subprocess.run([*cofi, "explore", finding, "--out", str(page_file)], check=True,
                       capture_output=True)  # fmt: skip
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=[
                "--no-sandbox", "--disable-gpu", "--no-first-run",
                "--disable-background-networking", "--disable-component-update"])  # fmt: skip
            page = browser.new_page(viewport={"width": 1280, "height": 760})
            page.goto(page_file.as_uri())
            page.wait_for_function("window.cofiGraph !== undefined")
            x, y = page.evaluate(
                """() => { const p = window.cofiGraph.getElementById('co-astana')
                           .renderedPosition();
                           const r = document.getElementById('cy').getBoundingClientRect();
                           return [r.left + p.x, r.top + p.y]; }"""
            )
            page.mouse.click(x, y)  # the winner's properties in the side panel
            out.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(out))
            browser.close()
    print(f"wrote {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
