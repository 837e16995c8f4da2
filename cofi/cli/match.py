"""`cofi match`: the same person or company across sources."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from cofi.cli.base import Context, cli, format_option, pass_ctx
from cofi.cli.load import load_links
from cofi.vocab import Kind

if TYPE_CHECKING:
    from cofi.match import Candidate
    from cofi.store.base import Store


@cli.group("match", invoke_without_command=True)
@click.option(
    "--kind",
    type=click.Choice(["person", "company"]),
    help="Only pairs of this kind. Default: people and companies.",
)
@click.option(
    "--min-score",
    type=click.FloatRange(0, 1),
    default=0.5,
    show_default=True,
    help="List pairs scoring at least this (the review threshold).",
)
@click.option(
    "--same-at",
    type=click.FloatRange(0, 1),
    default=0.9,
    show_default=True,
    help="A pair scoring at least this is `same`, below it `review` (the accept threshold).",
)
@click.option(
    "--accept-above",
    type=click.FloatRange(0, 1),
    metavar="S",
    help="Join every pair scoring at least S with a SAME_AS link (source_ref match:ID score=S).",
)
@format_option(
    "text",
    "jsonl: one JSON object per pair; csv: safe for spreadsheets; text: for people; html: a "
    "self-contained page with one table.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the pairs here instead of to stdout.",
)
@click.pass_context
def match(
    ctx: click.Context, kind: str | None, min_score: float, same_at: float,
    accept_above: float | None, fmt: str, out: Path | None,
) -> None:  # fmt: skip
    """Records of different sources that are likely one person or company (entity resolution).

    Lists candidate pairs that nothing joins yet, best first, each with a stable match id, a
    score in [0, 1], a verdict (same or review) and the reasons in words.  Decided pairs are
    never proposed again.

    \b
    Examples:
      cofi match
      cofi match --kind person --min-score 0.7 --format csv --out pairs.csv
      cofi match --accept-above 0.95
      cofi match decide m1a2b3c4d5e6f7a8b same --note "same IIN in the register"
    """
    if ctx.invoked_subcommand is not None:
        return
    from cofi import match as matching
    from cofi.output import report_to, write_candidates

    obj = ctx.find_object(Context)
    assert obj is not None
    store = obj.store()
    kinds = [Kind(kind)] if kind else [Kind.PERSON, Kind.COMPANY]
    found = matching.propose(store, kinds, min_score=min_score, same_at=same_at)
    title = f"cofi match: {len(found)} candidate pair(s)"
    with report_to(out) as fh:
        write_candidates(found, fmt, fh, title)
    same = sum(c.verdict == "same" for c in found)
    click.echo(
        f"{len(found)} candidate pair(s): {same} same, {len(found) - same} review"
        + (f", written to {out}" if out else ""),
        err=True,
    )
    if accept_above is not None:
        _join(store, [c for c in found if c.score >= accept_above], accept_above)


def _join(store: Store, chosen: list[Candidate], floor: float) -> None:
    """Load a SAME_AS link for each of the `chosen` pairs (those scoring at least `floor`)."""
    from cofi import match as matching

    links = [
        matching.same_as_link(c.match_id, c.left_id, c.right_id, c.score, c.reasons) for c in chosen
    ]
    click.echo(f"joining {len(chosen)} pair(s) scoring at least {floor}", err=True)
    load_links(store, links)


@match.command("decide")
@click.argument("match_id")
@click.argument("verdict", type=click.Choice(["same", "different"]))
@click.option("--note", default="", help="Why: kept with the decision.")
@pass_ctx
def match_decide(obj: Context, match_id: str, verdict: str, note: str) -> None:
    """Record a reviewer's decision on a pair `cofi match` proposed: `same` joins the two with a
    SAME_AS link (source_ref match:ID decided); `different` keeps them apart (refused for two
    records a link already joins: cofi does not undo links).  Either way the pair is never
    proposed again.

    \b
    Example:
      cofi match decide m1a2b3c4d5e6f7a8b different --note "father and son"
    """
    from cofi import match as matching

    store = obj.store()
    decision = matching.decide(store, match_id, verdict, note)
    click.echo(
        f"{match_id} ({decision.left_id} ~ {decision.right_id}) is now {verdict}"
        + (f": {note}" if note else "")
    )
    if verdict == "same":
        load_links(
            store, [matching.same_as_link(match_id, decision.left_id, decision.right_id, None)]
        )
