"""The store interface: what every backend (embedded SQLite, Neo4j) provides.

A store writes a validated `LoadPlan` atomically and answers a few primitive reads; counting,
searching and (later) detection logic that is the same for every backend lives above it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

from cofi.loader import LoadPlan
from cofi.vocab import Kind


@dataclass(frozen=True)
class WriteReport:
    """What one load changed: a reload of the same bundle reports zero everywhere."""

    entities_created: int = 0
    entities_updated: int = 0
    links_created: int = 0
    links_updated: int = 0

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


class Store(Protocol):
    """A cofi store."""

    location: str

    def kinds_of(self, ids: Iterable[str]) -> dict[str, Kind]:
        """The kind of each of `ids` that is in the store."""
        ...

    def write(self, plan: LoadPlan) -> WriteReport:
        """Write `plan` in one atomic commit: all of it, or (on any failure) none of it."""
        ...

    def stats(self, hub_limit: int) -> Stats:
        """Counts per entity kind, link type and identifier kind, and the hubs above `hub_limit`."""
        ...

    def search(self, name: str, limit: int) -> list[SearchHit]:
        """Entities whose name or alias matches `name`, best first."""
        ...

    def close(self) -> None: ...
