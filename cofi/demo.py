"""`cofi demo`: synthesise a small bundle, load it into a fresh embedded store, sweep, show the top.

As DESIGN.md says: the demo synthesises (`cofi synth --scale small`, a fixed seed so that every run
prints the same findings), so a new user sees cofi work on a population shaped like real registers,
with conflicts planted in it, in one command.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from cofi.detect import Rules
from cofi.errors import InvalidInput
from cofi.findings import Finding
from cofi.loader import plan_load
from cofi.output import text_block
from cofi.store.embedded import EmbeddedStore
from cofi.sweep import sweep
from cofi.synth import SCALES, generate

MARKER = ".cofi-demo"
BUNDLE = "bundle"


def run_demo(directory: Path, echo: Callable[[str], None], seed: int = 1) -> None:
    """Synthesise into `directory`/bundle, load it into a fresh store at `directory`, sweep it.

    Refuses (InvalidInput) to replace a directory that is not an earlier demo store.
    """
    if directory.exists():
        if not (directory / MARKER).exists():
            raise InvalidInput(f"{directory} exists and is not a cofi demo store; choose --out")
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    (directory / MARKER).write_text("made by cofi demo; safe to delete\n", encoding="utf-8")
    store = EmbeddedStore(directory, create=True)
    try:
        bundle = directory / BUNDLE
        counts = generate(bundle, SCALES["small"], seed)
        echo(
            f"synthesised {sum(counts[n] for n in counts if n.endswith('.csv')):,} rows into "
            f"{bundle} (seed {seed}): {counts['truth.jsonl']} planted conflicts, "
            f"{counts['decoys.jsonl']} near misses"
        )
        with plan_load([bundle], store.kinds_of, links_into=store.link_target()) as plan:
            report = store.write(plan)
        echo(
            f"loaded it into {directory}: "
            f"{report.entities_created:,} entities, {report.links_created:,} links"
        )
        for warning in plan.warnings[:3]:
            echo(f"warning: {warning}")
        if len(plan.warnings) > 3:
            echo(f"… and {len(plan.warnings) - 3} more warnings")
        stats = store.stats(hub_limit=Rules().hub_limit)
        echo("entities: " + ", ".join(f"{n:,} {k}" for k, n in stats.entities.items()))
        echo("links: " + ", ".join(f"{n:,} {k}" for k, n in stats.links.items()))
        for hub in stats.hubs[:3]:
            echo(f"hub {hub.kind}: {hub.value!r} shared by {hub.entities} entities")
        result = sweep(store, Rules())
        top: dict[str, Finding] = {}
        for finding in sorted(result.reported, key=lambda f: (-f.score, f.finding_id)):
            top.setdefault(finding.pattern, finding)
        echo(
            f"\nswept {result.checked:,} contracts: {len(result.reported):,} findings; "
            f"the top one of each of the {len(top)} patterns:\n"
        )
        for finding in sorted(top.values(), key=lambda f: -f.score):
            echo(text_block(finding))
        for finding in list(top.values())[:1]:
            echo(f"try: cofi --store {directory} check {finding.contract_id}")
        echo(f"     cofi --store {directory} findings --format text | less")
        echo(f"     cofi synth --evaluate {bundle}   (planted vs found)")
    finally:
        store.close()
