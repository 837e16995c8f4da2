"""The `cofi` command line: each command parses, makes one library call, formats.

Errors from the library (`CofiError`) become one line on stderr and the documented exit code here,
at the edge only; `--debug` shows the traceback instead.
"""

from __future__ import annotations

import json
import sys
import traceback
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any, NoReturn

import click

from cofi import __version__
from cofi.bundle import bundle_files
from cofi.errors import EXIT_INVALID, CofiError, LoadRejected
from cofi.loader import LoadPlan, plan_load
from cofi.store import open_store
from cofi.store.base import Store, WriteReport

DEFAULT_HUB_LIMIT = 20


class Context:
    """What the group hands to every command: where the store is, opened on first use."""

    def __init__(self, location: str, debug: bool) -> None:
        self.location = location
        self.debug = debug
        self._store: Store | None = None

    def store(self, *, create: bool = False) -> Store:
        if self._store is None:
            self._store = open_store(self.location, create=create)
        return self._store

    def close(self) -> None:
        if self._store is not None:
            self._store.close()


pass_ctx = click.make_pass_decorator(Context)


def _fail(message: str, code: int) -> NoReturn:
    click.echo(f"cofi: error: {message}", err=True)
    sys.exit(code)


class CofiGroup(click.Group):
    """Turns library errors into one line and an exit code; a traceback only with --debug."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except CofiError as exc:
            if _debug(ctx):
                raise
            if isinstance(exc, LoadRejected):
                for error in exc.errors:
                    click.echo(str(error), err=True)
            _fail(str(exc), exc.exit_code)
        except KeyboardInterrupt:
            _fail("interrupted; nothing was written by the interrupted step", 130)
        except Exception as exc:
            if _debug(ctx):
                raise
            _fail(f"unexpected {type(exc).__name__}: {exc} (run with --debug for details)", 1)
        finally:
            obj = ctx.find_object(Context)
            if obj is not None:
                obj.close()


def _debug(ctx: click.Context) -> bool:
    obj = ctx.find_object(Context)
    return bool(obj and obj.debug) or "--debug" in sys.argv


@click.group(cls=CofiGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--store",
    "location",
    metavar="LOCATION",
    envvar="COFI_STORE",
    default=".cofi",
    show_default=True,
    help="A directory (embedded store) or a bolt:// / neo4j:// URI. Env: COFI_STORE.",
)
@click.option("--debug", is_flag=True, help="Show tracebacks instead of one-line errors.")
@click.version_option(__version__, prog_name="cofi")
@click.pass_context
def cli(ctx: click.Context, location: str, debug: bool) -> None:
    """cofi — find conflicts of interest in public procurement.

    \b
    Example:
      cofi load fixtures/demo && cofi stats
    """
    ctx.obj = Context(location, debug)


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
@pass_ctx
def load(obj: Context, paths: tuple[Path, ...], skip_invalid: bool, rejects: Path | None) -> None:
    """Load bundles (directories of CSV files or .jsonl files) into the store.

    All or nothing: if any row is invalid, every bad row is listed as file:line: field: reason,
    nothing is written and the exit code is 1.  Loading the same bundle twice changes nothing.

    \b
    Examples:
      cofi load fixtures/demo
      cofi load day-2026-11-24/ extra.jsonl --skip-invalid --rejects bad.jsonl
    """
    if rejects is not None and not skip_invalid:
        raise click.UsageError("--rejects goes with --skip-invalid")
    store = obj.store(create=True)
    plan = _plan_with_progress(list(paths), store, skip_invalid)
    for warning in plan.warnings:
        click.echo(f"warning: {warning}", err=True)
    if plan.rejects:
        target = rejects or Path("rejects.jsonl")
        with target.open("w", encoding="utf-8") as fh:
            for reject in plan.rejects:
                fh.write(reject.as_json() + "\n")
        for error in plan.errors:
            click.echo(f"skipped: {error}", err=True)
    report = store.write(plan)
    click.echo(_load_summary(plan, report))
    if plan.rejects:
        target = rejects or Path("rejects.jsonl")
        click.echo(f"{len(plan.rejects)} invalid row(s) skipped, written to {target}", err=True)


def _plan_with_progress(paths: list[Path], store: Store, skip_invalid: bool) -> LoadPlan:
    """Validate, with a progress bar when stderr is a terminal."""
    if not sys.stderr.isatty():
        return plan_load(paths, store.kinds_of, skip_invalid=skip_invalid)
    total = sum(_count_lines(p) for p, _ in bundle_files(paths))
    with click.progressbar(length=total, label="validating", file=sys.stderr) as bar:
        return plan_load(paths, store.kinds_of, skip_invalid=skip_invalid, progress=bar.update)


def _count_lines(path: Path) -> int:
    with path.open("rb") as fh:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 20), b""))


def _load_summary(plan: LoadPlan, report: WriteReport) -> str:
    if not report.changed:
        return f"read {plan.rows_read} row(s); nothing changed"
    return (
        f"read {plan.rows_read} row(s): {report.entities_created} entities created, "
        f"{report.entities_updated} updated; {report.links_created} links created, "
        f"{report.links_updated} updated"
    )


def hub_limit_option(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--hub-limit",
        type=click.IntRange(min=1),
        default=DEFAULT_HUB_LIMIT,
        show_default=True,
        help="An identifier shared by more entities than this is a hub.",
    )(f)


@cli.command()
@hub_limit_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@pass_ctx
def stats(obj: Context, hub_limit: int, as_json: bool) -> None:
    """Counts per entity kind and link type, and the hub identifiers.

    A hub is an address, phone or email shared by more than --hub-limit distinct entities:
    paths never pass through one.

    \b
    Example:
      cofi stats --hub-limit 20
    """
    result = obj.store().stats(hub_limit)
    if as_json:
        click.echo(json.dumps(asdict(result), ensure_ascii=False, indent=2))
        return
    click.echo("entities:")
    for kind, n in result.entities.items():
        click.echo(f"  {kind:<10} {n:>10,}")
    click.echo("links:")
    for kind, n in result.links.items():
        click.echo(f"  {kind:<10} {n:>10,}")
    click.echo("identifiers:")
    for kind, n in result.identifiers.items():
        click.echo(f"  {kind:<10} {n:>10,}")
    click.echo(f"hubs (shared by more than {hub_limit} entities): {len(result.hubs)}")
    for hub in result.hubs:
        click.echo(f"  {hub.kind:<8} {hub.entities:>6}  {hub.value}")


@cli.command()
@click.argument("name")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON lines instead of text.")
@pass_ctx
def search(obj: Context, name: str, limit: int, as_json: bool) -> None:
    """Find people, agencies, companies and contracts by name or alias.

    Case-, diacritic- and script-insensitive: 'Sadykov' finds 'Садықов'.  Exact matches first.

    \b
    Example:
      cofi search "Nurlan Sadykov"
    """
    hits = obj.store().search(name, limit)
    if not hits:
        click.echo(f"no match for {name!r}", err=True)
        sys.exit(EXIT_INVALID)
    for hit in hits:
        if as_json:
            click.echo(json.dumps(asdict(hit), ensure_ascii=False))
        else:
            click.echo(f"{hit.id}\t{hit.kind}\t{hit.name}")


@cli.command()
@click.option(
    "--out",
    "directory",
    default="cofi-demo",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="The fresh embedded store the demo builds.",
)
def demo(directory: Path) -> None:
    """Load the demo bundle into a fresh embedded store and show what is in it.

    \b
    Example:
      cofi demo
    """
    from cofi.demo import run_demo

    run_demo(directory, click.echo)


def main() -> None:
    """Entry point of the `cofi` script."""
    try:
        cli.main(prog_name="cofi", standalone_mode=True)
    except SystemExit:
        raise
    except BaseException:  # pragma: no cover - last resort, keeps the one-line promise
        if "--debug" in sys.argv:
            traceback.print_exc()
        _fail("unexpected error (run with --debug for details)", 1)
