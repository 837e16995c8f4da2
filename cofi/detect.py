"""Related-party path search on a `Graph`, with every rule applied *during* the search.

A path is valid when it has at most `max_hops` edges (an identifier node costs its two edges), at
most `max_family` FAMILY edges, every edge is in force on the date (`since` empty or <= the date,
`until` empty or >= the date minus `lookback_days`), and it enters no identifier node shared by more
than `hub_limit` entities.  The rules prune while walking, so a shortest path that crosses a hub
or an expired link never hides a longer valid one.

The search is bidirectional in the bounded sense: a breadth-first ball of radius `max_hops // 2`
around the target, under the same time and hub rules, gives every node's exact distance to the
target inside the ball (and a lower bound outside it); a depth-first walk from the source then
enumerates, for hop counts 1, 2, … in turn, only the steps that can still reach the target in time.
The first hop count with any valid path is the shortest, and all its paths are returned so that the
caller can pick the best by score.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import NamedTuple

from cofi.graph import FAMILY, Graph

MAX_PATHS = 1000
"""Paths of one length kept per pair; beyond it the rest are not enumerated (a dense cluster)."""
REACH_MEMO = 200_000
"""Undated balls remembered per search before the memo starts again (bounds its memory)."""


@dataclass(frozen=True)
class Rules:
    """The limits of a related-party path (DESIGN.md defaults)."""

    max_hops: int = 4
    max_family: int = 2
    lookback_days: int = 365
    hub_limit: int = 20

    def key(self) -> str:
        """A stable text for the sweep state: a sweep under other rules re-checks everything
        (`declarations=1`: so does the first sweep of a cofi that reads declarations)."""
        return (
            f"hops={self.max_hops};family={self.max_family};"
            f"lookback={self.lookback_days};hub={self.hub_limit};declarations=1"
        )


class RelatedPath(NamedTuple):
    """A path as node indexes and the half-edges between them (len(halves) == len(nodes) - 1)."""

    nodes: tuple[int, ...]
    halves: tuple[int, ...]

    @property
    def hops(self) -> int:
        return len(self.halves)


def earliest_until(at: str, lookback_days: int) -> str:
    """The earliest `until` that keeps a link in force on `at`."""
    return (date.fromisoformat(at) - timedelta(days=lookback_days)).isoformat()


def always(_: int) -> bool:
    """Every edge is in force (no date given)."""
    return True


class PathSearch:
    """RelatedPath searches on one graph under one set of rules."""

    def __init__(self, graph: Graph, rules: Rules) -> None:
        self.g = graph
        self.rules = rules
        self.hubs = frozenset(n for n, size in graph.ident_size.items() if size > rules.hub_limit)
        self._reach: dict[int, dict[int, frozenset[int]]] = {}
        """Radius -> node -> its undated ball (int keys: a sweep asks millions of times)."""

    def reach(self, node: int, radius: int) -> frozenset[int]:
        """Every node within `radius` of `node` on any date, hubs not entered (remembered: the
        same commission members come back contract after contract)."""
        memo = self._reach.get(radius)
        if memo is None:
            memo = self._reach[radius] = {}
        found = memo.get(node)
        if found is None:
            if len(memo) >= REACH_MEMO:
                memo.clear()
            found = memo[node] = self._undated_ball(node, radius)
        return found

    def may_reach(self, sources: list[int], target: int) -> list[bool]:
        """For each source, False when no path of at most `max_hops` joins it to `target` on any
        date (`apart` on the undated balls: what rules out most commission members)."""
        radius = self.rules.max_hops // 2
        near = self.reach(target, radius)
        reach, other = self.reach, self.rules.max_hops - radius
        return [not reach(source, other).isdisjoint(near) for source in sources]

    def _undated_ball(self, node: int, radius: int) -> frozenset[int]:
        """`ball((node,), radius)`'s nodes on any date, in set operations (C loops, not
        Python ones: a sweep asks for hundreds of thousands of these)."""
        offsets, far, hubs = self.g.offsets, self.g.far, self.hubs
        seen = {node}
        frontier: set[int] | tuple[int] = (node,)
        for _ in range(radius):
            step: set[int] = set()
            for n in frontier:
                step.update(far[offsets[n] : offsets[n + 1]])
            frontier = step - seen - hubs
            if not frontier:
                break
            seen |= frontier
        return frozenset(seen)

    def apart(self, source: int, target_ball: tuple[Collection[int], int]) -> bool:
        """True when no valid path of at most `max_hops` can join `source` to the target.

        A necessary condition, cheap to test: a valid path of L hops has a node `x` at most r
        hops from the target (r = the target ball's radius) and L - r from the source (the
        source itself when L <= r); the path being valid, `x` is in the target's ball on the
        date (or its undated ball, a superset) and in the source's undated ball of radius
        `max_hops - r`.
        """
        dist, radius = target_ball
        return self.reach(source, self.rules.max_hops - radius).isdisjoint(dist)

    def in_force(self, at: str | None) -> Callable[[int], bool]:
        """A test of whether edge `e` is in force on `at` (None: every edge is)."""
        if at is None:
            return always
        since, until = self.g.e_since, self.g.e_until
        low = earliest_until(at, self.rules.lookback_days)

        def ok(e: int) -> bool:
            s = since[e]
            if s and s > at:
                return False
            u = until[e]
            return not u or u >= low

        return ok

    def ball(
        self, starts: Iterable[int], radius: int, ok: Callable[[int], bool] = always
    ) -> dict[int, int]:
        """Distance from the nearest of `starts` to every node within `radius` (valid edges, no
        hubs entered; a start may itself be a hub)."""
        g, hubs = self.g, self.hubs
        offsets, halves, far = g.offsets, g.halves, g.far
        dist = dict.fromkeys(starts, 0)
        frontier = list(dist)
        undated = ok is always
        for d in range(1, radius + 1):
            nxt: list[int] = []
            for node in frontier:
                for i in range(offsets[node], offsets[node + 1]):
                    other = far[i]
                    if other in dist or other in hubs:
                        continue
                    if not undated and not ok(halves[i] >> 1):
                        continue
                    dist[other] = d
                    nxt.append(other)
            frontier = nxt
            if not frontier:
                break
        return dist

    def target_ball(self, target: int, ok: Callable[[int], bool]) -> tuple[dict[int, int], int]:
        radius = self.rules.max_hops // 2
        return self.ball((target,), radius, ok), radius

    def shortest(
        self,
        source: int,
        target: int,
        ok: Callable[[int], bool],
        ball: tuple[dict[int, int], int] | None = None,
    ) -> list[RelatedPath]:
        """Every valid path of the fewest hops from `source` to `target` ([] when none)."""
        if source == target:
            return []
        dist, radius = ball or self.target_ball(target, ok)
        # no path can be shorter than the source's distance to the target (radius + 1 outside
        # the ball), so the first lengths need no walk
        for hops in range(dist.get(source, radius + 1), self.rules.max_hops + 1):
            found = self._paths(source, target, hops, ok, dist, radius)
            if found:
                return found
        return []

    def all_paths(self, source: int, target: int, ok: Callable[[int], bool]) -> list[RelatedPath]:
        """Every valid path from `source` to `target`, shortest first (capped per length)."""
        if source == target:
            return []
        dist, radius = self.target_ball(target, ok)
        out: list[RelatedPath] = []
        for hops in range(1, self.rules.max_hops + 1):
            out.extend(self._paths(source, target, hops, ok, dist, radius))
        return out

    def _paths(
        self,
        source: int,
        target: int,
        hops: int,
        ok: Callable[[int], bool],
        dist: dict[int, int],
        radius: int,
    ) -> list[RelatedPath]:
        g, hubs = self.g, self.hubs
        offsets, halves, far, etype = g.offsets, g.halves, g.far, g.e_type
        max_family = self.rules.max_family
        beyond = radius + 1
        found: list[RelatedPath] = []
        nodes = [source]
        steps: list[int] = []
        on_path = {source}

        def walk(node: int, left: int, family: int) -> None:
            for i in range(offsets[node], offsets[node + 1]):
                other = far[i]
                if other == target:
                    if left != 1:
                        continue
                elif (
                    left == 1
                    or other in on_path
                    or other in hubs
                    or dist.get(other, beyond) >= left
                ):
                    continue
                half = halves[i]
                e = half >> 1
                fam = family + (etype[e] == FAMILY)
                if fam > max_family or not ok(e):
                    continue
                if other == target:
                    found.append(RelatedPath((*nodes, target), (*steps, half)))
                    if len(found) >= MAX_PATHS:
                        return
                    continue
                nodes.append(other)
                steps.append(half)
                on_path.add(other)
                walk(other, left - 1, fam)
                on_path.discard(other)
                steps.pop()
                nodes.pop()
                if len(found) >= MAX_PATHS:
                    return

        walk(source, hops, 0)
        return found
