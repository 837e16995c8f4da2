"""What `cofi path` and `cofi links` report, as rows: the related-party paths between two
records, shortest and strongest first, and the contract winners near a record."""

from __future__ import annotations

from typing import Any

from cofi.detect import PathSearch, Rules
from cofi.errors import InvalidInput, NotFound, NothingFound
from cofi.findings import explain, path_json, rank_key, winners_near
from cofi.graph import Graph


def endpoint(graph: Graph, record_id: str) -> int:
    """The node of a person or company record; the reason, as an error, for anything else."""
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


def related_paths(
    graph: Graph, from_id: str, to_id: str, rules: Rules, at: str | None, limit: int
) -> list[dict[str, Any]]:
    """The first `limit` valid paths from `from_id` to `to_id` (fewest hops, then highest score):
    hops, the path's steps (`path_json`) and its sentence; `NothingFound` when there is none."""
    source, target = endpoint(graph, from_id), endpoint(graph, to_id)
    search = PathSearch(graph, rules)
    paths = search.all_paths(source, target, search.in_force(at))
    if not paths:
        raise NothingFound(f"no related-party path from {from_id} to {to_id}")
    paths.sort(key=lambda p: (p.hops, rank_key(graph, p, at, None)))
    return [
        {"from": from_id, "to": to_id, "at": at, "hops": p.hops,
         "path": path_json(graph, p, from_id, to_id), "explanation": explain(graph, p, at, "")}
        for p in paths[:limit]
    ]  # fmt: skip


def winners(graph: Graph, entity_id: str, rules: Rules, at: str | None) -> list[dict[str, Any]]:
    """Every contract winner within max_hops of `entity_id`, nearest first: its name, hops, the
    contracts it won and their total value, the best path's steps and sentence."""
    out = []
    for hops, winner_id, node, best in winners_near(graph, endpoint(graph, entity_id), rules, at):
        contracts = sorted(graph.contracts_of[node])
        out.append({
            "entity_id": entity_id, "winner_id": winner_id, "winner_name": graph.node_name(node),
            "hops": hops, "contracts": contracts,
            "total_value": sum(graph.contracts[c].value or 0 for c in contracts),
            "explanation": explain(graph, best, at, "") if best
            else f"{entity_id} is the winner itself",
            "path": path_json(graph, best, entity_id, winner_id) if best else [],
        })  # fmt: skip
    return out
