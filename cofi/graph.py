"""The related-party graph in memory, built from any store's rows.

Nodes are *entities* (a person or company after SAME_AS and IIN/BIN merges) and identifier nodes
(address, phone, email).  Edges are the traversable links of the vocabulary table (a link is kept
only when both its ends are kinds its type may be walked into, so EMPLOYED into an agency and every
DECIDED link are left out) plus one edge from each person or company to each of its identifier
nodes.  Agencies and contracts are never nodes: contracts, their deciders and agency heads are
kept beside the graph for `detect`.

Adjacency is compressed (CSR in `array`s: an offset per node, then for each node its half-edges and
the node at their far end), so a graph of millions of links fits in a few hundred megabytes and a
search reads plain integers.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

from cofi.merge import canonical_ids
from cofi.vocab import IDENTIFIER_LINK, LINK_TYPES, STRONG_ID_FIELD, Kind

EDGE_TYPES: tuple[str, ...] = (
    *(t.name for t in LINK_TYPES.values() if t.traversable and not t.derived),
    *(IDENTIFIER_LINK[k] for k in (Kind.ADDRESS, Kind.PHONE, Kind.EMAIL)),
)
"""Edge type codes: the index of a type in this tuple."""
EDGE_CODE = {name: code for code, name in enumerate(EDGE_TYPES)}
FAMILY = EDGE_CODE["FAMILY"]
IDENTIFIER_EDGE = {code for code, name in enumerate(EDGE_TYPES) if LINK_TYPES[name].derived}

_NO_SHARE = -1.0


class EntityRow(NamedTuple):
    id: str
    kind: str
    name: str
    strong_id: str


class ContractRow(NamedTuple):
    id: str
    buyer_id: str
    supplier_id: str
    signed_on: str
    value: float | None
    currency: str
    title: str


class LinkRow(NamedTuple):
    source: str
    target: str
    type: str
    role: str
    share: float | None
    since: str
    until: str


class ContactRow(NamedTuple):
    entity_id: str
    kind: str
    key: str
    raw: str


@dataclass
class GraphRows:
    """What a store hands over to build the graph (persons, companies and agencies as entities)."""

    entities: Iterable[EntityRow]
    same_as: Iterable[tuple[str, str]]
    contracts: Iterable[ContractRow]
    links: Iterable[LinkRow]
    contacts: Iterable[ContactRow]


class Decider(NamedTuple):
    record: str
    role: str


class Head(NamedTuple):
    record: str
    since: str
    until: str


@dataclass
class Graph:
    """The graph (see the module docstring).  Build it with `Graph.build`."""

    rec_index: dict[str, int] = field(default_factory=dict)
    rec_id: list[str] = field(default_factory=list)
    rec_kind: list[Kind] = field(default_factory=list)
    rec_name: list[str] = field(default_factory=list)
    rec_node: array[int] = field(default_factory=lambda: array("i"))
    """The node of each record (-1 for agencies)."""
    canonical: dict[str, str] = field(default_factory=dict)
    """Merged record id -> its entity's canonical (smallest) record id; unmerged ids are absent."""

    node_rec: array[int] = field(default_factory=lambda: array("i"))
    """The canonical record of each entity node, -1 for an identifier node."""
    node_kind: list[Kind] = field(default_factory=list)
    ident_value: dict[int, tuple[str, str]] = field(default_factory=dict)
    """Identifier node -> (normalised key, a raw value as written)."""
    ident_size: dict[int, int] = field(default_factory=dict)
    """Identifier node -> number of distinct entities that share it."""

    e_a: array[int] = field(default_factory=lambda: array("i"))
    e_b: array[int] = field(default_factory=lambda: array("i"))
    e_ra: array[int] = field(default_factory=lambda: array("i"))
    e_rb: array[int] = field(default_factory=lambda: array("i"))
    """The records an edge joins (source, target as written; -1 for the identifier end)."""
    e_type: bytearray = field(default_factory=bytearray)
    e_role: list[str] = field(default_factory=list)
    e_share: array[float] = field(default_factory=lambda: array("d"))
    e_since: list[str] = field(default_factory=list)
    e_until: list[str] = field(default_factory=list)

    offsets: array[int] = field(default_factory=lambda: array("i"))
    halves: array[int] = field(default_factory=lambda: array("i"))
    """For node n, `halves[offsets[n]:offsets[n+1]]` are 2*edge (n is the edge's source end) or
    2*edge+1 (n is its target end)."""
    far: array[int] = field(default_factory=lambda: array("i"))
    """`far[i]` is the node at the other end of half-edge `halves[i]`."""

    contracts: dict[str, ContractRow] = field(default_factory=dict)
    decided: dict[str, list[Decider]] = field(default_factory=dict)
    heads: dict[str, list[Head]] = field(default_factory=dict)
    """Canonical agency id -> EMPLOYED links with role `head` into any of its records."""
    contracts_of: dict[int, list[str]] = field(default_factory=dict)
    """Winner node -> ids of the contracts it won."""

    # -- building -------------------------------------------------------------------------

    @classmethod
    def build(cls, rows: GraphRows) -> Graph:
        g = cls()
        entities = list(rows.entities)
        strong: dict[tuple[str, str], list[str]] = {}
        for e in entities:
            if e.strong_id and Kind(e.kind) in STRONG_ID_FIELD:
                strong.setdefault((e.kind, e.strong_id), []).append(e.id)
        groups = (ids for ids in strong.values() if len(ids) > 1)
        g.canonical = canonical_ids(rows.same_as, groups)
        canon = g.canonical
        del strong
        # one string object per distinct role and date: millions of links share a few thousand
        same: dict[str, str] = {}
        share_str = same.setdefault

        node_of_canon: dict[str, int] = {}
        for e in sorted(entities, key=lambda e: e.id):
            kind = Kind(e.kind)
            index = len(g.rec_id)
            g.rec_index[e.id] = index
            g.rec_id.append(e.id)
            g.rec_kind.append(kind)
            g.rec_name.append(e.name)
            if kind is Kind.AGENCY:
                g.rec_node.append(-1)
                continue
            head = canon.get(e.id, e.id)
            node = node_of_canon.get(head)
            if node is None:
                node = node_of_canon[head] = len(g.node_kind)
                g.node_kind.append(kind)
                g.node_rec.append(index)  # sorted order: the first record seen is the smallest
            g.rec_node.append(node)
        del entities

        for link in rows.links:
            lt = LINK_TYPES.get(link.type)
            if lt is None:
                continue
            if link.type == "DECIDED":
                decider = Decider(link.source, share_str(link.role, link.role))
                g.decided.setdefault(link.target, []).append(decider)
                continue
            ra, rb = g.rec_index.get(link.source), g.rec_index.get(link.target)
            if ra is None or rb is None:
                continue
            if (
                link.type == "EMPLOYED"
                and g.rec_kind[rb] is Kind.AGENCY
                and link.role.strip().casefold() == "head"
            ):
                agency = canon.get(link.target, link.target)
                g.heads.setdefault(agency, []).append(Head(link.source, link.since, link.until))
            if not lt.traversable or link.type not in EDGE_CODE:
                continue
            if g.rec_kind[ra] not in lt.traverse_into or g.rec_kind[rb] not in lt.traverse_into:
                continue
            a, b = g.rec_node[ra], g.rec_node[rb]
            if a == b:
                continue  # both ends are records of one entity
            g._add_edge(a, b, ra, rb, EDGE_CODE[link.type], share_str(link.role, link.role),
                        link.share, share_str(link.since, link.since),
                        share_str(link.until, link.until))  # fmt: skip

        ident_node: dict[tuple[str, str], int] = {}
        members: dict[int, set[int]] = {}
        for c in sorted(rows.contacts):
            rec = g.rec_index.get(c.entity_id)
            if rec is None or g.rec_node[rec] < 0:
                continue
            entity = g.rec_node[rec]
            node = ident_node.get((c.kind, c.key))
            if node is None:
                node = ident_node[(c.kind, c.key)] = len(g.node_kind)
                g.node_kind.append(Kind(c.kind))
                g.node_rec.append(-1)
                g.ident_value[node] = (c.key, c.raw)
                members[node] = set()
            if entity in members[node]:
                continue  # two records of one entity share the value: one edge is enough
            members[node].add(entity)
            code = EDGE_CODE[IDENTIFIER_LINK[Kind(c.kind)]]
            g._add_edge(entity, node, rec, -1, code, "", None, "", "")
        g.ident_size = {node: len(m) for node, m in members.items()}

        for k in rows.contracts:
            g.contracts[k.id] = k
            rec = g.rec_index.get(k.supplier_id)
            if rec is not None and g.rec_node[rec] >= 0:
                g.contracts_of.setdefault(g.rec_node[rec], []).append(k.id)
        g._compress()
        return g

    def _add_edge(
        self,
        a: int,
        b: int,
        ra: int,
        rb: int,
        code: int,
        role: str,
        share: float | None,
        since: str,
        until: str,
    ) -> None:
        self.e_a.append(a)
        self.e_b.append(b)
        self.e_ra.append(ra)
        self.e_rb.append(rb)
        self.e_type.append(code)
        self.e_role.append(role)
        self.e_share.append(_NO_SHARE if share is None else share)
        self.e_since.append(since)
        self.e_until.append(until)

    def _compress(self) -> None:
        n = len(self.node_kind)
        degree = [0] * (n + 1)
        for a in self.e_a:
            degree[a + 1] += 1
        for b in self.e_b:
            degree[b + 1] += 1
        for i in range(n):
            degree[i + 1] += degree[i]
        self.offsets = array("i", degree)
        fill = degree[:-1]
        size = degree[-1]
        halves = array("i", bytes(4 * size))
        far = array("i", bytes(4 * size))
        for e, (a, b) in enumerate(zip(self.e_a, self.e_b, strict=True)):
            i = fill[a]
            halves[i] = 2 * e
            far[i] = b
            fill[a] = i + 1
            j = fill[b]
            halves[j] = 2 * e + 1
            far[j] = a
            fill[b] = j + 1
        self.halves = halves
        self.far = far

    # -- reading --------------------------------------------------------------------------

    @property
    def edge_count(self) -> int:
        return len(self.e_type)

    def node_of(self, record_id: str) -> int | None:
        """The node of a person or company record, None for anything else or an unknown id."""
        rec = self.rec_index.get(record_id)
        if rec is None or self.rec_node[rec] < 0:
            return None
        return self.rec_node[rec]

    def node_id(self, node: int) -> str:
        """The entity's canonical record id, or `kind:key` for an identifier node."""
        rec = self.node_rec[node]
        if rec >= 0:
            return self.rec_id[rec]
        return f"{self.node_kind[node].value}:{self.ident_value[node][0]}"

    def node_name(self, node: int) -> str:
        rec = self.node_rec[node]
        return self.rec_name[rec] if rec >= 0 else self.ident_value[node][1]

    def canonical_of(self, record_id: str) -> str:
        return self.canonical.get(record_id, record_id)

    def neighbours(self, node: int) -> Iterable[tuple[int, int]]:
        """(half-edge, far node) for every edge at `node`."""
        lo, hi = self.offsets[node], self.offsets[node + 1]
        return zip(self.halves[lo:hi], self.far[lo:hi], strict=True)
