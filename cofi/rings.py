"""Neighbourhoods read ring by ring from a store, never the whole graph.

A check, a `path`, `links`, `explore` and the incremental sweep's scope each need only what lies
within a few hops of a handful of records.  `Rings` reads that part through a `Reader` (a few
indexed lookups per ring, answered by SQLite's B-trees on the embedded store and by `cypher/check/*`
on Neo4j) and hands it over as `GraphRows`, from which `Graph.build` makes a small graph that the
same engine searches.  What makes the small graph exact:

- merges cost no hop: every record of an entity reached is read with it (`Merges`, SAME_AS and
  equal valid IIN/BIN followed until closed);
- a hub counts its entities, not its records: every holder of an address, phone or email reached
  is read, and a value held by more than `hub_limit` entities is never walked through;
- a path of at most `max_hops` has each node within ceil(max_hops / 2) of one of its ends, so rings
  of that radius around both ends hold every path the whole graph has between them.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from typing import Any, Protocol

from cofi.detect import Rules, earliest_until
from cofi.graph import ContactRow, ContractRow, EntityRow, GraphRows, LinkRow
from cofi.merge import Groups
from cofi.vocab import HEAD_ROLE, IDENTIFIER_KINDS, Kind

ALWAYS = ("0000-01-01", "9999-12-31")
"""The window that keeps every link: (not_before, at)."""


class Reader(Protocol):
    """The bounded reads a store answers for `Rings` (each takes any number of ids)."""

    def kinds_of(self, ids: Iterable[str]) -> dict[str, Kind]: ...

    def links_around(self, ids: list[str], at: str, not_before: str) -> list[Any]:
        """Every link but DECIDED, SAME_AS and the contract links that touches one of `ids` and
        is in force at some time from `not_before` to `at`: (source, target, type, role, share,
        since, until, [[id, kind, name, strong_id] of both ends])."""

    def contacts_of(self, ids: list[str]) -> list[Any]:
        """(entity_id, kind, key, raw, _) of each identifier value the records hold."""

    def holders_of(self, kind: Kind, keys: list[str]) -> list[Any]:
        """(entity_id, kind, key, raw, [id, kind, name, strong_id]) of every record holding one of
        the values."""

    def merges_of(self, ids: list[str]) -> list[Any]:
        """(id, [SAME_AS neighbours], [records of its kind with its valid IIN/BIN])."""

    def matched_of(self, ids: list[str]) -> list[Any]:
        """(source, target, source_ref) of each SAME_AS link from one of `ids` (what `cofi
        match` made says its confidence: `GraphRows.matched`)."""

    def records_of(self, ids: list[str]) -> list[Any]:
        """(id, kind, name, strong_id) of each person, agency and company among `ids`."""

    def heads_of(self, ids: list[str], at: str, not_before: str) -> list[Any]:
        """EMPLOYED links with the head role into the agencies `ids`, in force at some time from
        `not_before` to `at`: (source, target, type, role, share, since, until, record)."""

    def contracts(self, ids: list[str]) -> list[Any]:
        """(id, buyer_id, supplier_id, signed_on, value, currency, title, [[record, role] of each
        DECIDED link]) of each contract among `ids`."""

    def contracts_won_by(self, ids: list[str]) -> list[Any]:
        """`ContractRow` fields of each contract one of the records won."""

    def contracts_of(self, ids: list[str], limit: int) -> list[Any]:
        """(record, 'SUPPLIER' | 'DECIDED' | 'BUYER', contract id) rows: of each record's contracts
        of each kind, the `limit` with the smallest ids."""

    def agencies_headed_by(self, ids: list[str]) -> list[str]:
        """The agencies any of the records heads or headed, at any time."""

    def contracts_near(self, ids: list[str], agencies: list[str]) -> list[str]:
        """Contracts won or decided by one of `ids`, or bought by one of `agencies`."""


class Merges:
    """The merged records (SAME_AS, equal valid IIN/BIN) of the records a read reaches, read as
    they are reached and followed until closed: each record's whole entity, without reading every
    merge in the store.  Groups grow by union (the smaller into the larger), so a read that
    reaches hundreds of thousands of records never recomputes them."""

    def __init__(self, reader: Reader) -> None:
        self.reader = reader
        self.linked: dict[str, set[str]] = {}
        """Record -> the records directly merged with it."""
        self.same_as: set[tuple[str, str]] = set()
        self._groups = Groups()

    def close(self, records: Iterable[str]) -> None:
        todo = {r for r in records if r not in self.linked}
        while todo:
            found = self.reader.merges_of(sorted(todo))
            for record, same_as, same_id in found:
                others = set(same_as) | set(same_id)
                self.linked[record] = others
                self.same_as.update((record, other) for other in same_as)
                for other in others:
                    self._groups.union(record, other)
            for record in todo - {r for r, *_ in found}:
                self.linked[record] = set()  # not in the store
            todo = {o for r in todo for o in self.linked[r] if o not in self.linked}

    def matched(self) -> list[tuple[str, str, str]]:
        """The SAME_AS links among the merges read, with their source_ref (`GraphRows.matched`)."""
        merged = sorted({r for pair in self.same_as for r in pair})
        return sorted(tuple(m) for m in self.reader.matched_of(merged)) if merged else []

    def canonical(self, record: str) -> str:
        """The entity's canonical id: the smallest id among its records (as `canonical_ids`)."""
        return self._groups.head(record)

    def group(self, record: str) -> list[str]:
        self.close([record])
        return self._groups.members(record)


class Rings:
    """A neighbourhood read ring by ring: links in force in the window (every link without one),
    every record of each entity reached (merges cost no hop) and every holder of each address,
    phone or email reached, so that a hub counts its entities exactly; a hub and an agency are
    never walked through."""

    def __init__(
        self, reader: Reader, hub_limit: int, window: tuple[str, str] | None = None
    ) -> None:
        self.reader, self.hub_limit = reader, hub_limit
        self.not_before, self.at = window or ALWAYS
        self.merges = Merges(reader)
        self.links: dict[LinkRow, LinkRow] = {}
        self.contacts: dict[tuple[str, str, str], ContactRow] = {}
        self.wanted: set[str] = set()
        self.seen: set[str] = set()

    def walk(self, seeds: Iterable[str], rings: int) -> None:
        """Read `rings` rings out from `seeds` (and every record merged with them)."""
        seeds = list(seeds)
        self.merges.close(seeds)
        frontier = {r for seed in seeds for r in self.merges.group(seed)}
        self.wanted |= frontier
        self.seen |= frontier
        for _ in range(rings):
            if not frontier:
                break
            by_link, by_value = self.ring(sorted(frontier))
            reached = by_link | by_value
            frontier = reached - self.seen
            self.seen |= reached
            self.wanted |= reached

    def distances(self, seeds: Iterable[str], max_hops: int) -> dict[str, int]:
        """Every record within `max_hops` of `seeds` in the engine's hops (a shared address,
        phone or email costs two: to the value and on; merges none), with its distance; the
        rings read on the way are kept, as `walk` keeps them."""
        seeds = list(seeds)
        self.merges.close(seeds)
        depth: dict[str, int] = {}
        buckets: dict[int, set[str]] = defaultdict(set)
        buckets[0] = {r for seed in seeds for r in self.merges.group(seed)}
        for d in range(max_hops + 1):
            level = buckets.pop(d, set()) - depth.keys()
            depth.update(dict.fromkeys(level, d))
            self.seen |= level
            self.wanted |= level
            if level and d < max_hops:
                # (a value held at the last level leads two hops on, past max_hops: not read)
                by_link, by_value = self.ring(sorted(level), values=d + 2 <= max_hops)
                buckets[d + 1] |= by_link - depth.keys()
                buckets[d + 2] |= by_value - depth.keys()
        return depth

    def ring(self, ids: list[str], values: bool = True) -> tuple[set[str], set[str]]:
        """Read the links and (with `values`) the identifier values of `ids`: the records one
        link out, and those one shared value out."""
        reader, merges = self.reader, self.merges
        by_link: set[str] = set()
        by_value: set[str] = set()
        rows = reader.links_around(ids, self.at, self.not_before)
        merges.close([end[0] for *_, ends in rows for end in ends])
        for *link, ends in rows:
            row = LinkRow(*link)
            self.links[row] = row
            for end_id, end_kind, _name, _strong in ends:
                self.wanted.add(end_id)
                if end_kind != Kind.AGENCY.value:
                    by_link.update(merges.group(end_id))
        held: dict[Kind, set[str]] = defaultdict(set)
        for entity_id, kind, key, raw, _ in reader.contacts_of(ids) if values else ():
            self.contacts[(entity_id, kind, key)] = ContactRow(entity_id, kind, key, raw or "")
            held[Kind(kind)].add(key)
        for kind, keys in held.items():
            holders: dict[str, set[str]] = defaultdict(set)
            found = [
                row
                for row in reader.holders_of(kind, sorted(keys))
                if row[4][1] != Kind.AGENCY.value  # an agency is no node: not a holder
            ]
            merges.close([entity_id for entity_id, *_ in found])
            for entity_id, k, key, raw, _ in found:
                self.contacts[(entity_id, k, key)] = ContactRow(entity_id, k, key, raw or "")
                holders[key].add(entity_id)
            for records in holders.values():
                self.wanted |= records
                if len({merges.canonical(r) for r in records}) <= self.hub_limit:  # no hub
                    by_value.update(x for r in records for x in merges.group(r))
        return by_link, by_value

    def rows(self, contracts: list[ContractRow], decided: list[tuple[str, str]]) -> GraphRows:
        ids = sorted(self.wanted)
        entities = [EntityRow(*r) for r in self.reader.records_of(ids)]
        return GraphRows(
            entities=sorted(entities),
            same_as=sorted(self.merges.same_as),
            matched=self.merges.matched(),
            contracts=sorted({c.id: c for c in contracts}.values(), key=lambda c: c.id),
            links=sorted(self.links, key=lambda x: (x.source, x.target, x.type, x.role, x.since)),
            decided=decided,
            contacts=sorted(self.contacts.values(), key=lambda c: (c.entity_id, c.kind)),
        )


def _decided(found: list[Any]) -> list[tuple[str, str]]:
    return [(f[0], json.dumps(f[-1], ensure_ascii=False, separators=(",", ":"))) for f in found]


def contracts_rows(reader: Reader, contract_ids: list[str], rules: Rules) -> GraphRows:
    """The rows a check of the given contracts can search: their decision-makers (DECIDED links,
    and the buyers' heads in post at some time in the window) and winners are the seeds of
    `Rings`, read out to ceil(max_hops / 2) through links in force from the earliest contract's
    lookback to the latest's date.  The same engine finds on these rows exactly what it finds on
    the whole graph (see the module docstring); nothing else is read."""
    found = reader.contracts(contract_ids)
    contracts = [ContractRow(*fields) for *fields, _ in found]
    dates = sorted(c.signed_on for c in contracts)
    if not dates:
        return Rings(reader, rules.hub_limit).rows([], [])
    rings = Rings(
        reader, rules.hub_limit, (earliest_until(dates[0], rules.lookback_days), dates[-1])
    )
    rings.merges.close([c.buyer_id for c in contracts])
    buyers = sorted({r for c in contracts for r in rings.merges.group(c.buyer_id)})
    heads = reader.heads_of(buyers, dates[-1], dates[0])
    rings.links.update((row, row) for row in (LinkRow(*link) for *link, _ in heads))
    seeds = [c.supplier_id for c in contracts]
    seeds += [d for *_, deciders in found for d, _ in deciders]
    seeds += [h[0] for h in heads]
    rings.walk(seeds, (rules.max_hops + 1) // 2)
    rings.wanted.update(buyers)
    return rings.rows(contracts, _decided(found))


def path_rows(reader: Reader, a: str, b: str, rules: Rules, at: str | None) -> GraphRows:
    """The rows the paths between records `a` and `b` can use: everything within
    ceil(max_hops / 2) of either (through links in force on `at` with the lookback, or through
    every link without it).  A contract id among them comes back as a contract, so that the
    caller can say what it is."""
    window = (earliest_until(at, rules.lookback_days), at) if at else None
    rings = Rings(reader, rules.hub_limit, window)
    rings.walk([a, b], (rules.max_hops + 1) // 2)
    return rings.rows(contracts(reader, [a, b]), [])


def reach_rows(reader: Reader, record: str, rules: Rules, at: str | None) -> GraphRows:
    """The rows within max_hops of `record` (links in force on `at`, or all), with the contracts
    that the records reached won: what `links` shows."""
    window = (earliest_until(at, rules.lookback_days), at) if at else None
    rings = Rings(reader, rules.hub_limit, window)
    # out to max_hops in the engine's hops (a shared value costs two), not in rings
    rings.distances([record], rules.max_hops)
    won = [ContractRow(*r) for r in reader.contracts_won_by(sorted(rings.seen))]
    return rings.rows([*won, *contracts(reader, [record])], [])


def contracts(reader: Reader, ids: list[str]) -> list[ContractRow]:
    return [ContractRow(*f) for *f, _ in reader.contracts(ids)]


def explore_rows(
    reader: Reader, seeds: list[str], depth: int, hub_limit: int, per_node: int
) -> GraphRows:
    """The rows `cofi.explore.neighbourhood` draws from, for a view `depth` steps out from `seeds`
    (records, contracts, `kind:key` identifier ids): depth + 1 rings of links of any date, each
    with the contracts the records won, decided or bought (the first `per_node` of each kind of a
    view node, in id order, walked on, and one more read, so the view knows it left some out:
    an agency's thousands are not read), each contract's buyer, winner and decision-makers, and
    each agency's heads."""
    rings = Rings(reader, hub_limit)
    merges = rings.merges
    found: dict[str, tuple[ContractRow, list[list[str]]]] = {}
    frontier = set(seeds)
    for _ in range(depth + 1):
        if not frontier:
            break
        kinds = reader.kinds_of(frontier)
        nxt: set[str] = set()
        for kind in IDENTIFIER_KINDS:
            keys = sorted(i.partition(":")[2] for i in frontier - kinds.keys()
                          if i.partition(":")[0] == kind.value)  # fmt: skip
            for entity_id, k, key, raw, _ in reader.holders_of(kind, keys) if keys else []:
                rings.contacts[(entity_id, k, key)] = ContactRow(entity_id, k, key, raw or "")
                nxt.add(entity_id)
        merges.close(r for r, k in kinds.items() if k is not Kind.CONTRACT)
        records = sorted({m for r, k in kinds.items() if k is not Kind.CONTRACT
                          for m in merges.group(r)})  # fmt: skip
        rings.wanted.update(records)
        rings.seen.update(records)
        people = [r for r in records if kinds.get(r) is not Kind.AGENCY]
        nxt = nxt.union(*rings.ring(people))
        not_before, at = ALWAYS
        heads = reader.heads_of([r for r in records if r not in people], at, not_before)
        for *link, (head, *_) in heads:
            row = LinkRow(*link)
            rings.links[row] = row
            nxt.add(head)
        for row in list(rings.links):
            if (
                row.type == "EMPLOYED"
                and row.source in rings.seen
                and (row.role.strip().casefold() == HEAD_ROLE)
            ):
                nxt.add(row.target)  # the agency a reached person heads
        drawn: dict[tuple[str, str], list[str]] = defaultdict(list)
        for record, how, contract in reader.contracts_of(records, per_node + 1):
            drawn[(merges.canonical(record), how)].append(contract)
        walk_on = {c for ids in drawn.values() for c in sorted(set(ids))[:per_node]}
        walk_on |= {r for r, k in kinds.items() if k is Kind.CONTRACT}
        every = {c for ids in drawn.values() for c in sorted(set(ids))[: per_node + 1]} | walk_on
        for *fields, deciders in reader.contracts(sorted(every - found.keys())):
            found[fields[0]] = (ContractRow(*fields), deciders)
        for cid in walk_on & found.keys():
            contract, deciders = found[cid]
            nxt.update([contract.buyer_id, contract.supplier_id, *(d for d, _ in deciders)])
        rings.seen.update(walk_on)
        frontier = nxt - rings.seen
    decided = _decided([(cid, d) for cid, (_, d) in sorted(found.items())])
    rings.wanted |= {r for contract, _ in found.values()
                     for r in (contract.buyer_id, contract.supplier_id)}  # fmt: skip
    return rings.rows([contract for contract, _ in found.values()], decided)


def affected_contracts(reader: Reader, records: Iterable[str], rules: Rules) -> set[str]:
    """What `cofi.sweep.affected_contracts` finds on the whole graph, read ring by ring: the
    changed contracts, every contract of a changed agency (or one merged with it), and each
    contract with a decision-maker (who decided it, or headed its buyer at any time) and a winner
    whose distances from the changed records add up to at most max_hops (hops of links of any
    date, no hub walked through): a path a change can make or break runs through it."""
    kinds = reader.kinds_of(records)
    out = {r for r, k in kinds.items() if k is Kind.CONTRACT}
    changed_agencies = [r for r, k in kinds.items() if k is Kind.AGENCY]
    rings = Rings(reader, rules.hub_limit)
    depth = rings.distances(
        (r for r, k in kinds.items() if k not in (Kind.CONTRACT, Kind.AGENCY)), rules.max_hops
    )
    reached = sorted(depth)
    headed = reader.agencies_headed_by(reached)
    rings.merges.close([*changed_agencies, *headed])
    everything = sorted({r for a in changed_agencies for r in rings.merges.group(a)})
    out.update(reader.contracts_near([], everything))
    bought = sorted({r for a in headed for r in rings.merges.group(a)})
    near = set(reader.contracts_near(reached, [])) | set(reader.contracts_near([], bought))
    found = reader.contracts(sorted(near - out))
    buyers = sorted({r for f in found for r in rings.merges.group(f[1])})
    heads: dict[str, set[str]] = defaultdict(set)
    not_before, at = ALWAYS
    for source, target, *_ in reader.heads_of(buyers, at, not_before):
        heads[rings.merges.canonical(target)].add(source)
    far = rules.max_hops + 1
    for contract_id, buyer, winner, *_, deciders in found:
        who = {d for d, _ in deciders} | heads.get(rings.merges.canonical(buyer), set())
        nearest = min((depth.get(d, far) for d in who), default=far)
        if nearest + depth.get(winner, far) <= rules.max_hops:
            out.add(contract_id)
    return out
