"""The neighbourhood of an entity, a contract or a finding, as a small graph to draw.

Built from the in-memory graph (`cofi.graph.Graph`, the same for every store) plus what detection
keeps beside it: contracts (with their buyer, winner and deciders), agencies and their heads.  A
node is an entity after merges (its canonical record id), an identifier value (`kind:key`), an
agency or a contract.  Expansion stops at `depth` steps, at `max_nodes` nodes, and at identifier
values shared by more than `hub_limit` entities (shown, not crossed): a hub would drown the view.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from cofi.errors import NotFound
from cofi.findings import Finding
from cofi.graph import EDGE_TYPES, Graph
from cofi.vocab import IDENTIFIER_KINDS, Kind

MAX_NODES = 250
PER_NODE = 25
"""At most this many contracts are drawn around one agency, winner or decider."""


@dataclass
class View:
    """What `cofi explore` draws: nodes and edges by id, the ones to highlight, and why."""

    title: str
    nodes: dict[str, dict[str, Any]] = field(default_factory=dict)
    edges: dict[str, dict[str, Any]] = field(default_factory=dict)
    focus: list[str] = field(default_factory=list)
    truncated: bool = False
    finding: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)
    """Said above the drawing: the restrictions (relatives in service) of the item explored."""


class _Around:
    """Neighbours of any view node, with the indexes the graph does not keep built lazily."""

    def __init__(self, g: Graph, hub_limit: int) -> None:
        self.g, self.hub_limit = g, hub_limit
        self._decided: dict[str, list[tuple[str, str, str]]] | None = None
        self._bought: dict[str, list[str]] | None = None
        self._heads: dict[str, list[tuple[str, str, str]]] | None = None
        self._members: dict[str, list[str]] | None = None
        self._idents: dict[str, int] | None = None

    def node(self, vid: str) -> dict[str, Any]:
        g = self.g
        if vid in g.contracts:
            c = g.contracts[vid]
            return {"id": vid, "kind": "contract", "name": c.title or vid, "records": [vid],
                    "signed_on": c.signed_on, "value": c.value, "currency": c.currency}  # fmt: skip
        kind, _, key = vid.partition(":")
        if kind in {k.value for k in IDENTIFIER_KINDS} and vid not in g.rec_index:
            n = self._ident_node(vid)
            size = g.ident_size.get(n, 0) if n is not None else 0
            raw = g.ident_value[n][1] if n is not None else key
            return {"id": vid, "kind": kind, "name": raw, "records": [], "key": key,
                    "holders": size, "hub": size > self.hub_limit}  # fmt: skip
        rec = g.rec_index[vid]
        return {"id": vid, "kind": g.rec_kind[rec].value, "name": g.rec_name[rec],
                "records": self.members(vid)}  # fmt: skip

    def members(self, canonical: str) -> list[str]:
        if self._members is None:
            inverse: dict[str, list[str]] = defaultdict(list)
            for record, head in self.g.canonical.items():
                inverse[head].append(record)
            self._members = inverse
        return sorted(self._members.get(canonical) or [canonical])

    def _ident_node(self, vid: str) -> int | None:
        if self._idents is None:
            self._idents = {self.g.node_id(n): n for n in self.g.ident_value}
        return self._idents.get(vid)

    def resolve(self, some_id: str) -> str | None:
        """The view node of a record, contract or identifier id (None if it is none of these)."""
        g = self.g
        if some_id in g.contracts:
            return some_id
        if some_id in g.rec_index:
            return g.canonical_of(some_id)
        if self._ident_node(some_id) is not None:
            return some_id
        return None

    def edges(self, vid: str) -> tuple[list[tuple[str, dict[str, Any]]], bool]:
        """(neighbour, edge) pairs of a view node, and whether some were left out."""
        g = self.g
        out: list[tuple[str, dict[str, Any]]] = []
        cut = False
        if vid in g.contracts:
            c = g.contracts[vid]
            out.append((g.canonical_of(c.buyer_id), _edge(f"b:{vid}", vid, g.canonical_of(
                c.buyer_id), "BUYER")))  # fmt: skip
            out.append((g.canonical_of(c.supplier_id), _edge(f"s:{vid}", vid, g.canonical_of(
                c.supplier_id), "SUPPLIER")))  # fmt: skip
            for record, role in g.deciders_of(vid):
                who = g.canonical_of(record)
                out.append((who, _edge(f"d:{vid}:{record}:{role}", who, vid, "DECIDED", role)))
            return out, cut
        node = self._ident_node(vid)
        if node is None and vid in g.rec_index:
            node = g.node_of(vid)
        if node is not None:
            if g.node_rec[node] < 0 and g.ident_size.get(node, 0) > self.hub_limit:
                return [], True  # a hub: drawn, not crossed
            for half, far in g.neighbours(node):
                e = half >> 1
                a, b = g.node_id(g.e_a[e]), g.node_id(g.e_b[e])
                share = g.e_share[e]
                # named by what it links, not by its place in the graph: the same on every store
                ra, rb = g.e_ra[e], g.e_rb[e]
                ends = (g.rec_id[ra], g.rec_id[rb] if rb >= 0 else b)
                eid = "|".join((ends[0], EDGE_TYPES[g.e_type[e]], ends[1], g.e_role[e],
                                g.e_since[e], g.e_until[e]))  # fmt: skip
                edge = _edge(eid, a, b, EDGE_TYPES[g.e_type[e]], g.e_role[e],
                             None if share < 0 else share, g.e_since[e], g.e_until[e])  # fmt: skip
                out.append((g.node_id(far), edge))
            won = g.contracts_of.get(node, [])
            cut |= len(won) > PER_NODE
            for cid in sorted(won)[:PER_NODE]:
                out.append((cid, _edge(f"s:{cid}", cid, vid, "SUPPLIER")))
            decided = self._decided_index().get(vid, [])
            cut |= len(decided) > PER_NODE
            for cid, role, record in decided[:PER_NODE]:
                out.append((cid, _edge(f"d:{cid}:{record}:{role}", vid, cid, "DECIDED", role)))
            for agency, since, until in self._heads_index().get(vid, []):
                out.append((agency, _edge(f"h:{vid}:{agency}:{since}", vid, agency, "EMPLOYED",
                                          "head", None, since, until)))  # fmt: skip
            return out, cut
        if vid in g.rec_index:  # an agency: its heads and the contracts it bought
            for head in g.heads.get(vid, []):
                who = g.canonical_of(head.record)
                out.append((who, _edge(f"h:{who}:{vid}:{head.since}", who, vid, "EMPLOYED", "head",
                                       None, head.since, head.until)))  # fmt: skip
            bought = self._bought_index().get(vid, [])
            cut |= len(bought) > PER_NODE
            for cid in bought[:PER_NODE]:
                out.append((cid, _edge(f"b:{cid}", cid, vid, "BUYER")))
        return out, cut

    def _decided_index(self) -> dict[str, list[tuple[str, str, str]]]:
        if self._decided is None:
            index: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
            for cid in sorted(self.g.decided):
                for record, role in self.g.deciders_of(cid):
                    index[self.g.canonical_of(record)].append((cid, role, record))
            self._decided = index
        return self._decided

    def _bought_index(self) -> dict[str, list[str]]:
        if self._bought is None:
            index: dict[str, list[str]] = defaultdict(list)
            for cid in sorted(self.g.contracts):
                index[self.g.canonical_of(self.g.contracts[cid].buyer_id)].append(cid)
            self._bought = index
        return self._bought

    def _heads_index(self) -> dict[str, list[tuple[str, str, str]]]:
        if self._heads is None:
            index: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
            for agency, heads in self.g.heads.items():
                for head in heads:
                    index[self.g.canonical_of(head.record)].append((agency, head.since,
                                                                     head.until))  # fmt: skip
            self._heads = index
        return self._heads


def _edge(
    eid: str,
    source: str,
    target: str,
    type_: str,
    role: str = "",
    share: float | None = None,
    since: str = "",
    until: str = "",
) -> dict[str, Any]:
    words = [type_]
    if role:
        words.append(role)
    if share is not None:
        words.append(f"{share:g}%")
    if since or until:
        words.append(f"{since or '…'} – {until or '…'}")
    return {"id": eid, "source": source, "target": target, "type": type_, "role": role or None,
            "share": share, "since": since or None, "until": until or None,
            "label": " ".join(words)}  # fmt: skip


def neighbourhood(
    g: Graph,
    item_id: str,
    *,
    depth: int,
    hub_limit: int,
    finding: Finding | None = None,
    max_nodes: int = MAX_NODES,
) -> View:
    """The view of `item_id` (a record, contract or identifier id; or `finding`'s path)."""
    around = _Around(g, hub_limit)
    if finding is not None:
        focus = _finding_nodes(around, finding)
        title = f"Finding {finding.finding_id}: {finding.pattern}, contract {finding.contract_id}"
    else:
        start = around.resolve(item_id)
        if start is None:
            raise NotFound(f"no entity, contract or finding {item_id!r} in the store")
        focus = [start]
        title = f"{around.node(start)['name']} ({item_id})"
    view = View(title=title, focus=focus)
    for vid in focus:
        view.nodes[vid] = around.node(vid)
    frontier = list(focus)
    for _ in range(depth):
        following: list[str] = []
        for vid in frontier:
            found, cut = around.edges(vid)
            view.truncated |= cut
            for other, edge in found:
                if other not in view.nodes:
                    if len(view.nodes) >= max_nodes:
                        view.truncated = True
                        continue
                    view.nodes[other] = around.node(other)
                    following.append(other)
                view.edges.setdefault(edge["id"], edge)
        frontier = following
    # edges between nodes already drawn, found from the last ring
    for vid in frontier:
        for other, edge in around.edges(vid)[0]:
            if other in view.nodes:
                view.edges.setdefault(edge["id"], edge)
    if finding is not None:
        _highlight(view, finding, around)
    return view


def _finding_nodes(around: _Around, f: Finding) -> list[str]:
    nodes = [f.contract_id] if f.contract_id in around.g.contracts else []
    for item in f.path[::2]:
        vid = around.resolve(item["id"])
        if vid is not None and vid not in nodes:
            nodes.append(vid)
    return nodes


def _highlight(view: View, f: Finding, around: _Around) -> None:
    """Mark the finding's path: its nodes, and for each step the edge of its type between them."""
    path_nodes = [around.resolve(item["id"]) for item in f.path[::2]]
    for vid in path_nodes:
        if vid in view.nodes:
            view.nodes[vid]["path"] = True
    for i, step in enumerate(f.path[1::2]):
        a, b = path_nodes[i], path_nodes[i + 1]
        for edge in view.edges.values():
            if {edge["source"], edge["target"]} == {a, b} and edge["type"] == step["type"]:
                edge["path"] = True
                break
    view.finding = {k: v for k, v in f.as_dict().items() if k != "path"}


def node_ids(view: View) -> Iterable[str]:
    """The record ids of every entity node (to fetch their fields for the properties panel)."""
    for node in view.nodes.values():
        if node["kind"] not in {k.value for k in IDENTIFIER_KINDS} and node["kind"] != "contract":
            yield from node["records"]
        elif node["kind"] == Kind.CONTRACT.value:
            yield node["id"]
