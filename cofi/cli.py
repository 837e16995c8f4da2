"""The `cofi` command line: each command parses, makes one library call, formats.

Errors from the library (`CofiError`) become one line on stderr and the documented exit code here,
at the edge only; `--debug` shows the traceback instead.
"""

from __future__ import annotations

import json
import os
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from cofi import __version__
from cofi.detect import Rules, Search
from cofi.errors import EXIT_INVALID, CofiError, InvalidInput, LoadRejected, NotFound
from cofi.findings import (
    STATUSES,
    check_contract,
    explain,
    path_json,
    rank_key,
    recusal_lines,
    winners_near,
)
from cofi.graph import Graph
from cofi.output import FORMATS, path_text, write_findings
from cofi.queries import query
from cofi.store import NEO4J_SCHEMES, open_store
from cofi.store.base import Store, WriteReport
from cofi.sweep import contract_graph, explore_graph, path_graph, reach_graph
from cofi.sweep import sweep as run_sweep
from cofi.vocab import INPUT_FORMATS, Kind

if TYPE_CHECKING:
    from cofi.loader import LoadPlan

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
        _write_plan(store, plan, rejects)


def _write_plan(store: Store, plan: LoadPlan, rejects: Path | None, err: bool = False) -> None:
    """Write a validated load, say what it changed (on stderr with `err`: a command whose stdout
    is data) and keep the embedded store's graph file."""
    for warning in [*plan.notices, *plan.warnings]:
        click.echo(f"warning: {warning}", err=True)
    target = rejects or Path("rejects.jsonl")
    out, existed = None, target.exists()
    if plan.skip_invalid:
        # A large load's link checks end while the store writes its entities, so the rejects
        # are known only then; the file is opened first, so that a path that cannot be written
        # stops the load before anything is written.
        out = target.open("a", encoding="utf-8")
    try:
        report = store.write(plan)
        if out is not None and plan.rejects:
            out.truncate(0)
            out.writelines(reject.as_json() + "\n" for reject in plan.rejects)
    finally:
        if out is not None:
            empty = out.tell() == 0
            out.close()
            if empty and not existed:
                target.unlink(missing_ok=True)
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
    from cofi.importers import input_files  # only a load needs the importers (their imports
    from cofi.loader import plan_load  # take most of the start-up of every other command)

    if not sys.stderr.isatty():
        return plan_load(paths, store.kinds_of, fmt=fmt, skip_invalid=skip_invalid)
    files = input_files(paths, fmt)
    if any(f.format != "bundle" for f in files):
        counter = _RowCounter()
        try:
            return plan_load(paths, store.kinds_of, fmt=fmt, skip_invalid=skip_invalid,
                             progress=counter.update)  # fmt: skip
        finally:
            counter.close()
    total = sum(_count_lines(f.path) for f in files)
    with click.progressbar(length=total, label="validating", file=sys.stderr) as bar:
        return plan_load(
            paths, store.kinds_of, fmt=fmt, skip_invalid=skip_invalid, progress=bar.update
        )


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

    def close(self) -> None:
        if self.shown:
            click.echo(f"\rvalidating: {self.rows:,} rows", err=True)


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


def _rules(max_hops: int, max_family: int, lookback_days: int, hub_limit: int) -> Rules:
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


def _iso_date(_: click.Context, __: click.Parameter, value: str | None) -> str | None:
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
        callback=_iso_date,
        metavar="DATE",
        help="Only links in force on DATE (with the lookback). Default: every link.",
    )(f)


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
    rules = _rules(**limits)
    graph = contract_graph(obj.store(), contract_id, rules)
    if contract_id not in graph.contracts:
        raise NotFound(f"no contract {contract_id!r} in the store")
    for line in recusal_lines(graph, graph.contracts[contract_id]):
        click.echo(line, err=True)
    found = check_contract(Search(graph, rules), contract_id)
    if not found:
        click.echo(f"no related-party path for contract {contract_id}", err=True)
        return
    write_findings(found, fmt, sys.stdout)


@cli.command()
@click.argument("from_id")
@click.argument("to_id")
@at_option
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=10,
    show_default=True,
    help="Most paths to show, shortest first.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON lines instead of text.")
@rule_options
@pass_ctx
def path(
    obj: Context, /, from_id: str, to_id: str, at: str | None, limit: int, as_json: bool,
    **limits: int,
) -> None:  # fmt: skip
    """The related-party paths between two people or companies, shortest first.

    Without --at every link counts, whatever its dates (each is shown with them); with --at only
    the links in force on that date, as a sweep would judge a contract signed then.

    \b
    Examples:
      cofi path p-aigerim co-dala
      cofi path p-bolat co-altyn --at 2025-06-02 --max-hops 5
    """
    rules = _rules(**limits)
    graph = path_graph(obj.store(), from_id, to_id, rules, at)
    source, target = _node(graph, from_id), _node(graph, to_id)
    search = Search(graph, rules)
    paths = search.all_paths(source, target, search.in_force(at))
    paths.sort(key=lambda p: (p.hops, rank_key(graph, p, at, None)))
    if not paths:
        click.echo(f"no related-party path from {from_id} to {to_id}", err=True)
        sys.exit(EXIT_INVALID)
    for p in paths[:limit]:
        sentence = explain(graph, p, at, "")
        steps = path_json(graph, p, from_id, to_id)
        if as_json:
            line = {"from": from_id, "to": to_id, "at": at, "hops": p.hops, "path": steps,
                    "explanation": sentence}  # fmt: skip
            click.echo(json.dumps(line, ensure_ascii=False))
        else:
            click.echo(f"{p.hops} hop{'s' if p.hops != 1 else ''}: {sentence}")
            click.echo(f"  {path_text(steps)}")


def _node(graph: Graph, record_id: str) -> int:
    node = graph.node_of(record_id)
    if node is not None:
        return node
    if record_id in graph.rec_index:
        raise InvalidInput(
            f"{record_id!r} is an agency: an agency is never on a related-party path"
        )
    if record_id in graph.contracts:
        raise InvalidInput(f"{record_id!r} is a contract: use `cofi check {record_id}`")
    raise NotFound(f"no person or company {record_id!r} in the store")


@cli.command()
@click.argument("entity_id")
@at_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON lines instead of text.")
@rule_options
@pass_ctx
def links(obj: Context, /, entity_id: str, at: str | None, as_json: bool, **limits: int) -> None:
    """Every contract winner within --max-hops of a person or company, nearest first.

    For each winner: the shortest related-party path and the contracts it won.

    \b
    Examples:
      cofi links p-bolat
      cofi links p-aigerim --at 2025-03-14 --json
    """
    rules = _rules(**limits)
    graph = reach_graph(obj.store(), entity_id, rules, at)
    rows = winners_near(graph, _node(graph, entity_id), rules, at)
    if not rows:
        click.echo(f"no contract winner within {rules.max_hops} hops of {entity_id}", err=True)
        return
    for hops, winner_id, node, best in rows:
        contracts = sorted(graph.contracts_of[node])
        total = sum(graph.contracts[c].value or 0 for c in contracts)
        sentence = explain(graph, best, at, "") if best else f"{entity_id} is the winner itself"
        if as_json:
            steps = path_json(graph, best, entity_id, winner_id) if best else []
            line = {"entity_id": entity_id, "winner_id": winner_id, "hops": hops,
                    "contracts": contracts, "total_value": total, "explanation": sentence,
                    "path": steps}  # fmt: skip
            click.echo(json.dumps(line, ensure_ascii=False))
        else:
            click.echo(
                f"{winner_id}  {graph.node_name(node)}  {hops} hop{'s' if hops != 1 else ''}  "
                f"won {len(contracts)} contract(s): {', '.join(contracts)} ({total:,.0f})"
            )
            click.echo(f"  {sentence}")


@cli.command()
@click.argument("item_id", metavar="ID")
@click.option(
    "--depth",
    type=click.IntRange(0, 6),
    default=None,
    help="Steps out from the entity or contract [default: 2], or from every node of the "
    "finding's path [default: 1].",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="The HTML file to write (self-contained, works offline).",
)
@hub_limit_option
@pass_ctx
def explore(obj: Context, /, item_id: str, depth: int | None, out: Path, hub_limit: int) -> None:
    """Draw the neighbourhood of an entity, a contract or a finding as an interactive graph.

    One HTML file, nothing fetched from the network: nodes coloured and shaped by kind, links
    labelled with type, role, share and dates, a finding's path in red; click a node for its
    properties, search by name, drag to pan, scroll to zoom.  On the Neo4j store it also prints
    the Cypher that shows the same in the Neo4j Browser.

    \b
    Examples:
      cofi explore p-aigerim --out aigerim.html
      cofi explore F-3f0c2a9d4e1b7c55 --depth 1 --out finding.html
    """
    from cofi.explore import neighbourhood, node_ids
    from cofi.html import explore_html

    store = obj.store()
    finding = next((f for f in store.findings(active=False) if f.finding_id == item_id), None)
    if depth is None:
        depth = 1 if finding is not None else 2
    graph = explore_graph(store, item_id, depth, hub_limit, finding)
    view = neighbourhood(graph, item_id, depth=depth, hub_limit=hub_limit, finding=finding)
    if finding is None and store.kinds_of([item_id]).get(item_id) in (Kind.PERSON, Kind.AGENCY):
        from cofi.restrictions import restrictions as find_restrictions

        entity = graph.canonical_of(item_id)
        view.notes = [
            f"Restriction {r.restriction_id}: {r.explanation}."
            for r in find_restrictions(store, None)
            if entity in (r.agency_id, r.superior_id, r.relative_id)
        ]
    records = store.records(node_ids(view))
    out.write_text(explore_html(view, records), encoding="utf-8")
    click.echo(
        f"wrote {out}: {len(view.nodes)} node(s), {len(view.edges)} link(s)"
        + (" (not every neighbour drawn)" if view.truncated else ""),
        err=True,
    )
    if store.location.startswith(NEO4J_SCHEMES):
        click.echo(browser_cypher(item_id, finding is not None))


def browser_cypher(item_id: str, is_finding: bool) -> str:
    """What to paste into the Neo4j Browser for the same view: a `:param` line, then a saved
    query from cypher/browse/ (the value travels as a parameter, as everywhere)."""
    name = "browse/finding_path" if is_finding else "browse/neighbourhood"
    q = query(name)
    (param,) = sorted(q.params)
    return f"// {q.comment}\n:param {param} => {json.dumps(item_id, ensure_ascii=False)}\n{q.code}"


@cli.command("sweep")
@click.option(
    "--all", "everything", is_flag=True, help="Re-check every contract and report every finding."
)
@click.option(
    "--since",
    "signed_since",
    callback=_iso_date,
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
    # The --out file is opened first: a sweep stores what it finds, so a report that could not
    # be written afterwards would be lost to the next (incremental) sweep.
    # Only a file this sweep made is removed when it fails: never one that was there before, nor
    # a device such as /dev/null, nor from a forked worker that unwinds this frame.
    made = out is not None and not out.exists()
    owner = os.getpid()
    fh = out.open("w", encoding="utf-8", newline="") if out is not None else sys.stdout
    try:
        result = run_sweep(
            store, _rules(**limits), everything=everything, signed_since=signed_since
        )
        title = f"cofi sweep of {date.today()}: {len(result.reported)} finding(s) reported"
        write_findings(result.reported, fmt, fh, title, result.restrictions_reported)
    except BaseException:
        if out is not None:
            fh.close()
            if made and os.getpid() == owner and out.is_file():
                out.unlink(missing_ok=True)
        raise
    if out is not None:
        fh.close()
    where = f", written to {out}" if out else ""
    click.echo(
        f"swept {result.checked} of {result.contracts} contract(s): {result.found} finding(s), "
        f"{len(result.reported)} reported{where}"
        + (f", {result.gone} no longer found" if result.gone else "")
        + f"; {result.restrictions} restriction(s), {len(result.restrictions_reported)} reported"
        + (
            ""
            if fmt in ("jsonl", "text") or not result.restrictions_reported
            else " (`cofi restrictions --all` lists them)"
        ),
        err=True,
    )


def _format_for(out: Path | None) -> str:
    if out is None:
        return "text"
    return {".csv": "csv", ".txt": "text", ".html": "html", ".htm": "html"}.get(
        out.suffix.lower(), "jsonl"
    )


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
    if out is None:
        write_findings(found, fmt, sys.stdout, title)
    else:
        with out.open("w", encoding="utf-8", newline="") as fh:
            write_findings(found, fmt, fh, title)
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
    from cofi.output import write_candidates
    from cofi.vocab import Kind

    obj = ctx.find_object(Context)
    assert obj is not None
    store = obj.store()
    kinds = [Kind(kind)] if kind else [Kind.PERSON, Kind.COMPANY]
    found = matching.propose(store, kinds, min_score=min_score, same_at=same_at)
    title = f"cofi match: {len(found)} candidate pair(s)"
    if out is None:
        write_candidates(found, fmt, sys.stdout, title)
    else:
        with out.open("w", encoding="utf-8", newline="") as fh:
            write_candidates(found, fmt, fh, title)
    same = sum(c.verdict == "same" for c in found)
    click.echo(
        f"{len(found)} candidate pair(s): {same} same, {len(found) - same} review"
        + (f", written to {out}" if out else ""),
        err=True,
    )
    if accept_above is not None:
        chosen = [c for c in found if c.score >= accept_above]
        links = [
            matching.same_as_link(c.match_id, c.left_id, c.right_id, c.score, c.reasons)
            for c in chosen
        ]
        click.echo(f"joining {len(chosen)} pair(s) scoring at least {accept_above}", err=True)
        _load_links(store, links)


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
    callback=_iso_date,
    metavar="DATE",
    help="Audit the declarations and links in force on DATE (no lookback). Default: today.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "jsonl", "csv"]),
    default="text",
    show_default=True,
    help="jsonl: one JSON object per omission; csv: safe for spreadsheets; text: for people.",
)
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
    callback=_iso_date,
    metavar="DATE",
    help="Relatives serving together on DATE. Default: today.",
)
@click.option("--all", "every", is_flag=True, help="Those of every period.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "jsonl", "csv"]),
    default="text",
    show_default=True,
    help="jsonl: one JSON object per restriction; csv: safe for spreadsheets; text: for people.",
)
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
    from cofi.restrictions import Restriction
    from cofi.restrictions import restrictions as find

    if at and every:
        raise click.UsageError("--at and --all cannot be combined")
    day = None if every else (at or date.today().isoformat())
    store = obj.store()
    kept = store.stored_restrictions()
    found = [
        replace(r, status=kept[r.restriction_id].status, note=kept[r.restriction_id].note)
        if r.restriction_id in kept else r
        for r in find(store, day)
    ]  # fmt: skip
    write_rows([r.as_dict() for r in found], Restriction.FIELDS, fmt, sys.stdout,
               [r.text().rstrip("\n") for r in found])  # fmt: skip
    click.echo(f"{len(found)} restriction(s)" + (f" on {day}" if day else ""), err=True)


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
        _load_links(
            store, [matching.same_as_link(match_id, decision.left_id, decision.right_id, None)]
        )


def _load_links(store: Store, links: list[dict[str, str]]) -> None:
    """Load `links` (links.csv rows) as any bundle is loaded: validated, all or nothing."""
    if not links:
        return
    import tempfile

    from cofi.loader import plan_load
    from cofi.match import write_links

    with (
        tempfile.TemporaryDirectory(prefix="cofi-match-") as tmp,
        plan_load([write_links(links, Path(tmp))], store.kinds_of) as plan,
    ):
        _write_plan(store, plan, None, err=True)


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
    from dataclasses import replace

    from cofi.synth import SCALES, generate
    from cofi.synth.evaluate import evaluate

    counts = {k: limits.pop(k) for k in ("people", "companies", "agencies", "contracts", "plants")}
    rules = _rules(**limits)
    if evaluate_dir is not None:
        if out is not None:
            raise click.UsageError("--evaluate reads a bundle; it takes no --out")
        if not (evaluate_dir / "truth.jsonl").is_file():
            raise InvalidInput(f"{evaluate_dir}: no truth.jsonl here (not a cofi synth bundle)")
        result = evaluate(evaluate_dir, rules)
        for line in result.lines():
            click.echo(line)
        if not result.perfect:
            raise InvalidInput(
                "the sweep missed planted findings, flagged decoys or made wrong ones"
            )
        return
    if out is None:
        raise click.UsageError("give --out DIR (or --evaluate DIR)")
    chosen = replace(SCALES[scale], **{k: v for k, v in counts.items() if v is not None})
    written = generate(out, chosen, seed)
    rows = sum(n for name, n in written.items() if name.endswith(".csv"))
    click.echo(
        f"wrote {rows:,} rows to {out}: {written['truth.jsonl']} planted findings, "
        f"{written['decoys.jsonl']} near misses, {written.get('matches.jsonl', 0)} pairs for "
        f"`cofi match`, {written.get('restrictions.jsonl', 0)} relatives-in-service cases "
        f"(seed {seed})"
    )


@cli.command()
@click.option(
    "--out",
    "directory",
    default="cofi-demo",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="The fresh embedded store the demo builds.",
)
@click.option("--seed", default=1, show_default=True, help="The synthetic population's seed.")
def demo(directory: Path, seed: int) -> None:
    """Synthesise a small bundle, load it into a fresh embedded store, sweep it, show the top.

    \b
    Example:
      cofi demo
      cofi demo --out /tmp/cofi-demo --seed 7
    """
    from cofi.demo import run_demo

    run_demo(directory, click.echo, seed)


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
