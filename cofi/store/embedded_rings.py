"""`cofi.rings.Reader` on the embedded store: indexed SQLite lookups, a batch of ids a query.

Each query drives its lookups from the ids it is given (`CROSS JOIN`, which SQLite never reorders):
left to itself, the planner scanned every address for a few holders (0.63 s against 0.001 s).

Links are found from either end (the primary key starts with `source`, `links_target` indexes
`target`), identifier holders by `contacts_key`, merges by the SAME_AS links and
`entities_strong`, contracts by winner and buyer through `entities_supplier` and `entities_buyer`.
What a ring read returns is what `cypher/check/*` returns on Neo4j, row for row.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from typing import Any

from cofi.batches import chunks
from cofi.vocab import HEAD_ROLE, PROJECTED_TYPES, Kind

CHUNK = 5000
"""Ids sent in one query (as one JSON array)."""

_IN_WALKED = f"({', '.join(repr(t) for t in PROJECTED_TYPES)})"
"""The links a ring walks (the traversable ones a bundle gives; identifiers are contacts)."""

_CONTRACT = (
    "e.id, e.buyer_id, e.supplier_id, e.signed_on, e.value, "
    "coalesce(json_extract(e.props, '$.currency'), ''), "
    "coalesce(json_extract(e.props, '$.title'), '')"
)


def _chunks(ids: Iterable[str]) -> Iterator[str]:
    """The ids as JSON arrays of at most CHUNK (a query's `json_each(?)`)."""
    return (json.dumps(batch) for batch in chunks(ids, CHUNK))


def _is_head(role: str) -> bool:
    return role.strip().casefold() == HEAD_ROLE


class EmbeddedReader:
    def __init__(self, db: sqlite3.Connection, kinds_of: Any) -> None:
        self.db = db
        self.kinds_of = kinds_of

    def _all(self, sql: str, ids: Iterable[str], *params: Any) -> list[Any]:
        return [row for chunk in _chunks(ids) for row in self.db.execute(sql, (chunk, *params))]

    def links_around(self, ids: list[str], at: str, not_before: str) -> list[Any]:
        rows = self._all(
            "WITH ids(id) AS (SELECT DISTINCT value FROM json_each(?)), "
            "near AS ("
            " SELECT l.* FROM ids CROSS JOIN links AS l"
            f" ON l.source = ids.id AND l.type IN {_IN_WALKED}"
            " UNION"
            " SELECT l.* FROM ids CROSS JOIN links AS l INDEXED BY links_target"
            f" ON l.target = ids.id AND l.type IN {_IN_WALKED}) "
            "SELECT n.source, n.target, n.type, n.role, n.share, n.since, n.until, "
            "s.kind, s.name, s.strong_id, t.kind, t.name, t.strong_id "
            "FROM near AS n JOIN entities AS s ON s.id = n.source "
            "JOIN entities AS t ON t.id = n.target "
            "WHERE s.kind <> 'contract' AND t.kind <> 'contract' "
            "AND (n.since = '' OR n.since <= ?) AND (n.until = '' OR n.until >= ?)",
            ids,
            at,
            not_before,
        )
        seen: dict[tuple[Any, ...], Any] = {}
        for source, target, type_, role, share, since, until, *ends in rows:
            key = (source, target, type_, role, since)
            if key not in seen:  # a link between two ids of one batch, or of two batches
                seen[key] = (source, target, type_, role, share, since, until,
                             [[source, *ends[:3]], [target, *ends[3:]]])  # fmt: skip
        return list(seen.values())

    def contacts_of(self, ids: list[str]) -> list[Any]:
        return self._all(
            "SELECT c.entity_id, c.kind, c.key, c.raw, NULL FROM json_each(?) AS j "
            "CROSS JOIN contacts AS c ON c.entity_id = j.value",
            ids,
        )

    def holders_of(self, kind: Kind, keys: list[str]) -> list[Any]:
        rows = self._all(
            "SELECT c.entity_id, c.kind, c.key, c.raw, e.kind, e.name, e.strong_id "
            "FROM (SELECT DISTINCT value FROM json_each(?)) AS j "
            "CROSS JOIN contacts AS c INDEXED BY contacts_key ON c.kind = ? AND c.key = j.value "
            "JOIN entities AS e ON e.id = c.entity_id",
            keys,
            kind.value,
        )
        return [(eid, k, key, raw, [eid, *record]) for eid, k, key, raw, *record in rows]

    def merges_of(self, ids: list[str]) -> list[Any]:
        rows = self._all(
            "SELECT e.id, "
            " (SELECT nullif(json_group_array(x), '[]') FROM ("
            "   SELECT l.target AS x FROM links AS l INDEXED BY links_same_as"
            "   WHERE l.source = e.id AND l.type = 'SAME_AS'"
            "   UNION SELECT l.source FROM links AS l INDEXED BY links_same_as_target"
            "   WHERE l.target = e.id AND l.type = 'SAME_AS')), "
            " (SELECT nullif(json_group_array(o.id), '[]') FROM entities AS o"
            "   INDEXED BY entities_strong"
            "   WHERE e.strong_id <> '' AND o.strong_id <> '' AND o.kind = e.kind"
            "   AND o.strong_id = e.strong_id AND o.id <> e.id) "
            "FROM (SELECT DISTINCT value FROM json_each(?)) AS j "
            "CROSS JOIN entities AS e ON e.id = j.value",
            ids,
        )
        # (most records merge with nothing: NULL, not an empty JSON array to parse)
        return [(i, json.loads(same_as) if same_as else [], json.loads(same_id) if same_id else [])
                for i, same_as, same_id in rows]  # fmt: skip

    def matched_of(self, ids: list[str]) -> list[Any]:
        return self._all(
            "SELECT l.source, l.target, l.source_ref FROM (SELECT DISTINCT value FROM json_each(?))"
            " AS j CROSS JOIN links AS l INDEXED BY links_same_as ON l.source = j.value "
            "WHERE l.type = 'SAME_AS'",
            ids,
        )

    def records_of(self, ids: list[str]) -> list[Any]:
        return self._all(
            "SELECT e.id, e.kind, e.name, e.strong_id "
            "FROM (SELECT DISTINCT value FROM json_each(?)) AS j "
            "CROSS JOIN entities AS e ON e.id = j.value WHERE e.kind <> 'contract'",
            ids,
        )

    def _employed_in_agencies(self, ids: list[str]) -> list[Any]:
        return self._all(
            "SELECT l.source, l.target, l.type, l.role, l.share, l.since, l.until, "
            "p.kind, p.name, p.strong_id FROM (SELECT DISTINCT value FROM json_each(?)) AS j "
            "CROSS JOIN links AS l INDEXED BY links_target ON l.target = j.value "
            "AND l.type = 'EMPLOYED' "
            "JOIN entities AS a ON a.id = l.target AND a.kind = 'agency' "
            "JOIN entities AS p ON p.id = l.source",
            ids,
        )

    def heads_of(self, ids: list[str], at: str, not_before: str) -> list[Any]:
        return [
            (source, target, type_, role, share, since, until, [source, *record])
            for source, target, type_, role, share, since, until, *record in (
                self._employed_in_agencies(ids)
            )
            if _is_head(role) and (not since or since <= at) and (not until or until >= not_before)
        ]

    def contracts(self, ids: list[str]) -> list[Any]:
        rows = self._all(
            f"SELECT {_CONTRACT}, (SELECT json_group_array(json_array(d.source, d.role)) FROM ("
            "   SELECT l.source, l.role FROM links AS l INDEXED BY links_target"
            "   WHERE l.target = e.id AND l.type = 'DECIDED' ORDER BY l.source, l.role, l.since)"
            " AS d) FROM (SELECT DISTINCT value FROM json_each(?)) AS j "
            "CROSS JOIN entities AS e ON e.id = j.value AND e.kind = 'contract'",
            ids,
        )
        return [(*fields, json.loads(deciders)) for *fields, deciders in rows]

    def contracts_won_by(self, ids: list[str]) -> list[Any]:
        return self._all(
            f"SELECT {_CONTRACT} FROM (SELECT DISTINCT value FROM json_each(?)) AS j "
            "CROSS JOIN entities AS e INDEXED BY entities_supplier "
            "ON e.kind = 'contract' AND e.supplier_id = j.value",
            ids,
        )

    def contracts_of(self, ids: list[str], limit: int) -> list[Any]:
        return self._all(
            "WITH ids(id) AS (SELECT DISTINCT value FROM json_each(?1)), "
            "c(record, how, contract) AS ("
            " SELECT l.source, 'DECIDED', l.target FROM ids"
            " CROSS JOIN links AS l ON l.source = ids.id AND l.type = 'DECIDED'"
            " UNION SELECT e.supplier_id, 'SUPPLIER', e.id FROM ids"
            " CROSS JOIN entities AS e INDEXED BY entities_supplier"
            " ON e.kind = 'contract' AND e.supplier_id = ids.id"
            " UNION SELECT e.buyer_id, 'BUYER', e.id FROM ids"
            " CROSS JOIN entities AS e INDEXED BY entities_buyer"
            " ON e.kind = 'contract' AND e.buyer_id = ids.id) "
            "SELECT record, how, contract FROM (SELECT *, row_number() OVER"
            " (PARTITION BY record, how ORDER BY contract) AS n FROM c) WHERE n <= ?2",
            ids,
            limit,
        )

    def agencies_headed_by(self, ids: list[str]) -> list[str]:
        rows = self._all(
            "SELECT DISTINCT l.target, l.role FROM (SELECT DISTINCT value FROM json_each(?)) AS j "
            "CROSS JOIN links AS l ON l.source = j.value AND l.type = 'EMPLOYED' "
            "JOIN entities AS a ON a.id = l.target AND a.kind = 'agency'",
            ids,
        )
        return sorted({agency for agency, role in rows if _is_head(role)})

    def contracts_near(self, ids: list[str], agencies: list[str]) -> list[str]:
        near = self._all(
            "WITH ids(id) AS (SELECT DISTINCT value FROM json_each(?)) "
            "SELECT l.target FROM ids CROSS JOIN links AS l "
            "ON l.source = ids.id AND l.type = 'DECIDED' "
            "UNION SELECT e.id FROM ids CROSS JOIN entities AS e INDEXED BY entities_supplier "
            "ON e.kind = 'contract' AND e.supplier_id = ids.id",
            ids,
        )
        near += self._all(
            "SELECT e.id FROM (SELECT DISTINCT value FROM json_each(?)) AS j "
            "CROSS JOIN entities AS e INDEXED BY entities_buyer "
            "ON e.kind = 'contract' AND e.buyer_id = j.value",
            agencies,
        )
        return [c for (c,) in near]
