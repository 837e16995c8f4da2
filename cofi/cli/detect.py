"""`cofi check` and `cofi sweep`: findings for one contract, or for every contract a load
touched."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import click

from cofi.cli.base import Context, cli, format_option, iso_date, make_rules, pass_ctx, rule_options
from cofi.detect import PathSearch
from cofi.errors import NotFound
from cofi.findings import (
    check_contract,
    recusal_lines,
)
from cofi.output import report_to, write_findings
from cofi.sweep import contract_graph
from cofi.sweep import sweep as run_sweep


@cli.command()
@click.argument("contract_id")
@rule_options
@format_option("text")
@pass_ctx
def check(obj: Context, /, contract_id: str, fmt: str, **limits: int) -> None:
    """Findings for one contract: is anyone who decided it related to its winner?

    Decision-makers are the persons with a DECIDED link to the contract and the buyer's head in
    post on the signing date.  Nothing is stored; `sweep` stores findings.

    \b
    Examples:
      cofi check K-17
      cofi check K-17 --max-hops 6 --format jsonl
    """
    rules = make_rules(**limits)
    graph = contract_graph(obj.store(), contract_id, rules)
    if contract_id not in graph.contracts:
        raise NotFound(f"no contract {contract_id!r} in the store")
    for line in recusal_lines(graph, graph.contracts[contract_id]):
        click.echo(line, err=True)
    found = check_contract(PathSearch(graph, rules), contract_id)
    if not found:
        click.echo(f"no related-party path for contract {contract_id}", err=True)
        return
    write_findings(found, fmt, sys.stdout)


@cli.command("sweep")
@click.option(
    "--all", "everything", is_flag=True, help="Re-check every contract and report every finding."
)
@click.option(
    "--since",
    "signed_since",
    callback=iso_date,
    metavar="DATE",
    help="Re-check the contracts signed on or after DATE; report what is new.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the reported findings here instead of to stdout.",
)
@rule_options
@format_option(None)
@pass_ctx
def sweep_command(
    obj: Context, /, everything: bool, signed_since: str | None, out: Path | None, fmt: str | None,
    **limits: int,
) -> None:  # fmt: skip
    """Check contracts and store their findings; report the new ones.

    By default only the contracts not swept yet and those near anything a load changed since the
    last sweep are checked, and only new findings are reported (a dismissed finding comes back
    only if its best path changed).  The format defaults to text on stdout, and to the --out
    file's extension (.csv, .txt, .html, else jsonl).

    \b
    Examples:
      cofi sweep
      cofi sweep --out new-findings.jsonl
      cofi sweep --all --format csv --out all-findings.csv
      cofi sweep --all --out report.html
    """
    if everything and signed_since:
        raise click.UsageError("--all and --since cannot be combined")
    store = obj.store()
    fmt = fmt or _format_for(out)
    with report_to(out) as fh:
        result = run_sweep(
            store, make_rules(**limits), everything=everything, signed_since=signed_since
        )
        title = f"cofi sweep of {date.today()}: {len(result.reported)} finding(s) reported"
        write_findings(result.reported, fmt, fh, title, result.restrictions_reported)
    click.echo(result.summary(out, fmt), err=True)


def _format_for(out: Path | None) -> str:
    if out is None:
        return "text"
    return {".csv": "csv", ".txt": "text", ".html": "html", ".htm": "html"}.get(
        out.suffix.lower(), "jsonl"
    )
