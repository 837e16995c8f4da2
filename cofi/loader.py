"""Validating bundles into a `LoadPlan`: a staging database that a store writes in one commit.

Validation runs in two steps, so that it uses every core and never holds a million records in
Python memory:

1. Row checks.  Each of N reader processes parses every file but validates only its share of the
   rows (runs of 10,000; see `bundle.Part`): the pydantic shape of the row, a calendar day, a link
   type in the vocabulary, a FAMILY role; then it builds the record a store writes (search key,
   normalised contact keys, IIN/BIN check) and appends it to a staging SQLite database.
2. Cross-row checks, in SQL over the staging database: ids seen twice with conflicting fields,
   ids that are already another kind in the store, references to ids neither in the bundle nor in
   the store, and endpoint kinds the vocabulary does not allow.

A bad IIN/BIN is a warning, not an error.  Nothing here writes to the store: the store reads the
staging database (the embedded store attaches it and copies it with `INSERT … SELECT`).
"""

from __future__ import annotations

import json
import multiprocessing
import os
import sqlite3
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cofi.bundle import NOTE, Part, RawRow
from cofi.errors import LoadRejected, RowError
from cofi.heap import gc_paused
from cofi.importers import InputFile, input_files, read_input
from cofi.model import EntityRecord, LinkRecord, validate_row
from cofi.normalize import normalize_contact, registry_key, search_key, valid_iin_bin
from cofi.vocab import (
    IDENTIFIER_HOLDERS,
    IDENTIFIER_KINDS,
    INPUT_LINK_TYPES,
    LINK_TYPES,
    STRONG_ID_FIELD,
    Kind,
)

KindLookup = Callable[[Iterable[str]], dict[str, Kind]]

STAGE_NAME = "stage.sqlite"
_BATCH = 10_000
_PARALLEL_BYTES = 8 << 20
"""Bundles smaller than this are validated in this process (forking costs more than it saves)."""

_CONTACT_FIELDS = tuple(k.value for k in IDENTIFIER_KINDS)
props_json = json.JSONEncoder(ensure_ascii=False, sort_keys=True, check_circular=False).encode
"""An entity's fields as stored text: canonical (sorted keys), so equal fields compare equal."""

_STAGE_SCHEMA = """
CREATE TABLE files (fno INTEGER PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE ent (
    seq INTEGER PRIMARY KEY, id TEXT, kind TEXT, name TEXT, props TEXT, strong_id TEXT,
    search_key TEXT, buyer_id TEXT, supplier_id TEXT, signed_on TEXT, value REAL,
    fno INTEGER, line INTEGER
);
CREATE TABLE contact (seq INTEGER, id TEXT, kind TEXT, key TEXT, raw TEXT);
CREATE TABLE link (
    seq INTEGER PRIMARY KEY, source TEXT, target TEXT, type TEXT, role TEXT, since TEXT,
    share REAL, until TEXT, source_ref TEXT, fno INTEGER, line INTEGER
);
CREATE TABLE rej (fno INTEGER, line INTEGER, field TEXT, reason TEXT, row TEXT);
CREATE TABLE badid (id TEXT);
CREATE TABLE warn (seq INTEGER, id TEXT, fno INTEGER, line INTEGER, field TEXT, reason TEXT);
"""

_CHECK_SCHEMA = """
CREATE TABLE ent_ids (
    id TEXT PRIMARY KEY, seq INTEGER, n INTEGER, kind TEXT, ok INTEGER NOT NULL DEFAULT 1
) WITHOUT ROWID;
INSERT INTO ent_ids (id, seq, n, kind) SELECT id, min(seq), count(*), kind FROM ent GROUP BY id;
CREATE TABLE link_keys (
    source TEXT, target TEXT, type TEXT, role TEXT, since TEXT, seq INTEGER, n INTEGER,
    ok INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (source, target, type, role, since)
) WITHOUT ROWID;
INSERT INTO link_keys (source, target, type, role, since, seq, n)
SELECT source, target, type, role, since, min(seq), count(*) FROM link GROUP BY 1, 2, 3, 4, 5;
CREATE TABLE stored (id TEXT PRIMARY KEY, kind TEXT) WITHOUT ROWID;
CREATE TABLE bad (id TEXT PRIMARY KEY) WITHOUT ROWID;
CREATE TABLE allowed (type TEXT, source TEXT, target TEXT, PRIMARY KEY (type, source, target))
    WITHOUT ROWID;
"""


@dataclass(frozen=True)
class Reject:
    """An invalid row as written to the rejects file."""

    file: str
    line: int
    errors: tuple[RowError, ...]
    row: dict[str, Any]

    def as_json(self) -> str:
        return json.dumps(
            {
                "file": self.file,
                "line": self.line,
                "errors": [{"field": e.field, "reason": e.reason} for e in self.errors],
                "row": self.row,
            },
            ensure_ascii=False,
        )


@dataclass
class LoadPlan:
    """What a load writes, validated and de-duplicated in the staging database at `stage`.

    The rows to write are `ent_ids`/`link_keys` rows with `ok = 1` (one per id, one per link key)
    joined to `ent`/`link` by `seq`; `contact` holds each entity row's contact keys.  Close the
    plan (or use it as a context manager) to delete the staging database.
    """

    stage: Path
    rejects: list[Reject] = field(default_factory=list)
    warnings: list[RowError] = field(default_factory=list)
    rows_read: int = 0
    _tmp: tempfile.TemporaryDirectory[str] | None = None

    @property
    def errors(self) -> list[RowError]:
        return sorted(e for r in self.rejects for e in r.errors)

    def entities(self) -> Iterator[EntityRecord]:
        """The entities to write, in id order."""
        with closing(sqlite3.connect(self.stage)) as db:
            contacts: dict[str, list[tuple[Kind, str, str]]] = defaultdict(list)
            for eid, kind, key, raw in db.execute(
                "SELECT c.id, c.kind, c.key, c.raw FROM contact c "
                "JOIN ent_ids i ON i.id = c.id AND i.seq = c.seq WHERE i.ok"
            ):
                contacts[eid].append((Kind(kind), key, raw))
            for eid, kind, name, props, strong, skey in db.execute(
                "SELECT e.id, e.kind, e.name, e.props, e.strong_id, e.search_key FROM ent_ids i "
                "JOIN ent e ON e.seq = i.seq WHERE i.ok ORDER BY i.id"
            ):
                yield EntityRecord(
                    eid, Kind(kind), name, json.loads(props), strong, skey,
                    tuple(contacts.get(eid, ())),
                )  # fmt: skip

    def links(self) -> Iterator[LinkRecord]:
        """The links to write, in key order."""
        with closing(sqlite3.connect(self.stage)) as db:
            for row in db.execute(
                "SELECT l.source, l.target, l.type, l.role, l.share, l.since, l.until, "
                "l.source_ref FROM link_keys k JOIN link l ON l.seq = k.seq WHERE k.ok "
                "ORDER BY k.source, k.target, k.type, k.role, k.since"
            ):
                yield LinkRecord(*row)

    def close(self) -> None:
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> LoadPlan:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def plan_load(
    paths: list[Path],
    store_kinds: KindLookup,
    *,
    fmt: str | None = None,
    skip_invalid: bool = False,
    progress: Callable[[int], None] | None = None,
    workers: int | None = None,
) -> LoadPlan:
    """Validate the bundles (or, with `fmt` or detected, OCDS/BODS/FtM files) at `paths` into a
    plan.

    `store_kinds` maps ids already in the store to their kinds.  Raises `LoadRejected` listing
    every bad row when any row is invalid and `skip_invalid` is false; raises `InvalidInput` for a
    file that cannot be read at all.  `workers` reader processes (default: one per core for a
    large bundle, none for a small one or for any input but bundles).
    """
    files = input_files(paths, fmt)
    tmp = tempfile.TemporaryDirectory(prefix="cofi-load-")
    plan = LoadPlan(Path(tmp.name) / STAGE_NAME, _tmp=tmp)
    try:
        with closing(sqlite3.connect(plan.stage, isolation_level=None)) as db:
            db.executescript(_STAGE_SCHEMA)
            db.executemany("INSERT INTO files VALUES (?, ?)", enumerate(str(f.path) for f in files))
        if any(f.format != "bundle" for f in files):
            workers = 0  # an importer reads a file whole (merging by ocid, two passes)
        elif workers is None:
            size = sum(f.path.stat().st_size for f in files)
            workers = (os.cpu_count() or 1) if size >= _PARALLEL_BYTES else 0
        with gc_paused():
            plan.rows_read = _stage(files, plan.stage, workers, progress)
        with closing(sqlite3.connect(plan.stage, isolation_level=None)) as db:
            _pragmas(db)
            names = dict(db.execute("SELECT fno, name FROM files"))
            _Checker(db, names, store_kinds).run(plan)
        if plan.rejects and not skip_invalid:
            raise LoadRejected(plan.errors)
    except BaseException:
        plan.close()
        raise
    return plan


def _pragmas(db: sqlite3.Connection) -> None:
    """The staging database is scratch: no journal, no fsync, a large cache."""
    db.execute("PRAGMA journal_mode = OFF")
    db.execute("PRAGMA synchronous = OFF")
    db.execute("PRAGMA cache_size = -262144")
    db.execute("PRAGMA temp_store = MEMORY")


# --- step 1: row checks, in parallel ---------------------------------------------------------


def _stage(
    files: list[InputFile], stage: Path, workers: int, progress: Callable[[int], None] | None
) -> int:
    """Stage every row; the number of rows read."""
    if workers <= 1:
        return _stage_part(files, stage, Part(), progress)
    global _COUNTER
    ctx = multiprocessing.get_context("fork")
    _COUNTER = counter = ctx.Value("q", 0)  # inherited by the forked readers
    with ctx.Pool(workers) as pool:
        results = [
            pool.apply_async(_stage_worker, (files, stage, Part(w, workers, _BATCH)))
            for w in range(workers)
        ]
        shown = 0
        while not all(r.ready() for r in results):
            time.sleep(0.05)
            if progress is not None and counter.value > shown:
                progress(counter.value - shown)
                shown = counter.value
        return sum(r.get() for r in results)


_COUNTER: Any = None


def _stage_worker(files: list[InputFile], stage: Path, part: Part) -> int:
    def count(n: int) -> None:
        with _COUNTER.get_lock():
            _COUNTER.value += n

    return _stage_part(files, stage, part, count)


def _stage_part(
    files: list[InputFile], stage: Path, part: Part, progress: Callable[[int], None] | None
) -> int:
    """Validate `part`'s share of the rows into the staging database; the rows read."""
    with closing(sqlite3.connect(stage, isolation_level=None, timeout=3600)) as db:
        _pragmas(db)
        fno = {name: i for i, name in db.execute("SELECT fno, name FROM files")}
        out = _Staged(db, fno)
        n = 0
        for raw in read_input(files, part):
            out.add(raw)
            if raw.kind == NOTE:
                continue
            n += 1
            if n % _BATCH == 0:
                out.flush()
                if progress is not None:
                    progress(_BATCH)
        out.flush()
        if progress is not None:
            progress(n % _BATCH)
        return n


class _Staged:
    """Validated rows waiting to be appended to the staging database."""

    def __init__(self, db: sqlite3.Connection, fno: dict[str, int]) -> None:
        self.db, self.fno = db, fno
        self.ent: list[tuple[Any, ...]] = []
        self.contact: list[tuple[Any, ...]] = []
        self.link: list[tuple[Any, ...]] = []
        self.rej: list[tuple[Any, ...]] = []
        self.badid: list[tuple[str]] = []
        self.warn: list[tuple[Any, ...]] = []

    def add(self, raw: RawRow) -> None:
        fno = self.fno[raw.file]
        if raw.kind == NOTE:
            self.warn.extend((raw.seq, None, fno, raw.line, f, r) for f, r in raw.notes)
            return
        if raw.problem is not None:
            self._reject(fno, raw, [(raw.problem.field, raw.problem.reason)])
            return
        row, problems = validate_row(raw.kind, raw.data)
        if row is None:
            self._reject(fno, raw, problems)
            if raw.kind != "link" and isinstance(raw.data.get("id"), str):
                self.badid.append((raw.data["id"],))
            return
        if raw.kind == "link":
            self.link.append((
                raw.seq, row["source"], row["target"], row["type"], row.get("role", ""),
                row.get("since", ""), row.get("share"), row.get("until", ""),
                row.get("source_ref", ""), fno, raw.line,
            ))  # fmt: skip
            self.warn.extend((raw.seq, None, fno, raw.line, f, r) for f, r in raw.notes)
            return
        self._entity(Kind(raw.kind), row, fno, raw)

    def _entity(self, kind: Kind, row: dict[str, Any], fno: int, raw: RawRow) -> None:
        eid = row.pop("id")
        name = (row.get("title") or eid) if kind is Kind.CONTRACT else row.pop("name")
        strong_field = STRONG_ID_FIELD.get(kind)
        strong = row.get(strong_field, "") if strong_field else ""
        if strong and not valid_iin_bin(strong):
            reason = (
                f"{strong!r} fails the {strong_field.upper()} check; kept, not used to match "  # type: ignore[union-attr]
                "records"
            )
            self.warn.append((raw.seq, eid, fno, raw.line, strong_field, reason))
            strong = ""
        registry = row.get("registry_id")
        if registry and not strong:
            strong = registry_key(registry) or ""
            if not strong:
                reason = (
                    f"{registry!r} is not SCHEME:value (e.g. GB-COH:06436883); kept, not used "
                    "to match records"
                )
                self.warn.append((raw.seq, eid, fno, raw.line, "registry_id", reason))
        self.warn.extend((raw.seq, eid, fno, raw.line, f, r) for f, r in raw.notes)
        if kind in IDENTIFIER_HOLDERS:
            for ident in _CONTACT_FIELDS:
                value = row.get(ident)
                if value and (key := normalize_contact(Kind(ident), value)):
                    self.contact.append((raw.seq, eid, ident, key, value))
        aliases = row.get("aliases")
        skey = search_key(name)
        if aliases:
            skey = " | ".join([skey, *map(search_key, aliases)])
        self.ent.append((
            raw.seq, eid, kind.value, name, props_json(row), strong, skey, row.get("buyer_id"),
            row.get("supplier_id"), row.get("signed_on"), row.get("value"), fno, raw.line,
        ))  # fmt: skip

    def _reject(self, fno: int, raw: RawRow, problems: list[tuple[str, str]]) -> None:
        data = json.dumps(raw.data, ensure_ascii=False, default=str)
        self.rej.extend((fno, raw.line, f, r, data) for f, r in problems)

    def flush(self) -> None:
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        db.executemany("INSERT INTO ent VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", self.ent)
        db.executemany("INSERT INTO contact VALUES (?,?,?,?,?)", self.contact)
        db.executemany("INSERT INTO link VALUES (?,?,?,?,?,?,?,?,?,?,?)", self.link)
        db.executemany("INSERT INTO rej VALUES (?,?,?,?,?)", self.rej)
        db.executemany("INSERT INTO badid VALUES (?)", self.badid)
        db.executemany("INSERT INTO warn VALUES (?,?,?,?,?,?)", self.warn)
        db.execute("COMMIT")
        for rows in (self.ent, self.contact, self.link, self.rej, self.badid, self.warn):
            rows.clear()


# --- step 2: cross-row checks, in SQL ----------------------------------------------------------


class _Checker:
    """The cross-row checks over a filled staging database, in the order they depend on each other.

    `bad` (in Python and in the `bad` table) holds the ids whose rows are rejected: a row that
    refers to one of them is rejected too ("whose row is invalid").
    """

    def __init__(
        self, db: sqlite3.Connection, names: dict[int, str], store_kinds: KindLookup
    ) -> None:
        self.db, self.names, self.store_kinds = db, names, store_kinds
        self.rejects: dict[tuple[str, int], Reject] = {}
        self.bad: set[str] = set()

    def run(self, plan: LoadPlan) -> None:
        db = self.db
        db.executescript(_CHECK_SCHEMA)
        db.executemany(
            "INSERT INTO allowed VALUES (?, ?, ?)",
            [
                (name, a.value, b.value)
                for name in INPUT_LINK_TYPES
                for a in Kind
                for b in Kind
                if LINK_TYPES[name].allows(a, b)
            ],
        )
        for fno, line, fld, reason, row in db.execute("SELECT * FROM rej ORDER BY fno, line"):
            self.reject(fno, line, json.loads(row), (fld, reason))
        self.bad.update(i for (i,) in db.execute("SELECT DISTINCT id FROM badid"))
        self._entity_conflicts()
        self._stored_kinds()
        self._contract_refs()
        db.executemany("INSERT OR IGNORE INTO bad VALUES (?)", ((i,) for i in self.bad))
        self._links()
        db.execute("UPDATE ent_ids SET ok = 0 WHERE id IN (SELECT id FROM bad)")
        plan.warnings = [
            RowError(self.names[fno], line, fld, reason)
            for fno, line, fld, reason in db.execute(
                "SELECT w.fno, w.line, w.field, w.reason FROM warn w "
                "LEFT JOIN ent_ids i ON i.id = w.id AND i.seq = w.seq "
                "WHERE w.id IS NULL OR i.id IS NOT NULL ORDER BY w.seq"
            )
        ]
        plan.rejects = sorted(self.rejects.values(), key=lambda r: (r.file, r.line))

    def reject(self, fno: int, line: int, row: dict[str, Any], *problems: tuple[str, str]) -> None:
        file = self.names[fno]
        errors = tuple(RowError(file, line, f, r) for f, r in problems)
        prev = self.rejects.get((file, line))
        self.rejects[(file, line)] = Reject(file, line, (prev.errors if prev else ()) + errors, row)

    def _entity_conflicts(self) -> None:
        """Ids given twice with different fields: every place is rejected, naming the others."""
        places: dict[str, list[tuple[int, int, dict[str, Any]]]] = defaultdict(list)
        contents: dict[str, set[tuple[str, str, str]]] = defaultdict(set)
        for eid, kind, name, props, fno, line in self.db.execute(
            "SELECT id, kind, name, props, fno, line FROM ent "
            "WHERE id IN (SELECT id FROM ent_ids WHERE n > 1) ORDER BY seq"
        ):
            places[eid].append((fno, line, _entity_row(eid, kind, name, props)))
            contents[eid].add((kind, name, props))
        for eid, where in places.items():
            if len(contents[eid]) > 1:
                self._conflict(f"id {eid!r}", "id", where)
                self.bad.add(eid)

    def _conflict(
        self, what: str, column: str, where: list[tuple[int, int, dict[str, Any]]]
    ) -> None:
        for fno, line, row in where:
            elsewhere = ", ".join(
                f"{self.names[f]}:{n}" for f, n, _ in where if (f, n) != (fno, line)
            )
            self.reject(
                fno, line, row, (column, f"{what} appears with conflicting fields at {elsewhere}")
            )

    def _stored_kinds(self) -> None:
        """Kinds from the store of referenced ids the bundle lacks, and of the bundle's own ids.

        The ids are generated lazily: a store that is empty answers without reading them.
        """
        db = self.db

        def missing() -> Iterator[str]:
            for column, table, where in (
                ("buyer_id", "ent", "kind = 'contract' AND "),
                ("supplier_id", "ent", "kind = 'contract' AND "),
                ("source", "link_keys", ""),
                ("target", "link_keys", ""),
            ):
                yield from (
                    i
                    for (i,) in db.execute(
                        f"SELECT DISTINCT {column} FROM {table} WHERE {where}"
                        f"NOT EXISTS (SELECT 1 FROM ent_ids WHERE id = {column})"
                    ).fetchall()
                )

        found = dict(self.store_kinds(missing()))
        found.update(self.store_kinds(i for (i,) in db.execute("SELECT id FROM ent_ids")))
        db.executemany("INSERT INTO stored VALUES (?, ?)", ((i, k.value) for i, k in found.items()))
        for eid, new, stored, fno, line, name, props in db.execute(
            "SELECT i.id, i.kind, s.kind, e.fno, e.line, e.name, e.props FROM ent_ids i "
            "JOIN stored s ON s.id = i.id JOIN ent e ON e.seq = i.seq WHERE s.kind <> i.kind "
            "ORDER BY i.seq"
        ):
            if eid in self.bad:
                continue
            self.bad.add(eid)
            reason = f"id is already {_a(stored)} in the store, cannot become {_a(new)}"
            self.reject(fno, line, _entity_row(eid, new, name, props), ("id", reason))

    def _kind_of(
        self, ref: str, bundle_kind: str | None, stored_kind: str | None
    ) -> tuple[str | None, str]:
        """The kind of a referenced id, or None with the reason it cannot be used."""
        if ref in self.bad:
            return None, f"refers to {ref!r}, whose row is invalid"
        kind = bundle_kind or stored_kind
        if kind is None:
            return None, f"unknown id {ref!r} (neither in the bundle nor in the store)"
        return kind, ""

    def _contract_refs(self) -> None:
        """A contract's buyer must be an agency and its supplier a company."""
        found: list[tuple[str, int, int, dict[str, Any], list[tuple[str, str]]]] = []
        for eid, fno, line, name, props, *refs in self.db.execute(
            "SELECT i.id, e.fno, e.line, e.name, e.props, "
            "e.buyer_id, bi.kind, bs.kind, e.supplier_id, si.kind, ss.kind "
            "FROM ent_ids i JOIN ent e ON e.seq = i.seq "
            "LEFT JOIN ent_ids bi ON bi.id = e.buyer_id LEFT JOIN stored bs ON bs.id = e.buyer_id "
            "LEFT JOIN ent_ids si ON si.id = e.supplier_id "
            "LEFT JOIN stored ss ON ss.id = e.supplier_id "
            "WHERE i.kind = 'contract' ORDER BY i.seq"
        ):
            if eid in self.bad:
                continue
            problems = []
            for column, wanted, (ref, in_bundle, in_store) in (
                ("buyer_id", Kind.AGENCY, refs[:3]),
                ("supplier_id", Kind.COMPANY, refs[3:]),
            ):
                kind, why = self._kind_of(ref, in_bundle, in_store)
                if kind is not None and kind != wanted.value:
                    why = f"{ref!r} is {_a(kind)}, must be {_a(wanted.value)}"
                if why:
                    problems.append((column, why))
            if problems:
                found.append((eid, fno, line, _entity_row(eid, "contract", name, props), problems))
        for eid, fno, line, row, problems in found:
            self.bad.add(eid)
            self.reject(fno, line, row, *problems)

    def _links(self) -> None:
        """Conflicting duplicate links; links whose ends are unknown, invalid or the wrong kinds."""
        db = self.db
        places: dict[tuple[str, ...], list[tuple[int, int, dict[str, Any]]]] = defaultdict(list)
        contents: dict[tuple[str, ...], set[tuple[Any, ...]]] = defaultdict(set)
        for *key, share, until, ref, fno, line in db.execute(
            "SELECT l.source, l.target, l.type, l.role, l.since, l.share, l.until, l.source_ref, "
            "l.fno, l.line FROM link_keys k JOIN link l ON l.source = k.source "
            "AND l.target = k.target AND l.type = k.type AND l.role = k.role AND l.since = k.since "
            "WHERE k.n > 1 ORDER BY l.seq"
        ):
            source, target, kind, role, since = key
            link = LinkRecord(source, target, kind, role, share, since, until, ref)
            places[tuple(key)].append((fno, line, _link_row(link)))
            contents[tuple(key)].add((share, until, ref))
        dropped: list[tuple[str, ...]] = []
        for key, where in places.items():
            if len(contents[key]) > 1:
                self._conflict(f"link {'/'.join(key)!r}", "row", where)
                dropped.append(key)
        db.executemany(_DROP_LINK, dropped)
        bad_keys: list[tuple[str, ...]] = []
        flagged = db.execute(
            "SELECT k.seq, coalesce(a.kind, sa.kind), coalesce(b.kind, sb.kind) FROM link_keys k "
            "LEFT JOIN ent_ids a ON a.id = k.source LEFT JOIN stored sa ON sa.id = k.source "
            "LEFT JOIN ent_ids b ON b.id = k.target LEFT JOIN stored sb ON sb.id = k.target "
            "WHERE k.ok AND (a.kind IS NULL AND sa.kind IS NULL OR b.kind IS NULL "
            "AND sb.kind IS NULL OR k.source IN bad OR k.target IN bad OR NOT EXISTS "
            "(SELECT 1 FROM allowed w WHERE w.type = k.type "
            "AND w.source = coalesce(a.kind, sa.kind) AND w.target = coalesce(b.kind, sb.kind))) "
            "ORDER BY k.seq"
        ).fetchall()
        for seq, source_kind, target_kind in flagged:
            fno, line, *fields = db.execute(
                "SELECT fno, line, source, target, type, role, share, since, until, source_ref "
                "FROM link WHERE seq = ?",
                (seq,),
            ).fetchone()
            link = LinkRecord(*fields)
            problems = []
            kinds = []
            for column, ref, kind in (
                ("source", link.source, source_kind),
                ("target", link.target, target_kind),
            ):
                known, why = self._kind_of(ref, kind, None)
                kinds.append(known)
                if why:
                    problems.append((column, why))
            src, dst = kinds
            if (
                src is not None
                and dst is not None
                and not LINK_TYPES[link.type].allows(Kind(src), Kind(dst))
            ):
                problems.append(("type", f"{link.type} cannot join {_a(src)} to {_a(dst)}"))
            if problems:
                bad_keys.append((link.source, link.target, link.type, link.role, link.since))
                self.reject(fno, line, _link_row(link), *problems)
        db.executemany(_DROP_LINK, bad_keys)


_DROP_LINK = (
    "UPDATE link_keys SET ok = 0 WHERE source = ? AND target = ? AND type = ? AND role = ? "
    "AND since = ?"
)


def _entity_row(eid: str, kind: str, name: str, props: str) -> dict[str, Any]:
    """The input fields of a staged entity, for the rejects file."""
    return {"kind": kind, "id": eid, "name": name, **json.loads(props)}


def _link_row(link: LinkRecord) -> dict[str, Any]:
    """The input fields of a link, for the rejects file."""
    return {k: v for k, v in link._asdict().items() if v not in ("", None)}


def _a(kind: str) -> str:
    return ("an " if kind[0] in "aeiou" else "a ") + kind
