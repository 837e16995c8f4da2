"""`cofi declarations audit` and `cofi restrictions` (Law 410-V, Article 6)."""

from __future__ import annotations

import sys
from datetime import date

import click

from cofi.cli.base import Context, cli, iso_date, pass_ctx, report_format_option


@cli.group("declarations")
def declarations() -> None:
    """Declarations of interests and relatives, conflict notices and recusals (load them from a
    bundle's declarations.csv).

    \b
    Example:
      cofi declarations audit --at 2025-06-01
    """


@declarations.command("audit")
@click.argument("person_id", required=False)
@click.option(
    "--at",
    callback=iso_date,
    metavar="DATE",
    help="Audit the declarations and links in force on DATE (no lookback). Default: today.",
)
@report_format_option("omission")
@pass_ctx
def declarations_audit(obj: Context, person_id: str | None, at: str | None, fmt: str) -> None:
    """What the registers show and the declarations in force omit: for every official (a person
    EMPLOYED into an agency on DATE), or PERSON_ID alone, each relative (a FAMILY link, either
    direction) and each company they own, direct or work for, by links in force on DATE, that
    their latest filing on or before DATE does not name.  One line per omission.

    \b
    Examples:
      cofi declarations audit
      cofi declarations audit p-17 --at 2025-06-01 --format jsonl
    """
    from cofi.audit import Omission, audit
    from cofi.output import write_rows

    day = at or date.today().isoformat()
    found = audit(obj.store(), person_id, day)
    write_rows([o.as_dict() for o in found], Omission.FIELDS, fmt, sys.stdout,
               [o.text() for o in found])  # fmt: skip
    people = len({o.person_id for o in found})
    click.echo(f"{len(found)} omission(s) of {people} person(s) on {day}", err=True)


@cli.command("restrictions")
@click.option(
    "--at",
    callback=iso_date,
    metavar="DATE",
    help="Relatives serving together on DATE. Default: today.",
)
@click.option("--all", "every", is_flag=True, help="Those of every period.")
@report_format_option("restriction")
@pass_ctx
def restrictions_command(obj: Context, at: str | None, every: bool, fmt: str) -> None:
    """Close relatives serving in direct subordination: two persons joined by a FAMILY link
    (spouse, parent, child, sibling or an in-law), both EMPLOYED in one agency over overlapping
    periods, one of them as head or deputy_head.  Each has a stable restriction id that `triage`
    takes; sweeps keep them and report new ones.

    \b
    Examples:
      cofi restrictions
      cofi restrictions --at 2025-06-01 --format jsonl
      cofi restrictions --all
      cofi triage R-1a2b3c4d5e6f7a8b --status dismissed --note "transferred in 2024"
    """
    from cofi.output import write_rows
    from cofi.restrictions import Restriction, with_triage
    from cofi.restrictions import restrictions as find

    if at and every:
        raise click.UsageError("--at and --all cannot be combined")
    day = None if every else (at or date.today().isoformat())
    store = obj.store()
    found = with_triage(find(store, day), store.stored_restrictions())
    write_rows([r.as_dict() for r in found], Restriction.FIELDS, fmt, sys.stdout,
               [r.text().rstrip("\n") for r in found])  # fmt: skip
    click.echo(f"{len(found)} restriction(s)" + (f" on {day}" if day else ""), err=True)
