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

import heapq
import json
from array import array
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from cofi.declarations import Book
from cofi.heap import gc_paused
from cofi.merge import canonical_ids, confidence, match_reasons
from cofi.vocab import HEAD_ROLE, IDENTIFIER_LINK, LINK_TYPES, STRONG_ID_FIELD, WALKED_TYPES, Kind

EDGE_TYPES: tuple[str, ...] = WALKED_TYPES
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
    """A link as the detection reads it: a `LinkRecord` without its `source_ref`, which no path
    rule reads and which a graph of millions of links would carry for nothing."""

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
    """Every link but DECIDED."""
    contacts: Iterable[ContactRow]
    """In (entity id, kind) order."""
    decided: Iterable[tuple[str, str]]
    """(contract id, JSON array of [record id, role] of each DECIDED link into it): millions of
    commission seats arrive as one compact text per contract, read only when it is checked."""
    matched: Iterable[tuple[str, str, str]] = ()
    """(source, target, source_ref) of every SAME_AS link, when `cofi match` made any of them
    (its `source_ref` carries the match's confidence and reasons: `cofi.match.same_as_link`);
    else nothing needs to be given."""


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
    decided: dict[str, str] = field(default_factory=dict)
    """Contract id -> its DECIDED links as JSON (see `deciders_of`)."""
    heads: dict[str, list[Head]] = field(default_factory=dict)
    """Canonical agency id -> EMPLOYED links with role `head` into any of its records."""
    contracts_of: dict[int, list[str]] = field(default_factory=dict)
    """Winner node -> ids of the contracts it won."""
    joins: dict[str, list[tuple[str, float, str]]] = field(default_factory=dict)
    """For the records of an entity that a `cofi match` link helped make: record -> (a record
    it is joined to, the join's confidence, its reasons in words); a SAME_AS link of a source
    or one IIN/BIN counts 1.  Empty when no match made any entity."""
    slots: tuple[array[int], array[int]] | None = None
    """`decider_slots`, once asked for (or read from the graph file)."""
    winners: array[int] | None = None
    """`contract_winners`, once asked for (or read from the graph file)."""
    declared: Book = field(default_factory=Book, compare=False, repr=False)
    """The store's declarations, notices and recusals (`cofi.declarations`), read as needed;
    a graph given none has nothing declared."""
    _members: dict[str, list[str]] | None = field(default=None, compare=False, repr=False)
    """Canonical record -> every record of its entity (`records_of`), once asked for."""

    @classmethod
    def build(cls, rows: GraphRows) -> Graph:
        """Build from a store's rows: entities in id order, contacts in (entity, kind) order.

        The loops over links and contacts are the hot part of every command on a large store
        (millions of rows), so they read tuples positionally and bind what they call.
        """
        with gc_paused():
            return cls._build(rows)

    @classmethod
    def _build(cls, rows: GraphRows) -> Graph:
        g = cls()
        kind_of = {k.value: k for k in Kind}
        entities = sorted(rows.entities)  # in id order already: one pass to confirm it
        strong: dict[tuple[str, str], list[str]] = {}
        for eid, kind_value, _, strong_id in entities:
            if strong_id and kind_of[kind_value] in STRONG_ID_FIELD:
                strong.setdefault((kind_value, strong_id), []).append(eid)
        groups = [ids for ids in strong.values() if len(ids) > 1]
        g.canonical = canonical_ids(rows.same_as, groups)
        canon = g.canonical
        g.joins = joins(canon, rows.matched, groups)
        del strong

        rec_index, rec_id, rec_kind, rec_node = g.rec_index, g.rec_id, g.rec_kind, g.rec_node
        node_of_canon: dict[str, int] = {}
        agency = Kind.AGENCY
        for index, (eid, kind_value, name, _) in enumerate(entities):
            kind = kind_of[kind_value]
            rec_index[eid] = index
            rec_id.append(eid)
            rec_kind.append(kind)
            g.rec_name.append(name)
            if kind is agency:
                rec_node.append(-1)
                continue
            head = canon.get(eid, eid)
            node = node_of_canon.get(head)
            if node is None:
                node = node_of_canon[head] = len(g.node_kind)
                g.node_kind.append(kind)
                g.node_rec.append(index)  # id order: the first record seen is the smallest
            rec_node.append(node)
        del entities, node_of_canon
        g._add_links(rows.links)
        g.decided = dict(rows.decided)
        g._add_contacts(rows.contacts)
        for k in rows.contracts:
            g.contracts[k.id] = k
            rec = rec_index.get(k.supplier_id)
            if rec is not None and rec_node[rec] >= 0:
                g.contracts_of.setdefault(rec_node[rec], []).append(k.id)
        g._compress()
        return g

    def _edge_appenders(self) -> tuple[Callable[[Any], None], ...]:
        """The `append` of each edge column, in `_add_links` order: the build loops call them
        bound (millions of edges; a method call per edge would cost seconds)."""
        return (
            self.e_a.append,
            self.e_b.append,
            self.e_ra.append,
            self.e_rb.append,
            self.e_type.append,
            self.e_role.append,
            self.e_share.append,
            self.e_since.append,
            self.e_until.append,
        )

    def _add_links(self, links: Iterable[LinkRow]) -> None:
        """Edges of the traversable links; agency heads kept beside."""
        rec_index, rec_id, rec_kind, rec_node = (
            self.rec_index,
            self.rec_id,
            self.rec_kind,
            self.rec_node,
        )
        canon, heads = self.canonical, self.heads
        # one string object per distinct role and date: millions of links share a few thousand
        same: dict[str, str] = {}
        shared = same.setdefault
        # link type -> (edge code, the kinds it may be walked into); None: not an edge
        walk = {
            name: (EDGE_CODE[name], lt.traverse_into)
            for name, lt in LINK_TYPES.items()
            if lt.traversable and name in EDGE_CODE
        }
        agency = Kind.AGENCY
        add_a, add_b, add_ra, add_rb, add_type, add_role, add_share, add_since, add_until = (
            self._edge_appenders()
        )
        for source, target, typ, role, share, since, until in links:
            if typ == "DECIDED":
                continue  # given apart, see GraphRows.decided
            ra, rb = rec_index.get(source), rec_index.get(target)
            if ra is None or rb is None:
                continue
            kind_b = rec_kind[rb]
            if typ == "EMPLOYED" and kind_b is agency and role.strip().casefold() == HEAD_ROLE:
                boss = canon.get(target, target)
                heads.setdefault(boss, []).append(Head(rec_id[ra], since, until))
            rule = walk.get(typ)
            if rule is None or rec_kind[ra] not in rule[1] or kind_b not in rule[1]:
                continue
            a, b = rec_node[ra], rec_node[rb]
            if a == b:
                continue  # both ends are records of one entity
            add_a(a)
            add_b(b)
            add_ra(ra)
            add_rb(rb)
            add_type(rule[0])
            add_role(shared(role, role))
            add_share(_NO_SHARE if share is None else share)
            add_since(shared(since, since))
            add_until(shared(until, until))

    def _add_contacts(self, contacts: Iterable[ContactRow]) -> None:
        """One identifier node per (kind, normalised value), one edge per entity holding it."""
        rec_index, rec_node = self.rec_index, self.rec_node
        ident_node: dict[tuple[str, str], int] = {}
        members: dict[int, set[int]] = {}
        codes = {k.value: EDGE_CODE[IDENTIFIER_LINK[k]] for k in IDENTIFIER_LINK}
        kinds = {k.value: k for k in IDENTIFIER_LINK}
        node_kind, node_rec, ident_value = self.node_kind, self.node_rec, self.ident_value
        add_a, add_b, add_ra, add_rb, add_type, add_role, add_share, add_since, add_until = (
            self._edge_appenders()
        )
        for entity_id, kind, key, raw in contacts:
            rec = rec_index.get(entity_id)
            if rec is None:
                continue
            entity = rec_node[rec]
            if entity < 0:
                continue
            value = (kind, key)
            node = ident_node.get(value)
            if node is None:
                node = ident_node[value] = len(node_kind)
                node_kind.append(kinds[kind])
                node_rec.append(-1)
                ident_value[node] = (key, raw)
                members[node] = {entity}
            elif entity in members[node]:
                continue  # two records of one entity share the value: one edge is enough
            else:
                members[node].add(entity)
            add_a(entity)
            add_b(node)
            add_ra(rec)
            add_rb(-1)
            add_type(codes[kind])
            add_role("")
            add_share(_NO_SHARE)
            add_since("")
            add_until("")
        self.ident_size = {node: len(m) for node, m in members.items()}

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

    def deciders_of(self, contract_id: str) -> list[tuple[str, str]]:
        """(record id, role) of each DECIDED link into the contract."""
        text = self.decided.get(contract_id)
        return [(record, role) for record, role in json.loads(text)] if text else []

    def decider_slots(self) -> tuple[array[int], array[int]]:
        """(contract position in `contracts`, node) of every person who may decide a contract:
        each DECIDED record and each head of its buyer on any date (`decision_makers` is the
        exact list, on the signing date: this is a superset of it, for `cofi.prefilter`)."""
        if self.slots is None:
            contract, node = array("i"), array("i")
            node_of = self.node_of
            heads = {
                agency: {node_of(h.record) for h in hs} - {None}
                for agency, hs in self.heads.items()
            }
            for position, k in enumerate(self.contracts.values()):
                nodes = {node_of(record) for record, _ in self.deciders_of(k.id)} - {None}
                nodes |= heads.get(self.canonical_of(k.buyer_id), set())
                for n in sorted(nodes):  # type: ignore[type-var]
                    contract.append(position)
                    node.append(n)  # type: ignore[arg-type]
            self.slots = (contract, node)
        return self.slots

    def contract_dates(self) -> list[tuple[str, str]]:
        """(id, signed_on) of every contract, in `contracts` order."""
        dates = getattr(self.contracts, "dates", None)  # a graph file's: without whole rows
        if dates is not None:
            return list(dates())
        return [(k.id, k.signed_on) for k in self.contracts.values()]

    def contract_winners(self) -> array[int]:
        """The winner's node of each contract, in `contracts` order (-1: no person or company)."""
        if self.winners is None:
            node_of = self.node_of
            nodes = (node_of(k.supplier_id) for k in self.contracts.values())
            self.winners = array("i", (-1 if n is None else n for n in nodes))
        return self.winners

    def join(self, a: str, b: str) -> tuple[float, list[str]] | None:
        """How records `a` and `b` of one entity are joined when a `cofi match` link is on the
        way: the most confident chain of joins (the product of their confidences) and the reasons
        of the matches on it; None when no match is needed to join them."""
        joins = self.joins
        if a not in joins or b not in joins:
            return None
        best: dict[str, float] = {a: 1.0}
        why: dict[str, list[str]] = {a: []}
        heap = [(-1.0, a)]
        while heap:
            negative, here = heapq.heappop(heap)
            if here == b:
                break
            if -negative < best[here]:
                continue
            for there, surety, reasons in joins.get(here, ()):
                value = best[here] * surety
                if value > best.get(there, 0.0):
                    best[there] = value
                    why[there] = why[here] + ([reasons] if reasons else [])
                    heapq.heappush(heap, (-value, there))
        if b not in best or not why[b]:
            return None
        return best[b], why[b]

    def canonical_of(self, record_id: str) -> str:
        return self.canonical.get(record_id, record_id)

    def records_of(self, record_id: str) -> list[str]:
        """Every record of the entity `record_id` belongs to (itself alone when unmerged)."""
        if self._members is None:
            self._members = {}
            for record, head in self.canonical.items():
                if record != head:
                    self._members.setdefault(head, [head]).append(record)
        return self._members.get(self.canonical_of(record_id), [record_id])

    def neighbours(self, node: int) -> Iterable[tuple[int, int]]:
        """(half-edge, far node) for every edge at `node`."""
        lo, hi = self.offsets[node], self.offsets[node + 1]
        return zip(self.halves[lo:hi], self.far[lo:hi], strict=True)


def joins(
    canonical: dict[str, str],
    links: Iterable[tuple[str, str, str]],
    groups: Iterable[list[str]],
) -> dict[str, list[tuple[str, float, str]]]:
    """`Graph.joins` from every SAME_AS link (source, target, source_ref) and the groups of one
    valid IIN/BIN: the joins of each entity that a `cofi match` link helped make.  Of two links
    between one pair the more confident counts (a source's SAME_AS, then a reviewer's `same`)."""
    best: dict[tuple[str, str], tuple[float, bool, str]] = {}
    made: set[str] = set()
    for a, b, ref in links:
        value = confidence(ref or "")
        if value is not None:
            made.add(canonical.get(a, a))
        key = (a, b) if a < b else (b, a)
        join = (1.0, True, "") if value is None else (value, False, match_reasons(ref))
        if key not in best or join > best[key]:
            best[key] = join
    out: dict[str, list[tuple[str, float, str]]] = {}
    if not made:
        return out

    def add(a: str, b: str, value: float, reasons: str) -> None:
        out.setdefault(a, []).append((b, value, reasons))
        out.setdefault(b, []).append((a, value, reasons))

    for (a, b), (value, _, reasons) in sorted(best.items()):
        if canonical.get(a, a) in made:
            add(a, b, value, reasons)
    for ids in groups:
        if canonical.get(ids[0], ids[0]) in made:
            for other in ids[1:]:
                add(ids[0], other, 1.0, "")
    return out
