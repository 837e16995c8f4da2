"""`EmbeddedReader`'s reads of the graph's links from a link file (`cofi.link_file`) instead of
the `links` table (issue 17, `docs/link-store.md`), for a store that keeps its graph links in a
link file (every store a load of this cofi made; an older one's are read by `EmbeddedReader`).
`tests/test_link_rings.py` holds each read to `EmbeddedReader`'s own on the same store, row for
row, read by `pread` and through the map.

A read numbers its ids by the file's own hash table of them, finds the links from or into them by
the file's offsets, then names their other ends and reads the records by id, as the SQL reads
do: what it returns is what `cypher/check/*` returns on Neo4j.
"""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cofi import link_pages
from cofi.audit import AuditLink
from cofi.batches import chunks
from cofi.link_pages import LinkPages, Seal
from cofi.restrictions import Job, Kin
from cofi.store.embedded import EmbeddedDeclarations
from cofi.store.embedded_rings import _CONTRACT, EmbeddedReader, _is_head
from cofi.vocab import PROJECTED_TYPES, Kind

if TYPE_CHECKING:
    from cofi.link_file import LinkFile

LinkText = tuple[str, str, str, str, str, float | None, str, str]
"""A link as the `links` table gives it (but `rev`): source, target, type, role, since, share,
until, source_ref."""


class FileLinks:
    """The links of a link file found by the ids of their ends (by the file's own ids), by
    revision, or all of some types, as the `links` table gives them.  A few rows (a ring read's)
    are read by `pread` in plain Python (`LinkPages`: no numpy imported); many through the map
    of the file (`LinkFile`, opened when first needed)."""

    def __init__(self, path: Path, seal: Seal, tag: str | None = None) -> None:
        self.pages = LinkPages(path, seal, tag)
        self._path, self._seal, self._tag = path, seal, tag
        self._file: LinkFile | None = None

    @property
    def file(self) -> LinkFile:
        """The file mapped, for bulk reads."""
        if self._file is None:
            from cofi.link_file import LinkFile

            self._file = LinkFile(self._path, self._seal, self._tag)
        return self._file

    def texts(self, at: Any) -> list[LinkText]:
        """The rows `at` (in that order) with their ends' ids."""
        rows = self.file.rows_at(at)
        ids_of = self.file.ids_of(n for row in rows for n in row[:2])
        return [(ids_of[s], ids_of[t], ty, role, since, share, until, ref)
                for s, t, ty, role, since, share, until, ref, _ in rows]  # fmt: skip

    def _of_types(self, at: Any, types: Collection[str]) -> Any:
        import numpy as np

        links = self.file.links
        wanted = [i for i, t in enumerate(links.tables["types"]) if t in types]
        return at[np.isin(self.file.take("type", at), wanted)]

    def rows(self, ids: Iterable[str], *, out: bool, into: bool,
             types: Collection[str]) -> list[LinkText]:  # fmt: skip
        """The links of `types` from (`out`) or into (`into`) the entities `ids`: read by
        `pread` when there are few, else through the map."""
        ids = list(dict.fromkeys(ids))
        numbers = None
        if len(ids) <= link_pages.FEW:
            p = self.pages
            numbers = p.numbers_of(ids)
            spans = [(p.spans(numbers, into=False), False)] if out else []
            spans += [(p.spans(numbers, into=True), True)] if into else []
            if sum(hi - lo for found, _ in spans for lo, hi in found) <= link_pages.FEW:
                return self._few(p, spans, types)
        return self._many(ids, numbers, out=out, into=into, types=types)

    @staticmethod
    def _few(p: LinkPages, spans: list[tuple[list[tuple[int, int]], bool]],
             types: Collection[str]) -> list[LinkText]:  # fmt: skip
        """`rows` of the rows in `spans`, read by `pread`."""
        at = sorted({r for found, into in spans for r in p.rows_in(found, into=into)})
        wanted = {i for i, t in enumerate(p.tables["types"]) if t in types}
        at = [r for r, t in zip(at, p.take("type", at), strict=True) if t in wanted]
        rows = p.rows_at(at)
        ids_of = p.ids_of({n for row in rows for n in row[:2]})
        return [(ids_of[s], ids_of[t], ty, role, since, share, until, ref)
                for s, t, ty, role, since, share, until, ref, _ in rows]  # fmt: skip

    def _many(self, ids: list[str], numbers: list[int] | None, *, out: bool, into: bool,
              types: Collection[str]) -> list[LinkText]:  # fmt: skip
        """`rows` through the map."""
        import numpy as np

        from cofi.link_file import distinct

        f = self.file
        found_numbers = f.numbers_of(ids) if numbers is None else np.array(numbers, np.int64)
        found = [f.rows_from(found_numbers)] if out else []
        found += [f.rows_into(found_numbers)] if into else []
        at = distinct(np.concatenate([*found, np.zeros(0, np.int64)]))
        return self.texts(self._of_types(at, types))

    def after(self, rev: int) -> list[LinkText]:
        """The links written after the revision `rev`."""
        import numpy as np

        return self.texts(np.flatnonzero(np.asarray(self.file.links.columns["rev"]) > rev))

    def of_types(self, types: Collection[str]) -> list[LinkText]:
        """Every link of `types`, in key order (by the ids of its ends, as the table's)."""
        import numpy as np

        return sorted(self.texts(self._of_types(np.arange(len(self.file.links)), types)),
                      key=lambda r: r[:5])  # fmt: skip

    def counts(self) -> dict[str, int]:
        """How many links of each type."""
        import numpy as np

        links = self.file.links
        counts = np.bincount(links.columns["type"], minlength=len(links.tables["types"]))
        return {t: int(n) for t, n in zip(links.tables["types"], counts, strict=True) if n}

    def deciders(self, contracts: Iterable[str]) -> dict[str, list[list[str]]]:
        """The DECIDED links into each of `contracts` (those with any), as [record, role]
        ordered as the table's target index gives them (by record, role, day)."""
        found: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
        for source, target, _, role, since, *_ in self.rows(
            contracts, out=False, into=True, types=("DECIDED",)
        ):
            found[target].append((source, role, since))
        return {c: [[s, r] for s, r, _ in sorted(d)] for c, d in found.items()}

    def deciders_json(self, contracts: Iterable[str]) -> dict[str, str]:
        """`deciders` as SQLite's `json_group_array(json_array(source, role))` writes them."""
        return {c: json.dumps(d, ensure_ascii=False, separators=(",", ":"))
                for c, d in self.deciders(contracts).items()}  # fmt: skip


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
        deciders = self.links.deciders(f[0] for f in fields)
        return [(*f, deciders.get(f[0], [])) for f in fields]

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


def _in_force(since: str, until: str, at: str) -> bool:
    return (not since or since <= at) and (not until or until >= at)


class FileDeclarations(EmbeddedDeclarations):
    """`EmbeddedDeclarations` with the graph's links (jobs, kin, holdings) read from a link
    file; the declarations themselves stay in the `links` table."""

    def __init__(self, path: Path, db: sqlite3.Connection, links: FileLinks) -> None:
        super().__init__(path, db)
        self.links = links

    def _kinds(self, ids: Iterable[str]) -> dict[str, str]:
        return {
            i: kind
            for batch in _json_chunks(set(ids))
            for i, kind in self._conn().execute(
                "SELECT e.id, e.kind FROM json_each(?) AS j CROSS JOIN entities AS e "
                "ON e.id = j.value",
                (batch,),
            )
        }

    def _agencies(self, ids: list[str] | None) -> list[str]:
        if ids is None:
            every = "SELECT id FROM entities INDEXED BY entities_kind WHERE kind = 'agency'"
            return [a for (a,) in self._conn().execute(every)]
        kinds = self._kinds(ids)
        return [a for a in dict.fromkeys(ids) if kinds.get(a) == Kind.AGENCY.value]

    def officials(self, at: str) -> list[str]:
        rows = self.links.rows(self._agencies(None), out=False, into=True, types=("EMPLOYED",))
        return sorted({s for s, _, _, _, since, _, until, _ in rows if _in_force(since, until, at)})

    def audit_links(self, ids: list[str], at: str) -> Iterator[AuditLink]:
        out = self.links.rows(ids, out=True, into=False,
                              types=("FAMILY", "OWNS", "DIRECTS", "EMPLOYED"))  # fmt: skip
        kinds = self._kinds(row[1] for row in out)
        found = {
            (s, t, ty, role, share, since, until, ref, kinds[t])
            for s, t, ty, role, since, share, until, ref in out
            if t in kinds and _in_force(since, until, at)
        }
        found.update(
            (s, t, ty, role, share, since, until, ref, Kind.PERSON.value)
            for s, t, ty, role, since, share, until, ref in self.links.rows(
                ids, out=False, into=True, types=("FAMILY",)
            )
            if _in_force(since, until, at)
        )
        return (AuditLink.of_row(*r) for r in found)

    def agency_jobs(self, agencies: list[str] | None = None) -> list[Job]:
        rows = self.links.rows(self._agencies(agencies), out=False, into=True, types=("EMPLOYED",))
        return sorted(Job(s, t, role, since, until, ref)
                      for s, t, _, role, since, _, until, ref in rows)  # fmt: skip

    def agencies_of(self, persons: list[str]) -> list[str]:
        rows = self.links.rows(persons, out=True, into=False, types=("EMPLOYED",))
        kinds = self._kinds(row[1] for row in rows)
        return sorted({t for _, t, *_ in rows if kinds.get(t) == Kind.AGENCY.value})

    def family_of(self, ids: list[str]) -> Iterator[Kin]:
        rows = self.links.rows(ids, out=True, into=True, types=("FAMILY",))
        return (Kin(s, t, role, since, until, ref) for s, t, _, role, since, _, until, ref in rows)


def _json_chunks(ids: Iterable[str]) -> Iterator[str]:
    return (json.dumps(batch) for batch in chunks(ids, 5000))
