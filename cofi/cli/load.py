"""`cofi load`: bundles, OCDS, BODS and FollowTheMoney into the store."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING

import click

from cofi.cli.base import Context, cli, pass_ctx
from cofi.store.base import Store, WriteReport
from cofi.vocab import INPUT_FORMATS

if TYPE_CHECKING:
    from cofi.loader import LoadPlan


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--skip-invalid", is_flag=True, help="Load the valid rows; write bad ones to --rejects."
)
@click.option(
    "--rejects",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where --skip-invalid writes the invalid rows (JSON lines). Default: rejects.jsonl",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(INPUT_FORMATS),
    help="What the files are: a cofi bundle, OCDS, BODS or FollowTheMoney. Default: told from "
    "each file's content.",
)
@pass_ctx
def load(
    obj: Context, paths: tuple[Path, ...], skip_invalid: bool, rejects: Path | None, fmt: str | None
) -> None:
    """Load bundles (directories of CSV files or .jsonl files), or OCDS, BODS and FollowTheMoney
    files, into the store.

    All or nothing: if any row is invalid, every bad row is listed as file:line: field: reason,
    nothing is written and the exit code is 1.  Loading the same input twice changes nothing.

    \b
    Examples:
      cofi load fixtures/demo
      cofi load day-2026-11-24/ extra.jsonl --skip-invalid --rejects bad.jsonl
      cofi load --format ocds releases.jsonl
      cofi load registers/bods-statements.json sanctions.ftm.jsonl
    """
    if rejects is not None and not skip_invalid:
        raise click.UsageError("--rejects goes with --skip-invalid")
    store = obj.store(create=True)
    with _plan_with_progress(list(paths), store, skip_invalid, fmt) as plan:
        write_plan(store, plan, rejects)


def write_plan(store: Store, plan: LoadPlan, rejects: Path | None, err: bool = False) -> None:
    """Write a validated load, say what it changed (on stderr with `err`: a command whose stdout
    is data) and keep the embedded store's graph file."""
    from cofi import loader

    for warning in [*plan.notices, *plan.warnings]:
        click.echo(f"warning: {warning}", err=True)
    target = rejects or Path("rejects.jsonl")
    report = loader.write_plan(store, plan, target)
    for error in plan.errors:
        click.echo(f"skipped: {error}", err=True)
    click.echo(_load_summary(plan, report), err=err)
    keep = getattr(store, "keep_graph", None)  # the embedded store's graph file, for sweeps
    if keep is not None:
        kept = keep(report)
        if kept:
            click.echo(kept, err=True)
    if plan.rejects:
        click.echo(f"{len(plan.rejects)} invalid row(s) skipped, written to {target}", err=True)


def _plan_with_progress(
    paths: list[Path], store: Store, skip_invalid: bool, fmt: str | None
) -> LoadPlan:
    """Validate, with progress shown when stderr is a terminal: a bar over a bundle's lines, a
    running count of rows for the other formats (whose rows are not lines)."""
    from cofi.bundle import line_count
    from cofi.importers import input_files  # only a load needs the importers (their imports
    from cofi.loader import plan_load  # take most of the start-up of every other command)

    files = input_files(paths, fmt)
    with ExitStack() as shown:
        progress: Callable[[int], None] | None = None
        if sys.stderr.isatty() and any(f.format != "bundle" for f in files):
            progress = shown.enter_context(_RowCounter()).update
        elif sys.stderr.isatty():
            total = sum(line_count(f.path) for f in files)
            bar = click.progressbar(length=total, label="validating", file=sys.stderr)
            progress = shown.enter_context(bar).update  # (its second argument is optional)
        return plan_load(paths, store.kinds_of, fmt=fmt, skip_invalid=skip_invalid,
                         links_into=store.link_target(),
                         progress=progress, files=files)  # fmt: skip


class _RowCounter:
    """'validating: N rows' on one terminal line, redrawn at most ten times a second."""

    def __init__(self) -> None:
        self.rows, self.shown = 0, 0.0

    def update(self, n: int) -> None:
        self.rows += n
        now = time.monotonic()
        if now - self.shown >= 0.1:
            self.shown = now
            click.echo(f"\rvalidating: {self.rows:,} rows", nl=False, err=True)

    def __enter__(self) -> _RowCounter:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.shown:
            click.echo(f"\rvalidating: {self.rows:,} rows", err=True)


def _load_summary(plan: LoadPlan, report: WriteReport) -> str:
    if not report.changed:
        return f"read {plan.rows_read} row(s); nothing changed"
    return (
        f"read {plan.rows_read} row(s): {report.entities_created} entities created, "
        f"{report.entities_updated} updated; {report.links_created} links created, "
        f"{report.links_updated} updated"
    )


def load_links(store: Store, links: list[dict[str, str]]) -> None:
    """Load `links` (links.csv rows) as any bundle is loaded: validated, all or nothing."""
    if not links:
        return
    import tempfile

    from cofi.loader import plan_load
    from cofi.match import write_links

    with (
        tempfile.TemporaryDirectory(prefix="cofi-match-") as tmp,
        plan_load(
            [write_links(links, Path(tmp))], store.kinds_of, links_into=store.link_target()
        ) as plan,
    ):
        write_plan(store, plan, None, err=True)
