"""Which records are one entity: joined by SAME_AS, or of one kind with the same valid IIN/BIN."""

from __future__ import annotations

import re
from collections.abc import Iterable


class _Group:
    """The records of one entity found so far, and the smallest of their ids."""

    __slots__ = ("head", "members")

    def __init__(self, record: str) -> None:
        self.head = record
        self.members = [record]


class Groups:
    """Records joined into entities, union by size (the smaller group into the larger: n unions
    cost O(n log n), and a group is never recomputed); an entity's canonical id, its head, is the
    smallest of its record ids.  (networkx's UnionFind did this before; importing networkx took
    0.1 s of every command that merged anything.)"""

    def __init__(self) -> None:
        self._of: dict[str, _Group] = {}

    def union(self, a: str, b: str) -> None:
        groups = self._of
        ga = groups.get(a) or groups.setdefault(a, _Group(a))
        gb = groups.get(b) or groups.setdefault(b, _Group(b))
        if ga is gb:
            return
        if len(ga.members) < len(gb.members):
            ga, gb = gb, ga
        ga.members.extend(gb.members)
        ga.head = min(ga.head, gb.head)
        for member in gb.members:
            groups[member] = ga

    def head(self, record: str) -> str:
        found = self._of.get(record)
        return record if found is None else found.head

    def members(self, record: str) -> list[str]:
        found = self._of.get(record)
        return [record] if found is None else list(found.members)

    def canonical(self) -> dict[str, str]:
        """Every record merged with another -> its entity's head."""
        return {r: g.head for r, g in self._of.items() if len(g.members) > 1}


def canonical_ids(
    same_as: Iterable[tuple[str, str]], strong_groups: Iterable[Iterable[str]]
) -> dict[str, str]:
    """Map every merged record id to its entity's canonical id (the smallest record id).

    Records that merge with nothing are left out: their canonical id is their own.
    """
    groups = Groups()
    for a, b in same_as:
        groups.union(a, b)
    for group in strong_groups:
        first, *rest = group
        for record in rest:
            groups.union(first, record)
    return groups.canonical()


def confidence(source_ref: str) -> float | None:
    """The confidence of a SAME_AS link `cofi match` made (`cofi.match.same_as_link`), read
    from its `source_ref` (`match:<match_id> score=<score>`, or `match:<match_id> decided` for a
    reviewer's `same`), or None for any other link."""
    if not source_ref.startswith("match:"):
        return None
    m = re.search(r"\bscore=([0-9.]+)", source_ref)
    return float(m.group(1)) if m else 1.0


def match_reasons(source_ref: str) -> str:
    """The reasons a `cofi match` link's `source_ref` gives ('' for none), or for a reviewer's
    `same` "reviewed"."""
    m = re.search(r"\((.*)\)\s*$", source_ref)
    if m:
        return m.group(1)
    return "reviewed" if re.search(r"\bdecided\b", source_ref) else ""
