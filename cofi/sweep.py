"""Sweeps: check many contracts, remember what was found, report only what is new.

The incremental sweep (the default) checks the contracts never swept, plus every contract whose
decision-makers or winner are within `max_hops` of something a load changed since the last sweep (a
link added or changed, an entity changed, an address, phone, email or IIN/BIN an entity took or gave
up).  Findings are reported when they are new, or when a dismissed finding's best path changed (it
is reopened as `new`).  A finding whose contract was re-checked and no longer shows it is marked
inactive, and reported again if it ever comes back.  Everything a sweep writes (findings, the
contracts it checked, the revision it saw) counts only once it is all written: one transaction on
the embedded store, batches settled by a last transaction on Neo4j (`StoredFinding.unsettled`).
"""

from __future__ import annotations

import gc
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from cofi import prefilter
from cofi.batches import chunks
from cofi.declarations import Book
from cofi.detect import PathSearch, Rules
from cofi.errors import InvalidInput, NotFound
from cofi.findings import Finding, check_contract
from cofi.graph import Graph, GraphRows
from cofi.restrictions import Restriction
from cofi.restrictions import restrictions as find_restrictions
from cofi.store.base import (
    Store,
    StoredFinding,
    StoredRestriction,
    SweepCommit,
    SweepState,
)
from cofi.vocab import Kind, with_article


@dataclass
class SweepResult:
    checked: int = 0
    contracts: int = 0
    found: int = 0
    reported: list[Finding] = field(default_factory=list)
    gone: int = 0
    restrictions: int = 0
    restrictions_reported: list[Restriction] = field(default_factory=list)

    def summary(self, out: Path | None, fmt: str) -> str:
        """The line a sweep ends with: what it checked, found and reported (and where)."""
        where = f", written to {out}" if out else ""
        listed = fmt in ("jsonl", "text") or not self.restrictions_reported
        return (
            f"swept {self.checked} of {self.contracts} contract(s): {self.found} finding(s), "
            f"{len(self.reported)} reported{where}"
            + (f", {self.gone} no longer found" if self.gone else "")
            + f"; {self.restrictions} restriction(s), {len(self.restrictions_reported)} reported"
            + ("" if listed else " (`cofi restrictions --all` lists them)")
        )


def load_graph(store: Store) -> Graph:
    """The whole graph (the embedded store keeps it in a file between loads)."""
    whole = getattr(store, "whole_graph", None)
    return declared(store, whole() if whole is not None else Graph.build(store.graph_rows()))


def declared(store: Store, g: Graph) -> Graph:
    """`g`, reading the store's declarations, notices and recusals as the detection asks."""
    g.declared = Book(store.declarations())
    return g


def _part(store: Store, rows: GraphRows) -> Graph:
    """The graph of the part of the store a command searches (its `*_rows` read)."""
    return declared(store, Graph.build(rows))


def path_graph(store: Store, a: str, b: str, rules: Rules, at: str | None) -> Graph:
    """The graph the paths between `a` and `b` can use (`path_rows`)."""
    return _part(store, store.path_rows(a, b, rules, at))


def reach_graph(store: Store, record: str, rules: Rules, at: str | None) -> Graph:
    """The graph within max_hops of `record`, with the contracts won there (`reach_rows`)."""
    return _part(store, store.reach_rows(record, rules, at))


def contract_graph(store: Store, contract_id: str, rules: Rules) -> Graph:
    """The graph a check of one contract searches (`contract_rows`); `NotFound` when there is no
    such contract, `InvalidInput` saying what it is when the id is another kind's."""
    rows = store.contract_rows(contract_id, rules)
    if rows is None:
        kind = store.kinds_of([contract_id]).get(contract_id)
        if kind is None:
            raise NotFound(f"no contract {contract_id!r} in the store")
        hint = "" if kind is Kind.AGENCY else f": use `cofi links {contract_id}`"
        raise InvalidInput(f"{contract_id!r} is {with_article(kind)}, not a contract{hint}")
    return _part(store, rows)


def explore_graph(
    store: Store, item_id: str, depth: int, hub_limit: int, finding: Finding | None
) -> Graph:
    """The graph `cofi explore` draws `item_id` (or `finding`'s path) from, `depth` steps out
    (`explore_rows`)."""
    from cofi.explore import PER_NODE

    seeds = [item_id]
    if finding is not None:
        seeds = [finding.contract_id, *(item["id"] for item in finding.path[::2])]
    return _part(store, store.explore_rows(seeds, depth, hub_limit, PER_NODE))


def affected_contracts(graph: Graph, records: Iterable[str], rules: Rules) -> set[str]:
    """Contracts a change can touch: each changed contract, every contract of a changed agency,
    and each contract with a decision-maker and a winner whose distances from the changed
    records add up to at most `max_hops` (a path the change makes or breaks runs through a
    changed record, so it is at least that long).

    The walk ignores dates and the family limit (a superset is safe); it enters no hub, but when
    a hub's membership changed its members are seeds themselves (`Store.changed_records`).
    """
    seeds: set[int] = set()
    out: set[str] = set()
    agencies: set[str] = set()
    for record in records:
        if record in graph.contracts:
            out.add(record)
            continue
        rec = graph.rec_index.get(record)
        if rec is None:
            continue
        node = graph.rec_node[rec]
        if node >= 0:
            seeds.add(node)
        else:
            agencies.add(graph.canonical_of(record))
    # walked ignoring dates; hubs are entered only as seeds (their members then are seeds too)
    dist = PathSearch(graph, rules).ball(seeds, rules.max_hops) if seeds else {}
    far = rules.max_hops + 1
    heads = {agency: {graph.node_of(h.record) for h in hs} for agency, hs in graph.heads.items()}
    candidates = {c for node in dist for c in graph.contracts_of.get(node, ())}  # winner near
    if agencies:  # every contract of a changed agency
        for contract in graph.contracts.values():
            if graph.canonical_of(contract.buyer_id) in agencies:
                out.add(contract.id)
    for contract_id in sorted(candidates - out):
        contract = graph.contracts[contract_id]
        buyer = graph.canonical_of(contract.buyer_id)
        deciders = {graph.node_of(d) for d, _ in graph.deciders_of(contract.id)}
        deciders |= heads.get(buyer, set())
        winner = graph.node_of(contract.supplier_id)
        nearest = min((dist.get(d, far) for d in deciders if d is not None), default=far)
        if winner is not None and nearest + dist.get(winner, far) <= rules.max_hops:
            out.add(contract.id)
    return out


BATCH_CONTRACTS = 5000
"""Contracts whose neighbourhoods a batched sweep reads and searches at once."""
READS_AHEAD = 1
"""Batches read from a server (each in its own session) while the client searches another."""
RINGS_SCOPE_MAX = 20_000
"""Changed records up to which the embedded store finds an incremental sweep's scope by rings;
beyond, it builds the whole graph (cheaper than so many ring reads)."""
RINGS_CHECK_MAX = 2_500
"""Contracts up to which the embedded store checks a sweep's contracts on their rings; beyond,
on the whole graph.  At the large synthetic scale 2,000 contracts' rings took 28.9 s (about
14 ms each, the rings of a batch overlapping); an incremental sweep on the whole graph took 55 s
there (issue 17's own figure), so past a few thousand contracts the whole graph is cheaper."""


def _in_batches(
    store: Store,
    order: list[str],
    rules: Rules,
    progress: Callable[[int], None] | None,
    reads_ahead: int,
) -> Iterator[list[Finding]]:
    """Each contract's findings, batch by batch: the graph of one batch's neighbourhoods only
    (memory bounded by a few batches, not by the store).  With `reads_ahead`, the next batches
    are read on other threads while this one is searched: the server reads while the client
    searches (a store in this process, SQLite, reads in turn)."""
    from concurrent.futures import ThreadPoolExecutor  # (here: `check` and `links` never need it)

    batches = list(chunks(order, BATCH_CONTRACTS))
    with ThreadPoolExecutor(max_workers=max(1, reads_ahead)) as pool:
        ahead = deque(pool.submit(store.contracts_rows, b, rules) for b in batches[:reads_ahead])
        for i, batch in enumerate(batches):
            rows = ahead.popleft().result() if reads_ahead else store.contracts_rows(batch, rules)
            if reads_ahead and i + reads_ahead < len(batches):
                ahead.append(pool.submit(store.contracts_rows, batches[i + reads_ahead], rules))
            search = PathSearch(declared(store, Graph.build(rows)), rules)
            search.g.declared.read_notes(batch)
            del rows
            for contract_id in batch:
                yield check_contract(search, contract_id)
            del search
            if progress is not None:
                progress(len(batch))


PARALLEL_MIN = 5000
"""Fewer contracts than this are checked in this process: starting workers would cost more."""
_CHUNK = 2000

_search: PathSearch | None = None  # what forked workers search (inherited, never pickled)


def _check_chunk(contract_ids: list[str]) -> list[list[Finding]]:
    assert _search is not None
    return [check_contract(_search, c) for c in contract_ids]


def default_workers() -> int:
    return max(1, min(4, os.cpu_count() or 1))


def check_many(
    search: PathSearch,
    contract_ids: list[str],
    workers: int,
    progress: Callable[[int], None] | None = None,
) -> Iterator[list[Finding]]:
    """Each contract's findings, in the order given.

    With more than one worker (and fork available), the contracts are split among forked
    processes that share the graph copy-on-write; results come back in order.
    """
    import multiprocessing  # (here: `check` and `links` never need it)

    global _search
    parallel = (
        workers > 1
        and len(contract_ids) >= PARALLEL_MIN
        and "fork" in multiprocessing.get_all_start_methods()
    )
    parts = list(chunks(contract_ids, _CHUNK))
    if not parallel:
        for chunk in parts:
            yield from (check_contract(search, c) for c in chunk)
            if progress is not None:
                progress(len(chunk))
        return
    _search = search
    gc.freeze()  # the graph's objects stay where they are, so forked pages stay shared
    try:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            for chunk, found in zip(parts, pool.imap(_check_chunk, parts), strict=True):
                yield from found
                if progress is not None:
                    progress(len(chunk))
    finally:
        _search = None
        gc.unfreeze()


def _never_swept(
    store: Store, total: int, contracts: Iterable[str], since_rev: int | None
) -> set[str]:
    """The contracts no sweep has checked.  Every contract loaded since the last sweep (at
    `since_rev`) is checked as changed; this catches any other (a store whose sweep count says
    every contract was swept is not read through; one that can tell the contracts no sweep has
    checked from the last sweep's revision does so)."""
    count = getattr(store, "swept_count", None)
    swept_count = count() if count is not None else None
    if swept_count == total:
        return set()
    unswept = getattr(store, "unswept_contracts", None)
    if unswept is not None:
        return set(unswept(since_rev, swept_count))  # (counted once)
    swept = store.swept_contracts()
    return {c for c in contracts if c not in swept}


def sweep(
    store: Store,
    rules: Rules,
    *,
    everything: bool = False,
    signed_since: str | None = None,
    graph: Graph | None = None,
    workers: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> SweepResult:
    """Run a sweep (see the module docstring) and commit its results.

    `everything` (`--all`) re-checks every contract and reports every finding; `signed_since`
    re-checks the contracts signed on or after that date and reports what is new among them.
    """
    rev = store.rev
    state = store.sweep_state()
    full_state: SweepState | None = SweepState(rev, rules.key())
    every_contract = everything or state.rev is None or state.rules != rules.key()
    count = default_workers() if workers is None else workers
    # batch by batch, in date order, each batch's neighbourhoods read (`contracts_rows`): a store
    # that must never be read whole (Neo4j) always; the embedded store when the sweep is small
    # enough that rings cost less than the whole graph
    whole = graph is not None or not getattr(store, "parts_only", False)
    g = graph
    if g is None and whole:  # a graph the store keeps opens in a moment: better than any part
        kept = getattr(store, "kept_graph", None)
        g = kept() if kept is not None else None
    if g is None and whole and every_contract:
        g = load_graph(store)
    dates: list[tuple[str, str]] = []  # (id, signed_on) of every contract, when needed
    if g is None:
        dates = store.contract_dates()
        total = len(dates)
    else:
        total = len(g.contracts)
    if signed_since is not None and not every_contract:
        listed = dates if g is None else g.contract_dates()
        todo = {c for c, signed in listed if signed >= signed_since}
        full_state = None
    elif every_contract:
        todo = set(g.contracts) if g is not None else {c for c, _ in dates}
    else:
        todo = _never_swept(
            store, total, g.contracts if g is not None else [c for c, _ in dates], state.rev
        )
        if state.rev is not None and rev != state.rev:
            changed = store.changed_records(state.rev)
            if g is None and (not whole or len(changed) <= RINGS_SCOPE_MAX):
                todo |= store.affected_contracts(changed, rules)
            else:
                g = g or load_graph(store)
                todo |= affected_contracts(g, changed, rules)
    if g is None and whole and len(todo) > RINGS_CHECK_MAX:
        g = load_graph(store)
    if g is None:
        order = [c for c, _ in dates if c in todo]  # date order: narrow windows
        ahead = 0 if whole else READS_AHEAD
        checked = _in_batches(store, order, rules, progress, ahead)
    else:
        if g.declared.reader is None:
            declared(store, g)
        g.declared.read_all_notes()  # (before workers fork: they share what was read)
        search = PathSearch(g, rules)
        maybe = todo
        if prefilter.useful(search, len(todo)):
            maybe = prefilter.may_have_findings(search, todo)  # the rest have no finding
            if progress is not None:
                progress(len(todo) - len(maybe))
        # by winner: a winner's undated ball is walked once for all its contracts
        contracts = g.contracts
        order = sorted(maybe, key=lambda c: (contracts[c].supplier_id, c))
        checked = check_many(search, order, count, progress)
    order = sorted(todo)
    result = SweepResult(checked=len(order), contracts=total)
    stored = store.stored_findings(order)
    commit = SweepCommit(swept=order, state=full_state)
    seen: set[str] = set()
    for found in checked:
        for f in found:
            seen.add(f.finding_id)
            old = stored.get(f.finding_id)
            report = _report(old, f.signature, everything)
            if old is not None:
                f = replace(f, status=_status(old, f.signature), note=old.note)
            commit.findings.append(f)
            if report:
                result.reported.append(f)
    gone = [old for fid, old in stored.items() if fid not in seen and (old.active or old.unsettled)]
    commit.gone = sorted(old.finding_id for old in gone)  # an unsettled one is settled as gone
    result.found = len(commit.findings)
    result.gone = sum(old.active for old in gone)
    if every_contract or (state.rev is not None and store.restrictions_changed(state.rev)):
        commit.restrictions, result.restrictions_reported = _restrictions(store, everything)
        result.restrictions = len(commit.restrictions)
    else:  # nothing they are made of changed: the kept ones stand
        result.restrictions = sum(r.active for r in store.stored_restrictions().values())
    store.commit_sweep(commit)
    result.reported.sort(key=lambda f: (-f.score, f.contract_id, f.finding_id))
    return result


def _restrictions(store: Store, everything: bool) -> tuple[list[Restriction], list[Restriction]]:
    """Every restriction of every period, and those to report: new ones, dismissed ones that
    changed (reopened), ones found again after they were gone (all of them with `everything`),
    each with its triage as kept."""
    found = find_restrictions(store, None)
    kept = store.stored_restrictions()
    out, reported = [], []
    for r in found:
        old = kept.get(r.restriction_id)
        report = _report(old, r.signature, everything)
        if old is not None:
            r = replace(r, status=_status(old, r.signature), note=old.note)
        out.append(r)
        if report:
            reported.append(r)
    return out, reported


def _status(old: StoredFinding | StoredRestriction, signature: str) -> str:
    """The status of something a sweep found again: as triaged, except that a dismissed one whose
    content changed (another signature) is reopened as `new`."""
    changed = old.signature is not None and old.signature != signature
    return "new" if old.status == "dismissed" and changed else old.status


def _report(
    old: StoredFinding | StoredRestriction | None, signature: str, everything: bool
) -> bool:
    """Whether a sweep reports what it found: everything with `--all`; else what is new, what
    was reopened, and what had gone and came back (unless dismissed)."""
    if everything or old is None:
        return True
    status = _status(old, signature)
    return (status == "new" and old.status == "dismissed") or (
        not old.active and status != "dismissed"
    )
