"""`EmbeddedReader`'s reads of the graph's links from a link file (`cofi.link_file`) instead of
the `links` table (issue 17, `docs/link-store.md`, step 3).  Not used by a command yet: a load
does not write the file.  `tests/test_link_rings.py` holds each read to `EmbeddedReader`'s own
on the same store, row for row.

A read numbers its ids by the file's own hash table of them, finds the links from or into them by
the file's offsets, then names their other ends and reads the records by id, as the SQL reads
do: what it returns is what `cypher/check/*` returns on Neo4j.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Collection, Iterable
from typing import Any

import numpy as np

from cofi.link_file import LinkFile, distinct
from cofi.store.embedded_rings import _CONTRACT, EmbeddedReader, _is_head
from cofi.vocab import PROJECTED_TYPES, Kind

LinkText = tuple[str, str, str, str, str, float | None, str, str]
"""A link as the `links` table gives it (but `rev`): source, target, type, role, since, share,
until, source_ref."""


class FileLinks:
    """The links of a link file found by the ids of their ends (by the file's own ids)."""

    def __init__(self, links: LinkFile) -> None:
        self.file = links

    def rows(self, ids: Iterable[str], *, out: bool, into: bool,
             types: Collection[str]) -> list[LinkText]:  # fmt: skip
        """The links of `types` from (`out`) or into (`into`) the entities `ids`."""
        f, links = self.file, self.file.links
        numbers = f.numbers_of(list(dict.fromkeys(ids)))
        found = [f.rows_from(numbers)] if out else []
        found += [f.rows_into(numbers)] if into else []
        at = distinct(np.concatenate([*found, np.zeros(0, np.int64)]))
        wanted = [i for i, t in enumerate(links.tables["types"]) if t in types]
        at = at[np.isin(links.columns["type"][at], wanted)]
        rows = links.rows(at)
        ids_of = f.ids_of(n for row in rows for n in row[:2])
        return [(ids_of[s], ids_of[t], ty, role, since, share, until, ref)
                for s, t, ty, role, since, share, until, ref, _ in rows]  # fmt: skip


class FileReader(EmbeddedReader):
    """`EmbeddedReader` with the graph's links read from a link file."""

    def __init__(self, db: sqlite3.Connection, kinds_of: Any, links: FileLinks) -> None:
        super().__init__(db, kinds_of)
        self.links = links

    def _records(self, ids: Iterable[str]) -> dict[str, tuple[str, str, str]]:
        """Each record's kind, name and strong id, by id."""
        return {
            i: (kind, name, strong)
            for i, kind, name, strong in self._all(
                "SELECT e.id, e.kind, e.name, e.strong_id "
                "FROM (SELECT DISTINCT value FROM json_each(?)) AS j "
                "CROSS JOIN entities AS e ON e.id = j.value",
                set(ids),
            )
        }

    def links_around(self, ids: list[str], at: str, not_before: str) -> list[Any]:
        rows = self.links.rows(ids, out=True, into=True, types=PROJECTED_TYPES)
        records = self._records(end for row in rows for end in row[:2])
        contract = Kind.CONTRACT.value
        out = []
        for source, target, type_, role, since, share, until, _ in rows:
            s, t = records.get(source), records.get(target)
            if s is None or t is None or contract in (s[0], t[0]):
                continue
            if (since and since > at) or (until and until < not_before):
                continue
            out.append((source, target, type_, role, share, since, until,
                        [[source, *s], [target, *t]]))  # fmt: skip
        return out

    def _employed_in_agencies(self, ids: list[str]) -> list[Any]:
        rows = self.links.rows(ids, out=False, into=True, types=("EMPLOYED",))
        records = self._records(end for row in rows for end in row[:2])
        return [
            (source, target, type_, role, share, since, until, *records[source])
            for source, target, type_, role, since, share, until, _ in rows
            if source in records and records.get(target, ("",))[0] == Kind.AGENCY.value
        ]

    def contracts(self, ids: list[str]) -> list[Any]:
        fields = self._all(
            f"SELECT {_CONTRACT} FROM (SELECT DISTINCT value FROM json_each(?)) AS j "
            "CROSS JOIN entities AS e ON e.id = j.value AND e.kind = 'contract'",
            ids,
        )
        deciders: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
        for source, target, _, role, since, *_ in self.links.rows(
            [f[0] for f in fields], out=False, into=True, types=("DECIDED",)
        ):
            deciders[target].append((source, role, since))
        return [(*f, [[s, r] for s, r, _ in sorted(deciders[f[0]])]) for f in fields]

    def contracts_of(self, ids: list[str], limit: int) -> list[Any]:
        found = {(source, "DECIDED", target) for source, target, *_ in
                 self.links.rows(ids, out=True, into=False, types=("DECIDED",))}  # fmt: skip
        found.update(self._all(
            "WITH ids(id) AS (SELECT DISTINCT value FROM json_each(?)) "
            "SELECT e.supplier_id, 'SUPPLIER', e.id FROM ids"
            " CROSS JOIN entities AS e INDEXED BY entities_supplier"
            " ON e.kind = 'contract' AND e.supplier_id = ids.id"
            " UNION SELECT e.buyer_id, 'BUYER', e.id FROM ids"
            " CROSS JOIN entities AS e INDEXED BY entities_buyer"
            " ON e.kind = 'contract' AND e.buyer_id = ids.id", ids))  # fmt: skip
        taken: dict[tuple[str, str], int] = defaultdict(int)
        out = []
        for record, how, contract in sorted(found, key=lambda r: (r[0], r[1], r[2])):
            if taken[record, how] < limit:
                taken[record, how] += 1
                out.append((record, how, contract))
        return out

    def agencies_headed_by(self, ids: list[str]) -> list[str]:
        rows = self.links.rows(ids, out=True, into=False, types=("EMPLOYED",))
        records = self._records(row[1] for row in rows)
        agency = Kind.AGENCY.value
        return sorted({target for _, target, _, role, *_ in rows
                       if _is_head(role) and records.get(target, ("",))[0] == agency})  # fmt: skip

    def contracts_near(self, ids: list[str], agencies: list[str]) -> list[str]:
        near = {target for _, target, *_ in
                self.links.rows(ids, out=True, into=False, types=("DECIDED",))}  # fmt: skip
        near.update(c for (c,) in self._all(
            "SELECT e.id FROM (SELECT DISTINCT value FROM json_each(?)) AS j "
            "CROSS JOIN entities AS e INDEXED BY entities_supplier "
            "ON e.kind = 'contract' AND e.supplier_id = j.value", ids))  # fmt: skip
        buyers = self._all(
            "SELECT e.id FROM (SELECT DISTINCT value FROM json_each(?)) AS j "
            "CROSS JOIN entities AS e INDEXED BY entities_buyer "
            "ON e.kind = 'contract' AND e.buyer_id = j.value",
            agencies,
        )
        return [*near, *(c for (c,) in buyers)]
