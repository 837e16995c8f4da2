"""Opening a store by location: a directory (embedded) or a bolt:// / neo4j:// URI (Neo4j)."""

from __future__ import annotations

from pathlib import Path

from cofi.store.base import Store
from cofi.store.embedded import EmbeddedStore

NEO4J_SCHEMES = ("bolt://", "bolt+s://", "bolt+ssc://", "neo4j://", "neo4j+s://", "neo4j+ssc://")


def open_store(location: str, *, create: bool = False) -> Store:
    """The store at `location`; raises `StoreUnreachable` when it cannot be opened.

    `create` lets a write make the store: a missing embedded store, or a cofi store in an empty
    Neo4j database.
    """
    if location.startswith(NEO4J_SCHEMES):
        from cofi.store.neo4j import Neo4jStore  # the driver is imported only when needed

        return Neo4jStore(location, create=create)
    return EmbeddedStore(Path(location), create=create)
