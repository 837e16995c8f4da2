"""`cofi findings` and `cofi triage`: the stored findings and an investigator's decision on each."""

from __future__ import annotations

from pathlib import Path

import click

from cofi.cli.base import Context, cli, format_option, pass_ctx
from cofi.findings import (
    STATUSES,
)
from cofi.output import report_to, write_findings


@cli.command()
@click.option("--status", type=click.Choice(STATUSES), help="Only findings with this status.")
@click.option("--contract", "contract_id", help="Only this contract's findings.")
@click.option(
    "--inactive",
    is_flag=True,
    help="Also findings that the last re-check of their contract no longer showed.",
)
@format_option("text")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the findings here instead of to stdout.",
)
@pass_ctx
def findings(
    obj: Context, status: str | None, contract_id: str | None, inactive: bool, fmt: str,
    out: Path | None,
) -> None:  # fmt: skip
    """The stored findings, highest score first.

    \b
    Examples:
      cofi findings --status new
      cofi findings --contract K-17 --format jsonl
      cofi findings --format html --out findings.html
    """
    found = obj.store().findings(status=status, contract_id=contract_id, active=not inactive)
    if not found:
        click.echo("no findings", err=True)
        if fmt != "html":
            return
    title = "cofi findings" + (f" ({status})" if status else "")
    with report_to(out) as fh:
        write_findings(found, fmt, fh, title)
    if out is not None:
        click.echo(f"{len(found)} finding(s) written to {out}", err=True)


@cli.command()
@click.argument("finding_id")
@click.option("--status", type=click.Choice(STATUSES), required=True)
@click.option("--note", help="Why: kept with the finding.")
@pass_ctx
def triage(obj: Context, finding_id: str, status: str, note: str | None) -> None:
    """Mark a finding confirmed or dismissed (or new again), with a note.

    A dismissed finding is not reported by later sweeps unless its best path changes.

    \b
    Example:
      cofi triage F-1a2b3c4d5e6f7a8b --status dismissed --note "declared and approved"
    """
    if finding_id.startswith("R-"):  # a restriction's id (`cofi restrictions`)
        r = obj.store().triage_restriction(finding_id, status, note)
        click.echo(f"{r.restriction_id} is now {r.status}" + (f": {r.note}" if r.note else ""))
        return
    f = obj.store().triage(finding_id, status, note)
    click.echo(f"{f.finding_id} is now {f.status}" + (f": {f.note}" if f.note else ""))
