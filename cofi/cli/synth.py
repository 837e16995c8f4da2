"""`cofi synth` and `cofi demo`: a synthetic population, its evaluation, a first look."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from cofi.cli.base import cli, make_rules, rule_options
from cofi.errors import InvalidInput

if TYPE_CHECKING:
    from cofi.detect import Rules


@cli.command()
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where to write the bundle, truth.jsonl, decoys.jsonl and matches.jsonl.",
)
@click.option(
    "--scale",
    type=click.Choice(["small", "medium", "large", "xlarge"]),
    default="small",
    show_default=True,
    help="small ~4k entities, medium ~90k, large ~1M, xlarge ~10M.",
)
@click.option("--seed", type=int, default=1, show_default=True, help="Same seed, same bundle.")
@click.option("--people", type=click.IntRange(min=10), help="Override the scale's count.")
@click.option("--companies", type=click.IntRange(min=10), help="Override the scale's count.")
@click.option("--agencies", type=click.IntRange(min=1), help="Override the scale's count.")
@click.option("--contracts", type=click.IntRange(min=1), help="Override the scale's count.")
@click.option(
    "--plants",
    type=click.IntRange(min=1),
    help="How many of each pattern and of each near miss to plant.",
)
@click.option(
    "--evaluate",
    "evaluate_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Instead: sweep this synthetic bundle and score it against its truth.",
)
@rule_options
def synth(
    out: Path | None,
    scale: str,
    seed: int,
    evaluate_dir: Path | None,
    **limits: Any,
) -> None:
    """Write a synthetic bundle with planted conflicts and near misses, or evaluate one.

    The bundle (format v1) comes with truth.jsonl (every planted finding: contract,
    decision-maker, winner, pattern, hops) and decoys.jsonl (every near miss and why it must not
    be flagged) and matches.jsonl (pairs of records that are one entity, or must stay apart, for
    `cofi match`).  --evaluate loads a bundle into a scratch store, sweeps it and reports per
    pattern planted found / planted, decoys flagged, and the extra findings checked by the
    brute-force reference (emergent-valid or wrong); then `cofi match`'s precision and recall
    against the planted pairs, and the conflicts found once its `same` pairs are joined; exit 1
    unless all is right (a decoy pair `same` or a conflict behind a match missed is wrong).

    \b
    Examples:
      cofi synth --out synth-small --seed 7
      cofi synth --out synth-medium --scale medium
      cofi synth --evaluate synth-small
    """

    counts = {k: limits.pop(k) for k in ("people", "companies", "agencies", "contracts", "plants")}
    if evaluate_dir is not None:
        if out is not None:
            raise click.UsageError("--evaluate reads a bundle; it takes no --out")
        _evaluate(evaluate_dir, make_rules(**limits))
    elif out is None:
        raise click.UsageError("give --out DIR (or --evaluate DIR)")
    else:
        _generate(out, scale, counts, seed)


def _generate(out: Path, scale: str, counts: dict[str, int | None], seed: int) -> None:
    """Write the synthetic bundle of `scale` (with `counts` overriding its own) to `out`."""
    from cofi.synth import SCALES, generate

    chosen = replace(SCALES[scale], **{k: v for k, v in counts.items() if v is not None})
    written = generate(out, chosen, seed)
    rows = sum(n for name, n in written.items() if name.endswith(".csv"))
    click.echo(
        f"wrote {rows:,} rows to {out}: {written['truth.jsonl']} planted findings, "
        f"{written['decoys.jsonl']} near misses, {written.get('matches.jsonl', 0)} pairs for "
        f"`cofi match`, {written.get('restrictions.jsonl', 0)} relatives-in-service cases "
        f"(seed {seed})"
    )


def _evaluate(directory: Path, rules: Rules) -> None:
    """Print the evaluation of the synthetic bundle in `directory`; raise unless all is right."""
    from cofi.synth.evaluate import evaluate

    if not (directory / "truth.jsonl").is_file():
        raise InvalidInput(f"{directory}: no truth.jsonl here (not a cofi synth bundle)")
    result = evaluate(directory, rules)
    for line in result.lines():
        click.echo(line)
    if not result.perfect:
        raise InvalidInput("the sweep missed planted findings, flagged decoys or made wrong ones")


DEMO_DIR = "cofi-demo"


@cli.command()
@click.option(
    "--out",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    help=f"The fresh embedded store the demo builds [default: --store if given before `demo`, "
    f"else {DEMO_DIR}].",
)
@click.option("--seed", default=1, show_default=True, help="The synthetic population's seed.")
@click.pass_context
def demo(ctx: click.Context, directory: Path | None, seed: int) -> None:
    """Synthesise a small bundle, load it into a fresh embedded store, sweep it, show the top.

    \b
    Example:
      cofi demo
      cofi demo --out /tmp/cofi-demo --seed 7
      cofi --store /tmp/cofi-demo demo
    """
    from cofi.demo import run_demo

    run_demo(_demo_directory(ctx, directory), click.echo, seed)


def _demo_directory(ctx: click.Context, out: Path | None) -> Path:
    """Where the demo builds its store: --out, else the group's --store when given on the command
    line (`cofi --store X demo`, then `cofi --store X check …`, read the same store), else
    `DEMO_DIR`.  COFI_STORE is not followed: it names the user's own store, which the demo would
    refuse to replace."""
    group = ctx.find_root()
    if group.get_parameter_source("location") is not click.core.ParameterSource.COMMANDLINE:
        return out if out is not None else Path(DEMO_DIR)
    location: str = group.params["location"]
    from cofi.store import NEO4J_SCHEMES

    if location.startswith(NEO4J_SCHEMES):
        raise click.UsageError(
            f"the demo builds an embedded store, and --store {location} is a Neo4j server: "
            "give --out DIR instead"
        )
    if out is not None and out.resolve() != Path(location).resolve():
        raise click.UsageError(f"--store {location} and --out {out} name two stores: give one")
    return Path(location)
