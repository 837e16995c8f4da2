"""Validating bundles into a `LoadPlan`: staging databases that a store writes in one commit.

Validation runs in two steps, so that it uses every core and never holds a million records in
Python memory:

1. Row checks (`cofi.staging`).  Each of N reader processes parses every file but validates only
   its share of the rows (runs of 10,000; see `bundle.Part`): the pydantic shape of the row, a
   calendar day, a link type in the vocabulary, a FAMILY role; then it builds the record a store
   writes (search key, normalised contact keys, IIN/BIN check) and appends it to the staging
   SQLite databases (the link rows to a file of their own, and those of a link file's types, as
   Arrow columns: `staging.Stage`).
2. Cross-row checks (here), in SQL over the staging databases: ids seen twice with conflicting
   fields, ids that are already another kind in the store, references to ids neither in the
   bundle nor in the store, and endpoint kinds the vocabulary does not allow.

(Over 500 lines: the plan and the cross-row checks, which fill it; step 1 is `cofi.staging`.)

A bad IIN/BIN is a warning, not an error.  Nothing here writes to the store: the store reads the
staging databases (the embedded store attaches them and copies from them with `INSERT … SELECT`).
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import sqlite3
import tempfile
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cofi.batches import chunks
from cofi.bundle import SEQ_PER_FILE, unknown_files
from cofi.declarations import input_field, input_row, is_declaration, kinds_problem
from cofi.errors import LoadRejected, RowError
from cofi.heap import gc_paused, give_back_free_memory
from cofi.importers import InputFile, input_files
from cofi.model import EntityRecord, LinkRecord
from cofi.orphans import remove_orphans
from cofi.staging import (
    Stage,
    attach_scratch,
    link_column_files,
    link_columns_of,
    scratch,
    stage_rows,
)
from cofi.vocab import (
    BUNDLE_FILES,
    FILE_TYPES,
    LINK_TYPES,
    Kind,
    with_article,
)

if TYPE_CHECKING:
    from cofi.link_ends import Flagged
    from cofi.link_file import LinkFile, LinkFileMade, LinkTarget
    from cofi.store.base import LoadTarget, WriteReport
    from cofi.text_lookup import TextLookup

KindLookup = Callable[[Iterable[str]], dict[str, Kind]]
LinkKey = tuple[str, str, str, str, str]
"""A link's key: source, target, type, role, since."""
_Checked = tuple[list["Reject"], list[LinkKey], "LinkFileMade | None"]
"""What the link checks found: the rows they rejected, the keys whose ends they rejected, and the
link file they made (`LoadPlan.link_target`)."""

STAGE_DATABASES = {
    "stage": "stage.sqlite",
    "stage_link": "stage-link-rows.sqlite",
    "stage_e": "stage-entities.sqlite",
    "stage_l": "stage-links.sqlite",
}
"""The staging databases of a plan, by the schema name a store attaches each under: the rows and
the link rows (written by the readers, `staging.Stage`), the entity checks' tables and the link
checks' tables (each written by one process, so the entity and the link checks run side by
side)."""
_PARALLEL_BYTES = 8 << 20
"""Bundles smaller than this are validated in this process (forking costs more than it saves)."""


_ENTITY_CHECK_SCHEMA = """
CREATE TABLE stage_e.ent_ids (
    id TEXT PRIMARY KEY, seq INTEGER, n INTEGER, kind TEXT, ok INTEGER NOT NULL DEFAULT 1
) WITHOUT ROWID;
INSERT INTO stage_e.ent_ids (id, seq, n, kind)
SELECT id, seq, 1, kind FROM stage.ent WHERE true ORDER BY id, seq
ON CONFLICT (id) DO UPDATE SET n = n + 1;
CREATE TABLE stage_e.stored (id TEXT PRIMARY KEY, kind TEXT) WITHOUT ROWID;
CREATE TABLE stage_e.bad (id TEXT PRIMARY KEY) WITHOUT ROWID;
"""
"""One row per id, with the kind and `seq` of its first row and how many rows give it: the rows
go in in id order and, within an id, in row order, so each id's first row is inserted and each
later one only counted (as `_GROUP_LINKS` groups the links).  The same table as `GROUP BY id`
with `min(seq)`, `count(*)` and the kind as a bare column, in 3.4 s against 6.9 s for the
1,519,969 entity rows of the large synthetic bundle (with an xlarge load beside)."""

_LINK_CHECK_SCHEMA = """
CREATE TABLE stage_l.link_keys (
    source TEXT, target TEXT, type TEXT, role TEXT, since TEXT, seq INTEGER, n INTEGER,
    share REAL, until TEXT, source_ref TEXT, ok INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (source, target, type, role, since)
) WITHOUT ROWID;
"""

_GROUP_LINKS = """
INSERT INTO stage_l.link_keys (source, target, type, role, since, seq, n, share, until, source_ref)
SELECT source, target, type, role, since, seq, 1, share, until, source_ref
FROM stage_link.link WHERE true ORDER BY source, target, type, role, since, seq
ON CONFLICT (source, target, type, role, since) DO UPDATE SET n = n + 1
"""
"""One row per link key, with the fields of its first row (the rows go in in key order and, within
a key, in row order: the first row of each key is inserted, each later one only counted): a store
then reads the links in key order from this table alone, where a join back to each key's row by
`seq` read the rows in random order (8.4 s against 1.2 s for 5.5M links).  The same table as
`GROUP BY` with `min(seq)`, `count(*)` and the first row's fields as bare columns, which took 37.4 s
for the 5.5M links of the large synthetic bundle (31.1 s of it the grouping) against 24.0 s."""
_GROUP_FEW_LINKS = _GROUP_LINKS.replace(
    "WHERE true", "WHERE type NOT IN (" + ", ".join(f"'{t}'" for t in FILE_TYPES) + ")"
)
"""`_GROUP_LINKS` of the links a store with a link file keeps in SQLite (the rest are grouped
in numpy: `_LinkChecks._file_group`)."""


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


PLAN_VIEWS: dict[str, str] = {
    "plan_entities": (
        "SELECT i.id AS id, e.kind AS kind, e.name AS name, e.props AS props, "
        "e.strong_id AS strong_id, e.search_key AS search_key, c.buyer_id AS buyer_id, "
        "c.supplier_id AS supplier_id, c.signed_on AS signed_on, c.value AS value "
        "FROM stage_e.ent_ids AS i JOIN stage.ent AS e ON e.seq = i.seq "
        "LEFT JOIN stage.contract AS c ON c.seq = i.seq WHERE i.ok"
    ),
    "plan_contacts": (
        "SELECT c.id AS id, c.kind AS kind, c.key AS key, c.raw AS raw, c.rowid AS place "
        "FROM stage.contact AS c "
        "JOIN stage_e.ent_ids AS i ON i.id = c.id AND i.seq = c.seq WHERE i.ok"
    ),
    "plan_links": (
        "SELECT source, target, type, role, since, share, until, source_ref "
        "FROM stage_l.link_keys WHERE ok"
    ),
}
"""What a store reads of a plan (`LoadPlan.attach`, `LoadPlan.read`): the entities to write, one
per id (in id order when read `ORDER BY id`), their contact keys (`place`: in the order their rows
were staged), and the links, one per key (in key order when read so).  `plan_links` is complete
only once `complete()` has returned."""


@dataclass
class LoadPlan:
    """What a load writes, validated and de-duplicated in the staging databases in `directory`.

    The rows to write are `stage_e.ent_ids` rows with `ok = 1` (one per id) joined to
    `stage.ent` by `seq`, and `stage_l.link_keys` rows with `ok = 1` (one per link key, with its
    first row's fields; a link file's links are in the file the link checks make);
    `stage.contact` holds each entity row's contact keys, `stage.contract` a contract's buyer,
    supplier, day and value.

    The link checks of a large load may still be running in another process when the plan is
    returned (the entities, whose checks are done, can be written meanwhile): `rejects` waits for
    them, and `complete()` also raises `LoadRejected` if rows were rejected and `skip_invalid` is
    false.  A store calls `complete()` before it writes links (or, writing them beside the check
    of their ends, `links_grouped()` before and `complete_written()` after).  Close the plan (or
    use it as a context manager) to delete the staging databases.
    """

    directory: Path
    skip_invalid: bool = False
    warnings: list[RowError] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    """Warnings about whole files (a CSV file in a bundle that is not a bundle file)."""
    rows_read: int = 0
    _rejects: dict[tuple[str, int], Reject] = field(default_factory=dict)
    _dropped: list[LinkKey] = field(default_factory=list)
    """The link keys the ends check rejected (`plan_links` still holds them until `complete()`
    drops them)."""
    link_target: LinkTarget | None = None
    """Where the link checks write the graph's links as a link file (`cofi.link_file`), for a
    store that keeps them so; None: every link goes through `plan_links`."""
    _made: LinkFileMade | None = None
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
            rejects, self._dropped, self._made = checks.result()
            _merge(self._rejects, rejects)
        return sorted(self._rejects.values(), key=lambda r: (r.file, r.line))

    @property
    def errors(self) -> list[RowError]:
        return sorted(e for r in self.rejects for e in r.errors)

    def reject(self, rejects: Iterable[Reject]) -> None:
        """Add rejected rows (a row rejected twice keeps every reason)."""
        _merge(self._rejects, rejects)

    def links_checked_by(self, checks: _LinkCheckHere | _LinkCheckProcess) -> None:
        """The link checks that, still running, will add their rejects (`rejects` waits)."""
        self._link_checks = checks

    def complete_if_rejected(self) -> None:
        """`complete()` when the entity checks already rejected rows (then the link checks' are
        waited for and listed too); else nothing, and the links go on being checked."""
        if self._rejects:
            self.complete()

    def links_grouped(self) -> None:
        """Wait until the links are grouped by key and the keys given twice with other fields
        are dropped from `plan_links`; their ends may still be being checked (see
        `complete_written`)."""
        if self._link_checks is not None:
            self._link_checks.grouped()

    def complete(self) -> None:
        """Wait for the link checks; raise `LoadRejected` if any row was rejected and invalid rows
        are not to be skipped; else drop the links whose ends were rejected from `plan_links`."""
        dropped = self.complete_written()
        if dropped:
            with closing(self.connect("stage_l")) as db:
                db.executemany(_DROP_LINK, dropped)

    def complete_written(self) -> list[LinkKey]:
        """`complete()` for a store that wrote `plan_links` after `links_grouped()`, while the
        ends were checked: the keys of the links it must take out again (it holds the staging
        databases open, so they are not dropped from `plan_links` here)."""
        if self.rejects and not self.skip_invalid:
            raise LoadRejected(self.errors)
        return self._dropped

    def link_file_made(self) -> LinkFileMade | None:
        """The link file the link checks made (after `complete()` or `complete_written()`);
        the store that names it calls `link_file_kept()` once it has committed."""
        return self._made

    def link_file_kept(self) -> None:
        """The store named the link file made: `close()` leaves it."""
        self._made = None

    def connect(self, *schemas: str) -> sqlite3.Connection:
        """A connection with the staging databases (or those of `schemas`) attached under their
        schema names."""
        return scratch({s: p for s, p in self.databases.items() if not schemas or s in schemas})

    def attach(self, db: sqlite3.Connection) -> None:
        """Give a store's connection the plan's rows to write, as the views `PLAN_VIEWS` (the
        staging tables behind them are the loader's own)."""
        attach_scratch(db, self.databases)
        for name, select in PLAN_VIEWS.items():
            db.execute(f"CREATE TEMP VIEW {name} AS {select}")

    def detach(self, db: sqlite3.Connection) -> None:
        for name in PLAN_VIEWS:
            db.execute(f"DROP VIEW IF EXISTS temp.{name}")
        for schema in self.databases:
            db.execute(f"DETACH DATABASE {schema}")

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """A connection that reads the plan's rows through the views `PLAN_VIEWS`."""
        with closing(self.connect()) as db:
            for name, select in PLAN_VIEWS.items():
                db.execute(f"CREATE TEMP VIEW {name} AS {select}")
            yield db

    def entities(self) -> Iterator[EntityRecord]:
        """The entities to write, in id order, each with its contact keys (the two read side by
        side in id order: memory holds one entity's, not the bundle's)."""
        with self.read() as db:
            contacts = db.execute("SELECT id, kind, key, raw FROM plan_contacts ORDER BY id, place")
            contact = next(contacts, None)
            for eid, kind, name, props, strong, skey in db.execute(
                "SELECT id, kind, name, props, strong_id, search_key FROM plan_entities ORDER BY id"
            ):
                held: list[tuple[Kind, str, str]] = []
                # (SQLite orders text by its UTF-8 bytes, which is Python's order of str)
                while contact is not None and contact[0] <= eid:
                    if contact[0] == eid:
                        held.append((Kind(contact[1]), contact[2], contact[3]))
                    contact = next(contacts, None)
                yield EntityRecord(
                    eid, Kind(kind), name, json.loads(props), strong, skey, tuple(held)
                )

    def contract_parties(self) -> Iterator[tuple[str, str, str]]:
        """(id, buyer_id, supplier_id) of each contract to write, in id order."""
        with self.read() as db:
            yield from db.execute(
                "SELECT id, buyer_id, supplier_id FROM plan_entities WHERE kind = 'contract' "
                "ORDER BY id"
            )

    def contact_keys(self) -> Iterator[tuple[Kind, str]]:
        """Each (kind, key) the entities to write hold, once, in that order."""
        with self.read() as db:
            for kind, key in db.execute(
                "SELECT DISTINCT kind, key FROM plan_contacts ORDER BY kind, key"
            ):
                yield Kind(kind), key

    def ids_of(self, kinds: Iterable[Kind], link_types: Iterable[str]) -> Iterator[str]:
        """The ids of the entities to write of `kinds` and of the ends of the links to write of
        `link_types` (after `complete()`), each once, in order."""
        values, types = sorted(k.value for k in kinds), sorted(link_types)
        ends = f"FROM plan_links WHERE type IN ({', '.join('?' * len(types))})"
        with self.read() as db:
            for (eid,) in db.execute(
                f"SELECT id FROM plan_entities WHERE kind IN ({', '.join('?' * len(values))}) "
                f"UNION SELECT source {ends} UNION SELECT target {ends} ORDER BY 1",
                (*values, *types, *types),
            ):
                yield eid

    def links(self) -> Iterator[LinkRecord]:
        """The links to write, in key order (after `complete()`)."""
        with self.read() as db:
            for row in db.execute(
                "SELECT source, target, type, role, share, since, until, source_ref "
                "FROM plan_links ORDER BY source, target, type, role, since"
            ):
                yield LinkRecord(*row)

    def close(self) -> None:
        if self._link_checks is not None:
            self._link_checks.stop()
            self._link_checks = None
        if self._made is not None and self.link_target is not None:  # (made, never named)
            (self.link_target.directory / self._made.name).unlink(missing_ok=True)
            if self._made.made_directory:
                with contextlib.suppress(OSError):  # (a store the failed load was to make)
                    self.link_target.directory.rmdir()
            self._made = None
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
    files: list[InputFile] | None = None,
    links_into: LinkTarget | None = None,
) -> LoadPlan:
    """Validate the bundles (or, with `fmt` or detected, OCDS/BODS/FtM files) at `paths` into a
    plan.

    `store_kinds` maps ids already in the store to their kinds.  Raises `LoadRejected` listing
    every bad row when an entity row is invalid and `skip_invalid` is false (for link rows, the
    plan's `complete()` does, see `LoadPlan`); raises `InvalidInput` for a file that cannot be
    read at all.  `workers` reader processes (default: one per core for a large bundle, none for
    a small one or for any input but bundles); with more than one, the link checks run in a
    process of their own beside the entity checks.  `links_into`: where the link checks write
    the graph's links as a link file (see `LoadPlan.link_target`).
    """
    files = input_files(paths, fmt) if files is None else files  # (`files`: already listed)
    remove_orphans(Path(tempfile.gettempdir()), "cofi-load-")  # of loads killed before
    tmp = tempfile.TemporaryDirectory(prefix=f"cofi-load-{os.getpid()}-")
    plan = LoadPlan(Path(tmp.name), skip_invalid=skip_invalid, link_target=links_into, _tmp=tmp)
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
            as_columns = frozenset(FILE_TYPES) if links_into is not None else frozenset()
            stage = Stage(plan.databases["stage"], plan.databases["stage_link"], as_columns)
            plan.rows_read = stage_rows(files, stage, workers, progress)
            with closing(plan.connect()) as db:
                names = dict(db.execute("SELECT fno, name FROM stage.files"))
            links = (_LinkCheckProcess if workers > 1 else _LinkCheckHere)(plan, names)
            plan.links_checked_by(links)
            with closing(plan.connect("stage", "stage_link", "stage_e")) as db:
                _EntityChecks(db, names, store_kinds, stage.link_column_files()).run(plan)
            links.go()
        if not skip_invalid:
            plan.complete_if_rejected()
    except BaseException:
        plan.close()
        raise
    return plan


def _merge(into: dict[tuple[str, int], Reject], rejects: Iterable[Reject]) -> None:
    for r in rejects:
        prev = into.get((r.file, r.line))
        into[(r.file, r.line)] = Reject(r.file, r.line, (prev.errors if prev else ()) + r.errors,
                                        r.row)  # fmt: skip


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
        self,
        db: sqlite3.Connection,
        names: dict[int, str],
        store_kinds: KindLookup,
        link_columns: list[Path],
    ) -> None:
        super().__init__(names)
        self.db, self.store_kinds, self.link_columns = db, store_kinds, link_columns

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
        plan.reject(self.places.values())

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
                ("source", "stage_link.link"),
                ("target", "stage_link.link"),
            ):
                yield from (
                    i
                    for (i,) in db.execute(
                        f"SELECT DISTINCT {column} FROM {table} WHERE "
                        f"NOT EXISTS (SELECT 1 FROM stage_e.ent_ids WHERE id = {column})"
                    ).fetchall()
                )
            # (the ends of the link rows kept as columns only)
            for batch in chunks(_column_ends(self.link_columns), _IDS_AT_ONCE):
                yield from (
                    i
                    for (i,) in db.execute(
                        "SELECT value FROM json_each(?) WHERE "
                        "NOT EXISTS (SELECT 1 FROM stage_e.ent_ids WHERE id = value)",
                        (json.dumps(batch),),
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
            was, now = with_article(stored), with_article(new)
            reason = f"id is already {was} in the store, cannot become {now}"
            self.reject(fno, line, _entity_row(eid, new, name, props), ("id", reason))

    def _contract_refs(self) -> None:
        """A contract's buyer must be an agency and its supplier a company.  (SQL finds the
        contracts with a problem; Python words it.)"""
        found: list[tuple[str, int, int, dict[str, Any], list[tuple[str, str]]]] = []
        # (first the contract rows with a problem, one pass over them in row order; then, of
        # those, each id's first row not rejected already, with its row: one query over the
        # ids, which read every contract's row to keep a few, took 0.95-1.04 s for the large
        # synthetic bundle's 504,400 contracts, the two 0.65-0.71 s)
        suspects = [seq for (seq,) in self.db.execute(
            f"SELECT c.seq FROM stage.contract c {_CONTRACT_REFS} WHERE {_CONTRACT_PROBLEM}"
        )]  # fmt: skip
        for batch in chunks(suspects, _IDS_AT_ONCE):
            found += self._contract_problems(batch)
        for eid, fno, line, row, problems in found:
            self.bad.add(eid)
            self.reject(fno, line, row, *problems)

    def _contract_problems(
        self, seqs: list[int]
    ) -> list[tuple[str, int, int, dict[str, Any], list[tuple[str, str]]]]:
        """Of the contract rows `seqs` (each with a problem), each id's first row not rejected
        already: its id, file, line, row and problems, in row order."""
        found = []
        for eid, fno, line, name, props, *refs in self.db.execute(
            "SELECT i.id, e.fno, e.line, e.name, e.props, "
            "c.buyer_id, bi.kind, bs.kind, c.supplier_id, si.kind, ss.kind "
            "FROM json_each(?) AS s CROSS JOIN stage.ent AS e ON e.seq = s.value "
            "JOIN stage_e.ent_ids i ON i.id = e.id AND i.seq = e.seq "
            f"JOIN stage.contract c ON c.seq = e.seq {_CONTRACT_REFS} WHERE {_CONTRACT_PROBLEM} "
            "AND i.kind = 'contract' AND i.id NOT IN stage_e.bad "
            "ORDER BY e.seq",
            (json.dumps(seqs),),
        ):
            problems = []
            for column, wanted, (ref, in_bundle, in_store) in (
                ("buyer_id", Kind.AGENCY, refs[:3]),
                ("supplier_id", Kind.COMPANY, refs[3:]),
            ):
                kind, why = self.kind_of(ref, in_bundle, in_store)
                if kind is not None and kind != wanted.value:
                    why = f"{ref!r} is {with_article(kind)}, must be {with_article(wanted.value)}"
                if why:
                    problems.append((column, why))
            found.append((eid, fno, line, _entity_row(eid, "contract", name, props), problems))
        return found


class _LinkChecks(_Rejects):
    """The checks of the link rows: `group()` de-duplicates them by key into `stage_l` and
    rejects conflicting duplicates (it needs only the staged rows); `run()`, once the entity checks
    are done, rejects the links whose ends are unknown, invalid or the wrong kinds."""

    def __init__(self, plan: LoadPlan, names: dict[int, str]) -> None:
        super().__init__(names)
        self.plan = plan

    def create(self) -> None:
        """Make the tables (before a store attaches `stage_l`: it reads their schema then)."""
        with closing(self.plan.connect("stage_l")) as db:
            db.executescript(_LINK_CHECK_SCHEMA)

    def group(self) -> None:
        """Group the links by key, and drop the keys given twice with other fields (it needs
        only the staged rows).  For a link file, only the links SQLite keeps: the rest are
        grouped in numpy once the entities are checked (`_file_lane`)."""
        target = self.plan.link_target
        grouping = _GROUP_LINKS if target is None else _GROUP_FEW_LINKS
        with closing(self.plan.connect("stage_link", "stage_l")) as db:
            rows = db.execute(grouping).rowcount  # (each row a key's insert or count)
            self._conflicts(db, rows)
        if target is not None:  # (read through ADBC once `sqlite3` has closed the files)
            self._file_group(target)

    def run(self) -> _Checked:
        """Check the ends of every key (once the entity checks are done): every rejected row,
        and the keys whose ends were rejected (not dropped from `stage_l` here: a store may be
        reading it, see `LoadPlan.complete_written`)."""
        # (read through ADBC before this process opens the files through `sqlite3`; imported
        # here: pyarrow is no part of the start-up of the commands that import this module)
        from cofi.link_ends import flagged_ends

        stages = self.plan.databases
        flagged = flagged_ends(stages["stage_e"], stages["stage_l"])
        with closing(self.plan.connect()) as db:
            self.bad.update(i for (i,) in db.execute("SELECT id FROM stage_e.bad"))
            dropped = self._ends(db, flagged)
        made = None
        target = self.plan.link_target
        if target is not None:
            made = self._file_lane(target)
        return list(self.places.values()), dropped, made

    def _file_group(self, target: LinkTarget) -> None:
        """The staged links of a link file's types, grouped by key in numpy (each key's first
        row, as `_GROUP_LINKS` keeps it), the keys given twice with other fields rejected (it
        needs only the staged rows: beside the entity checks); `_file_lane` checks their ends.
        The rows are read a batch at a time, their texts coded as they come, and the columns
        sorted one at a time (`link_file.key_firsts`): memory holds the ends' numbers and the
        columns' codes, not the rows.  This process's peak on the large scale's 5.5M links:
        0.79 GB (1.53 GB while it kept views of whole batches and sorted copies of each column)."""
        import numpy as np
        import pyarrow as pa

        from cofi.link_file import Coder, LinkFile, key_firsts
        from cofi.link_pages import Seal

        base = None
        if target.base is not None and target.seal is not None:
            base = LinkFile(target.directory / target.base, Seal.from_text(target.seal))
        # (the ids numbered before a link is read: the file's, then the staged entities' new
        # to it, in id order; an end that is neither is numbered after them as it comes: an
        # entity the store knew without a link, or one no one knows, rejected with its link)
        lookup = _new_ids(self.plan.databases["stage"], base)
        known = lookup.ids
        others: dict[str, int] = {}
        coder = Coder()
        parts: dict[str, list[Any]] = {"source": [], "target": [], "share": [], "seq": []}
        for batch in _staged_file_links(self.plan.databases["stage_link"]):  # (memory: codes)
            # (copied: a view of a column would keep the whole batch, its texts too)
            parts["seq"].append(batch.column(0).to_numpy().astype(np.int64, copy=True))
            for end, column in (("source", batch.column(1)), ("target", batch.column(2))):
                at = lookup.places(column)
                unknown = np.flatnonzero(at < 0)
                if len(unknown):
                    texts = column.take(pa.array(unknown)).to_pylist()
                    at[unknown] = [others.setdefault(t, len(known) + len(others)) for t in texts]
                parts[end].append(at.astype(np.int32))
            parts["share"].append(batch.column(6).to_numpy(zero_copy_only=False))
            coder.add(batch)
        lookup = lookup.extended(pa.array(list(others), pa.large_string()))
        tables, codes = coder.finish()
        dtypes = {"source": np.int32, "target": np.int32, "share": np.float64, "seq": np.int64}
        columns = {k: _joined(parts.pop(k), dtype) for k, dtype in dtypes.items()}  # (a time)
        columns.update(codes)
        del codes
        columns, twice = key_firsts(columns)
        if len(twice):
            with closing(self.plan.connect("stage_link")) as db:
                self._reject_twice(db, twice.tolist())
        self._grouped_file = (base, columns, tables, lookup)
        give_back_free_memory()  # (what the batches and sorts took: the link file is made next)

    def _file_lane(self, target: LinkTarget) -> LinkFileMade | None:
        """The keys `_file_group` grouped whose ends are unknown, rejected or of kinds their type
        may not join, rejected (as `link_ends.flagged_ends` finds them); the rest merged into a
        new link file beside the store, unless rows were rejected and are not to be skipped."""
        import numpy as np

        from cofi.link_ends import flagged_rows, kinds_of_ids
        from cofi.link_file import LinkColumns, make_from

        base, columns, tables, lookup = self._grouped_file
        del self._grouped_file  # (the columns filtered below are not kept twice)
        kinds, bad = kinds_of_ids(self.plan.databases["stage_e"], lookup.ids)
        seq = columns.pop("seq")
        flagged = flagged_rows(kinds, bad, tables["types"], columns["type"], columns["source"],
                               columns["target"], seq)  # fmt: skip
        with closing(self.plan.connect()) as db:
            self._ends(db, flagged)
        if self.places and not self.plan.skip_invalid:
            return None  # (the load is rejected)
        if flagged:
            keep = ~np.isin(seq, [f[0] for f in flagged])
            for name in list(columns):  # (one column at a time: memory holds one more)
                columns[name] = columns[name][keep]
        del seq, kinds, bad
        give_back_free_memory()
        columns["rev"] = np.full(len(columns["source"]), target.rev, np.int32)
        return make_from(target, base, LinkColumns(columns, tables), lookup.ids, lookup)

    def _reject_twice(self, db: sqlite3.Connection, seqs: list[int]) -> None:
        """Reject every row `seqs` (of keys given twice with other fields), naming the others."""
        places: dict[LinkKey, list[tuple[int, int, dict[str, Any]]]] = defaultdict(list)
        rows = _staged_link_rows(db, self.plan.databases["stage_link"], seqs)
        for _, (fno, line, *fields) in sorted(rows.items()):
            link = LinkRecord(*fields)
            key = (link.source, link.target, link.type, link.role, link.since)
            places[key].append((fno, line, _link_row(link)))
        for key, where in places.items():
            self.conflict(f"link {'/'.join(key)!r}", "row", where)

    def _conflicts(self, db: sqlite3.Connection, rows: int) -> None:
        """Reject every row of a key given more than once (among the `rows` grouped) with other
        fields."""
        if _each_key_once(db, rows):
            return
        places: dict[tuple[str, ...], list[tuple[int, int, dict[str, Any]]]] = defaultdict(list)
        contents: dict[tuple[str, ...], set[tuple[Any, ...]]] = defaultdict(set)
        for *key, share, until, ref, fno, line in db.execute(
            # (the keys given twice first, then one scan of the rows: driven by the rows, the
            # join looked every row's key up, 10.4 s for 5.5M links; this takes 0.9 s)
            "SELECT l.source, l.target, l.type, l.role, l.since, l.share, l.until, l.source_ref, "
            "l.fno, l.line FROM stage_link.link l "
            "WHERE (l.source, l.target, l.type, l.role, l.since) IN (SELECT source, target, type, "
            "role, since FROM stage_l.link_keys WHERE n > 1) "
            "ORDER BY l.seq"
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

    def _ends(self, db: sqlite3.Connection, flagged: list[Flagged]) -> list[LinkKey]:
        """The rows of the keys `flagged` (`link_ends`) rejected, each saying why."""
        bad_keys: list[LinkKey] = []
        rows = _staged_link_rows(db, self.plan.databases["stage_link"], [f[0] for f in flagged])
        for seq, source_kind, target_kind in flagged:
            fno, line, *fields = rows[seq]
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
                a_src, a_dst = with_article(src), with_article(dst)
                problems.append(
                    kinds_problem(link.type, src, dst) if declared
                    else ("type", f"{link.type} cannot join {a_src} to {a_dst}")
                )  # fmt: skip
            if problems:
                bad_keys.append((link.source, link.target, link.type, link.role, link.since))
                self.reject(fno, line, _link_row(link), *problems)
        return bad_keys


class _LinkCheckHere:
    """`_LinkChecks` in this process (a small load), behind the interface of
    `_LinkCheckProcess`: grouped at once, checked at `go()`."""

    def __init__(self, plan: LoadPlan, names: dict[int, str]) -> None:
        self._checks = _LinkChecks(plan, names)
        self._checks.create()
        self._checks.group()
        self._result: _Checked = ([], [], None)

    def go(self) -> None:
        self._result = self._checks.run()

    def grouped(self) -> None:
        pass

    def result(self) -> _Checked:
        return self._result

    def stop(self) -> None:
        pass


class _LinkCheckProcess:
    """`_LinkChecks` in a forked process: it groups the links at once, side by side with the
    entity checks in this process, and checks them after `go()` (the entity checks are done);
    `result()` waits for its rejects."""

    def __init__(self, plan: LoadPlan, names: dict[int, str]) -> None:
        ctx = multiprocessing.get_context("fork")
        self._created, self._grouped, self._go = ctx.Event(), ctx.Event(), ctx.Event()
        self._conn, child = ctx.Pipe(duplex=False)
        self._proc = ctx.Process(
            target=_link_check_process,
            args=(plan, names, self._created, self._grouped, self._go, child),
            daemon=True,
        )
        self._proc.start()
        child.close()

    def go(self) -> None:
        """Let the checks begin (the entity checks are done); return once the link checks'
        tables exist (an instant after the process started), so a store can attach them."""
        self._go.set()
        self._wait(self._created)

    def grouped(self) -> None:
        """Return once the links are grouped and the conflicting keys dropped."""
        self._wait(self._grouped)

    def _wait(self, event: Any) -> None:
        while not event.wait(0.05):
            if not self._proc.is_alive():
                self.result()  # raises what went wrong

    def result(self) -> _Checked:
        try:
            status, value = self._conn.recv()
        except EOFError:
            raise RuntimeError("the link checks' process ended without a result") from None
        finally:
            self._proc.join()
        if status != "ok":
            raise value
        result: _Checked = value
        return result

    def stop(self) -> None:
        if self._proc.is_alive():
            self._proc.kill()
        self._proc.join()


def _link_check_process(
    plan: LoadPlan, names: dict[int, str], created: Any, grouped: Any, go: Any, conn: Any
) -> None:
    try:
        checks = _LinkChecks(plan, names)
        checks.create()
        created.set()
        checks.group()
        grouped.set()
        go.wait()
        conn.send(("ok", checks.run()))
    except BaseException as exc:  # sent to the parent, which raises it
        try:
            conn.send(("error", exc))
        except Exception:  # an exception that does not pickle
            conn.send(("error", RuntimeError(f"{type(exc).__name__}: {exc}")))


def _staged_file_links(links: Path) -> Iterator[Any]:
    """The staged link rows of a link file's types, as Arrow record batches: seq, the key's
    texts, share (NaN: none), until, source_ref.  Those kept as Arrow columns only
    (`Stage.link_columns`), then those in the staging database `links` (the rows that went the
    csv module's way), read through ADBC (call it in no process that holds the file open through
    `sqlite3`, see `cofi.link_ends`)."""
    from urllib.parse import quote

    import adbc_driver_sqlite.dbapi as adbc
    import pyarrow as pa
    import pyarrow.compute as pc

    from cofi.link_columns import COLUMN_NAMES

    for path in link_column_files(links):  # (each map closed once no batch holds it)
        for batch in pa.ipc.open_stream(pa.memory_map(str(path))):
            if batch.num_rows:
                share = pc.fill_null(batch.column(6).cast(pa.float64()), float("nan"))
                yield pa.record_batch([*batch.columns[:6], share, *batch.columns[7:]],
                                      names=COLUMN_NAMES)  # fmt: skip
    types = ", ".join(f"'{t}'" for t in FILE_TYPES)
    con = adbc.connect(f"file:{quote(str(links))}?mode=ro")
    with closing(con), closing(con.cursor()) as cur:
        cur.adbc_statement.set_options(**{"adbc.sqlite.query.batch_rows": str(_BATCH_LINKS)})
        # (no share is -1: a column of nothing but NULLs in the driver's first batch would be
        # taken for integers, and its first share then refused; a share is above 0)
        cur.execute(
            "SELECT seq, source, target, type, role, since, coalesce(share, -1.0), until, "
            f"source_ref FROM link WHERE type IN ({types})"
        )
        for batch in cur.fetch_record_batch():
            if not batch.num_rows:
                continue
            share = batch.column(6).cast(pa.float64())
            share = pc.if_else(pc.less(share, 0), pa.scalar(float("nan"), pa.float64()), share)
            yield pa.record_batch([*batch.columns[:6], share, *batch.columns[7:]],
                                  names=COLUMN_NAMES)  # fmt: skip


def _joined(parts: list[Any], dtype: Any) -> Any:
    """The arrays `parts` end to end, as `dtype` (`parts` emptied as they are joined)."""
    import numpy as np

    joined = np.concatenate([*parts, np.zeros(0, dtype)]).astype(dtype, copy=False)
    parts.clear()
    return joined


_CONTRACT_REFS = (
    "LEFT JOIN stage_e.ent_ids bi ON bi.id = c.buyer_id "
    "LEFT JOIN stage_e.stored bs ON bs.id = c.buyer_id "
    "LEFT JOIN stage_e.ent_ids si ON si.id = c.supplier_id "
    "LEFT JOIN stage_e.stored ss ON ss.id = c.supplier_id"
)
_CONTRACT_PROBLEM = (
    "(c.buyer_id IN stage_e.bad OR coalesce(bi.kind, bs.kind) IS NOT 'agency' "
    "OR c.supplier_id IN stage_e.bad OR coalesce(si.kind, ss.kind) IS NOT 'company')"
)
"""A staged contract row (`c`) whose buyer is not an agency or supplier not a company (in the
bundle, else in the store: `_CONTRACT_REFS`), or either is rejected already."""
_IDS_AT_ONCE = 100_000
"""Ids looked up by one query (a JSON array: `json_each`)."""


def _column_ends(files: list[Path]) -> list[str]:
    """The ends of the staged link rows kept as Arrow columns (`files`), each once."""
    import pyarrow as pa
    import pyarrow.compute as pc

    seen: list[Any] = []
    for path in files:
        for batch in pa.ipc.open_stream(pa.memory_map(str(path))):
            seen += [pc.unique(batch.column(1)), pc.unique(batch.column(2))]
    if not seen:
        return []
    return list(pc.unique(pa.chunked_array(seen, pa.string())).to_pylist())


def _staged_link_rows(
    db: sqlite3.Connection, links: Path, seqs: list[int]
) -> dict[int, tuple[Any, ...]]:
    """The staged link rows `seqs`, by seq: fno, line, then `LinkRecord`'s fields.  From the
    staging database (`stage_link`, attached to `db`), else from the rows kept as Arrow columns
    only (`Stage.link_columns` of `links`)."""
    found: dict[int, tuple[Any, ...]] = {}
    for batch in chunks(seqs, _IDS_AT_ONCE):
        for seq, *row in db.execute(
            "SELECT l.seq, l.fno, l.line, l.source, l.target, l.type, l.role, l.share, l.since, "
            "l.until, l.source_ref FROM json_each(?) AS j CROSS JOIN stage_link.link AS l "
            "ON l.seq = j.value",
            (json.dumps(batch),),
        ):
            found[seq] = tuple(row)
    rest = sorted(set(seqs) - found.keys())
    if not rest:
        return found
    import pyarrow as pa
    import pyarrow.compute as pc

    by_file: dict[int, list[int]] = defaultdict(list)
    for seq in rest:
        by_file[seq // SEQ_PER_FILE].append(seq)
    for fno, wanted in by_file.items():
        path, first = link_columns_of(links, fno), fno * SEQ_PER_FILE
        chosen = pa.array(wanted, pa.int64())
        for batch in pa.ipc.open_stream(pa.memory_map(str(path))) if path.is_file() else ():
            picked = batch.filter(pc.is_in(batch.column(0), value_set=chosen))
            for seq, source, target, kind, role, since, share, until, ref in zip(
                *(c.to_pylist() for c in picked.columns), strict=True
            ):
                found[seq] = (fno, seq - first, source, target, kind, role, share, since, until,
                              ref)  # fmt: skip
    return found


def _new_ids(stage: Path, base: LinkFile | None) -> TextLookup:
    """The ids a load's link file numbers first: `base`'s, then the staged entities' ids new
    to it, in id order (an Arrow array of large strings), and their lookup (`base`'s ids not
    hashed again: the file keeps their hashes)."""
    from urllib.parse import quote

    import adbc_driver_sqlite.dbapi as adbc
    import pyarrow as pa

    from cofi.text_lookup import TextLookup

    con = adbc.connect(f"file:{quote(str(stage))}?mode=ro")
    with closing(con), closing(con.cursor()) as cur:
        cur.execute("SELECT DISTINCT id FROM ent ORDER BY id")
        staged = cur.fetch_arrow_table()
    staged_ids = (staged.column(0).combine_chunks().cast(pa.large_string()) if staged.num_rows
                  else pa.array([], pa.large_string()))  # fmt: skip
    if base is None:
        return TextLookup(staged_ids, 0)
    lookup = base.lookup
    return lookup.extended(staged_ids.filter(pa.array(lookup.places(staged_ids) < 0)))


_BATCH_LINKS = 1 << 18
"""Staged links read at a time by a link file's grouping (`_LinkChecks._file_group`)."""


def _each_key_once(db: sqlite3.Connection, rows: int) -> bool:
    """Whether no link key was given twice among the `rows` link rows `_GROUP_LINKS` grouped (it
    takes every staged row): as many keys as rows.  Counting the keys took 0.08 s for the 5.5M
    links of the large synthetic bundle, where the query of the keys given twice took 1.07 s to
    find none, while a first load's store waited for it (`benchmarks/README.md`, session 39)."""
    ((keys,),) = db.execute("SELECT count(*) FROM stage_l.link_keys")
    return bool(keys == rows)


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


def write_plan(store: LoadTarget, plan: LoadPlan, rejects: Path) -> WriteReport:
    """Write `plan` into `store`; with `skip_invalid`, its rejected rows to the file `rejects`
    (JSON lines).  The file is opened before anything is written, so that a path that cannot be
    written stops the load first (a large load's link checks end while the store writes its
    entities, so the rejects are known only then); one left empty that was not there before is
    removed."""
    out, existed = None, rejects.exists()
    if plan.skip_invalid:
        out = rejects.open("a", encoding="utf-8")
    try:
        report = store.write(plan)
        if out is not None and plan.rejects:
            out.truncate(0)
            out.writelines(reject.as_json() + "\n" for reject in plan.rejects)
    finally:
        if out is not None:
            empty = out.tell() == 0
            out.close()
            if empty and not existed:
                rejects.unlink(missing_ok=True)
    return report
