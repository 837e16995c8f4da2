"""The official Neo4j driver, imported without its array libraries.

The driver imports numpy, pandas and pyarrow when they are installed (its optional extras,
`neo4j[numpy,pandas,pyarrow]`: vector values as arrays and results as data frames), and this
environment has numpy and pyarrow for the loader.  cofi never sends or asks for such values, and
importing the two took about 0.13 s of a 0.6 s `cofi --store bolt://… check` (`python -X
importtime`, 2026-12-04).  So the driver is imported with them seen as absent, as on a machine
without the extras; afterwards they import as usual for whoever needs them.  Where one is already
imported (a load has read its bundle through pyarrow first), the driver finds it, as it always did.
"""

from __future__ import annotations

import sys

_EXTRAS = ("numpy", "pandas", "pyarrow")

_absent = [name for name in _EXTRAS if name not in sys.modules]
for _name in _absent:
    sys.modules[_name] = None  # type: ignore[assignment]  # (`import` then raises ImportError)
try:
    from neo4j import Driver, GraphDatabase, ManagedTransaction, Result, Session
    from neo4j.exceptions import (
        AuthError,
        DriverError,
        Neo4jError,
        ServiceUnavailable,
        SessionExpired,
    )
finally:
    for _name in _absent:
        if sys.modules.get(_name, "") is None:
            del sys.modules[_name]

__all__ = [
    "AuthError",
    "Driver",
    "DriverError",
    "GraphDatabase",
    "ManagedTransaction",
    "Neo4jError",
    "Result",
    "ServiceUnavailable",
    "Session",
    "SessionExpired",
]
