"""Detection measurements on one embedded store, run in a process of its own by `run.py`.

Prints one JSON object: the time and peak memory (PSS of this process and its sweep workers,
sampled every 0.1 s, so shared copy-on-write pages count once) of a full `sweep --all`; the time of
`check` on sampled contracts once the graph is built; and the naive way on the same sample —
networkx `all_simple_edge_paths` up to `max_hops` from each decision-maker to the winner with the
same rules applied to each path — with the ratio of the two.
"""

from __future__ import annotations

import json
import random
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import networkx as nx
from memory import PeakMemory

from cofi.detect import PathSearch, Rules
from cofi.findings import check_contract, decision_makers
from cofi.graph import EDGE_TYPES, FAMILY, Graph
from cofi.store.embedded import EmbeddedStore
from cofi.sweep import load_graph, sweep

NAIVE_BUDGET_S = 10.0
"""A naive pair still enumerating after this long is stopped and counted at this time."""


def naive_graph(g: Graph) -> nx.MultiGraph:
    out = nx.MultiGraph()
    out.add_nodes_from(range(len(g.node_kind)))
    out.add_edges_from((a, b, e) for e, (a, b) in enumerate(zip(g.e_a, g.e_b, strict=True)))
    return out


def naive_check(g: Graph, nxg: nx.MultiGraph, contract_id: str, rules: Rules) -> int:
    """The number of (decision-maker, winner) pairs with a valid path, the slow way."""
    contract = g.contracts[contract_id]
    winner = g.node_of(contract.supplier_id)
    at = contract.signed_on
    low = (date.fromisoformat(at) - timedelta(days=rules.lookback_days)).isoformat()
    hubs = {n for n, size in g.ident_size.items() if size > rules.hub_limit}
    found = 0
    deadline = time.perf_counter() + NAIVE_BUDGET_S
    for _, _, node in decision_makers(g, contract):
        for path in nx.all_simple_edge_paths(nxg, node, winner, cutoff=rules.max_hops):
            if time.perf_counter() > deadline:
                return found
            edges = [key for _, _, key in path]
            if any(v in hubs for _, v, _ in path[:-1]):
                continue
            if sum(g.e_type[e] == FAMILY for e in edges) > rules.max_family:
                continue
            if any((g.e_since[e] and g.e_since[e] > at) or (g.e_until[e] and g.e_until[e] < low)
                   for e in edges):  # fmt: skip
                continue
            found += 1
            break
    return found


def main() -> None:
    store_dir, sample = Path(sys.argv[1]), int(sys.argv[2])
    rules = Rules()
    out: dict[str, Any] = {}
    store = EmbeddedStore(store_dir, create=False)
    with PeakMemory() as mem:
        start = time.perf_counter()
        graph = load_graph(store)
        out["graph_s"] = time.perf_counter() - start
        result = sweep(store, rules, everything=True, graph=graph)
        out["sweep_s"] = time.perf_counter() - start
    out["sweep_peak_mb"] = mem.peak_kib / 1024
    out["contracts"] = result.contracts
    out["decided"] = sum(len(graph.deciders_of(c)) for c in graph.contracts)
    out["findings"] = result.found
    out["nodes"], out["edges"] = len(graph.node_kind), graph.edge_count
    out["edge_types"] = EDGE_TYPES

    ids = random.Random(7).sample(sorted(graph.contracts), sample)
    search = PathSearch(graph, rules)
    times = []
    for contract_id in ids:
        t = time.perf_counter()
        check_contract(search, contract_id)
        times.append(time.perf_counter() - t)
    times.sort()
    out["check_mean_ms"] = 1000 * sum(times) / len(times)
    out["check_p95_ms"] = 1000 * times[int(0.95 * len(times))]
    out["check_max_ms"] = 1000 * times[-1]

    nxg = naive_graph(graph)
    naive = []
    for contract_id in ids:
        t = time.perf_counter()
        naive_check(graph, nxg, contract_id, rules)
        naive.append(time.perf_counter() - t)
    out["naive_mean_ms"] = 1000 * sum(naive) / len(naive)
    out["naive_capped"] = sum(t >= NAIVE_BUDGET_S for t in naive)
    out["speedup"] = out["naive_mean_ms"] / out["check_mean_ms"]
    store.close()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
