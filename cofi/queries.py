"""Named Cypher queries: each file in `cypher/` is one query, loaded by name.

Values only ever reach Cypher as `$parameters`; before a query runs, the parameters given must be
exactly the ones its text uses (`Query.check`).  Labels and relationship types cannot be
parameters in a MERGE that uses an index, so a query may name them with `{{slot}}` placeholders,
and `Query.bind` fills those only with names from the vocabulary table (`cofi.vocab`), never with
anything read from input; a set of types a path walks is one slot too (`[r:{{walked_types}}]`,
`vocab.TYPE_SETS`), filled with the vocabulary's own list.  Lines starting with `//` are
comments: the first one says what the query does.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from cofi.resources import resource_dir
from cofi.vocab import LINK_TYPES, TYPE_SETS, Kind

PARAM = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
SLOT = re.compile(r"\{\{([a-z_]+)\}\}")
VOCABULARY: frozenset[str] = frozenset({k.label for k in Kind} | set(LINK_TYPES))
"""Every name a `{{slot}}` may be filled with: the labels and relationship types of cofi."""
HOPS_SLOT = "max_hops"
"""The one slot that takes a number: a quantifier's upper bound (`{1,{{max_hops}}}`), which Cypher
does not take as a parameter and which bounds the search (a bound of 16 with the limit as a
predicate made a path query on the projection 20-70 s instead of 0.01-0.8 s); only a whole number
from 1 to MAX_HOPS_CEILING fills it."""
MAX_HOPS_CEILING = 16


class CypherError(ValueError):
    """A query asked for by a name that has no file, or run with the wrong parameters."""


@dataclass(frozen=True)
class Query:
    name: str
    text: str

    @property
    def code(self) -> str:
        """The text without its comment lines."""
        return "\n".join(
            line for line in self.text.splitlines() if not line.lstrip().startswith("//")
        ).strip()

    @property
    def comment(self) -> str:
        """The first comment line: what the query does."""
        for line in self.text.splitlines():
            if line.lstrip().startswith("//"):
                return line.lstrip()[2:].strip()
        return ""

    @property
    def params(self) -> frozenset[str]:
        return frozenset(PARAM.findall(self.code))

    @property
    def slots(self) -> frozenset[str]:
        """The slots the caller fills (a type set's slot fills itself: `TYPE_SETS`)."""
        return frozenset(SLOT.findall(self.code)) - TYPE_SETS.keys()

    def check(self, params: Mapping[str, object]) -> None:
        """Raise CypherError unless `params` are exactly the query's `$parameters`."""
        given = set(params)
        if given != self.params:
            missing = ", ".join(sorted(self.params - given)) or "none"
            extra = ", ".join(sorted(given - self.params)) or "none"
            raise CypherError(f"cypher/{self.name}: parameters missing: {missing}; unused: {extra}")

    def bind(self, **slots: str) -> str:
        """The query's code with its `{{slots}}` filled by vocabulary names (and a hop bound)."""
        if set(slots) != self.slots:
            want, got = sorted(self.slots), sorted(slots)
            raise CypherError(f"cypher/{self.name}: slots {want}, got {got}")
        for slot, name in slots.items():
            if slot == HOPS_SLOT:
                if not (name.isdigit() and 1 <= int(name) <= MAX_HOPS_CEILING):
                    raise CypherError(
                        f"cypher/{self.name}: {slot}={name!r} is not a hop bound from 1 to "
                        f"{MAX_HOPS_CEILING}"
                    )
            elif name not in VOCABULARY:
                raise CypherError(f"cypher/{self.name}: {slot}={name!r} is not in the vocabulary")
        names = {**slots, **{s: "|".join(types) for s, types in TYPE_SETS.items()}}
        return SLOT.sub(lambda m: names[m.group(1)], self.code)

    def statements(self) -> list[str]:
        """A file of several statements (the schema), split at `;` line ends."""
        return [s.strip() for s in re.split(r";\s*$", self.code, flags=re.M) if s.strip()]


def cypher_dir() -> Path:
    return resource_dir("cypher")


@cache
def query(name: str) -> Query:
    """The query in `cypher/<name>.cypher` (`name` may hold a folder: `browse/hubs`)."""
    path = cypher_dir() / f"{name}.cypher"
    if not path.is_file():
        raise CypherError(f"no query named {name!r} in {cypher_dir()}")
    return Query(name, path.read_text(encoding="utf-8"))


def all_queries() -> list[Query]:
    root = cypher_dir()
    paths = sorted(root.rglob("*.cypher"))
    return [query(p.relative_to(root).with_suffix("").as_posix()) for p in paths]
