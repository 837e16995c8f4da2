"""Which records are one entity: joined by SAME_AS, or of one kind with the same valid IIN/BIN."""

from __future__ import annotations

from collections.abc import Iterable


def canonical_ids(
    same_as: Iterable[tuple[str, str]], strong_groups: Iterable[Iterable[str]]
) -> dict[str, str]:
    """Map every merged record id to its entity's canonical id (the smallest record id).

    Records that merge with nothing are left out: their canonical id is their own.
    """
    from networkx.utils import UnionFind  # here: importing networkx takes 0.1 s of every command

    uf = UnionFind()
    for a, b in same_as:
        uf.union(a, b)
    for group in strong_groups:
        uf.union(*group)
    out: dict[str, str] = {}
    for members in uf.to_sets():
        if len(members) > 1:
            head = min(members)
            for member in members:
                out[member] = head
    return out
