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

import orjson

from cofi.bundle import NOTE, Misplit, Part, RawRow, unknown_files
from cofi.declarations import input_field, input_row, is_declaration, kinds_problem
from cofi.errors import LoadRejected, RowError
from cofi.heap import gc_paused
from cofi.importers import InputFile, input_files, read_input
from cofi.model import EntityRecord, LinkRecord, validate_row
from cofi.normalize import normalize_contact, registry_key, search_key, valid_iin_bin
from cofi.orphans import remove_orphans
from cofi.vocab import (
    BUNDLE_FILES,
    DECLARATION_LINK,
    IDENTIFIER_HOLDERS,
    IDENTIFIER_KINDS,
    LINK_TYPES,
    STORED_LINK_TYPES,
    STRONG_ID_FIELD,
    Kind,
)

KindLookup = Callable[[Iterable[str]], dict[str, Kind]]

STAGE_DATABASES = {
    "stage": "stage.sqlite",
    "stage_e": "stage-entities.sqlite",
    "stage_l": "stage-links.sqlite",
}
"""The staging databases of a plan, by the schema name a store attaches each under: the rows
(written by the readers), the entity checks' tables and the link checks' tables (each written by
one process, so the entity and the link checks run side by side)."""
_BATCH = 10_000
_PARALLEL_BYTES = 8 << 20
"""Bundles smaller than this are validated in this process (forking costs more than it saves)."""

_CONTACT_FIELDS = tuple((k.value, k) for k in IDENTIFIER_KINDS)
_KINDS = {k.value: k for k in Kind}


def props_json(props: dict[str, Any]) -> str:
    """An entity's fields as stored text: canonical (sorted keys, compact, UTF-8 as is), so equal
    fields compare equal."""
    return orjson.dumps(props, option=orjson.OPT_SORT_KEYS).decode()


_STAGE_SCHEMA = """
CREATE TABLE stage.files (fno INTEGER PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE stage.ent (
    seq INTEGER PRIMARY KEY, id TEXT, kind TEXT, name TEXT, props TEXT, strong_id TEXT,
    search_key TEXT, fno INTEGER, line INTEGER
);
CREATE TABLE stage.contract (
    seq INTEGER PRIMARY KEY, buyer_id TEXT, supplier_id TEXT, signed_on TEXT, value REAL
);
CREATE TABLE stage.contact (seq INTEGER, id TEXT, kind TEXT, key TEXT, raw TEXT);
CREATE TABLE stage.link (
    seq INTEGER PRIMARY KEY, source TEXT, target TEXT, type TEXT, role TEXT, since TEXT,
    share REAL, until TEXT, source_ref TEXT, fno INTEGER, line INTEGER
);
CREATE TABLE stage.rej (fno INTEGER, line INTEGER, field TEXT, reason TEXT, row TEXT);
CREATE TABLE stage.badid (id TEXT);
CREATE TABLE stage.warn (seq INTEGER, id TEXT, fno INTEGER, line INTEGER, field TEXT, reason TEXT);
"""

_ENTITY_CHECK_SCHEMA = """
CREATE TABLE stage_e.ent_ids (
    id TEXT PRIMARY KEY, seq INTEGER, n INTEGER, kind TEXT, ok INTEGER NOT NULL DEFAULT 1
) WITHOUT ROWID;
INSERT INTO stage_e.ent_ids (id, seq, n, kind)
SELECT id, min(seq), count(*), kind FROM stage.ent GROUP BY id;
CREATE TABLE stage_e.stored (id TEXT PRIMARY KEY, kind TEXT) WITHOUT ROWID;
CREATE TABLE stage_e.bad (id TEXT PRIMARY KEY) WITHOUT ROWID;
"""

_LINK_CHECK_SCHEMA = """
CREATE TABLE stage_l.link_keys (
    source TEXT, target TEXT, type TEXT, role TEXT, since TEXT, seq INTEGER, n INTEGER,
    ok INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (source, target, type, role, since)
) WITHOUT ROWID;
CREATE TABLE stage_l.allowed (
    type TEXT, source TEXT, target TEXT, PRIMARY KEY (type, source, target)
) WITHOUT ROWID;
"""

_GROUP_LINKS = """
INSERT INTO stage_l.link_keys (source, target, type, role, since, seq, n)
SELECT source, target, type, role, since, min(seq), count(*) FROM stage.link GROUP BY 1, 2, 3, 4, 5
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
    """What a load writes, validated and de-duplicated in the staging databases in `directory`.

    The rows to write are `stage_e.ent_ids`/`stage_l.link_keys` rows with `ok = 1` (one per id,
    one per link key) joined to `stage.ent`/`stage.link` by `seq`; `stage.contact` holds each
    entity row's contact keys, `stage.contract` a contract's buyer, supplier, day and value.

    The link checks of a large load may still be running in another process when the plan is
    returned (the entities, whose checks are done, can be written meanwhile): `rejects` waits for
    them, and `complete()` also raises `LoadRejected` if rows were rejected and `skip_invalid` is
    false.  A store calls `complete()` before it writes links.  Close the plan (or use it as a
    context manager) to delete the staging databases.
    """

    directory: Path
    skip_invalid: bool = False
    warnings: list[RowError] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    """Warnings about whole files (a CSV file in a bundle that is not a bundle file)."""
    rows_read: int = 0
    _rejects: dict[tuple[str, int], Reject] = field(default_factory=dict)
    _link_checks: _LinkCheckHere | _LinkCheckProcess | None = None
    _tmp: tempfile.TemporaryDirectory[str] | None = None

    @property
    def databases(self) -> dict[str, Path]:
        """The staging databases by schema name (see `STAGE_DATABASES`)."""
        return {schema: self.directory / name for schema, name in STAGE_DATABASES.items()}

    @property
    def rejects(self) -> list[Reject]:
        """Every rejected row, in file and line order (waits for the link checks)."""
        if self._link_checks is not None:
            checks, self._link_checks = self._link_checks, None
            _merge(self._rejects, checks.result())
        return sorted(self._rejects.values(), key=lambda r: (r.file, r.line))

    @property
    def errors(self) -> list[RowError]:
        return sorted(e for r in self.rejects for e in r.errors)

    def complete(self) -> None:
        """Wait for the link checks; raise `LoadRejected` if any row was rejected and invalid rows
        are not to be skipped."""
        if self.rejects and not self.skip_invalid:
            raise LoadRejected(self.errors)

    def connect(self, *schemas: str) -> sqlite3.Connection:
        """A connection with the staging databases (or those of `schemas`) attached under their
        schema names."""
        return _scratch({s: p for s, p in self.databases.items() if not schemas or s in schemas})

    def attach(self, db: sqlite3.Connection) -> None:
        _attach_scratch(db, self.databases)

    def detach(self, db: sqlite3.Connection) -> None:
        for schema in self.databases:
            db.execute(f"DETACH DATABASE {schema}")

    def entities(self) -> Iterator[EntityRecord]:
        """The entities to write, in id order."""
        with closing(self.connect()) as db:
            contacts: dict[str, list[tuple[Kind, str, str]]] = defaultdict(list)
            for eid, kind, key, raw in db.execute(
                "SELECT c.id, c.kind, c.key, c.raw FROM stage.contact c "
                "JOIN stage_e.ent_ids i ON i.id = c.id AND i.seq = c.seq WHERE i.ok"
            ):
                contacts[eid].append((Kind(kind), key, raw))
            for eid, kind, name, props, strong, skey in db.execute(
                "SELECT e.id, e.kind, e.name, e.props, e.strong_id, e.search_key "
                "FROM stage_e.ent_ids i JOIN stage.ent e ON e.seq = i.seq WHERE i.ok ORDER BY i.id"
            ):
                yield EntityRecord(
                    eid, Kind(kind), name, json.loads(props), strong, skey,
                    tuple(contacts.get(eid, ())),
                )  # fmt: skip

    def links(self) -> Iterator[LinkRecord]:
        """The links to write, in key order (after `complete()`)."""
        with closing(self.connect()) as db:
            for row in db.execute(
                "SELECT l.source, l.target, l.type, l.role, l.share, l.since, l.until, "
                "l.source_ref FROM stage_l.link_keys k JOIN stage.link l ON l.seq = k.seq "
                "WHERE k.ok ORDER BY k.source, k.target, k.type, k.role, k.since"
            ):
                yield LinkRecord(*row)

    def close(self) -> None:
        if self._link_checks is not None:
            self._link_checks.stop()
            self._link_checks = None
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
    every bad row when an entity row is invalid and `skip_invalid` is false (for link rows, the
    plan's `complete()` does, see `LoadPlan`); raises `InvalidInput` for a file that cannot be
    read at all.  `workers` reader processes (default: one per core for a large bundle, none for
    a small one or for any input but bundles); with more than one, the link checks run in a
    process of their own beside the entity checks.
    """
    files = input_files(paths, fmt)
    remove_orphans(Path(tempfile.gettempdir()), "cofi-load-")  # of loads killed before
    tmp = tempfile.TemporaryDirectory(prefix=f"cofi-load-{os.getpid()}-")
    plan = LoadPlan(Path(tmp.name), skip_invalid=skip_invalid, _tmp=tmp)
    if all(f.format == "bundle" for f in files):
        known = ", ".join(BUNDLE_FILES)
        plan.notices = [f"{p}: not a bundle file ({known}); skipped" for p in unknown_files(paths)]
    try:
        if any(f.format != "bundle" for f in files):
            workers = 0  # an importer reads a file whole (merging by ocid, two passes)
        elif workers is None:
            size = sum(f.path.stat().st_size for f in files)
            workers = (os.cpu_count() or 1) if size >= _PARALLEL_BYTES else 0
        with gc_paused():
            plan.rows_read = _stage(files, plan.databases["stage"], workers, progress)
            with closing(plan.connect()) as db:
                names = dict(db.execute("SELECT fno, name FROM stage.files"))
            links = (_LinkCheckProcess if workers > 1 else _LinkCheckHere)(plan, names)
            plan._link_checks = links
            with closing(plan.connect("stage", "stage_e")) as db:
                _EntityChecks(db, names, store_kinds).run(plan)
            links.go()
        if plan._rejects and not skip_invalid:
            plan.complete()  # lists the links' rejects too
    except BaseException:
        plan.close()
        raise
    return plan


def _merge(into: dict[tuple[str, int], Reject], rejects: Iterable[Reject]) -> None:
    for r in rejects:
        prev = into.get((r.file, r.line))
        into[(r.file, r.line)] = Reject(r.file, r.line, (prev.errors if prev else ()) + r.errors,
                                        r.row)  # fmt: skip


def _scratch(databases: dict[str, Path]) -> sqlite3.Connection:
    """A connection with `databases` (schema name -> file) attached as scratch databases."""
    db = sqlite3.connect(":memory:", isolation_level=None, timeout=3600)
    # A sort (grouping the links by key) keeps this much in memory and spills the rest to
    # temporary files: with `temp_store = MEMORY` it held all of it (over 5 GB for 55M links);
    # on 6M rows the bounded sort was faster too (16.6 s, 269 MB against 23.5 s, 470 MB).
    db.execute("PRAGMA cache_size = -262144")
    _attach_scratch(db, databases)
    return db


def _attach_scratch(db: sqlite3.Connection, databases: dict[str, Path]) -> None:
    """Attach `databases`: no journal, no fsync, a large cache, 16 KB pages when new."""
    for schema, path in databases.items():
        db.execute(f"ATTACH DATABASE ? AS {schema}", (str(path),))
        for pragma in ("page_size = 16384", "journal_mode = OFF", "synchronous = OFF",
                       "cache_size = -262144"):  # fmt: skip
            db.execute(f"PRAGMA {schema}.{pragma}")


# --- step 1: row checks, in parallel ---------------------------------------------------------


def _stage(
    files: list[InputFile], stage: Path, workers: int, progress: Callable[[int], None] | None
) -> int:
    """Stage every row into a new staging database at `stage`; the number of rows read."""
    _new_stage(stage, files)
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
    outcomes: list[int | BaseException] = []
    for r in results:
        try:
            outcomes.append(r.get())
        except Exception as exc:
            outcomes.append(exc)
    if any(isinstance(o, Misplit) for o in outcomes):
        # A CSV file was cut inside a quoted field: what its readers made of it is void.
        _new_stage(stage, files)
        return _stage_part(files, stage, Part(), None)
    for o in outcomes:
        if isinstance(o, BaseException):
            raise o
    return sum(o for o in outcomes if isinstance(o, int))


def _new_stage(stage: Path, files: list[InputFile]) -> None:
    stage.unlink(missing_ok=True)
    with closing(_scratch({"stage": stage})) as db:
        db.executescript(_STAGE_SCHEMA)
        db.executemany(
            "INSERT INTO stage.files VALUES (?, ?)", enumerate(str(f.path) for f in files)
        )


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
    with closing(_scratch({"stage": stage})) as db:
        fno = {name: i for i, name in db.execute("SELECT fno, name FROM stage.files")}
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
        self.contract: list[tuple[Any, ...]] = []
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
        if raw.kind == "declaration":
            about = row.get("subject_id") or row["contract_id"]
            self.link.append((
                raw.seq, row["person_id"], about, DECLARATION_LINK[row["type"]],
                row.get("role", ""), row["declared_on"], row.get("share", ""), "",
                row.get("source_ref", ""), fno, raw.line,
            ))  # fmt: skip
            return
        if raw.kind == "link":
            self.link.append((
                raw.seq, row["source"], row["target"], row["type"], row.get("role", ""),
                row.get("since", ""), row.get("share", ""), row.get("until", ""),
                row.get("source_ref", ""), fno, raw.line,
            ))  # fmt: skip
            if raw.notes:
                self.warn.extend((raw.seq, None, fno, raw.line, f, r) for f, r in raw.notes)
            return
        self._entity(_KINDS[raw.kind], row, fno, raw)

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
        if raw.notes:
            self.warn.extend((raw.seq, eid, fno, raw.line, f, r) for f, r in raw.notes)
        if kind in IDENTIFIER_HOLDERS:
            for ident, ident_kind in _CONTACT_FIELDS:
                value = row.get(ident)
                if value and (key := normalize_contact(ident_kind, value)):
                    self.contact.append((raw.seq, eid, ident, key, value))
        aliases = row.get("aliases")
        skey = search_key(name)
        if aliases:
            skey = " | ".join([skey, *map(search_key, aliases)])
        self.ent.append((raw.seq, eid, kind.value, name, props_json(row), strong, skey, fno,
                         raw.line))  # fmt: skip
        if kind is Kind.CONTRACT:
            self.contract.append((raw.seq, row["buyer_id"], row["supplier_id"], row["signed_on"],
                                  row.get("value", "")))  # fmt: skip

    def _reject(self, fno: int, raw: RawRow, problems: list[tuple[str, str]]) -> None:
        data = json.dumps(raw.data, ensure_ascii=False, default=str)
        self.rej.extend((fno, raw.line, f, r, data) for f, r in problems)

    def flush(self) -> None:
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        db.executemany("INSERT INTO stage.ent VALUES (?,?,?,?,?,?,?,?,?)", self.ent)
        # An absent number is staged as '' and stored as NULL: sqlite3 binds None slowly.
        db.executemany("INSERT INTO stage.contract VALUES (?,?,?,?,nullif(?, ''))", self.contract)
        db.executemany("INSERT INTO stage.contact VALUES (?,?,?,?,?)", self.contact)
        db.executemany(
            "INSERT INTO stage.link VALUES (?,?,?,?,?,?,nullif(?, ''),?,?,?,?)", self.link
        )
        db.executemany("INSERT INTO stage.rej VALUES (?,?,?,?,?)", self.rej)
        db.executemany("INSERT INTO stage.badid VALUES (?)", self.badid)
        db.executemany("INSERT INTO stage.warn VALUES (?,?,?,?,?,?)", self.warn)
        db.execute("COMMIT")
        for rows in (self.ent, self.contract, self.contact, self.link, self.rej, self.badid,
                     self.warn):  # fmt: skip
            rows.clear()


# --- step 2: cross-row checks, in SQL ----------------------------------------------------------


class _Rejects:
    """Rejected rows by place, each with every reason found.

    `bad` holds the ids whose rows are rejected: a row that refers to one of them is rejected too
    ("whose row is invalid").
    """

    def __init__(self, names: dict[int, str]) -> None:
        self.names = names
        self.places: dict[tuple[str, int], Reject] = {}
        self.bad: set[str] = set()

    def reject(self, fno: int, line: int, row: dict[str, Any], *problems: tuple[str, str]) -> None:
        file = self.names[fno]
        errors = tuple(RowError(file, line, f, r) for f, r in problems)
        _merge(self.places, [Reject(file, line, errors, row)])

    def conflict(
        self, what: str, column: str, where: list[tuple[int, int, dict[str, Any]]]
    ) -> None:
        for i, (fno, line, row) in enumerate(where):
            places = (
                f"{self.names[f]}:{n}"
                + (" (another item on the same line)" if (f, n) == (fno, line) else "")
                for j, (f, n, _) in enumerate(where)
                if j != i
            )
            elsewhere = ", ".join(dict.fromkeys(places))
            self.reject(
                fno, line, row, (column, f"{what} appears with conflicting fields at {elsewhere}")
            )

    def kind_of(
        self, ref: str, bundle_kind: str | None, stored_kind: str | None
    ) -> tuple[str | None, str]:
        """The kind of a referenced id, or None with the reason it cannot be used."""
        if ref in self.bad:
            return None, f"refers to {ref!r}, whose row is invalid"
        kind = bundle_kind or stored_kind
        if kind is None:
            return None, f"unknown id {ref!r} (neither in the bundle nor in the store)"
        return kind, ""


class _EntityChecks(_Rejects):
    """The checks of the entity rows, in the order they depend on each other; the plan's rejects
    and warnings so far.  They write `stage_e` (ids, their kinds in the store, bad ids)."""

    def __init__(
        self, db: sqlite3.Connection, names: dict[int, str], store_kinds: KindLookup
    ) -> None:
        super().__init__(names)
        self.db, self.store_kinds = db, store_kinds

    def run(self, plan: LoadPlan) -> None:
        db = self.db
        db.executescript(_ENTITY_CHECK_SCHEMA)
        for fno, line, fld, reason, row in db.execute("SELECT * FROM stage.rej ORDER BY fno, line"):
            self.reject(fno, line, json.loads(row), (fld, reason))
        self.bad.update(i for (i,) in db.execute("SELECT DISTINCT id FROM stage.badid"))
        self._conflicts()
        self._stored_kinds()
        db.executemany("INSERT OR IGNORE INTO stage_e.bad VALUES (?)", ((i,) for i in self.bad))
        self._contract_refs()
        db.executemany("INSERT OR IGNORE INTO stage_e.bad VALUES (?)", ((i,) for i in self.bad))
        db.execute("UPDATE stage_e.ent_ids SET ok = 0 WHERE id IN (SELECT id FROM stage_e.bad)")
        plan.warnings = [
            RowError(self.names[fno], line, fld, reason)
            for fno, line, fld, reason in db.execute(
                "SELECT w.fno, w.line, w.field, w.reason FROM stage.warn w "
                "LEFT JOIN stage_e.ent_ids i ON i.id = w.id AND i.seq = w.seq "
                "WHERE w.id IS NULL OR i.id IS NOT NULL ORDER BY w.seq"
            )
        ]
        _merge(plan._rejects, self.places.values())

    def _conflicts(self) -> None:
        """Ids given twice with different fields: every place is rejected, naming the others."""
        places: dict[str, list[tuple[int, int, dict[str, Any]]]] = defaultdict(list)
        contents: dict[str, set[tuple[str, str, str]]] = defaultdict(set)
        for eid, kind, name, props, fno, line in self.db.execute(
            "SELECT id, kind, name, props, fno, line FROM stage.ent "
            "WHERE id IN (SELECT id FROM stage_e.ent_ids WHERE n > 1) ORDER BY seq"
        ):
            places[eid].append((fno, line, _entity_row(eid, kind, name, props)))
            contents[eid].add((kind, name, props))
        for eid, where in places.items():
            if len(contents[eid]) > 1:
                self.conflict(f"id {eid!r}", "id", where)
                self.bad.add(eid)

    def _stored_kinds(self) -> None:
        """Kinds from the store of referenced ids the bundle lacks, and of the bundle's own ids.

        The ids are generated lazily: a store that is empty answers without reading them.
        """
        db = self.db

        def missing() -> Iterator[str]:
            for column, table in (
                ("buyer_id", "stage.contract"),
                ("supplier_id", "stage.contract"),
                ("source", "stage.link"),
                ("target", "stage.link"),
            ):
                yield from (
                    i
                    for (i,) in db.execute(
                        f"SELECT DISTINCT {column} FROM {table} WHERE "
                        f"NOT EXISTS (SELECT 1 FROM stage_e.ent_ids WHERE id = {column})"
                    ).fetchall()
                )

        found = dict(self.store_kinds(missing()))
        found.update(self.store_kinds(i for (i,) in db.execute("SELECT id FROM stage_e.ent_ids")))
        db.executemany(
            "INSERT INTO stage_e.stored VALUES (?, ?)", ((i, k.value) for i, k in found.items())
        )
        for eid, new, stored, fno, line, name, props in db.execute(
            "SELECT i.id, i.kind, s.kind, e.fno, e.line, e.name, e.props FROM stage_e.ent_ids i "
            "JOIN stage_e.stored s ON s.id = i.id JOIN stage.ent e ON e.seq = i.seq "
            "WHERE s.kind <> i.kind ORDER BY i.seq"
        ):
            if eid in self.bad:
                continue
            self.bad.add(eid)
            reason = f"id is already {_a(stored)} in the store, cannot become {_a(new)}"
            self.reject(fno, line, _entity_row(eid, new, name, props), ("id", reason))

    def _contract_refs(self) -> None:
        """A contract's buyer must be an agency and its supplier a company.  (SQL finds the
        contracts with a problem; Python words it.)"""
        found: list[tuple[str, int, int, dict[str, Any], list[tuple[str, str]]]] = []
        for eid, fno, line, name, props, *refs in self.db.execute(
            "SELECT i.id, e.fno, e.line, e.name, e.props, "
            "c.buyer_id, bi.kind, bs.kind, c.supplier_id, si.kind, ss.kind "
            "FROM stage_e.ent_ids i JOIN stage.ent e ON e.seq = i.seq "
            "JOIN stage.contract c ON c.seq = i.seq "
            "LEFT JOIN stage_e.ent_ids bi ON bi.id = c.buyer_id "
            "LEFT JOIN stage_e.stored bs ON bs.id = c.buyer_id "
            "LEFT JOIN stage_e.ent_ids si ON si.id = c.supplier_id "
            "LEFT JOIN stage_e.stored ss ON ss.id = c.supplier_id "
            "WHERE i.kind = 'contract' AND i.id NOT IN stage_e.bad AND ("
            "c.buyer_id IN stage_e.bad OR coalesce(bi.kind, bs.kind) IS NOT 'agency' "
            "OR c.supplier_id IN stage_e.bad OR coalesce(si.kind, ss.kind) IS NOT 'company') "
            "ORDER BY i.seq"
        ):
            problems = []
            for column, wanted, (ref, in_bundle, in_store) in (
                ("buyer_id", Kind.AGENCY, refs[:3]),
                ("supplier_id", Kind.COMPANY, refs[3:]),
            ):
                kind, why = self.kind_of(ref, in_bundle, in_store)
                if kind is not None and kind != wanted.value:
                    why = f"{ref!r} is {_a(kind)}, must be {_a(wanted.value)}"
                if why:
                    problems.append((column, why))
            found.append((eid, fno, line, _entity_row(eid, "contract", name, props), problems))
        for eid, fno, line, row, problems in found:
            self.bad.add(eid)
            self.reject(fno, line, row, *problems)


class _LinkChecks(_Rejects):
    """The checks of the link rows: `group()` de-duplicates them by key into `stage_l` (it needs
    only the staged rows); `run()`, once the entity checks are done, rejects conflicting
    duplicates and links whose ends are unknown, invalid or the wrong kinds."""

    def __init__(self, plan: LoadPlan, names: dict[int, str]) -> None:
        super().__init__(names)
        self.plan = plan

    def create(self) -> None:
        """Make the tables (before a store attaches `stage_l`: it reads their schema then)."""
        with closing(self.plan.connect("stage_l")) as db:
            db.executescript(_LINK_CHECK_SCHEMA)
            db.executemany(
                "INSERT INTO stage_l.allowed VALUES (?, ?, ?)",
                [
                    (name, a.value, b.value)
                    for name in STORED_LINK_TYPES
                    for a in Kind
                    for b in Kind
                    if LINK_TYPES[name].allows(a, b)
                ],
            )

    def group(self) -> None:
        with closing(self.plan.connect("stage", "stage_l")) as db:
            db.execute(_GROUP_LINKS)

    def run(self) -> list[Reject]:
        with closing(self.plan.connect()) as db:
            self.bad.update(i for (i,) in db.execute("SELECT id FROM stage_e.bad"))
            self._conflicts(db)
            self._ends(db)
        return list(self.places.values())

    def _conflicts(self, db: sqlite3.Connection) -> None:
        places: dict[tuple[str, ...], list[tuple[int, int, dict[str, Any]]]] = defaultdict(list)
        contents: dict[tuple[str, ...], set[tuple[Any, ...]]] = defaultdict(set)
        for *key, share, until, ref, fno, line in db.execute(
            "SELECT l.source, l.target, l.type, l.role, l.since, l.share, l.until, l.source_ref, "
            "l.fno, l.line FROM stage_l.link_keys k JOIN stage.link l ON l.source = k.source "
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
                what = "declaration" if is_declaration(key[2]) else "link"
                self.conflict(f"{what} {'/'.join(key)!r}", "row", where)
                dropped.append(key)
        db.executemany(_DROP_LINK, dropped)

    def _ends(self, db: sqlite3.Connection) -> None:
        bad_keys: list[tuple[str, ...]] = []
        flagged = db.execute(
            "SELECT k.seq, coalesce(a.kind, sa.kind), coalesce(b.kind, sb.kind) "
            "FROM stage_l.link_keys k "
            "LEFT JOIN stage_e.ent_ids a ON a.id = k.source "
            "LEFT JOIN stage_e.stored sa ON sa.id = k.source "
            "LEFT JOIN stage_e.ent_ids b ON b.id = k.target "
            "LEFT JOIN stage_e.stored sb ON sb.id = k.target "
            "WHERE k.ok AND (a.kind IS NULL AND sa.kind IS NULL OR b.kind IS NULL "
            "AND sb.kind IS NULL OR k.source IN stage_e.bad OR k.target IN stage_e.bad "
            "OR NOT EXISTS (SELECT 1 FROM stage_l.allowed w WHERE w.type = k.type "
            "AND w.source = coalesce(a.kind, sa.kind) AND w.target = coalesce(b.kind, sb.kind))) "
            "ORDER BY k.seq"
        ).fetchall()
        for seq, source_kind, target_kind in flagged:
            fno, line, *fields = db.execute(
                "SELECT fno, line, source, target, type, role, share, since, until, source_ref "
                "FROM stage.link WHERE seq = ?",
                (seq,),
            ).fetchone()
            link = LinkRecord(*fields)
            problems = []
            kinds = []
            declared = is_declaration(link.type)
            for column, ref, kind in (
                ("source", link.source, source_kind),
                ("target", link.target, target_kind),
            ):
                known, why = self.kind_of(ref, kind, None)
                kinds.append(known)
                if why:
                    problems.append((input_field(link.type, column) if declared else column, why))
            src, dst = kinds
            if (
                src is not None
                and dst is not None
                and not LINK_TYPES[link.type].allows(Kind(src), Kind(dst))
            ):
                problems.append(
                    kinds_problem(link.type, src, dst) if declared
                    else ("type", f"{link.type} cannot join {_a(src)} to {_a(dst)}")
                )  # fmt: skip
            if problems:
                bad_keys.append((link.source, link.target, link.type, link.role, link.since))
                self.reject(fno, line, _link_row(link), *problems)
        db.executemany(_DROP_LINK, bad_keys)


class _LinkCheckHere:
    """`_LinkChecks` in this process (a small load), behind the interface of
    `_LinkCheckProcess`: grouped at once, checked at `go()`."""

    def __init__(self, plan: LoadPlan, names: dict[int, str]) -> None:
        self._checks = _LinkChecks(plan, names)
        self._checks.create()
        self._checks.group()
        self._rejects: list[Reject] = []

    def go(self) -> None:
        self._rejects = self._checks.run()

    def result(self) -> list[Reject]:
        return self._rejects

    def stop(self) -> None:
        pass


class _LinkCheckProcess:
    """`_LinkChecks` in a forked process: it groups the links at once, side by side with the
    entity checks in this process, and checks them after `go()` (the entity checks are done);
    `result()` waits for its rejects."""

    def __init__(self, plan: LoadPlan, names: dict[int, str]) -> None:
        ctx = multiprocessing.get_context("fork")
        self._created, self._go = ctx.Event(), ctx.Event()
        self._conn, child = ctx.Pipe(duplex=False)
        self._proc = ctx.Process(
            target=_link_check_process,
            args=(plan, names, self._created, self._go, child),
            daemon=True,
        )
        self._proc.start()
        child.close()

    def go(self) -> None:
        """Let the checks begin (the entity checks are done); return once the link checks'
        tables exist (an instant after the process started), so a store can attach them."""
        self._go.set()
        while not self._created.wait(0.05):
            if not self._proc.is_alive():
                self.result()  # raises what went wrong

    def result(self) -> list[Reject]:
        try:
            status, value = self._conn.recv()
        except EOFError:
            raise RuntimeError("the link checks' process ended without a result") from None
        finally:
            self._proc.join()
        if status != "ok":
            raise value
        rejects: list[Reject] = value
        return rejects

    def stop(self) -> None:
        if self._proc.is_alive():
            self._proc.kill()
        self._proc.join()


def _link_check_process(
    plan: LoadPlan, names: dict[int, str], created: Any, go: Any, conn: Any
) -> None:
    try:
        checks = _LinkChecks(plan, names)
        checks.create()
        created.set()
        checks.group()
        go.wait()
        conn.send(("ok", checks.run()))
    except BaseException as exc:  # sent to the parent, which raises it
        try:
            conn.send(("error", exc))
        except Exception:  # an exception that does not pickle
            conn.send(("error", RuntimeError(f"{type(exc).__name__}: {exc}")))


_DROP_LINK = (
    "UPDATE stage_l.link_keys SET ok = 0 WHERE source = ? AND target = ? AND type = ? AND role = ? "
    "AND since = ?"
)


def _entity_row(eid: str, kind: str, name: str, props: str) -> dict[str, Any]:
    """The input fields of a staged entity, for the rejects file."""
    return {"kind": kind, "id": eid, "name": name, **json.loads(props)}


def _link_row(link: LinkRecord) -> dict[str, Any]:
    """The input fields of a link (or of the declaration stored as one), for the rejects file."""
    if is_declaration(link.type):
        return input_row(link)
    return {k: v for k, v in link._asdict().items() if v not in ("", None)}


def _a(kind: str) -> str:
    return ("an " if kind[0] in "aeiou" else "a ") + kind
