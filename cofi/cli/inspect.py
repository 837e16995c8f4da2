"""`cofi stats`, `search`, `path`, `links`, `explore`: what is in the store and how it connects."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import click

from cofi.cli.base import (
    Context,
    at_option,
    cli,
    hub_limit_option,
    make_rules,
    pass_ctx,
    rule_options,
)
from cofi.errors import NothingFound
from cofi.output import path_text
from cofi.queries import query
from cofi.related import related_paths, winners
from cofi.search import query_tokens
from cofi.store import NEO4J_SCHEMES
from cofi.sweep import explore_graph, path_graph, reach_graph
from cofi.vocab import Kind


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
    width = max((len(k) for part in (result.entities, result.links) for k in part), default=10)
    for title, part in (("entities", result.entities), ("links", result.links),
                        ("identifiers", result.identifiers)):  # fmt: skip
        click.echo(f"{title}:")
        for kind, n in part.items():
            click.echo(f"  {kind:<{max(10, width)}} {n:>10,}")
    click.echo(f"hubs (shared by more than {hub_limit} entities): {len(result.hubs)}")
    for hub in result.hubs:
        click.echo(f"  {hub.kind:<8} {hub.entities:>6}  {hub.value}")


def _searchable(_: click.Context, __: click.Parameter, value: str) -> str:
    """NAME, when it has a letter or a digit to look for (else a usage error: "no match" would
    say the store lacks what was never asked)."""
    if not query_tokens(value):
        raise click.BadParameter(f"{value!r} has no letter or digit to search for")
    return value


@cli.command()
@click.argument("name", callback=_searchable)
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
        raise NothingFound(f"no match for {name!r}")
    for hit in hits:
        if as_json:
            click.echo(json.dumps(asdict(hit), ensure_ascii=False))
        else:
            click.echo(f"{hit.id}\t{hit.kind}\t{hit.name}")


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
    rules = make_rules(**limits)
    graph = path_graph(obj.store(), from_id, to_id, rules, at)
    for row in related_paths(graph, from_id, to_id, rules, at, limit):
        if as_json:
            click.echo(json.dumps(row, ensure_ascii=False))
        else:
            hops = row["hops"]
            click.echo(f"{hops} hop{'s' if hops != 1 else ''}: {row['explanation']}")
            click.echo(f"  {path_text(row['path'])}")


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
    rules = make_rules(**limits)
    graph = reach_graph(obj.store(), entity_id, rules, at)
    rows = winners(graph, entity_id, rules, at)
    if not rows:
        click.echo(f"no contract winner within {rules.max_hops} hops of {entity_id}", err=True)
    for row in rows:
        if as_json:
            click.echo(json.dumps({k: v for k, v in row.items() if k != "winner_name"},
                                  ensure_ascii=False))  # fmt: skip
        else:
            hops, contracts = row["hops"], row["contracts"]
            click.echo(
                f"{row['winner_id']}  {row['winner_name']}  {hops} hop{'s' if hops != 1 else ''}"
                f"  won {len(contracts)} contract(s): {', '.join(contracts)} "
                f"({row['total_value']:,.0f})"
            )
            click.echo(f"  {row['explanation']}")


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
    finding = store.finding(item_id)
    if depth is None:
        depth = 1 if finding is not None else 2
    graph = explore_graph(store, item_id, depth, hub_limit, finding)
    view = neighbourhood(graph, item_id, depth=depth, hub_limit=hub_limit, finding=finding)
    if finding is None and store.kinds_of([item_id]).get(item_id) in (Kind.PERSON, Kind.AGENCY):
        from cofi.restrictions import restrictions as find_restrictions

        entity = graph.canonical_of(item_id)
        view.notes = [
            f"Restriction {r.restriction_id}: {r.explanation}."
            for r in find_restrictions(store, None, around=item_id)
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
