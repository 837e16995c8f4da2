"""The `cofi` group: the store context, the error model (one line and an exit code), the
options commands share.

Errors from the library (`CofiError`) become one line on stderr and the documented exit code here,
at the edge only; `--debug` shows the traceback instead.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Callable
from datetime import date
from typing import Any, NoReturn

import click

from cofi import __version__
from cofi.detect import Rules
from cofi.errors import CofiError, LoadRejected, NothingFound
from cofi.output import FORMATS
from cofi.store import open_store
from cofi.store.base import Store

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
        except NothingFound as exc:
            click.echo(str(exc), err=True)
            sys.exit(exc.exit_code)
        except CofiError as exc:
            if _debug(ctx):
                raise
            if isinstance(exc, LoadRejected):
                for error in exc.errors:
                    click.echo(str(error), err=True)
            _fail(str(exc), exc.exit_code)
        except BrokenPipeError:
            # the reader went away (`cofi findings | head`): stop quietly, as Unix tools do
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            sys.exit(0)
        except KeyboardInterrupt:
            _fail("interrupted; nothing was written by the interrupted step", 130)
        except OSError as exc:
            if _debug(ctx):
                raise
            where = f"{exc.filename}: " if exc.filename else ""
            _fail(f"{where}{exc.strerror or exc}", 1)  # an --out file that cannot be written
        except Exception as exc:
            if _debug(ctx):
                raise
            _fail(f"unexpected {type(exc).__name__}: {exc} (run with --debug for details)", 1)


def _debug(ctx: click.Context | None = None) -> bool:
    """Whether --debug was given (read from the command line too: an error may come before the
    option is parsed)."""
    obj = ctx.find_object(Context) if ctx is not None else None
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
    ctx.call_on_close(ctx.obj.close)  # also after an error, once its line is written


def hub_limit_option(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--hub-limit",
        type=click.IntRange(min=1),
        default=DEFAULT_HUB_LIMIT,
        show_default=True,
        help="An identifier shared by more entities than this is a hub.",
    )(f)


def rule_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """--max-hops, --max-family, --lookback-days, --hub-limit: the limits of a path."""
    defaults = Rules()
    for option in reversed(
        (
            click.option("--max-hops", type=click.IntRange(1, 12), default=defaults.max_hops,
                          show_default=True,
                          help="Most edges on a path (an address, phone or email costs 2)."),
            click.option("--max-family", type=click.IntRange(0, 12),
                          default=defaults.max_family, show_default=True,
                          help="Most FAMILY edges on a path."),
            click.option("--lookback-days", type=click.IntRange(min=0),
                          default=defaults.lookback_days, show_default=True,
                          help="A link that ended this many days before signing still counts."),
            hub_limit_option,
        )
    ):  # fmt: skip
        f = option(f)
    return f


def make_rules(max_hops: int, max_family: int, lookback_days: int, hub_limit: int) -> Rules:
    return Rules(max_hops, max_family, lookback_days, hub_limit)


def format_option(
    default: str | None,
    help: str = "jsonl: one JSON object per finding; csv: safe for spreadsheets; text: for "
    "people; html: a self-contained page with a sortable, filterable table.",
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(FORMATS),
        default=default,
        show_default=default is not None,
        help=help,
    )


def report_format_option(what: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """--format for a report of `what`s (an audit's omissions, restrictions): text, jsonl, csv."""
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(["text", "jsonl", "csv"]),
        default="text",
        show_default=True,
        help=f"jsonl: one JSON object per {what}; csv: safe for spreadsheets; text: for people.",
    )


def iso_date(_: click.Context, __: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)") from None


def at_option(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--at",
        "at",
        callback=iso_date,
        metavar="DATE",
        help="Only links in force on DATE (with the lookback). Default: every link.",
    )(f)


def main() -> None:
    """Entry point of the `cofi` script."""
    try:
        cli.main(prog_name="cofi", standalone_mode=True)
    except SystemExit:
        raise
    except BaseException:  # pragma: no cover - last resort, keeps the one-line promise
        if _debug():
            traceback.print_exc()
        _fail("unexpected error (run with --debug for details)", 1)
