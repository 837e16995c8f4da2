"""`cofi demo`: a fresh embedded store from the demo bundle, swept, with its top findings."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from cofi.detect import Rules
from cofi.errors import InvalidInput
from cofi.loader import plan_load
from cofi.output import text_block
from cofi.resources import resource_dir
from cofi.store.embedded import EmbeddedStore
from cofi.sweep import sweep

MARKER = ".cofi-demo"
TOP = 5


def run_demo(directory: Path, echo: Callable[[str], None]) -> None:
    """Load the demo bundle into a fresh store at `directory`, sweep it, print the top findings.

    Refuses (InvalidInput) to replace a directory that is not an earlier demo store.
    """
    if directory.exists():
        if not (directory / MARKER).exists():
            raise InvalidInput(f"{directory} exists and is not a cofi demo store; choose --out")
        shutil.rmtree(directory)
    store = EmbeddedStore(directory, create=True)
    try:
        bundle = resource_dir("fixtures") / "demo"
        with plan_load([bundle], store.kinds_of) as plan:
            report = store.write(plan)
        (directory / MARKER).write_text("made by cofi demo; safe to delete\n", encoding="utf-8")
        echo(
            f"loaded the demo bundle into {directory}: "
            f"{report.entities_created} entities, {report.links_created} links"
        )
        for warning in plan.warnings:
            echo(f"warning: {warning}")
        stats = store.stats(hub_limit=20)
        echo("entities: " + ", ".join(f"{n} {k}" for k, n in stats.entities.items()))
        echo("links: " + ", ".join(f"{n} {k}" for k, n in stats.links.items()))
        for hub in stats.hubs:
            echo(f"hub {hub.kind}: {hub.value!r} shared by {hub.entities} entities")
        result = sweep(store, Rules())
        echo(
            f"\nswept {result.checked} contracts: {len(result.reported)} findings, "
            f"top {min(TOP, len(result.reported))}:\n"
        )
        for finding in result.reported[:TOP]:
            echo(text_block(finding))
        echo(f"try: cofi --store {directory} findings   |   cofi --store {directory} check K-17")
    finally:
        store.close()
