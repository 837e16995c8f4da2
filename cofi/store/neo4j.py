"""The Neo4j store: the same interface as the embedded store, on a Neo4j 5 server.

Every query is a named file in `cypher/`, run through `_run`, which checks that the parameters
given are exactly the ones the file uses and fills `{{label}}` / `{{type}}` slots from the
vocabulary table only.  Values only ever travel as parameters.

The graph model (README, "Neo4j store"): persons, agencies, companies and contracts are nodes with
their kind's label and the label `Entity` (`id` unique); each input link is a relationship of its
type, identified by its ends and `key` (role and since); contact values are shared `Address` /
`Phone` / `Email` nodes keyed by the normalised value, with the record's own spelling on the
`HAS_*` relationship; contracts point to their buyer and winner (`BUYER`, `SUPPLIER`); findings are
`Finding` nodes linked to their contract, decision-maker, winner and path; one `CofiMeta` node holds
the revision and the sweep's mark, and marks the database as cofi's.

Every load keeps a path projection (`_project`, `cypher/project/*`): one `Resolved` node per real
person or company, the traversable links between them (dates as dates) and their identifier
values with `entities` counts.  `check` and sweeps search it on the server (`contracts_rows`:
`ALL SHORTEST` per decision-maker and winner, every rule inside the search), as `path` and `links`
do (`path_rows`: every valid path; `reach_rows`: the shortest to each winner near), and read back
only the paths' records, which the same Python engine as the embedded store classifies, scores
and explains.  `explore_rows` and
`affected_contracts` read rings instead (`cofi.rings`, through `_Reader`): neighbourhoods, not
paths.
`cypher/related_paths.cypher` is the same path search for the Browser.  (Over 500 lines: one class
implements the whole store interface on the server, as `embedded.py` does on SQLite.)
`graph_rows` (every node and link) is kept for tests that compare with the whole graph; no
command calls it.

A load is written in transactions of `BATCH` rows (Neo4j holds a whole transaction in memory), not
in one: a load killed part-way leaves the rows written so far, and running it again completes it
(every write is an idempotent upsert, and the revision is raised only at the end, so the
incremental sweep still sees every row written since its mark).
"""

from __future__ import annotations

import json
import logging
import os
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date, timedelta
from heapq import merge
from itertools import groupby
from operator import itemgetter
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar
from urllib.parse import unquote, urlsplit, urlunsplit

from cofi import rings
from cofi.audit import AuditLink
from cofi.batches import chunks
from cofi.declarations import Declaration
from cofi.detect import Rules
from cofi.errors import NotFound, StoreRefused, StoreUnreachable
from cofi.findings import Finding
from cofi.graph import ContactRow, ContractRow, EntityRow, GraphRows, LinkRow
from cofi.merge import canonical_ids
from cofi.queries import query
from cofi.records import EntityRecord, LinkRecord, props_json
from cofi.restrictions import Job, Kin, Restriction
from cofi.rings import Merges
from cofi.search import query_tokens
from cofi.store.base import (
    MatchDecision,
    SearchHit,
    Stats,
    StoredFinding,
    StoredRestriction,
    SweepCommit,
    SweepState,
    WriteReport,
    count_hubs,
    finding_body,
    rank_hits,
    stored_finding,
)
from cofi.store.neo4j_driver import (
    AuthError,
    Driver,
    DriverError,
    GraphDatabase,
    ManagedTransaction,
    Neo4jError,
    Result,
    ServiceUnavailable,
    Session,
    SessionExpired,
)
from cofi.vocab import (
    HEAD_ROLE,
    IDENTIFIER_HOLDERS,
    IDENTIFIER_KINDS,
    IDENTIFIER_LINK,
    PROJECTED_TYPES,
    STORED_LINK_TYPES,
    Kind,
)

if TYPE_CHECKING:
    from cofi.loader import LoadPlan

# The driver's own log (the server's notes on queries, "property key does not exist" while a store
# is empty; retries; a connection it found dead) is for developers, not for the user of a command:
# Python would print each warning on stderr.  What goes wrong reaches the user as one error line.
logging.getLogger("neo4j").setLevel(logging.CRITICAL)

BATCH = 10_000
"""Rows per load transaction."""
FINDINGS_BATCH = 1000
"""Findings per sweep transaction (each brings its path's links)."""
_UNAVAILABLE = frozenset({
    "Neo.TransientError.General.DatabaseUnavailable",
    "Neo.TransientError.Database.DatabaseUnavailable",
    "Neo.ClientError.Database.DatabaseNotFound",
})  # fmt: skip
"""Server answers that mean the database cannot be reached now (exit 3, like a lost line)."""
LOAD_ALIVE_SECONDS = 600
"""A running load beats after every batch; one silent for this long was killed."""
META_KEY = "store"
CREATED_BY = "cofi"
SCHEMA_VERSION = "4"
_KEY_SEP = "\x1f"
"""Between a link's role and since in its `key` (sorts before any printable character)."""

Runner = Session | ManagedTransaction
T = TypeVar("T")


def run(runner: Runner, name: str, slots: dict[str, str] | None = None, **params: Any) -> Result:
    """Run the query `cypher/<name>.cypher` with exactly its parameters (else `CypherError`)."""
    q = query(name)
    q.check(params)
    return runner.run(q.bind(**(slots or {})), params)


def _write(session: Session, name: str, slots: dict[str, str] | None = None, **params: Any) -> None:
    """Run one write query in a transaction of its own."""

    def work(tx: ManagedTransaction) -> None:
        run(tx, name, slots, **params).consume()

    session.execute_write(work)


K = TypeVar("K")


def _batches_by(items: Iterable[T], key: Callable[[T], K]) -> Iterator[tuple[K, list[T]]]:
    """`items` in batches of up to BATCH that share `key` (a label or a relationship type is
    part of a query's text, so one batch is one kind), each batch as soon as it is full."""
    pending: dict[K, list[T]] = defaultdict(list)
    for item in items:
        batch = pending[key(item)]
        batch.append(item)
        if len(batch) == BATCH:
            yield key(item), batch
            pending[key(item)] = []
    for k, batch in pending.items():
        if batch:
            yield k, batch


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0].rstrip(" :")


def _neo4j_message(exc: Neo4jError) -> str:
    """The server's own message, without the driver's `{neo4j_code: …} {gql_status: …}` dress."""
    message = (exc.message or "").strip() or _first_line(exc)
    return message.splitlines()[0].rstrip(" :")


class Address(NamedTuple):
    """A Neo4j URI taken apart: what the driver connects to, the credentials it named, and
    how messages show it (a password masked)."""

    uri: str
    user: str | None
    password: str | None
    shown: str


def parse_uri(uri: str) -> Address:
    """`uri` without a `user:password@` part (the driver takes credentials separately)."""
    parts = urlsplit(uri)
    if "@" not in parts.netloc:
        return Address(uri, None, None, uri)
    userinfo, _, host = parts.netloc.rpartition("@")
    user, colon, password = userinfo.partition(":")
    shown = urlunsplit(parts._replace(netloc=f"{user}{':***' if colon else ''}@{host}"))
    return Address(urlunsplit(parts._replace(netloc=host)), unquote(user) or None,
                   unquote(password) if colon else None, shown)  # fmt: skip


@dataclass(frozen=True)
class Meta:
    rev: int | None
    created_by: str | None
    schema_version: str | None
    sweep_rev: int | None
    sweep_rules: str
    has_data: bool


class Neo4jStore:
    """A cofi store in a Neo4j database, at a `bolt://` or `neo4j://` URI.

    Credentials come from `NEO4J_USERNAME` (default `neo4j`) and `NEO4J_PASSWORD`, the database
    from `NEO4J_DATABASE` (default: the server's default database).  With `create`, a database
    without a cofi store reads as empty and becomes one on the first write; a database holding
    anything cofi did not write is refused.
    """

    parts_only = True
    """Never read whole: `cofi.sweep` reads every sweep's contracts batch by batch."""

    def __init__(self, uri: str, *, create: bool) -> None:
        given = parse_uri(uri)
        address, uri = given.uri, given.shown
        self.location = uri
        user = given.user or os.environ.get("NEO4J_USERNAME") or "neo4j"
        password = given.password
        if password is None:
            password = os.environ.get("NEO4J_PASSWORD", "")
        self._database = os.environ.get("NEO4J_DATABASE") or None
        self._reader = _Reader(self)
        try:
            self._driver: Driver = GraphDatabase.driver(address, auth=(user, password))
        except (DriverError, ValueError) as exc:
            why = _first_line(exc).replace(address, uri)
            raise StoreUnreachable(f"{uri}: not a Neo4j address ({why})") from None
        try:
            self._driver.verify_connectivity()
        except AuthError:
            self._driver.close()
            source = (
                f"user {user!r} and the password in the URI"
                if given.password is not None
                else f"NEO4J_USERNAME={user!r}, NEO4J_PASSWORD {'set' if password else 'not set'}"
            )
            raise StoreUnreachable(
                f"{uri}: Neo4j refused the user name or password ({source})"
            ) from None
        except (DriverError, Neo4jError, OSError, ValueError) as exc:
            self._driver.close()
            raise StoreUnreachable(f"{uri}: cannot reach Neo4j ({_first_line(exc)})") from None
        try:
            meta = self._meta()
            if meta.created_by is None and meta.has_data:
                raise StoreUnreachable(
                    f"{uri}: the database holds data that cofi did not write; give cofi a "
                    "database of its own (NEO4J_DATABASE) or an empty one"
                )
            if meta.created_by is None and not create:
                raise StoreUnreachable(
                    f"{uri}: no cofi store in this database (load a bundle first)"
                )
        except BaseException:
            self._driver.close()
            raise

    def close(self) -> None:
        self._driver.close()

    @contextmanager
    def _session(self) -> Iterator[Session]:
        """A session; driver and server errors become one line: a lost connection is
        `StoreUnreachable` (exit 3), anything the server refused `StoreRefused` (exit 1)."""
        try:
            with self._driver.session(database=self._database) as session:
                yield session
        except (ServiceUnavailable, SessionExpired) as exc:
            raise StoreUnreachable(f"{self.location}: lost Neo4j ({_first_line(exc)})") from None
        except AuthError as exc:
            raise StoreUnreachable(f"{self.location}: Neo4j refused the credentials "
                                   f"({_first_line(exc)})") from None  # fmt: skip
        except Neo4jError as exc:
            if exc.code in _UNAVAILABLE:  # a server stopping or starting: as good as gone
                raise StoreUnreachable(
                    f"{self.location}: lost Neo4j ({exc.code}: {_neo4j_message(exc)})"
                ) from None
            raise StoreRefused(
                f"{self.location}: Neo4j refused the operation: {exc.code}: {_neo4j_message(exc)}"
            ) from None

    def _rows(self, name: str, slots: dict[str, str] | None = None, **params: Any) -> list[Any]:
        """Every record of a read query, as tuples."""
        with self._session() as s:
            return s.execute_read(lambda tx: [tuple(r) for r in run(tx, name, slots, **params)])

    def _rows_by(
        self, name: str, key: str, values: list[str], slots: dict[str, str] | None = None,
        **params: Any,
    ) -> list[Any]:  # fmt: skip
        """`_rows` with the list parameter `key` sent BATCH values at a time (a neighbourhood
        at a large scale can reach more records than one query should carry)."""
        return [row for chunk in chunks(values, BATCH)
                for row in self._rows(name, slots, **{key: chunk}, **params)]  # fmt: skip

    def _stream(
        self, name: str, slots: dict[str, str] | None = None, **params: Any
    ) -> Iterator[tuple[Any, ...]]:
        """The records of a read query as tuples, streamed (for millions of rows)."""
        with self._session() as s:
            for record in run(s, name, slots, **params):
                yield tuple(record)

    def _meta(self) -> Meta:
        ((rev, created_by, version, sweep_rev, sweep_rules, has_data),) = self._rows(
            "store/meta", key=META_KEY
        )
        return Meta(rev, created_by, version, sweep_rev, sweep_rules or "", bool(has_data))

    def _materialise(self) -> None:
        """The schema and the store's own node, made once per database (and again only when
        SCHEMA_VERSION changes): not 16 schema statements on every write."""
        meta = self._meta()
        if meta.schema_version == SCHEMA_VERSION:
            return
        with self._session() as s:
            for statement in query("schema").statements():
                s.run(statement).consume()
            if meta.has_data:  # made by an older cofi: its path projection, once
                self._project(s, sorted({i for (i,) in self._rows("project/all_records")}), None)
            run(
                s,
                "store/meta_create",
                key=META_KEY,
                created_by=CREATED_BY,
                schema_version=SCHEMA_VERSION,
            ).consume()

    @property
    def rev(self) -> int:
        """The revision a sweep may mark as seen: every load's, or, while loads run, the one
        before the oldest of them (`store/sweep_rev`)."""
        ((rev,),) = self._rows("store/sweep_rev", key=META_KEY, alive_seconds=LOAD_ALIVE_SECONDS)
        return int(rev or 0)

    def link_target(self) -> None:
        """Neo4j keeps every link as a relationship: no link file."""
        return None

    def kinds_of(self, ids: Iterable[str]) -> dict[str, Kind]:
        out: dict[str, Kind] = {}
        if not self._meta().has_data:
            return out
        for chunk in chunks(ids, BATCH):
            out.update((i, Kind(k)) for i, k in self._rows("store/kinds_of", ids=chunk))
        return out

    def records(self, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for chunk in chunks(ids, BATCH):
            for eid, kind, name, props in self._rows("store/records", ids=chunk):
                out[eid] = {"kind": kind, "name": name, **json.loads(props)}
        return out

    def write(self, plan: LoadPlan) -> WriteReport:
        """Write a load in batches.  Everything it derives (contracts' BUYER/SUPPLIER links,
        identifier holders) comes from the plan's rows, not from what this run changed, so a
        load killed part-way and run again ends as one clean load; its revision is its own
        (`store/load_begin`), and a sweep meanwhile marks only what is before it."""
        plan.complete()  # a load into Neo4j is not one transaction: nothing before every check
        self._materialise()
        meta = self._meta()
        with self._session() as s:
            ((rev,),) = s.execute_write(
                lambda tx: [
                    tuple(r)
                    for r in run(
                        tx, "store/load_begin", key=META_KEY, alive_seconds=LOAD_ALIVE_SECONDS
                    )
                ]
            )
            load = _Load(rev, log_touched=meta.has_data)
            for kind, batch in _batches_by(plan.entities(), lambda r: r.kind):
                load.entities(s, kind, batch)
                _write(s, "store/load_beat", rev=rev)
            load.finish_entities(s, plan)
            for type_, links in _batches_by(plan.links(), lambda link: link.type):
                load.links(s, type_, links)
                _write(s, "store/load_beat", rev=rev)
            # the bundle's persons and companies and the ends of its projected links
            self._project(s, plan.ids_of(IDENTIFIER_HOLDERS, (*PROJECTED_TYPES, "SAME_AS")), rev)
            report = load.report()
            _write(s, "store/load_end", key=META_KEY, rev=rev, changed=report.changed)
        return report

    def _project(self, session: Session, records: Iterable[str], rev: int | None) -> None:
        """Make the path projection of `records` (distinct, in order) again
        (`cypher/project/*`): one `Resolved` node per real entity, the traversable links and
        identifier values between them.  Taken from the bundle's rows, not from what this run
        changed (a killed load run again completes it), and widened to every record whose
        entity they can join or split: the records merged with them now, and those that shared
        their entity as last projected.  Each transaction replaces whole entities, so a kill
        leaves each one old or new, never half.

        The records are taken `BATCH` at a time, each batch with everything it is widened to:
        memory holds a batch's entities, not the bundle's (2.3 GB max RSS of the client at the large
        synthetic scale when it held them all).  A record widened into an earlier batch's
        entities is not projected again when its own turn comes."""
        done: set[str] = set()  # records already projected that come later in `records`
        for batch in chunks(records, BATCH):
            todo = [r for r in batch if r not in done]
            done = {r for r in done if r > batch[-1]}
            if todo:
                seen = self._project_batch(session, todo, rev)
                done |= {r for r in seen if r > batch[-1]}

    def _project_batch(self, session: Session, records: list[str], rev: int | None) -> set[str]:
        """`_project` of a batch of records: every record it is widened to is projected, in
        transactions of whole entities; those records."""
        merges = Merges(self._reader)
        old: dict[str, str] = {}
        seen: set[str] = set()
        frontier = set(records)
        while frontier:
            seen |= frontier
            for chunk in chunks(sorted(frontier), BATCH):
                old.update(self._rows("project/old_groups", ids=chunk))
            merges.close(frontier)
            frontier = ({m for r in frontier for m in merges.group(r)} | old.keys()) - seen
        # entities that must change together: a new entity and every old one a member was in
        from networkx.utils import UnionFind

        together = UnionFind()  # records, and ("new" | "old", entity id) pairs
        for record in seen:
            together.union(record, ("new", merges.canonical(record)))
            if record in old:
                together.union(record, ("old", old[record]))
        todo: list[str] = []
        for group in sorted((sorted(x for x in g if isinstance(x, str))
                             for g in together.to_sets()), key=lambda g: g[0]):  # fmt: skip
            todo.extend(group)
            if len(todo) >= BATCH:
                self._project_chunk(session, todo, merges)
                if rev is not None:
                    _write(session, "store/load_beat", rev=rev)
                todo = []
        if todo:
            self._project_chunk(session, todo, merges)
        return seen

    def _project_chunk(self, session: Session, ids: list[str], merges: Merges) -> None:
        groups: dict[str, list[str]] = defaultdict(list)
        for record in ids:
            groups[merges.canonical(record)].append(record)
        rows = [{"id": head, "members": members} for head, members in sorted(groups.items())]

        def work(tx: ManagedTransaction) -> None:
            recount: dict[Kind, set[str]] = defaultdict(set)
            for kind, key in run(tx, "project/drop", ids=ids):
                if kind is not None:
                    recount[Kind(kind)].add(key)
            run(tx, "project/resolved", groups=rows).consume()
            for type_ in PROJECTED_TYPES:
                run(tx, "project/links", {"type": type_}, ids=ids).consume()
            for kind in IDENTIFIER_KINDS:
                slots = {"label": kind.label, "type": IDENTIFIER_LINK[kind]}
                recount[kind].update(k for (k,) in run(tx, "project/contacts", slots, ids=ids))
            for kind, keys in recount.items():
                slots = {"label": kind.label, "type": IDENTIFIER_LINK[kind]}
                run(tx, "project/entities", slots, keys=sorted(keys)).consume()

        session.execute_write(work)

    def stats(self, hub_limit: int) -> Stats:
        """Counts from Neo4j's count store, a label or a type at a time (a scan of every
        relationship took 0.45-0.8 s at the medium scale), then the hubs."""

        def counts(tx: ManagedTransaction) -> tuple[dict[str, int], ...]:
            def count(result: Result) -> int:
                return int(result.single(strict=True)["n"])

            nodes = {k: count(run(tx, "store/count_nodes", {"label": k.label})) for k in Kind}
            links = {t: count(run(tx, "store/count_links", {"type": t})) for t in STORED_LINK_TYPES}
            entities = {k.value: n for k, n in nodes.items() if k not in IDENTIFIER_KINDS}
            identifiers = {k.value: n for k, n in nodes.items() if k in IDENTIFIER_KINDS}
            parts = (entities, links, identifiers)
            return tuple(dict(sorted((key, n) for key, n in p.items() if n)) for p in parts)

        with self._session() as s:
            entities, links, identifiers = s.execute_read(counts)
        candidates = [tuple(r) for r in self._rows("store/hub_candidates", hub_limit=hub_limit)]
        hubs = count_hubs(candidates, Merges(self._reader), hub_limit)
        return Stats(entities, links, identifiers, hubs)

    def merges(self) -> Merges:
        """The merged records of the records asked about, read as they are asked for."""
        return Merges(self._reader)

    def declarations(self) -> _Declarations:
        """What the detection reads declarations, notices and recusals through."""
        return _Declarations(self)

    def canonical_ids(self) -> dict[str, str]:
        """Merged record id -> canonical entity id (records that merge with nothing are absent)."""
        same_as = self._rows("store/same_as")
        groups = [ids for (ids,) in self._rows("store/strong_groups")]
        return canonical_ids(same_as, groups)

    def search(self, name: str, limit: int) -> list[SearchHit]:
        tokens = query_tokens(name)
        if not tokens:
            return []
        rows = self._rows("store/search", first=max(tokens, key=len), tokens=tokens)
        return rank_hits(name, rows, limit)

    def graph_rows(self) -> GraphRows:
        """The rows to build the graph from, streamed from the server in the embedded order."""
        return GraphRows(
            entities=(EntityRow(*r) for r in self._stream("graph/entities")),
            same_as=self._rows("store/same_as"),
            contracts=(ContractRow(*r) for r in self._stream("graph/contracts")),
            links=(LinkRow(*r) for r in self._stream("graph/links")),
            decided=(
                (cid, json.dumps(deciders, ensure_ascii=False, separators=(",", ":")))
                for cid, deciders in self._stream("graph/decided")
            ),
            contacts=(ContactRow(*r) for r in self._stream("graph/contacts")),
            matched=self._rows("store/matched"),
        )

    def contract_rows(self, contract_id: str, rules: Rules) -> GraphRows | None:
        """The rows of the part of the graph a check of one contract can search (None when
        there is no such contract): see `contracts_rows`."""
        rows = self.contracts_rows([contract_id], rules)
        return rows if rows.contracts else None

    def contracts_rows(self, contract_ids: list[str], rules: Rules) -> GraphRows:
        """The rows a check of the given contracts needs, found by the server: every shortest
        valid path between each contract's decision-makers (DECIDED links, and the buyers'
        heads in post at some time in the batch's window) and its winner, searched with
        `ALL SHORTEST` on the path projection (`detect/shortest_paths`), with the records of
        every entity on them.  The engine finds on these rows exactly the paths the server
        returned: every shortest valid path is among them, and nothing shorter exists."""
        self._materialise()  # a store made before the projection gets it here, once
        found = self._rows("check/contracts", contract_ids=contract_ids)
        contracts = [ContractRow(*fields) for *fields, _ in found]
        merges = Merges(self._reader)
        if not contracts:
            return GraphRows(entities=[], same_as=[], contracts=[], links=[], decided=[],
                             contacts=[])  # fmt: skip
        dates = sorted(c.signed_on for c in contracts)
        merges.close([c.buyer_id for c in contracts])
        buyers = sorted({r for c in contracts for r in merges.group(c.buyer_id)})
        heads = self._rows("check/heads_of", ids=buyers, at=dates[-1], not_before=dates[0],
                           head_role=HEAD_ROLE)  # fmt: skip
        head_links = [LinkRow(*link) for *link, _ in heads]
        heads_of: dict[str, set[str]] = defaultdict(set)
        for link in head_links:
            heads_of[merges.canonical(link.target)].add(link.source)
        deciders = {f[0]: {d for d, _ in f[-1]} for f in found}
        ends = {c.supplier_id for c in contracts} | {d for ds in deciders.values() for d in ds}
        ends |= {h for hs in heads_of.values() for h in hs}
        resolved = dict(self._rows("project/resolved_of", ids=sorted(ends)))
        pairs: dict[tuple[str, str, str], dict[str, Any]] = {}
        for c in contracts:
            winner = resolved.get(c.supplier_id)
            for d in deciders[c.id] | heads_of.get(merges.canonical(c.buyer_id), set()):
                source = resolved.get(d)
                if winner is None or source is None or source == winner:
                    continue
                pairs[(source, winner, c.signed_on)] = {
                    "source": source,
                    "target": winner,
                    **_window(c.signed_on, rules),
                }
        found_paths = self._shortest_paths(list(pairs.values()), rules)
        decided = [(f[0], json.dumps(f[-1], ensure_ascii=False, separators=(",", ":")))
                   for f in found]  # fmt: skip
        wanted = set(buyers) | ends | {h.source for h in head_links}
        return self._path_rows(found_paths, set(resolved.values()), wanted, merges,
                               contracts, decided, head_links)  # fmt: skip

    def _path_rows(
        self,
        found: tuple[set[str], set[LinkRow], set[str]],
        entities_also: set[str],
        records_also: set[str],
        merges: Merges,
        contracts: list[ContractRow],
        decided: list[tuple[str, str]],
        links_also: list[LinkRow],
    ) -> GraphRows:
        """The rows of the paths the server found (their entities, links and identifier
        values), with every record of those entities and of `entities_also`, the records
        `records_also`, and the given contracts and links: the small graph the engine searches
        again, finding exactly the server's paths."""
        on_paths, links, values = found
        ids = sorted(on_paths | entities_also)
        members = sorted({m for (m,) in self._rows_by("project/members", "ids", ids)})
        merges.close(members)
        contacts = [
            ContactRow(entity_id, kind, key, raw or "")
            for entity_id, kind, key, raw, _ in self._rows_by("check/contacts_of", "ids", members)
            if f"{kind}:{key}" in values
        ]
        wanted = sorted(set(members) | records_also | {c.supplier_id for c in contracts})
        entities = [EntityRow(*r) for r in self._rows_by("check/records_of", "ids", wanted)]
        return GraphRows(
            entities=sorted(entities),
            same_as=sorted(merges.same_as),
            matched=merges.matched(),
            contracts=sorted(contracts, key=lambda c: c.id),
            links=sorted({*links, *links_also}),
            decided=decided,
            contacts=sorted(set(contacts), key=lambda c: (c.entity_id, c.kind)),
        )

    def _detect(self, name: str, rules: Rules, **params: Any) -> list[Any]:
        """Run a `detect/*` path search under `rules`: the hop limit as the quantifier's bound
        (the `max_hops` slot: Neo4j refuses {1,1}, so at least 2, with the limit also a
        predicate), the hub and family limits as parameters."""
        slots = {"max_hops": str(max(2, rules.max_hops))}
        return self._rows(name, slots, hub_limit=rules.hub_limit, max_hops=rules.max_hops,
                          max_family=rules.max_family, **params)  # fmt: skip

    def _shortest_paths(
        self, pairs: list[dict[str, Any]], rules: Rules
    ) -> tuple[set[str], set[LinkRow], set[str]]:
        """The entities, input links and identifier values (`kind:key`) on every shortest
        valid path of each pair (`detect/shortest_paths`)."""

        def search(chunk: list[dict[str, Any]]) -> list[Any]:
            return self._detect("detect/shortest_paths", rules, pairs=chunk)

        # the server runs each query on one thread: PATH_SESSIONS queries at once use its cores
        with ThreadPoolExecutor(max_workers=PATH_SESSIONS) as pool:
            results = list(pool.map(search, chunks(pairs, PATH_PAIRS)))
        return _steps([steps for found in results for _source, _target, steps in found])

    def contract_dates(self) -> list[tuple[str, str]]:
        """Every contract's (id, signing date), in date order."""
        return [(cid, signed) for cid, signed in self._rows("check/contract_dates")]

    def path_rows(self, a: str, b: str, rules: Rules, at: str | None) -> GraphRows:
        """The rows of every valid path of at most max_hops between records `a` and `b`,
        found by the server on the path projection (`detect/all_paths`: links in force on `at`
        with the lookback, or every link without it), as `contracts_rows` reads a contract's.
        A contract or agency id among them comes back as what it is, so that the caller can
        say so."""
        self._materialise()
        resolved = dict(self._rows("project/resolved_of", ids=[a, b]))
        found: tuple[set[str], set[LinkRow], set[str]] = (set(), set(), set())
        if a in resolved and b in resolved and resolved[a] != resolved[b]:
            rows = self._detect("detect/all_paths", rules, source=resolved[a],
                                target=resolved[b], **_window(at, rules))  # fmt: skip
            found = _steps([steps for (steps,) in rows])
        return self._path_rows(found, set(resolved.values()), {a, b}, Merges(self._reader),
                               self._contracts([a, b]), [], [])  # fmt: skip

    def reach_rows(self, record: str, rules: Rules, at: str | None) -> GraphRows:
        """The rows of what `links` shows, found by the server: every shortest valid path from
        `record`'s entity to each contract winner within max_hops (`detect/winners_near`, links
        in force on `at` with the lookback, or every link without it), with the contracts
        those winners and the entity itself won."""
        self._materialise()
        resolved = dict(self._rows("project/resolved_of", ids=[record]))
        found: tuple[set[str], set[LinkRow], set[str]] = (set(), set(), set())
        winners: set[str] = set()
        if record in resolved:
            rows = self._detect("detect/winners_near", rules, source=resolved[record],
                                **_window(at, rules))  # fmt: skip
            paths = [(w, steps) for w, steps in rows if w != resolved[record]]  # not a cycle
            found = _steps([steps for _, steps in paths])
            winners = {w for w, _ in paths} | {resolved[record]}
        members = [m for (m,) in self._rows_by("project/members", "ids", sorted(winners))]
        won = [ContractRow(*r) for r in self._rows_by("check/contracts_won_by", "ids", members)]
        return self._path_rows(found, winners, {record}, Merges(self._reader),
                               [*won, *self._contracts([record])], [], [])  # fmt: skip

    def explore_rows(
        self, seeds: list[str], depth: int, hub_limit: int, per_node: int
    ) -> GraphRows:
        """See `cofi.rings.explore_rows`: rings read with `cypher/check/*`."""
        return rings.explore_rows(self._reader, seeds, depth, hub_limit, per_node)

    def _contracts(self, ids: list[str]) -> list[ContractRow]:
        return [ContractRow(*f) for *f, _ in self._rows("check/contracts", contract_ids=ids)]

    def affected_contracts(self, records: Iterable[str], rules: Rules) -> set[str]:
        """See `cofi.rings.affected_contracts`: rings read with `cypher/check/*`."""
        return rings.affected_contracts(self._reader, records, rules)

    def changed_records(self, since_rev: int) -> set[str]:
        out = {i for (i,) in self._rows("sweep/changed_records", since_rev=since_rev)}
        for kind in IDENTIFIER_KINDS:
            out.update(
                i
                for (i,) in self._rows(
                    "sweep/changed_holders",
                    {"label": kind.label, "type": IDENTIFIER_LINK[kind]},
                    kind=kind.value,
                    since_rev=since_rev,
                )
            )
        strong = self._rows("sweep/changed_strong", kind="strong", since_rev=since_rev)
        out.update(i for (i,) in strong)
        return out

    def sweep_state(self) -> SweepState:
        meta = self._meta()
        if meta.sweep_rev is None:
            return SweepState()
        return SweepState(meta.sweep_rev, meta.sweep_rules)

    def swept_contracts(self) -> set[str]:
        return {c for (c,) in self._rows("sweep/swept_contracts")}

    def stored_findings(self, contract_ids: Iterable[str]) -> dict[str, StoredFinding]:
        out: dict[str, StoredFinding] = {}
        for chunk in chunks(contract_ids, BATCH):
            for fid, cid, sig, status, note, active, unsettled in self._rows(
                "sweep/stored_findings", contract_ids=chunk
            ):
                out[fid] = StoredFinding(fid, cid, sig, status, note, bool(active), unsettled)
        return out

    def commit_sweep(self, commit: SweepCommit) -> None:
        """The sweep's writes in transactions of FINDINGS_BATCH findings (or BATCH ids), then one
        that settles them and moves the mark. Killed before that, the findings written stay
        unsettled (`StoredFinding.unsettled`) and the mark unmoved: the next sweep re-checks
        the same contracts and reports what this one never did."""
        self._materialise()
        rev = self.rev
        sweep_id = uuid.uuid4().hex
        with self._session() as s:
            _write(s, "sweep/sweep_begin", sweep_id=sweep_id)
            for chunk in chunks(commit.findings, FINDINGS_BATCH):
                rows = [_finding_row(f) for f in chunk]
                _write(s, "sweep/findings_write", rows=rows, sweep_id=sweep_id)
            for ids in chunks(commit.gone, BATCH):
                _write(s, "sweep/findings_gone", ids=ids, sweep_id=sweep_id)
            for ids in chunks(commit.swept, BATCH):
                _write(s, "sweep/swept", ids=ids, rev=rev)

            def finish(tx: ManagedTransaction) -> None:
                run(tx, "sweep/sweep_end", sweep_id=sweep_id).consume()
                if commit.restrictions is not None:
                    found = commit.restrictions
                    rows = [_restriction_row(r) for r in found]
                    ids = [r.restriction_id for r in found]
                    run(tx, "restrictions/write", rows=rows, ids=ids).consume()
                if commit.state is not None:
                    state = commit.state
                    run(tx, "sweep/mark", key=META_KEY, sweep_rev=state.rev,
                        sweep_rules=state.rules).consume()  # fmt: skip
                    run(tx, "sweep/prune_touched", sweep_rev=state.rev).consume()

            s.execute_write(finish)

    def restrictions_changed(self, since_rev: int) -> bool:
        return bool(self._rows("restrictions/changed", since_rev=since_rev)[0][0])

    def finding(self, finding_id: str) -> Finding | None:
        rows = self._rows("sweep/finding", finding_id=finding_id)
        return stored_finding(*rows[0]) if rows else None

    def stored_restrictions(self) -> dict[str, StoredRestriction]:
        return {
            r[0]: StoredRestriction(r[0], r[1], r[2], r[3], bool(r[4]))
            for r in self._rows("restrictions/stored")
        }

    def triage_restriction(self, restriction_id: str, status: str, note: str | None) -> Restriction:
        def work(tx: ManagedTransaction) -> list[Any]:
            return list(run(tx, "restrictions/triage", restriction_id=restriction_id,
                            status=status, note=note))  # fmt: skip

        with self._session() as s:
            found = s.execute_write(work)
        if not found:
            raise NotFound(
                f"no restriction {restriction_id!r} in the store (run `cofi sweep` first?)"
            )
        body, status, note = found[0]
        return replace(Restriction.from_dict(json.loads(body)), status=status, note=note)

    def findings(
        self, *, status: str | None = None, contract_id: str | None = None, active: bool = True
    ) -> list[Finding]:
        rows = self._rows(
            "sweep/findings", active_only=active, status=status or None,
            contract_id=contract_id or None,
        )  # fmt: skip
        return [stored_finding(body, sig, st, note) for body, sig, st, note, _, _ in rows]

    def match_rows(self, kind: Kind) -> Iterator[tuple[str, str, dict[str, Any]]]:
        for rec_id, name, props in self._stream("match/records", {"label": kind.label}):
            yield rec_id, name, json.loads(props)

    def match_decisions(self) -> dict[str, MatchDecision]:
        return {row[0]: MatchDecision(*row) for row in self._rows("match/decisions")}

    def remember_matches(self, pairs: list[tuple[str, str, str]]) -> None:
        if not pairs:
            return
        self._materialise()
        with self._session() as s:
            for chunk in chunks(pairs, BATCH):
                _write(s, "match/remember", pairs=[list(p) for p in chunk])

    def match_pair(self, match_id: str) -> MatchDecision | None:
        rows = self._rows("match/pair", match_id=match_id)
        return MatchDecision(*rows[0]) if rows else None

    def decide_match(self, match_id: str, verdict: str, note: str) -> MatchDecision:
        def work(tx: ManagedTransaction) -> list[Any]:
            result = run(tx, "match/decide", match_id=match_id, verdict=verdict, note=note)
            return [tuple(r) for r in result]

        missing = f"no match {match_id!r} was proposed (run `cofi match` first?)"
        return MatchDecision(*self._one_written(work, missing))

    def triage(self, finding_id: str, status: str, note: str | None) -> Finding:
        def work(tx: ManagedTransaction) -> list[Any]:
            result = run(tx, "sweep/triage", finding_id=finding_id, status=status, note=note)
            return [tuple(r) for r in result]

        missing = f"no finding {finding_id!r} in the store (run `cofi sweep` first?)"
        return stored_finding(*self._one_written(work, missing))

    def _one_written(
        self, work: Callable[[ManagedTransaction], list[Any]], missing: str
    ) -> tuple[Any, ...]:
        """The one node a write (`work`, which returns it) changed; `NotFound` with `missing`
        when it changed none."""
        with self._session() as s:
            rows = s.execute_write(work)
        if not rows:
            raise NotFound(missing)
        return rows[0]  # type: ignore[no-any-return]


PATH_PAIRS = 250
"""(decision-maker, winner, date) pairs sent in one `detect/shortest_paths` query."""
PATH_SESSIONS = 2
"""`detect/shortest_paths` queries run at once, each in its own session."""


def _steps(paths: list[list[list[Any]]]) -> tuple[set[str], set[LinkRow], set[str]]:
    """The entities, input links and identifier values (`kind:key`) of the paths a
    `detect/*` query returned, step by step."""
    nodes: set[str] = set()
    links: set[LinkRow] = set()
    values: set[str] = set()
    for steps in paths:
        for type_, a, b, source, target, role, share, since, until in steps:
            nodes.add(a)  # an identifier value is always a step's far end
            if source is None:
                values.add(b)
                continue
            nodes.add(b)
            links.add(LinkRow(source, target, type_, role or "", share, _iso(since), _iso(until)))
    return nodes, links, values


def _window(at: str | None, rules: Rules) -> dict[str, date]:
    """The dates a path search judges links by: in force on `at` (`since` on or before it,
    `until` on or after it minus the lookback), or every link when there is no date."""
    if at is None:
        return {"at": date.max, "not_before": date.min}
    day = date.fromisoformat(at)
    return {"at": day, "not_before": day - timedelta(days=rules.lookback_days)}


def _iso(day: Any) -> str:
    """A Neo4j date (or None) as the ISO text the engine compares."""
    return "" if day is None else str(day.iso_format())


class _Reader:
    """`cofi.rings.Reader` on Neo4j: `cypher/check/*` (and two `sweep/*`), BATCH ids a query."""

    def __init__(self, store: Neo4jStore) -> None:
        self.store = store

    def kinds_of(self, ids: Iterable[str]) -> dict[str, Kind]:
        return self.store.kinds_of(ids)

    def links_around(self, ids: list[str], at: str, not_before: str) -> list[Any]:
        return self.store._rows_by("check/links_around", "ids", ids, at=at, not_before=not_before)

    def contacts_of(self, ids: list[str]) -> list[Any]:
        return self.store._rows_by("check/contacts_of", "ids", ids)

    def holders_of(self, kind: Kind, keys: list[str]) -> list[Any]:
        slots = {"label": kind.label, "type": IDENTIFIER_LINK[kind]}
        return self.store._rows_by("check/holders_of", "keys", keys, slots)

    def merges_of(self, ids: list[str]) -> list[Any]:
        return self.store._rows_by("check/merges_of", "ids", ids)

    def matched_of(self, ids: list[str]) -> list[Any]:
        return self.store._rows_by("check/matched_of", "ids", ids)

    def records_of(self, ids: list[str]) -> list[Any]:
        return self.store._rows_by("check/records_of", "ids", ids)

    def heads_of(self, ids: list[str], at: str, not_before: str) -> list[Any]:
        return self.store._rows_by("check/heads_of", "ids", ids, at=at, not_before=not_before,
                                   head_role=HEAD_ROLE)  # fmt: skip

    def contracts(self, ids: list[str]) -> list[Any]:
        return self.store._rows_by("check/contracts", "contract_ids", ids)

    def contracts_won_by(self, ids: list[str]) -> list[Any]:
        return self.store._rows_by("check/contracts_won_by", "ids", ids)

    def contracts_of(self, ids: list[str], limit: int) -> list[Any]:
        return self.store._rows_by("check/contracts_of", "ids", ids, limit=limit)

    def agencies_headed_by(self, ids: list[str]) -> list[str]:
        rows = self.store._rows_by("sweep/agencies_headed_by", "ids", ids, head_role=HEAD_ROLE)
        return [a for (a,) in rows]

    def contracts_near(self, ids: list[str], agencies: list[str]) -> list[str]:
        found = self.store._rows_by("sweep/contracts_near", "ids", ids, agencies=[])
        found += self.store._rows_by("sweep/contracts_near", "agencies", agencies, ids=[])
        return [c for (c,) in found]


class _Declarations:
    """`cofi.declarations.DeclarationReader` on Neo4j (`cypher/declarations/*`)."""

    def __init__(self, store: Neo4jStore) -> None:
        self.store = store

    def about_contracts(self, contract_ids: list[str] | None) -> list[Declaration]:
        if contract_ids is None:
            rows = self.store._rows("declarations/notes")
        else:
            rows = self.store._rows_by("declarations/notes_of", "ids", contract_ids)
        return [Declaration.of_link(*r) for r in rows]

    def filings_of(self, person_ids: list[str]) -> list[Declaration]:
        rows = self.store._rows_by("declarations/filings_of", "ids", person_ids)
        return [Declaration.of_link(*r) for r in rows]

    def has_filings(self) -> bool:
        return bool(self.store._rows("declarations/any_filing")[0][0])

    def agency_jobs(self, agencies: list[str] | None = None) -> list[Job]:
        if agencies is None:
            return [Job(*r) for r in self.store._rows("declarations/agency_jobs")]
        rows = self.store._rows_by("declarations/agency_jobs_in", "ids", agencies)
        return sorted(Job(*r) for r in rows)

    def agencies_of(self, persons: list[str]) -> list[str]:
        rows = self.store._rows_by("declarations/agencies_of", "ids", persons)
        return sorted({a for (a,) in rows})

    def family_of(self, ids: list[str]) -> list[Kin]:
        return [Kin(*r) for r in self.store._rows_by("declarations/family_of", "ids", ids)]

    def officials(self, at: str) -> list[str]:
        return sorted(p for (p,) in self.store._rows("declarations/officials", at=at))

    def audit_links(self, ids: list[str], at: str) -> list[AuditLink]:
        rows = self.store._rows_by("declarations/audit_links", "ids", ids, at=at)
        return [AuditLink.of_row(*r) for r in rows]


class _Load:
    """One load's writes, batch by batch, and what they changed."""

    def __init__(self, rev: int, *, log_touched: bool) -> None:
        self.rev = rev
        self.log_touched = log_touched
        """Log the identifier values changing entities held and hold (not on a first load)."""
        self.entities_created = self.entities_changed = 0
        self.links_created = self.links_changed = 0
        self.dropped: dict[Kind, set[str]] = defaultdict(set)
        """Identifier nodes changed entities held before this load (on a first load none): their
        `holders` are recounted, with those of every identifier the bundle's entities hold."""

    def entities(self, session: Session, kind: Kind, records: list[EntityRecord]) -> None:
        rows = [{"id": r.id, "node": _node(r)} for r in records]
        rev, log = self.rev, self.log_touched

        def work(tx: ManagedTransaction) -> tuple[list[Any], list[Any], list[dict[str, Any]]]:
            if log:
                run(tx, "load/touched", rows=rows, rev=rev).consume()
            written = [tuple(r) for r in run(tx, "load/entities", {"label": kind.label},
                                              rows=rows, rev=rev)]  # fmt: skip
            changed = {i for i, _ in written}
            dropped: list[Any] = []
            held: list[dict[str, Any]] = []
            if changed:
                dropped = [tuple(r) for r in run(tx, "load/contacts_drop", ids=sorted(changed))]
                by_kind: dict[Kind, list[dict[str, Any]]] = defaultdict(list)
                for r in records:
                    if r.id in changed:
                        for ckind, key, raw in r.contacts:
                            by_kind[ckind].append(
                                {"id": r.id, "kind": ckind.value, "key": key, "raw": raw}
                            )
                for ckind, crows in by_kind.items():
                    slots = {"label": ckind.label, "type": IDENTIFIER_LINK[ckind]}
                    run(tx, "load/contacts", slots, rows=crows).consume()
                    held.extend(crows)
                if log and held:
                    values = [{"kind": c["kind"], "key": c["key"]} for c in held]
                    run(tx, "load/touched_values", values=values, rev=rev).consume()
            return written, dropped, held

        written, dropped, _ = session.execute_write(work)
        self.entities_changed += len(written)
        self.entities_created += sum(1 for _, created in written if created)
        for ckind, key in dropped:
            self.dropped[Kind(ckind)].add(key)

    def finish_entities(self, session: Session, plan: LoadPlan) -> None:
        """Once every entity is written: contracts' BUYER/SUPPLIER links, identifier holders.
        Both from every row of the plan, not only the changed ones (a killed run may have
        written the rows without what is derived from them), read from the plan as they are
        written: memory holds a batch of them."""
        parties = ({"id": i, "buyer_id": buyer, "supplier_id": supplier}
                   for i, buyer, supplier in plan.contract_parties())  # fmt: skip
        for rows in chunks(parties, BATCH):
            _write(session, "load/contract_parties", rows=rows)
        recounted: set[Kind] = set()
        for kind, held in groupby(plan.contact_keys(), key=itemgetter(0)):
            self._holders(session, kind, (key for _, key in held))
            recounted.add(kind)
        for kind in self.dropped.keys() - recounted:
            self._holders(session, kind, iter(()))

    def _holders(self, session: Session, kind: Kind, held: Iterator[str]) -> None:
        """Recount the holders of the identifiers of `kind` with the keys `held` (in order) and
        those dropped."""
        slots = {"label": kind.label, "type": IDENTIFIER_LINK[kind]}
        keys = merge(held, sorted(self.dropped.get(kind, ())))
        for chunk in chunks((key for key, _ in groupby(keys)), BATCH):
            _write(session, "load/holders", slots, keys=chunk)

    def links(self, session: Session, type_: str, links: list[LinkRecord]) -> None:
        rows = [
            {
                "source": link.source,
                "target": link.target,
                "key": link.role + _KEY_SEP + link.since,
                "fields": {
                    "role": link.role or None,
                    "since": link.since or None,
                    "until": link.until or None,
                    "share": link.share,
                    "source_ref": link.source_ref or None,
                },
            }
            for link in links
        ]

        def work(tx: ManagedTransaction) -> tuple[int, int]:
            record = run(tx, "load/links", {"type": type_}, rows=rows, rev=self.rev).single()
            return (0, 0) if record is None else (int(record[0]), int(record[1]))

        changed, created = session.execute_write(work)
        self.links_changed += changed
        self.links_created += created

    def report(self) -> WriteReport:
        return WriteReport.of(self.entities_changed, self.entities_created, self.links_changed,
                              self.links_created)  # fmt: skip


def _node(record: EntityRecord) -> dict[str, Any]:
    """Every property of an entity's node: its input fields, then cofi's own."""
    node: dict[str, Any] = {
        k: v for k, v in record.props.items() if isinstance(v, str | int | float | list)
    }
    node.update(
        id=record.id,
        kind=record.kind.value,
        name=record.name,
        props=props_json(record.props),
        search_key=record.search_key,
        strong_id=record.strong_id,
        strong_key=f"{record.kind.value}:{record.strong_id}" if record.strong_id else None,
    )
    return node


def _restriction_row(r: Restriction) -> dict[str, Any]:
    return {
        "restriction_id": r.restriction_id,
        "signature": r.signature,
        "body": json.dumps(r.as_dict(), ensure_ascii=False),
        "agency_id": r.agency_id,
        "superior_id": r.superior_id,
        "relative_id": r.relative_id,
        "explanation": r.explanation,
    }


def _finding_row(f: Finding) -> dict[str, Any]:
    """A finding as `sweep/findings_write` takes it: its node's properties and its path."""
    steps: list[dict[str, Any]] = []
    for step, node in enumerate(f.path[::2]):
        # an entity by its id, an identifier node by its kind's key (the query matches each)
        row: dict[str, Any] = {"step": step, "id": node["id"]}
        row.update({k.value: None for k in IDENTIFIER_KINDS})
        if Kind(node["kind"]) in IDENTIFIER_KINDS:
            row["id"], row[node["kind"]] = None, node["id"].split(":", 1)[1]
        steps.append(row)
    props = {
        "finding_id": f.finding_id,
        "contract_id": f.contract_id,
        "signature": f.signature,
        "status": f.status,
        "note": f.note,
        "active": True,
        "score": f.score,
        "severity": f.severity,
        "pattern": f.pattern,
        "disclosure": f.disclosure,
        "hops": f.hops,
        "explanation": f.explanation,
        "decision_maker_id": f.decision_maker_id,
        "decision_role": f.decision_role,
        "winner_id": f.winner_id,
        "signed_on": f.signed_on,
        "value": f.value,
        "currency": f.currency,
        "body": finding_body(f),
    }
    return {
        "finding_id": f.finding_id,
        "contract_id": f.contract_id,
        "decision_maker_id": f.decision_maker_id,
        "winner_id": f.winner_id,
        "props": props,
        "steps": steps,
    }
