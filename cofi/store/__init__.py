"""Opening a store by location: a directory (embedded) or a bolt:// / neo4j:// URI (Neo4j)."""

from __future__ import annotations

from pathlib import Path

from cofi.errors import StoreUnreachable
from cofi.store.base import Store
from cofi.store.embedded import EmbeddedStore

NEO4J_SCHEMES = ("bolt://", "bolt+s://", "bolt+ssc://", "neo4j://", "neo4j+s://", "neo4j+ssc://")


def open_store(location: str, *, create: bool = False) -> Store:
    """The store at `location`; raises `StoreUnreachable` when it cannot be opened.

    `create` makes a missing embedded store (for commands that write).
    """
    if location.startswith(NEO4J_SCHEMES):
        raise StoreUnreachable(
            f"{location}: this version of cofi has no Neo4j store yet; use a directory"
        )
    return EmbeddedStore(Path(location), create=create)
