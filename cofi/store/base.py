"""The store interface: what every backend (embedded SQLite, Neo4j) provides.

A store writes a validated `LoadPlan` atomically and answers a few primitive reads; counting,
searching and (later) detection logic that is the same for every backend lives above it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from cofi.findings import Finding
from cofi.search import rank
from cofi.vocab import Kind

if TYPE_CHECKING:  # (annotations only: a command that reads no declaration imports none of it)
    from cofi.audit import AuditReader
    from cofi.declarations import DeclarationReader
    from cofi.detect import Rules
    from cofi.graph import GraphRows
    from cofi.link_file import LinkTarget
    from cofi.loader import LoadPlan
    from cofi.restrictions import Restriction, RestrictionReader
    from cofi.rings import Merges

    class Declarations(DeclarationReader, AuditReader, RestrictionReader, Protocol):
        """A store's reads for `cofi.declarations`, `cofi.audit` and `cofi.restrictions`."""


@dataclass(frozen=True)
class WriteReport:
    """What one load changed: a reload of the same bundle reports zero everywhere."""

    entities_created: int = 0
    entities_updated: int = 0
    links_created: int = 0
    links_updated: int = 0

    @classmethod
    def of(
        cls, entities_changed: int, entities_created: int, links_changed: int, links_created: int
    ) -> WriteReport:
        """From what a load changed and, of that, created (the rest it updated)."""
        return cls(entities_created, entities_changed - entities_created, links_created,
                   links_changed - links_created)  # fmt: skip

    @property
    def changed(self) -> bool:
        return any(
            (self.entities_created, self.entities_updated, self.links_created, self.links_updated)
        )


@dataclass(frozen=True)
class Hub:
    """An identifier node shared by more distinct entities than the hub limit."""

    kind: Kind
    key: str
    value: str
    entities: int


@dataclass(frozen=True)
class Stats:
    entities: dict[str, int] = field(default_factory=dict)
    links: dict[str, int] = field(default_factory=dict)
    identifiers: dict[str, int] = field(default_factory=dict)
    hubs: list[Hub] = field(default_factory=list)


@dataclass(frozen=True)
class SearchHit:
    id: str
    kind: Kind
    name: str
    rank: int
    """0 exact name or alias, 1 same spelling up to script/diacritics, 2 all words, 3 partial."""


@dataclass(frozen=True)
class SweepState:
    """What the last full or incremental sweep saw: the store revision and the rules' key."""

    rev: int | None = None
    rules: str = ""


@dataclass(frozen=True)
class StoredFinding:
    """A finding as the last finished sweep left it, with the triage it has now.

    `unsettled`: a sweep that never finished (killed) wrote it since; `signature` and `active` are
    then still those of the last finished sweep, and `signature` is None if that killed sweep
    added it, so that the next sweep reports what the killed one never did.
    """

    finding_id: str
    contract_id: str
    signature: str | None
    status: str
    note: str
    active: bool
    unsettled: bool = False


@dataclass
class SweepCommit:
    """Everything one sweep writes: in one transaction (embedded), or in batches that count only
    once the last one, which moves the mark, is written (Neo4j: see `StoredFinding.unsettled`).

    `findings` are written with their `status` and `note`; `gone` are findings whose contract was
    re-checked and no longer shows them; `swept` the contracts checked.  `state` is None for a
    partial sweep (`--since`), which must not move the incremental sweep's mark.
    """

    findings: list[Finding] = field(default_factory=list)
    gone: list[str] = field(default_factory=list)
    swept: list[str] = field(default_factory=list)
    state: SweepState | None = None
    restrictions: list[Restriction] | None = None
    """Every restriction found now (None: not looked for); a kept one not among them is made
    inactive.  Written with the findings' last transaction."""


@dataclass(frozen=True)
class StoredRestriction:
    """A restriction as the last sweep left it, with its triage."""

    restriction_id: str
    signature: str
    status: str
    note: str
    active: bool


@dataclass(frozen=True)
class MatchDecision:
    """A pair `cofi match` proposed, and a reviewer's decision on it: `same` or `different`,
    for good ('' while undecided)."""

    match_id: str
    left_id: str
    right_id: str
    verdict: str
    note: str
    decided_at: str


class LoadTarget(Protocol):
    """What a load writes to."""

    location: str

    def kinds_of(self, ids: Iterable[str]) -> dict[str, Kind]:
        """The kind of each of `ids` that is in the store."""
        ...

    def write(self, plan: LoadPlan) -> WriteReport:
        """Write `plan` in one atomic commit: all of it, or (on any failure) none of it."""
        ...

    def link_target(self) -> LinkTarget | None:
        """Where a load's link checks write the graph's links as a link file, for a store that
        keeps them so (`plan_load`'s `links_into`); None: they go through the plan."""
        ...

    @property
    def rev(self) -> int:
        """The data revision: raised by every load that changed anything."""
        ...


class ReadView(Protocol):
    """What the commands read: records, counts, names, and the bounded neighbourhoods a check,
    a path, the winners near someone or a drawing search (never the whole graph on Neo4j)."""

    def records(self, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """Each of `ids` in the store: its kind, name and input fields."""
        ...

    def stats(self, hub_limit: int) -> Stats:
        """Counts per entity kind, link type and identifier kind, and the hubs above `hub_limit`."""
        ...

    def search(self, name: str, limit: int) -> list[SearchHit]:
        """Entities whose name or alias matches `name`, best first."""
        ...

    def graph_rows(self) -> GraphRows:
        """Persons, companies, agencies, contracts, links and contacts, to build the graph."""
        ...

    def contract_rows(self, contract_id: str, rules: Rules) -> GraphRows | None:
        """What a check of one contract searches (None: no such contract)."""
        ...

    def contracts_rows(self, contract_ids: list[str], rules: Rules) -> GraphRows:
        """What a check of a batch of contracts searches."""
        ...

    def contract_dates(self) -> list[tuple[str, str]]:
        """Every contract's (id, signing date), in date order."""
        ...

    def path_rows(self, a: str, b: str, rules: Rules, at: str | None) -> GraphRows:
        """Every valid path of at most max_hops between records `a` and `b`."""
        ...

    def reach_rows(self, record: str, rules: Rules, at: str | None) -> GraphRows:
        """Within max_hops of `record`, with the contracts won there."""
        ...

    def explore_rows(
        self, seeds: list[str], depth: int, hub_limit: int, per_node: int
    ) -> GraphRows:
        """`depth` rings around `seeds`, at most `per_node` neighbours of a node, for a drawing."""
        ...

    def affected_contracts(self, records: Iterable[str], rules: Rules) -> set[str]:
        """The contracts a change of `records` can touch (an incremental sweep's scope)."""
        ...

    def changed_records(self, since_rev: int) -> set[str]:
        """Ids of records touched by loads after `since_rev`: changed entities, both ends of
        changed links, and every record now holding an identifier value or IIN/BIN that a changed
        entity had or has."""
        ...

    def merges(self) -> Merges:
        """The merged records of the records asked about, read as they are asked for."""
        ...

    def canonical_ids(self) -> dict[str, str]:
        """Merged record id -> canonical entity id (records that merge with nothing are absent)."""
        ...

    def declarations(self) -> Declarations:
        """What the detection, the audit and the restrictions read declarations, notices,
        recusals and jobs through."""
        ...


class FindingsStore(Protocol):
    """What sweeps keep, and investigators triage: findings and restrictions."""

    def sweep_state(self) -> SweepState: ...

    def swept_contracts(self) -> set[str]: ...

    def stored_findings(self, contract_ids: Iterable[str]) -> dict[str, StoredFinding]:
        """The stored findings of these contracts, by finding id."""
        ...

    def commit_sweep(self, commit: SweepCommit) -> None:
        """Write a sweep's results atomically: all of it or, on any failure, none."""
        ...

    def findings(
        self, *, status: str | None = None, contract_id: str | None = None, active: bool = True
    ) -> list[Finding]:
        """Stored findings, highest score first."""
        ...

    def finding(self, finding_id: str) -> Finding | None:
        """One stored finding, active or not; None if there is none of that id."""
        ...

    def triage(self, finding_id: str, status: str, note: str | None) -> Finding:
        """Set a finding's status (and note); `NotFound` if there is no such finding."""
        ...

    def restrictions_changed(self, since_rev: int) -> bool:
        """Whether a load after `since_rev` wrote what restrictions are made of: a person or an
        agency, a FAMILY, EMPLOYED or SAME_AS link."""
        ...

    def stored_restrictions(self) -> dict[str, StoredRestriction]:
        """Every restriction a sweep has kept, by id."""
        ...

    def triage_restriction(self, restriction_id: str, status: str, note: str | None) -> Restriction:
        """Set a kept restriction's status (and note); `NotFound` if there is no such one."""
        ...


class MatchStore(Protocol):
    """What `cofi match` reads and remembers."""

    def match_rows(self, kind: Kind) -> Iterable[tuple[str, str, dict[str, Any]]]:
        """(id, name, input fields) of every record of `kind`, for `cofi match`."""
        ...

    def match_decisions(self) -> dict[str, MatchDecision]:
        """The pairs a reviewer has decided, by match id."""
        ...

    def remember_matches(self, pairs: list[tuple[str, str, str]]) -> None:
        """Keep the (match id, left id, right id) of pairs proposed, for `decide` (a pair once
        proposed stays known; its decision, if any, is left as it is)."""
        ...

    def match_pair(self, match_id: str) -> MatchDecision | None:
        """A pair `cofi match` proposed, decided or not; None if it never proposed it."""
        ...

    def decide_match(self, match_id: str, verdict: str, note: str) -> MatchDecision:
        """Record (or replace) a reviewer's decision on a pair proposed before; `NotFound` if
        `cofi match` never proposed it."""
        ...


class Store(LoadTarget, ReadView, FindingsStore, MatchStore, Protocol):
    """A cofi store: each role above (the embedded store and the Neo4j store play them all)."""

    def close(self) -> None: ...


def count_hubs(
    candidates: list[tuple[str, str, str, list[str]]], merges: Merges, hub_limit: int
) -> list[Hub]:
    """The hubs among `candidates` ((kind, key, raw value, holder record ids) of identifier
    values held by more than `hub_limit` records): those held by more than `hub_limit` distinct
    entities once merged records count as one.  Only the candidates' holders' merges are read
    (`merges`), not the whole store's."""
    merges.close(sorted({m for *_, members in candidates for m in members}))
    hubs: list[Hub] = []
    for kind, key, raw, members in candidates:
        distinct = {merges.canonical(m) for m in members}
        if len(distinct) > hub_limit:
            hubs.append(Hub(Kind(kind), key, raw, len(distinct)))
    hubs.sort(key=lambda h: (-h.entities, h.kind, h.key))
    return hubs


def rank_hits(
    name: str, candidates: Iterable[tuple[str, str, str, str, str]], limit: int
) -> list[SearchHit]:
    """The best `limit` of `candidates` ((id, kind, name, props JSON, search key) whose search
    key holds every token of `name`), ranked as `cofi.search.rank` says.  The stored search key
    is the name's key and each alias's, joined by " | " (`cofi.loader`)."""
    hits = []
    for id_, kind, ent_name, props, key in candidates:
        aliases = json.loads(props).get("aliases", []) if '"aliases"' in props else []
        names, keys = [ent_name, *aliases], key.split(" | ")
        r = rank(name, names, keys if len(keys) == len(names) else None)
        if r is not None:
            hits.append(SearchHit(id_, Kind(kind), ent_name, r))
    hits.sort(key=lambda h: (h.rank, h.name, h.id))
    return hits[:limit]


def stored_finding(body: str, signature: str, status: str, note: str) -> Finding:
    """A finding as stored: its JSON body with the triage status and note kept beside it."""
    data = json.loads(body)
    data["status"], data["note"] = status, note
    return Finding.from_dict(data, signature)


def finding_body(finding: Finding) -> str:
    return json.dumps(finding.as_dict(), ensure_ascii=False)
