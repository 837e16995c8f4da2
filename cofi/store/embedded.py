"""The embedded store: one SQLite database in a directory, no server.

SQLite in WAL mode with `synchronous=FULL` gives what the design asks of the embedded store: durable
on disk, and each load (and, later, each sweep) is one transaction, so a process killed at any
moment leaves the previous committed state intact and readable.  Upserts only touch rows whose
content changed, so loading the same bundle twice changes nothing (not even the revision counter,
which the incremental sweep reads to see what changed).

(Over 500 lines: one class implements the whole store interface on one SQLite database, its SQL
beside the method that runs it; the ring reads are in `embedded_rings.py`, the graph file in
`graph_build.py` and `graph_file.py`.)
"""

from __future__ import annotations

import contextlib
import errno
import gc
import heapq
import json
import os
import shutil
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import closing, contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from cofi import rings
from cofi.audit import AuditLink
from cofi.batches import chunks
from cofi.declarations import CONTRACT_LINKS, DECLARED_TYPE, FILING_LINKS, Declaration
from cofi.detect import Rules
from cofi.errors import CofiError, NotFound, StoreFull, StoreUnreachable
from cofi.findings import Finding
from cofi.graph import ContactRow, ContractRow, EntityRow, Graph, GraphRows, LinkRow
from cofi.heap import give_back_free_memory, start_writeback, writeback_call
from cofi.merge import canonical_ids
from cofi.restrictions import Job, Kin, Restriction
from cofi.search import query_tokens
from cofi.sorting import sorted_in_runs
from cofi.store.base import (
    Hub,
    MatchDecision,
    SearchHit,
    Stats,
    StoredFinding,
    StoredRestriction,
    SweepCommit,
    SweepState,
    WriteReport,
    count_hubs,
    finding_body,
    rank_hits,
    stored_finding,
)
from cofi.store.embedded_names import (
    INDEX_NUMBERED,
    NamesAside,
    index_names,
    merging_again,
    merging_later,
)
from cofi.store.embedded_rings import EmbeddedReader
from cofi.vocab import DECLARATION_LINK, FILE_TYPES, Kind

if TYPE_CHECKING:
    from cofi.link_file import LinkFileMade, LinkTarget
    from cofi.loader import LinkKey, LoadPlan
    from cofi.store.embedded_link_rings import FileLinks

DB_NAME = "cofi.sqlite"
GRAPH_NAME = "graph.bin"
"""The whole graph kept beside the database for sweeps (`cofi.graph_file`)."""
KEPT_CHANGES = 20_000
"""Contracts changed since the graph file was written up to which they are laid over it; beyond,
the graph is built again (and the file rewritten)."""
SCHEMA_VERSION = "10"

_CONTRACT_ROW = (
    "id, buyer_id, supplier_id, signed_on, value, "
    "coalesce(json_extract(props, '$.currency'), ''), coalesce(json_extract(props, '$.title'), '')"
)
"""The columns of a `ContractRow`, from the entities table."""

MATCHED = "FROM links WHERE type = 'SAME_AS' AND source_ref LIKE 'match:%'"
"""The SAME_AS links `cofi match` made (`cofi.match.same_as_link`)."""
SAME_AS_REFS = "SELECT source, target, source_ref FROM links WHERE type = 'SAME_AS'"
"""Every SAME_AS link with its source_ref (`GraphRows.matched`)."""

_DECLARED = "(" + " OR ".join(f"type = '{t}'" for t in DECLARATION_LINK.values()) + ")"
"""The links a declaration made: the WHERE term of the index `links_declared`.  Terms joined by OR,
not `type IN (…)`: in an index's WHERE, SQLite built the IN list again for every row, so that
index took 9.2 s to build over 5.5M links and 1.6 s this way, and a million links inserted into a
table holding it 10.7 s against 5.1 s."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS entities (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    props TEXT NOT NULL,
    strong_id TEXT NOT NULL,
    search_key TEXT NOT NULL,
    buyer_id TEXT,
    supplier_id TEXT,
    signed_on TEXT,
    value REAL,
    rev INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS entities_kind ON entities (kind);
CREATE INDEX IF NOT EXISTS entities_rev ON entities (rev);
CREATE INDEX IF NOT EXISTS entities_signed ON entities (signed_on) WHERE kind = 'contract';
CREATE INDEX IF NOT EXISTS entities_strong ON entities (kind, strong_id) WHERE strong_id <> '';
CREATE INDEX IF NOT EXISTS entities_supplier ON entities (supplier_id) WHERE kind = 'contract';
CREATE INDEX IF NOT EXISTS entities_buyer ON entities (buyer_id) WHERE kind = 'contract';
CREATE TABLE IF NOT EXISTS links (
    source TEXT NOT NULL,
    target TEXT NOT NULL,
    type TEXT NOT NULL,
    role TEXT NOT NULL,
    since TEXT NOT NULL,
    share REAL,
    until TEXT NOT NULL,
    source_ref TEXT NOT NULL,
    rev INTEGER NOT NULL,
    PRIMARY KEY (source, target, type, role, since)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS links_target ON links (target);
CREATE INDEX IF NOT EXISTS links_rev ON links (rev) WHERE rev > 1;
-- (the links written after the first revision: `_links_after`)
CREATE INDEX IF NOT EXISTS links_same_as ON links (source, target) WHERE type = 'SAME_AS';
CREATE INDEX IF NOT EXISTS links_same_as_target ON links (target, source) WHERE type = 'SAME_AS';
DROP INDEX IF EXISTS links_declared; -- (schema 7's, with `type IN (…)`)
CREATE INDEX links_declared ON links (type, source) WHERE $declared;
-- (a query reads this index only with its WHERE term, exactly: `_DECLARED`)
CREATE TABLE IF NOT EXISTS contacts (
    entity_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    raw TEXT NOT NULL,
    PRIMARY KEY (entity_id, kind)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS contacts_key ON contacts (kind, key);
CREATE TABLE IF NOT EXISTS match_decisions (
    match_id TEXT PRIMARY KEY,
    left_id TEXT NOT NULL,
    right_id TEXT NOT NULL,
    verdict TEXT NOT NULL,
    note TEXT NOT NULL,
    decided_at TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS touched (kind TEXT NOT NULL, key TEXT NOT NULL, rev INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS touched_rev ON touched (rev);
CREATE TRIGGER IF NOT EXISTS entities_strong_touched AFTER UPDATE OF strong_id ON entities
WHEN old.strong_id <> '' AND old.strong_id IS NOT new.strong_id
BEGIN
    INSERT INTO touched VALUES ('strong', old.kind || ':' || old.strong_id, new.rev);
END;
CREATE TABLE IF NOT EXISTS name_rows (n INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE);
CREATE VIRTUAL TABLE IF NOT EXISTS names
    USING fts5(key, content='', detail=none, columnsize=0, tokenize='trigram case_sensitive 1');
CREATE TRIGGER IF NOT EXISTS entities_named AFTER INSERT ON entities
BEGIN
    INSERT INTO name_rows (id) VALUES (new.id);
    INSERT INTO names (rowid, key) VALUES (last_insert_rowid(), new.search_key);
END;
CREATE TRIGGER IF NOT EXISTS entities_renamed AFTER UPDATE OF search_key ON entities
WHEN old.search_key IS NOT new.search_key
BEGIN
    INSERT INTO names (names, rowid, key)
    SELECT 'delete', n, old.search_key FROM name_rows WHERE id = old.id;
    INSERT INTO names (rowid, key) SELECT n, new.search_key FROM name_rows WHERE id = new.id;
END;
CREATE TABLE IF NOT EXISTS findings (
    finding_id TEXT PRIMARY KEY,
    contract_id TEXT NOT NULL,
    signature TEXT NOT NULL,
    status TEXT NOT NULL,
    note TEXT NOT NULL,
    active INTEGER NOT NULL,
    score REAL NOT NULL,
    body TEXT NOT NULL,
    triaged_at TEXT
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS findings_contract ON findings (contract_id);
CREATE TABLE IF NOT EXISTS swept (contract_id TEXT PRIMARY KEY, rev INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS restrictions (
    restriction_id TEXT PRIMARY KEY,
    signature TEXT NOT NULL,
    status TEXT NOT NULL,
    note TEXT NOT NULL,
    active INTEGER NOT NULL,
    body TEXT NOT NULL,
    triaged_at TEXT
) WITHOUT ROWID;
""".replace("$declared", _DECLARED)

_UPSERT_ENTITY = """
INSERT INTO entities (id, kind, name, props, strong_id, search_key,
                      buyer_id, supplier_id, signed_on, value, rev)
SELECT id, kind, name, props, strong_id, search_key, buyer_id, supplier_id, signed_on, value, ?
FROM plan_entities WHERE true ORDER BY id
ON CONFLICT (id) DO UPDATE SET
    name = excluded.name, props = excluded.props, strong_id = excluded.strong_id,
    search_key = excluded.search_key, buyer_id = excluded.buyer_id,
    supplier_id = excluded.supplier_id, signed_on = excluded.signed_on,
    value = excluded.value, rev = excluded.rev
WHERE entities.name IS NOT excluded.name OR entities.props IS NOT excluded.props
"""

_UPSERT_LINK = """
INSERT INTO links (source, target, type, role, since, share, until, source_ref, rev)
SELECT source, target, type, role, since, share, until, source_ref, ?
FROM plan_links WHERE true ORDER BY source, target, type, role, since
ON CONFLICT (source, target, type, role, since) DO UPDATE SET
    share = excluded.share, until = excluded.until, source_ref = excluded.source_ref,
    rev = excluded.rev
WHERE links.share IS NOT excluded.share OR links.until IS NOT excluded.until
   OR links.source_ref IS NOT excluded.source_ref
"""

_FILE_TYPES_IN = "(" + ", ".join(f"'{t}'" for t in FILE_TYPES) + ")"
_UPSERT_FEW_LINKS = _UPSERT_LINK.replace("WHERE true", f"WHERE type NOT IN {_FILE_TYPES_IN}")
"""`_UPSERT_LINK` of the links a store with a link file keeps in SQLite (`cofi.link_file`)."""
_FILE_LINKS = (
    "SELECT source, target, type, role, since, share, until, source_ref FROM plan_links "
    f"WHERE type IN {_FILE_TYPES_IN} ORDER BY source, target, type, role, since"
)

_INSERT_CONTACTS = """
INSERT OR IGNORE INTO contacts (entity_id, kind, key, raw)
SELECT c.id, c.kind, c.key, c.raw FROM plan_contacts AS c JOIN entities AS e ON e.id = c.id
WHERE e.rev = ? ORDER BY c.id, c.kind
"""

_INSERT_NEW_CONTACTS = """
INSERT OR IGNORE INTO contacts (entity_id, kind, key, raw)
SELECT id, kind, key, raw FROM plan_contacts WHERE true ORDER BY id, kind
"""

_TOUCHED_CONTACTS = """
INSERT INTO touched SELECT kind, key, ? FROM contacts
WHERE entity_id IN (SELECT id FROM entities WHERE rev = ?)
"""

_INDEX_NAMES = (
    "INSERT INTO name_rows (id) SELECT id FROM entities WHERE id NOT IN (SELECT id FROM name_rows);"
    f"{INDEX_NUMBERED};"
)
"""A store an older cofi made gets its names indexed, every one (`_RENEWED` dropped its index;
the triggers index every later change)."""

_RENEWED = "DROP TABLE IF EXISTS names;"
"""What a store an older cofi made has that this one makes anew: the name index (before schema 9,
with each trigram's positions, `detail=full`; before schema 10, with each name's length in
trigrams, which nothing read: `columnsize=0` saves its table, a quarter of the index's time,
2.9 s against 4.2 s for the large scale's 1.5M names).  Dropped, it is made again by `_SCHEMA`
and filled by `_INDEX_NAMES`."""

_UNSWEPT = (
    "SELECT e.id FROM entities AS e INDEXED BY entities_kind WHERE e.kind = 'contract' "
    "AND NOT EXISTS (SELECT 1 FROM swept AS s WHERE s.contract_id = e.id)"
)
_UNSWEPT_SINCE = (
    "SELECT e.id FROM entities AS e INDEXED BY entities_rev WHERE e.rev > ? "
    "AND e.kind = 'contract' AND NOT EXISTS (SELECT 1 FROM swept AS s WHERE s.contract_id = e.id)"
)
_CONTRACTS = "SELECT count(*) FROM entities INDEXED BY entities_kind WHERE kind = 'contract'"
"""The contracts no sweep has checked, of them those written after a revision, and how many
contracts there are (swept ones are only ever contracts)."""

_CHUNK = 5000


class EmbeddedDeclarations:
    """The store's declarations for `cofi.declarations.Book`: read on a connection of the
    process that asks (a sweep's forked workers open their own)."""

    def __init__(self, path: Path, db: sqlite3.Connection) -> None:
        self._path, self._db, self._pid = path, db, os.getpid()

    def _conn(self) -> sqlite3.Connection:
        if os.getpid() != self._pid:
            self._db = sqlite3.connect(f"file:{self._path}?mode=ro", uri=True, timeout=60)
            self._pid = os.getpid()
        return self._db

    def about_contracts(self, contract_ids: list[str] | None) -> Iterator[Declaration]:
        select = f"SELECT {_DECLARATION} FROM links"
        if contract_ids is None:
            rows = self._conn().execute(
                f"{select} INDEXED BY links_declared "
                f"WHERE {_DECLARED} AND type IN {_CONTRACT_NOTES}"
            )
        else:
            rows = self._conn().execute(
                f"{select} INDEXED BY links_target "
                "WHERE target IN (SELECT value FROM json_each(?)) "
                f"AND type IN {_CONTRACT_NOTES}",
                (json.dumps(contract_ids),),
            )
        return (Declaration.of_link(*r) for r in rows)

    def filings_of(self, person_ids: list[str]) -> Iterator[Declaration]:
        rows = self._conn().execute(
            f"SELECT {_DECLARATION} FROM links INDEXED BY links_declared WHERE {_DECLARED} "
            f"AND type IN {_FILINGS} AND source IN (SELECT value FROM json_each(?))",
            (json.dumps(person_ids),),
        )
        return (Declaration.of_link(*r) for r in rows)

    def officials(self, at: str) -> list[str]:
        return [
            p
            for (p,) in self._conn().execute(
                "SELECT DISTINCT l.source FROM entities AS a INDEXED BY entities_kind "
                "CROSS JOIN links AS l INDEXED BY links_target ON l.target = a.id "
                "WHERE a.kind = 'agency' AND l.type = 'EMPLOYED' AND (l.since = '' OR "
                "l.since <= ?1) AND (l.until = '' OR l.until >= ?1) ORDER BY 1",
                (at,),
            )
        ]

    def audit_links(self, ids: list[str], at: str) -> Iterator[AuditLink]:
        in_force = "(l.since = '' OR l.since <= ?2) AND (l.until = '' OR l.until >= ?2)"
        rows = self._conn().execute(
            "SELECT l.source, l.target, l.type, l.role, l.share, l.since, l.until, l.source_ref, "
            "e.kind FROM json_each(?1) AS j CROSS JOIN links AS l ON l.source = j.value "
            "JOIN entities AS e ON e.id = l.target "
            f"WHERE l.type IN ('FAMILY', 'OWNS', 'DIRECTS', 'EMPLOYED') AND {in_force} "
            "UNION "
            "SELECT l.source, l.target, l.type, l.role, l.share, l.since, l.until, l.source_ref, "
            "'person' FROM json_each(?1) AS j CROSS JOIN links AS l INDEXED BY links_target "
            f"ON l.target = j.value WHERE l.type = 'FAMILY' AND {in_force}",
            (json.dumps(ids), at),
        )
        return (AuditLink.of_row(*r) for r in rows)

    def agency_jobs(self, agencies: list[str] | None = None) -> list[Job]:
        db = self._conn()
        if agencies is None:
            every = "SELECT id FROM entities INDEXED BY entities_kind WHERE kind = 'agency'"
            agencies = [a for (a,) in db.execute(every)]
        rows = db.execute(
            "SELECT l.source, l.target, l.role, l.since, l.until, l.source_ref "
            "FROM json_each(?1) AS j CROSS JOIN entities AS a ON a.id = j.value "
            "CROSS JOIN links AS l INDEXED BY links_target ON l.target = a.id "
            "WHERE a.kind = 'agency' AND l.type = 'EMPLOYED' ORDER BY 1, 2, 3, 4",
            (json.dumps(agencies),),
        )
        return [Job(*r) for r in rows]

    def agencies_of(self, persons: list[str]) -> list[str]:
        return [
            a
            for (a,) in self._conn().execute(
                "SELECT DISTINCT l.target FROM json_each(?1) AS j CROSS JOIN links AS l "
                "ON l.source = j.value JOIN entities AS a ON a.id = l.target "
                "WHERE l.type = 'EMPLOYED' AND a.kind = 'agency' ORDER BY 1",
                (json.dumps(persons),),
            )
        ]

    def family_of(self, ids: list[str]) -> Iterator[Kin]:
        columns = "l.source, l.target, l.role, l.since, l.until, l.source_ref"
        rows = self._conn().execute(
            f"SELECT {columns} FROM json_each(?1) AS j CROSS JOIN links AS l "
            "ON l.source = j.value WHERE l.type = 'FAMILY' UNION "
            f"SELECT {columns} FROM json_each(?1) AS j CROSS JOIN links AS l INDEXED BY "
            "links_target ON l.target = j.value WHERE l.type = 'FAMILY'",
            (json.dumps(ids),),
        )
        return (Kin(*r) for r in rows)

    def has_filings(self) -> bool:
        return (
            self._conn()
            .execute(
                f"SELECT 1 FROM links INDEXED BY links_declared WHERE {_DECLARED} "
                f"AND type IN {_FILINGS} LIMIT 1"
            )
            .fetchone()
            is not None
        )


_DECLARATION = "source, target, type, role, since, share, source_ref"
_CONTRACT_NOTES = "(" + ", ".join(f"'{t}'" for t in CONTRACT_LINKS) + ")"
_FILINGS = "(" + ", ".join(f"'{t}'" for t in FILING_LINKS) + ")"


class EmbeddedStore:
    """A cofi store in `directory`.

    With `create`, a missing store reads as empty and is made on the first write, so a load that
    fails validation leaves no trace on disk.
    """

    def __init__(self, directory: Path, *, create: bool) -> None:
        self.location = str(directory)
        self._path = directory / DB_NAME
        self._db: sqlite3.Connection
        self._mapped = False
        self._names: NamesAside | None = None
        self._links: tuple[str, FileLinks] | None = None
        if self._path.exists():
            self._db = self._connect(self._path)
        elif create:
            self._db = self._connect(None)
        else:
            raise StoreUnreachable(
                f"no cofi store at {directory} (load a bundle first, or pass --store)"
            )

    def merges(self) -> rings.Merges:
        """The merged records of the records asked about, read as they are asked for."""
        return rings.Merges(self._reader)

    def _links_named(self, db: sqlite3.Connection | None = None) -> tuple[str, str] | None:
        """The link file the store names and its seal (None: it keeps every link in SQLite)."""
        rows = dict((db or self._db).execute(
            "SELECT key, value FROM meta WHERE key IN ('links_file', 'links_seal')"))  # fmt: skip
        return (rows["links_file"], rows["links_seal"]) if "links_file" in rows else None

    def file_links(self, db: sqlite3.Connection | None = None) -> FileLinks | None:
        """The store's link file, opened (None: the store keeps every link in SQLite).  One that
        is missing or not the one the store sealed is refused in one line, never read."""
        from cofi.link_pages import LinkFileDamaged, Seal
        from cofi.store.embedded_link_rings import FileLinks

        named = self._links_named(db)
        if named is None:
            return None
        if self._links is not None and self._links[0] == named[0]:
            return self._links[1]
        name, seal = named
        try:
            links = FileLinks(self._path.parent / name, Seal.from_text(seal))
        except LinkFileDamaged as exc:
            raise StoreUnreachable(
                f"{self.location}: link file {name} damaged ({exc}); the store cannot be read"
            ) from None
        self._links = (name, links)
        return links

    def link_target(self) -> LinkTarget | None:
        """Where a load writes its link file: beside the database, from the one named now.  None
        for a store an older cofi made, which keeps the graph's links in SQLite."""
        from cofi.link_file import LinkTarget

        if not self._path.exists():
            return LinkTarget(self._path.parent, None, None, 1, os.getpid())
        with self._snapshot() as db:
            named = self._links_named(db)
            if (
                named is None
                and db.execute(
                    f"SELECT 1 FROM links WHERE type IN {_FILE_TYPES_IN} LIMIT 1"
                ).fetchone()
            ):
                return None
            rev = self.rev + 1
        base, seal = named or (None, None)
        return LinkTarget(self._path.parent, base, seal, rev, os.getpid())

    def declarations(self) -> EmbeddedDeclarations:
        """What the detection reads declarations through (`cofi.declarations.Book`)."""
        links = self.file_links()
        if links is not None:
            from cofi.store.embedded_link_rings import FileDeclarations

            return FileDeclarations(self._path, self._db, links)
        return EmbeddedDeclarations(self._path, self._db)

    @property
    def _reader(self) -> EmbeddedReader:
        if not self._mapped:
            # Ring reads (`check`, `path`, `links`, `explore`, a small sweep's batches, the
            # merges a sweep's restrictions and `stats`' hubs read) look rows up here and there,
            # often in a process that has read nothing yet: through a memory map (as much of the
            # file as SQLite maps, 2 GB), not a copy of each 16 KB page.  The rings of `cofi
            # links` at the large scale: 0.22 s -> 0.16 s.  The mapped pages count in the
            # process's memory (`sweep --all` at the large scale: 1,155 -> 1,302 MB PSS).
            self._db.execute("PRAGMA mmap_size = 1099511627776")
            self._mapped = True
        links = self.file_links()
        if links is not None:
            from cofi.store.embedded_link_rings import FileReader

            return FileReader(self._db, self.kinds_of, links)
        return EmbeddedReader(self._db, self.kinds_of)

    def _connect(self, path: Path | None) -> sqlite3.Connection:
        """Open (or, for None, make an empty in-memory stand-in for) the database."""
        try:
            db = sqlite3.connect(path or ":memory:", isolation_level=None, timeout=60)
            # (for a new store: larger pages make a first load about 15% faster to write)
            db.execute("PRAGMA page_size = 16384")
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = FULL")
            db.execute("PRAGMA cache_size = -262144")
            if _schema_version(db) != SCHEMA_VERSION:  # a new store, or one an older cofi made
                db.executescript(
                    f"BEGIN IMMEDIATE; {_RENEWED} {_SCHEMA}"
                    f"INSERT OR REPLACE INTO meta VALUES ('schema_version', '{SCHEMA_VERSION}');"
                    "INSERT OR IGNORE INTO meta VALUES ('rev', '0');"
                    "INSERT OR IGNORE INTO meta VALUES ('store_id', lower(hex(randomblob(16))));"
                    f"{_INDEX_NAMES} COMMIT;"
                )
        except sqlite3.DatabaseError as exc:
            if _no_space(exc, self._path.parent):
                raise StoreFull(
                    f"cannot open store at {self.location}: disk full ({exc})"
                ) from None
            raise StoreUnreachable(f"cannot open store at {self.location}: {exc}") from None
        return db

    def _materialise(self) -> None:
        """Make the on-disk store if this one is still the in-memory stand-in."""
        if self._path.exists():
            return
        try:
            self._path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreUnreachable(f"cannot create store at {self.location}: {exc}") from None
        self._db.close()
        self._db = self._connect(self._path)

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        # BEGIN and a first write take the store's write lock at once, as BEGIN IMMEDIATE would,
        # but on the store only: IMMEDIATE would lock every attached database too, and a load's
        # link checks are still writing theirs while the entities are written.
        self._db.execute("BEGIN")
        try:
            self._db.execute("UPDATE meta SET value = value WHERE key = 'rev'")
            yield self._db
            self._db.execute("COMMIT")
        except BaseException as exc:
            if self._db.in_transaction:  # SQLite may have rolled back already (a full disk)
                self._db.execute("ROLLBACK")
            if _no_space(exc, self._path.parent):
                raise StoreFull(
                    f"{self.location}: disk full ({exc}); nothing was written, the store is as "
                    "it was"
                ) from None
            raise

    @property
    def rev(self) -> int:
        """The store's revision: raised by one by every load that changed anything."""
        row = self._db.execute("SELECT value FROM meta WHERE key = 'rev'").fetchone()
        return int(row[0])

    @contextmanager
    def _snapshot(self) -> Iterator[sqlite3.Connection]:
        """One read snapshot for everything read inside (joins one already open)."""
        if self._db.in_transaction:
            yield self._db
            return
        self._db.execute("BEGIN")
        try:
            yield self._db
        finally:
            self._db.execute("COMMIT")

    def whole_graph(self) -> Graph:
        """The whole graph: the kept one (`kept_graph`) when there is one, else built from the
        rows and written to the graph file for the next sweep (`cofi.graph_file`)."""
        from cofi import graph_file

        graph = self.kept_graph()
        if graph is not None:
            return graph
        if self._path.exists():
            with contextlib.suppress(OSError, sqlite3.Error):  # a full disk: built in memory
                tag = self._write_graph_file()[0]
                graph = graph_file.read(self._path.parent / GRAPH_NAME, tag)
                if graph is not None:
                    return graph
        return self._built_graph()[0]

    def _write_graph_file(self) -> tuple[str, int, int]:
        """Write the graph file from the rows (`cofi.graph_build`); its tag, nodes and edges."""
        from cofi.graph_build import write_graph_file

        with self._snapshot() as db:
            tag = self._graph_tag()
            links = self.file_links(db)
            return (tag, *write_graph_file(db, self._path.parent / GRAPH_NAME, tag, links))

    def _built_graph(self) -> tuple[Graph, str]:
        """The graph built from the rows, and the tag of the revision they were read at."""
        with self._snapshot():
            return Graph.build(self.graph_rows()), self._graph_tag()

    def keep_graph(self, report: WriteReport) -> str | None:
        """After a load (`report`): build the graph and write the graph file unless the kept
        one still serves (`kept_graph`), and keep `stats`' counts.  A line for the user, or None
        when there was nothing to do."""

        if not self._path.exists():
            return None
        with self._snapshot():
            serves = self._kept_changes() is not None  # (the file itself is read by a sweep)
        if serves:
            if report.changed:  # contracts and DECIDED links alone
                self._count_contracts_loaded(report)
            return None
        started = time.monotonic()
        _let_go(self._db)
        # (`stats`' counts, counted once now and read by every `cofi stats` after, are counted
        # beside the graph file's first steps, which use one core: 6.3 s of a large load's 46 s
        # when counted after it)
        counted = self._counted_aside(Rules().hub_limit)
        try:
            _, nodes, edges = self._write_graph_file()
        except Exception as exc:  # (the load has committed: whatever failed, its rows are in)
            counted()
            if _no_space(exc, self._path.parent):
                why = f"disk full ({exc})"
            elif isinstance(exc, (OSError, sqlite3.Error)):
                why = str(exc)
            else:
                why = f"{type(exc).__name__}: {exc}"
            return f"graph not kept for sweeps: {why}; the loaded rows are in, a sweep builds it"
        counts = counted()
        if counts is not None:
            self._keep_counts(counts)  # (kept only if no load committed since they were counted)
        self.stats(Rules().hub_limit)  # (reads them; counts them itself if they were not kept)
        return (
            f"graph kept for sweeps: {nodes:,} nodes, {edges:,} edges "
            f"({time.monotonic() - started:.1f} s)"
        )

    def _graph_tag(self) -> str:
        row = self._db.execute("SELECT value FROM meta WHERE key = 'store_id'").fetchone()
        return f"{row[0] if row else ''}:{self.rev}"

    def kept_graph(self) -> Graph | None:
        """The whole graph from the graph file, opened in a fraction of a second: when it was
        written at this revision, or at an earlier one and only contracts and DECIDED links
        changed since (at most `KEPT_CHANGES` of them: they are laid over it); else None."""
        from cofi import graph_file

        if not self._path.exists():
            return None
        with self._snapshot():
            changes = self._kept_changes()
        if changes is None:
            return None
        tag, contracts, decided = changes
        graph = graph_file.read(self._path.parent / GRAPH_NAME, tag)
        if graph is not None and (contracts or decided):
            graph_file.with_changes(graph, contracts, decided)
        return graph

    def _kept_changes(self) -> tuple[str, list[ContractRow], dict[str, str]] | None:
        """The graph file's tag, and the contracts and DECIDED links changed since it was
        written, when they are all that changed (and not too many); else None."""
        from cofi import graph_file

        db = self._db
        tag = self._graph_tag()
        kept = graph_file.tag_of(self._path.parent / GRAPH_NAME)
        if kept == tag:
            return tag, [], {}
        store_id = tag.split(":")[0]
        if kept is None or kept.split(":")[0] != store_id:
            return None
        since = int(kept.split(":")[1])
        links = self.file_links()
        after = [] if links is None or since > self.rev else links.after(since)
        if any(row[2] != "DECIDED" for row in after):
            return None  # people, companies, agencies or the links between them changed
        if (
            since > self.rev
            or db.execute(
                "SELECT 1 FROM entities INDEXED BY entities_rev WHERE rev > ? "
                f"AND kind <> 'contract' UNION ALL SELECT 1 FROM {_links_after(since)} "
                f"AND type <> 'DECIDED' AND NOT {_DECLARED} LIMIT 1",
                (since, since),
            ).fetchone()
        ):
            return None  # people, companies, agencies or the links between them changed
        contracts = [
            ContractRow(*r)
            for r in db.execute(
                f"SELECT {_CONTRACT_ROW} FROM entities INDEXED BY entities_rev "
                "WHERE rev > ? AND kind = 'contract'",
                (since,),
            )
        ]
        touched = {k.id for k in contracts}
        touched.update(row[1] for row in after)  # (DECIDED links all)
        touched.update(
            t
            for (t,) in db.execute(
                f"SELECT target FROM {_links_after(since)} AND type = 'DECIDED'",
                (since,),
            )
        )
        if len(touched) > KEPT_CHANGES:
            return None
        decided = dict.fromkeys(touched, "")
        if links is not None:
            decided.update(links.deciders_json(sorted(touched)))
        else:
            decided.update(
                db.execute(
                    "SELECT l.target, json_group_array(json_array(l.source, l.role)) "
                    "FROM json_each(?) AS j CROSS JOIN links AS l INDEXED BY links_target "
                    "ON l.target = j.value WHERE l.type = 'DECIDED' GROUP BY l.target",
                    (json.dumps(sorted(touched)),),
                )
            )
        return kept, contracts, decided

    def kinds_of(self, ids: Iterable[str]) -> dict[str, Kind]:
        out: dict[str, Kind] = {}
        batch: list[str] = []
        if self._db.execute("SELECT 1 FROM entities LIMIT 1").fetchone() is None:
            return out
        for i in ids:
            batch.append(i)
            if len(batch) == _CHUNK:
                out.update(self._kinds_batch(batch))
                batch = []
        if batch:
            out.update(self._kinds_batch(batch))
        return out

    def records(self, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for batch in chunks(ids, _CHUNK):
            for eid, kind, name, props in self._db.execute(
                "SELECT e.id, e.kind, e.name, e.props FROM json_each(?) AS j "
                "JOIN entities AS e ON e.id = j.value",
                (json.dumps(batch),),
            ):
                out[eid] = {"kind": kind, "name": name, **json.loads(props)}
        return out

    def _kinds_batch(self, ids: list[str]) -> dict[str, Kind]:
        rows = self._db.execute(
            "SELECT e.id, e.kind FROM json_each(?) AS j JOIN entities AS e ON e.id = j.value",
            (json.dumps(ids),),
        )
        return {i: Kind(k) for i, k in rows}

    def write(self, plan: LoadPlan) -> WriteReport:
        """Write `plan` in one transaction: the entities while the plan's link checks may still
        run, the links once they are done (`plan.complete()`, which raises if rows were rejected:
        then nothing is written, and a store this write made is removed again) or, into an empty
        links table, once they are grouped, beside the check of their ends."""
        made = [p for p in (self._path.parent, self._path) if not p.exists()]
        self._materialise()
        try:
            # Into an empty store, a rollback journal writes the data once; WAL would write it to
            # the log and copy it into the database at the checkpoint.  Both commit atomically
            # and durably (synchronous=FULL); the store is back in WAL mode for everything after.
            first = _count(self._db, "entities") == 0 and _count(self._db, "links") == 0
            if first:
                self._db.execute("PRAGMA journal_mode = DELETE")
            plan.attach(self._db)
            self._names = None
            try:
                report = self._write_staged(first, plan)
                # (named by the commit: the plan leaves it; the file it superseded stays for
                # the readers still in a snapshot of the revision before, until the next load)
                plan.link_target = None
                plan.link_file_kept()
                return report
            finally:
                plan.detach(self._db)
                if first:  # (on a full disk this can fail too: the next open sets WAL again)
                    with contextlib.suppress(sqlite3.OperationalError):
                        self._db.execute("PRAGMA journal_mode = WAL")
                if self._names is not None:  # (a name index made beside: `embedded_names`)
                    self._names.stop()
                    self._db.close()
                    self._db, self._mapped = self._connect(self._path), False
        except BaseException:
            if made:
                self._unmake(made)
            raise

    def _unmake(self, made: list[Path]) -> None:
        """Remove the store files (and directory) a failed first write made."""
        self._db.close()
        for suffix in ("", "-journal", "-wal", "-shm"):
            self._path.with_name(self._path.name + suffix).unlink(missing_ok=True)
        if self._path.parent in made:
            with contextlib.suppress(OSError):
                self._path.parent.rmdir()
        self._db = self._connect(None)

    def _write_staged(self, first: bool, plan: LoadPlan) -> WriteReport:
        """Write the plan in one transaction (a first load's names may be indexed beside:
        `self._names`, which `write` stops and then opens the store's connection again)."""
        with self._transaction() as db:
            rev = self.rev + 1
            target = self.link_target()
            if target is not None and plan.link_target not in (None, target):
                raise CofiError(
                    f"{self.location}: another load committed while this one was checked; "
                    "nothing was written: load again"
                )
            upsert_links = _UPSERT_LINK if target is None else _UPSERT_FEW_LINKS
            if target is not None:  # (under the write lock: see `remove_unnamed`)
                from cofi.link_file import remove_unnamed

                remove_unnamed(self._path.parent, target.base)
            n_entities = 0 if first else _count(db, "entities")
            n_links = 0 if first else _count(db, "links")
            aside = None
            if n_entities == 0:  # (a trigger indexes each name, or they are indexed beside)
                aside = self._names = _names_aside(db, plan)
                if aside is None:
                    merging_later(db)
                    entities_changed = _bulk_upsert(db, "entities", _UPSERT_ENTITY, (rev,), True)
                    merging_again(db)
                else:  # (the names indexed beside the contacts and links: `embedded_names`)
                    entities_changed = _written_unnamed(db, rev, aside)
            else:
                entities_changed = _bulk_upsert(db, "entities", _UPSERT_ENTITY, (rev,), False)
            _caches_shrunk(db, ("stage",))  # (the entity rows read: their cache let go)
            if entities_changed:
                # The identifier values changed entities had and now have are logged, so that the
                # incremental sweep re-checks around them (a first load needs no log: every
                # contract in it is new to the sweep anyway).
                log_touched = n_entities > 0
                if log_touched:
                    db.execute(_TOUCHED_CONTACTS, (rev, rev))
                empty = db.execute("SELECT 1 FROM contacts LIMIT 1").fetchone() is None
                if not empty:
                    db.execute(
                        "DELETE FROM contacts WHERE entity_id IN "
                        "(SELECT id FROM entities WHERE rev = ?)",
                        (rev,),
                    )
                # (into an empty store every entity is new: no need to ask which changed)
                if n_entities:
                    _bulk_upsert(db, "contacts", _INSERT_CONTACTS, (rev,), empty)
                else:
                    _bulk_upsert(db, "contacts", _INSERT_NEW_CONTACTS, (), empty)
                if log_touched:
                    db.execute(_TOUCHED_CONTACTS, (rev, rev))
            _caches_shrunk(db, ("stage", "stage_e"))
            _start_writeback(self._path)  # (the entities and contacts, while the links go in)
            if n_links == 0:
                # Into an empty links table, the links are written and indexed while their ends
                # are still being checked; those rejected are taken out again (none was there
                # before).
                plan.links_grouped()
                threads = (os.cpu_count() or 1) - 1
                kept = _filled_alongside(rev)
                links_changed = _bulk_upsert(db, "links", upsert_links, (rev,), True, threads, kept)
                links_changed -= _take_out_links(db, plan.complete_written(), links_changed,
                                                 threads, kept)  # fmt: skip
            else:
                plan.complete()
                links_changed = _bulk_upsert(db, "links", upsert_links, (rev,), False)
            if aside is not None and not aside.copy_into(db):
                index_names(db)
            # into empty tables every changed row is a new one
            entities_created = entities_changed if first else _count(db, "entities") - n_entities
            links_created = links_changed if first else _count(db, "links") - n_links
            made = None if target is None else self._link_file_of(plan, target, db)
            if made is not None:
                links_changed += made.changed
                links_created += made.created
                db.executemany(
                    "INSERT OR REPLACE INTO meta VALUES (?, ?)",
                    [("links_file", made.name), ("links_seal", made.seal)],
                )
            report = WriteReport.of(
                entities_changed, entities_created, links_changed, links_created
            )
            if report.changed:
                db.execute("UPDATE meta SET value = ? WHERE key = 'rev'", (str(rev),))
        return report

    def _link_file_of(
        self, plan: LoadPlan, target: LinkTarget, db: sqlite3.Connection
    ) -> LinkFileMade | None:
        """The link file of `plan`'s graph links (made by its link checks, or here, row by row,
        for a plan made without `links_into`), given to the plan to remove unless the commit
        names it."""
        if plan.link_target is None:
            import pyarrow as pa

            from cofi.link_file import make

            dropped = set(plan.complete_written())  # (their ends rejected: still in the plan)
            rows = [r for r in db.execute(_FILE_LINKS) if tuple(r[:5]) not in dropped]
            columns = ("source", "target", "type", "role", "since", "share", "until",
                       "source_ref")  # fmt: skip
            table = pa.table({
                c: pa.array([r[i] for r in rows], pa.float64() if c == "share" else pa.string())
                for i, c in enumerate(columns)
            })  # fmt: skip
            plan.link_target = target
            plan._made = make(target, table)
        return plan.link_file_made()

    def _counts(self) -> dict[str, Any]:
        """Entities by kind, links by type and distinct identifier values by kind, as of this
        revision: kept in the store (`keep_graph`), else counted (4 s at the large scale, the
        links' GROUP BY most of it) and kept for the next time."""
        kept = self._kept_counts()
        if kept.get("rev") == self.rev:
            return kept
        counts = _stats_counts(self._db, self.file_links())
        self._keep_counts(counts)
        return counts

    def _counted_aside(self, hub_limit: int) -> Callable[[], dict[str, Any] | None]:
        """Count what `stats` shows (`_stats_counts`, and the hubs of `hub_limit`) in a forked
        process, on a connection of its own, beside the graph file's steps; a call that waits
        for the counts (None: they could not be made).  (A process, not a thread: the graph
        file's steps fork too, and a fork while a thread is inside SQLite could copy a lock it
        holds.)"""
        import multiprocessing

        ctx = multiprocessing.get_context("fork")
        reading, writing = ctx.Pipe(duplex=False)
        proc = ctx.Process(target=self._count_into, args=(writing, hub_limit, reading), daemon=True)
        # (the parent's objects are left out of the child's garbage collections, which would
        # write to each one and so copy its page)
        gc.freeze()
        try:
            proc.start()
        finally:
            gc.unfreeze()
        writing.close()

        def counted() -> dict[str, Any] | None:
            try:
                return cast(dict[str, Any], reading.recv())
            except (EOFError, OSError):
                return None
            finally:
                reading.close()
                proc.join()

        return counted

    def _count_into(self, out: Any, hub_limit: int, parents: Any) -> None:
        """`_counted_aside`'s process: the counts and hubs, sent to `out` (nothing on failure).
        It closes its copy of the pipe's other end (`parents`) first: else, the parent killed,
        it would wait for ever to send what no one will read (the hubs of a large store do not
        fit in the pipe), holding its memory (850 MB at the xlarge scale)."""
        parents.close()
        with contextlib.suppress(Exception):  # (the parent counts them itself)
            with closing(sqlite3.connect(self._path, timeout=60, isolation_level=None)) as db:
                db.execute("BEGIN")
                counts = _stats_counts(db, self.file_links(db))
                hubs = self._hubs(hub_limit, db)
                counts["hubs"] = {str(hub_limit): [[h.kind.value, h.key, h.value, h.entities]
                                                   for h in hubs]}  # fmt: skip
            out.send(counts)

    def _kept_counts(self) -> dict[str, Any]:
        row = self._db.execute("SELECT value FROM meta WHERE key = 'counts'").fetchone()
        return dict(json.loads(row[0])) if row else {}

    def _keep_counts(self, counts: dict[str, Any]) -> None:
        if not self._path.exists():
            return
        # (a store this user may only read keeps nothing)
        with contextlib.suppress(sqlite3.Error), self._transaction() as db:
            if self.rev == counts["rev"]:  # no load committed since they were counted
                db.execute(
                    "INSERT OR REPLACE INTO meta VALUES ('counts', ?)", (json.dumps(counts),)
                )

    def _count_contracts_loaded(self, report: WriteReport) -> None:
        """After a load of contracts, DECIDED links and declarations alone: the kept counts of
        the revision before, plus what it created (it created nothing else)."""
        kept = self._kept_counts()
        rev = self.rev
        if kept.get("rev") != rev - 1:
            return
        kept["rev"] = rev
        contract, decided = Kind.CONTRACT.value, "DECIDED"
        kept["entities"][contract] = kept["entities"].get(contract, 0) + report.entities_created
        # declarations are counted afresh (their index is small): the rest created is DECIDED
        declared = dict(
            self._db.execute(
                f"SELECT type, count(*) FROM links INDEXED BY links_declared WHERE {_DECLARED} "
                "GROUP BY type"
            )
        )
        added = sum(declared.values()) - sum(kept["links"].get(t, 0) for t in DECLARED_TYPE)
        kept["links"].update(declared)
        kept["links"][decided] = kept["links"].get(decided, 0) + report.links_created - added
        self._keep_counts(kept)

    def stats(self, hub_limit: int) -> Stats:
        counts = self._counts()
        entities, links, identifiers = (
            dict(sorted(counts[part].items())) for part in ("entities", "links", "identifiers")
        )
        kept = counts.setdefault("hubs", {}).get(str(hub_limit))
        if kept is None:
            hubs = self._hubs(hub_limit)
            counts["hubs"][str(hub_limit)] = [[h.kind.value, h.key, h.value, h.entities]
                                              for h in hubs]  # fmt: skip
            self._keep_counts(counts)
        else:
            hubs = [Hub(Kind(kind), key, value, n) for kind, key, value, n in kept]
        return Stats(entities, links, identifiers, hubs)

    def _hubs(self, hub_limit: int, db: sqlite3.Connection | None = None) -> list[Hub]:
        db = db or self._db
        # the values held by more records than the limit, from the (kind, key) index alone
        # (min(raw) there would read the table for every row), then their holders
        values = db.execute(
            "SELECT kind, key FROM contacts INDEXED BY contacts_key GROUP BY kind, key "
            "HAVING count(*) > ?",
            (hub_limit,),
        ).fetchall()
        candidates = [
            (kind, key, raw, members.split("\x1f"))
            for kind, key in values
            for raw, members in db.execute(
                "SELECT min(raw), group_concat(entity_id, char(31)) FROM contacts "
                "INDEXED BY contacts_key WHERE kind = ? AND key = ?",
                (kind, key),
            )
        ]
        reader = EmbeddedReader(db, self.kinds_of) if db is not self._db else self._reader
        return count_hubs(candidates, rings.Merges(reader), hub_limit)

    def canonical_ids(self) -> dict[str, str]:
        """Merged record id -> canonical entity id (records that merge with nothing are absent)."""
        same_as = self._db.execute("SELECT source, target FROM links WHERE type = 'SAME_AS'")
        groups = (
            members.split("\x1f")
            for (members,) in self._db.execute(
                "SELECT group_concat(id, char(31)) FROM entities WHERE strong_id <> '' "
                "GROUP BY kind, strong_id HAVING count(*) > 1"
            )
        )
        return canonical_ids(same_as.fetchall(), groups)

    def search(self, name: str, limit: int) -> list[SearchHit]:
        """Candidates from the trigram index of search keys (`names`): the keys holding every
        trigram of every token, each then checked for the tokens themselves.  A query whose every
        token is shorter than three letters scans the keys instead.

        The index keeps which keys hold a trigram, not where (`detail=none`): less than half
        the size of one that keeps the places (48 MB against 110 MB for the 1.52M names of the
        large synthetic bundle), and built alone in 7.0-8.5 s against 9.9-10.7 s (by a load's
        trigger, 11.3 s against 11.7 s: the tokenizing is most of it).  A token's trigrams, each
        matched alone, find the same keys and a few more, which the check drops (for "ivanov",
        2,457 candidates against 1,937, in 7 ms either way)."""
        tokens = query_tokens(name)
        if not tokens:
            return []
        columns = "SELECT e.id, e.kind, e.name, e.props, e.search_key"
        where = " AND ".join("instr(e.search_key, ?) > 0" for _ in tokens)
        grams = {t[i : i + 3] for t in tokens for i in range(len(t) - 2)}
        if grams:
            match = " AND ".join('"' + g.replace('"', '""') + '"' for g in sorted(grams))
            rows = self._db.execute(
                f"{columns} FROM names JOIN name_rows AS r ON r.n = names.rowid "
                f"JOIN entities AS e ON e.id = r.id WHERE names MATCH ? AND {where}",
                [match, *tokens],
            )
        else:
            rows = self._db.execute(f"{columns} FROM entities AS e WHERE {where}", tokens)
        return rank_hits(name, rows, limit)

    def contract_rows(self, contract_id: str, rules: Rules) -> GraphRows | None:
        """The neighbourhood a check of one contract searches (`cofi.rings.contracts_rows`,
        read with indexed lookups), None when there is no such contract."""
        rows = rings.contracts_rows(self._reader, [contract_id], rules)
        return rows if rows.contracts else None

    def contracts_rows(self, contract_ids: list[str], rules: Rules) -> GraphRows:
        """The rings a check of the given contracts searches (a small sweep's batch)."""
        return rings.contracts_rows(self._reader, contract_ids, rules)

    def contract_dates(self) -> list[tuple[str, str]]:
        """Every contract's (id, signing date), in date order."""
        return self._db.execute(
            "SELECT id, signed_on FROM entities INDEXED BY entities_signed "
            "WHERE kind = 'contract' ORDER BY signed_on, id"
        ).fetchall()

    def affected_contracts(self, records: Iterable[str], rules: Rules) -> set[str]:
        """An incremental sweep's scope read by rings (`cofi.rings.affected_contracts`)."""
        return rings.affected_contracts(self._reader, records, rules)

    def path_rows(self, a: str, b: str, rules: Rules, at: str | None) -> GraphRows:
        """See `cofi.rings.path_rows`."""
        return rings.path_rows(self._reader, a, b, rules, at)

    def reach_rows(self, record: str, rules: Rules, at: str | None) -> GraphRows:
        """See `cofi.rings.reach_rows`."""
        return rings.reach_rows(self._reader, record, rules, at)

    def explore_rows(
        self, seeds: list[str], depth: int, hub_limit: int, per_node: int
    ) -> GraphRows:
        """See `cofi.rings.explore_rows`."""
        return rings.explore_rows(self._reader, seeds, depth, hub_limit, per_node)

    def graph_rows(self) -> GraphRows:
        """The rows to build the graph from, streamed from the database (ids in order).

        Plain tuples in the column order of the row types (a named tuple per row would cost
        seconds on millions of links); the graph reads them positionally.
        """
        db = self._db
        rows = db.execute  # each cursor is read once, in the order Graph.build asks
        links = self.file_links()
        return GraphRows(
            entities=cast(
                "Iterable[EntityRow]",
                rows(
                    "SELECT id, kind, name, strong_id FROM entities WHERE kind <> 'contract' "
                    "ORDER BY id"
                ),
            ),
            same_as=rows("SELECT source, target FROM links WHERE type = 'SAME_AS'"),
            contracts=(
                ContractRow(*r)
                for r in rows(f"SELECT {_CONTRACT_ROW} FROM entities WHERE kind = 'contract'")
            ),
            links=cast("Iterable[LinkRow]", self._graph_links(links)),
            decided=(
                rows(
                    "SELECT target, json_group_array(json_array(source, role)) "
                    "FROM links INDEXED BY links_target WHERE type = 'DECIDED' GROUP BY target"
                )
                if links is None
                else _decided_of(links)
            ),
            contacts=cast(
                "Iterable[ContactRow]",
                rows("SELECT entity_id, kind, key, raw FROM contacts ORDER BY entity_id, kind"),
            ),
            matched=rows(SAME_AS_REFS).fetchall()
            if db.execute(f"SELECT 1 {MATCHED}").fetchone()
            else [],
        )

    def _graph_links(self, links: FileLinks | None) -> Iterable[tuple[Any, ...]]:
        """Every link but DECIDED, in key order: the table's, and the link file's."""
        sql = (
            "SELECT source, target, type, role, share, since, until FROM links "
            "WHERE type <> 'DECIDED' ORDER BY source, target, type, role, since"
        )
        if links is None:
            return self._db.execute(sql)
        types = [t for t in FILE_TYPES if t != "DECIDED"]
        held = [(s, t, ty, role, share, since, until)
                for s, t, ty, role, since, share, until, _ in links.of_types(types)]  # fmt: skip
        return heapq.merge(held, self._db.execute(sql), key=lambda r: (*r[:4], r[5]))

    def changed_records(self, since_rev: int) -> set[str]:
        db = self._db
        out = {i for (i,) in db.execute("SELECT id FROM entities WHERE rev > ?", (since_rev,))}
        # A DECIDED link, or an EMPLOYED link into an agency, changes who decides contracts, not
        # any path between others: its contract (or agency, for its contracts) is re-checked, and
        # its person is not walked out from.  A traversable link may join or separate anyone
        # within reach of either end.
        # A declaration changes its person's findings (a filing: walked out from, like a link)
        # or its contract's (a notice or recusal).
        changed = db.execute(
            "SELECT l.source, l.target, l.type, e.kind FROM (SELECT source, target, type "
            f"FROM {_links_after(since_rev)}) AS l JOIN entities AS e ON e.id = l.target",
            (since_rev,),
        ).fetchall()
        links = self.file_links()
        if links is not None:
            after = links.after(since_rev)
            kinds = {i: k.value for i, k in self.kinds_of({row[1] for row in after}).items()}
            changed += [(s, t, ty, kinds[t]) for s, t, ty, *_ in after if t in kinds]
        for source, target, type_, target_kind in changed:
            if type_ in FILING_LINKS:
                out.add(source)
                continue
            out.add(target)
            if type_ in CONTRACT_LINKS:
                continue
            if type_ != "DECIDED" and target_kind != Kind.AGENCY.value:
                out.add(source)
        out.update(
            i
            for (i,) in db.execute(
                "SELECT c.entity_id FROM touched AS t JOIN contacts AS c "
                "ON c.kind = t.kind AND c.key = t.key WHERE t.rev > ?",
                (since_rev,),
            )
        )
        out.update(
            i
            for (i,) in db.execute(
                "SELECT e.id FROM touched AS t CROSS JOIN entities AS e INDEXED BY entities_strong "
                "ON e.kind = substr(t.key, 1, instr(t.key, ':') - 1) "
                "AND e.strong_id = substr(t.key, instr(t.key, ':') + 1) AND e.strong_id <> '' "
                "WHERE t.kind = 'strong' AND t.rev > ?",
                (since_rev,),
            )
        )
        return out

    def sweep_state(self) -> SweepState:
        rows = dict(
            self._db.execute(
                "SELECT key, value FROM meta WHERE key IN ('sweep_rev', 'sweep_rules')"
            )
        )
        if "sweep_rev" not in rows:
            return SweepState()
        return SweepState(int(rows["sweep_rev"]), rows.get("sweep_rules", ""))

    def swept_count(self) -> int:
        """How many contracts have been swept (`cofi.sweep`: none unswept when it equals the
        number of contracts; swept contracts are only ever contracts)."""
        return int(self._db.execute("SELECT count(*) FROM swept").fetchone()[0])

    def swept_contracts(self) -> set[str]:
        return {c for (c,) in self._db.execute("SELECT contract_id FROM swept")}

    def unswept_contracts(self, since_rev: int | None, swept: int | None = None) -> list[str]:
        """The contracts no sweep has checked (`cofi.sweep`).  When those written after
        revision `since_rev` are as many as the contracts less the swept ones (`swept`, when
        the caller has counted them), they are all of them, and only they are read: after a
        day's load, its few new contracts (the 2,000 of the benchmark's day in milliseconds,
        where reading every contract and every swept one took about 1.5 s at the large
        scale)."""
        db = self._db
        if since_rev is not None:
            new = [c for (c,) in db.execute(_UNSWEPT_SINCE, (since_rev,))]
            (contracts,) = db.execute(_CONTRACTS).fetchone()
            if len(new) == contracts - (self.swept_count() if swept is None else swept):
                return new
        return [c for (c,) in db.execute(_UNSWEPT)]

    def stored_findings(self, contract_ids: Iterable[str]) -> dict[str, StoredFinding]:
        out: dict[str, StoredFinding] = {}
        for batch in chunks(contract_ids, _CHUNK):
            rows = self._db.execute(
                "SELECT f.finding_id, f.contract_id, f.signature, f.status, f.note, f.active "
                "FROM json_each(?) AS j JOIN findings AS f ON f.contract_id = j.value",
                (json.dumps(batch),),
            )
            for fid, cid, sig, status, note, active in rows:
                out[fid] = StoredFinding(fid, cid, sig, status, note, bool(active))
        return out

    def commit_sweep(self, commit: SweepCommit) -> None:
        self._materialise()
        with self._transaction() as db:
            rev = self.rev
            db.executemany(
                "INSERT INTO findings (finding_id, contract_id, signature, status, note, active, "
                "score, body) VALUES (?, ?, ?, ?, ?, 1, ?, ?) "
                "ON CONFLICT (finding_id) DO UPDATE SET contract_id = excluded.contract_id, "
                "signature = excluded.signature, active = 1, score = excluded.score, "
                "body = excluded.body, "
                # the triage as it is now, not as the sweep read it when it began: a dismissed
                # finding whose path changed is reopened, any other status and note are kept
                "status = CASE WHEN findings.status = 'dismissed' AND findings.signature <> "
                "excluded.signature THEN 'new' ELSE findings.status END",
                [
                    (
                        f.finding_id,
                        f.contract_id,
                        f.signature,
                        f.status,
                        f.note,
                        f.score,
                        finding_body(f),
                    )
                    for f in commit.findings
                ],
            )
            db.executemany(
                "UPDATE findings SET active = 0 WHERE finding_id = ?",
                [(g,) for g in commit.gone],
            )
            if commit.restrictions is not None:
                _write_restrictions(db, commit.restrictions)
            db.executemany(
                "INSERT INTO swept VALUES (?, ?) ON CONFLICT (contract_id) DO UPDATE SET "
                "rev = excluded.rev",
                [(c, rev) for c in commit.swept],
            )
            if commit.state is not None:
                db.execute(
                    "INSERT INTO meta VALUES ('sweep_rev', ?) ON CONFLICT (key) DO UPDATE "
                    "SET value = excluded.value",
                    (str(commit.state.rev),),
                )
                db.execute(
                    "INSERT INTO meta VALUES ('sweep_rules', ?) ON CONFLICT (key) DO UPDATE "
                    "SET value = excluded.value",
                    (commit.state.rules,),
                )
                db.execute("DELETE FROM touched WHERE rev <= ?", (commit.state.rev,))

    def findings(
        self, *, status: str | None = None, contract_id: str | None = None, active: bool = True
    ) -> list[Finding]:
        sql = "SELECT body, signature, status, note FROM findings WHERE active >= ?"
        args: list[Any] = [1 if active else 0]
        if status:
            sql += " AND status = ?"
            args.append(status)
        if contract_id:
            sql += " AND contract_id = ?"
            args.append(contract_id)
        sql += " ORDER BY score DESC, finding_id"
        return [stored_finding(*row) for row in self._db.execute(sql, args)]

    def match_rows(self, kind: Kind) -> Iterator[tuple[str, str, dict[str, Any]]]:
        for rec_id, name, props in self._db.execute(
            "SELECT id, name, props FROM entities INDEXED BY entities_kind WHERE kind = ?",
            (kind.value,),
        ):
            yield rec_id, name, json.loads(props)

    def match_decisions(self) -> dict[str, MatchDecision]:
        return {
            row[0]: MatchDecision(*row)
            for row in self._db.execute(
                "SELECT match_id, left_id, right_id, verdict, note, decided_at "
                "FROM match_decisions WHERE verdict <> ''"
            )
        }

    def remember_matches(self, pairs: list[tuple[str, str, str]]) -> None:
        if not pairs:
            return
        self._materialise()
        with self._transaction() as db:
            db.executemany(
                "INSERT OR IGNORE INTO match_decisions VALUES (?, ?, ?, '', '', '')", pairs
            )

    def match_pair(self, match_id: str) -> MatchDecision | None:
        row = self._db.execute(
            "SELECT match_id, left_id, right_id, verdict, note, decided_at "
            "FROM match_decisions WHERE match_id = ?",
            (match_id,),
        ).fetchone()
        return MatchDecision(*row) if row else None

    def decide_match(self, match_id: str, verdict: str, note: str) -> MatchDecision:
        with self._transaction() as db:
            db.execute(
                "UPDATE match_decisions SET verdict = ?, note = ?, "
                "decided_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE match_id = ?",
                (verdict, note, match_id),
            )
            row = db.execute(
                "SELECT match_id, left_id, right_id, verdict, note, decided_at "
                "FROM match_decisions WHERE match_id = ?",
                (match_id,),
            ).fetchone()
        if row is None:
            raise NotFound(f"no match {match_id!r} was proposed (run `cofi match` first?)")
        return MatchDecision(*row)

    def restrictions_changed(self, since_rev: int) -> bool:
        links = self.file_links()
        if links is not None and any(
            row[2] in ("FAMILY", "EMPLOYED") for row in links.after(since_rev)
        ):
            return True
        return (
            self._db.execute(
                "SELECT 1 FROM entities INDEXED BY entities_rev WHERE rev > ? AND kind IN "
                f"('person', 'agency') UNION ALL SELECT 1 FROM {_links_after(since_rev)} "
                "AND type IN ('FAMILY', 'EMPLOYED', 'SAME_AS') LIMIT 1",
                (since_rev, since_rev),
            ).fetchone()
            is not None
        )

    def finding(self, finding_id: str) -> Finding | None:
        row = self._db.execute(
            "SELECT body, signature, status, note FROM findings WHERE finding_id = ?",
            (finding_id,),
        ).fetchone()
        return stored_finding(*row) if row else None

    def stored_restrictions(self) -> dict[str, StoredRestriction]:
        return {
            r[0]: StoredRestriction(r[0], r[1], r[2], r[3], bool(r[4]))
            for r in self._db.execute(
                "SELECT restriction_id, signature, status, note, active FROM restrictions"
            )
        }

    def triage_restriction(self, restriction_id: str, status: str, note: str | None) -> Restriction:
        body, _, status, note = self._triage("restriction", restriction_id, status, note)
        return replace(Restriction.from_dict(json.loads(body)), status=status, note=note)

    def triage(self, finding_id: str, status: str, note: str | None) -> Finding:
        return stored_finding(*self._triage("finding", finding_id, status, note))

    def _triage(self, what: str, item_id: str, status: str, note: str | None) -> tuple[Any, ...]:
        """Set the status (and note) of a kept finding or restriction (`what`); its body,
        signature, status and note after."""
        table, key = {"finding": ("findings", "finding_id"),
                      "restriction": ("restrictions", "restriction_id")}[what]  # fmt: skip
        with self._transaction() as db:
            cur = db.execute(
                f"UPDATE {table} SET status = ?, note = coalesce(?, note), "
                f"triaged_at = datetime('now') WHERE {key} = ?",
                (status, note, item_id),
            )
            if cur.rowcount == 0:
                raise NotFound(f"no {what} {item_id!r} in the store (run `cofi sweep` first?)")
            row: tuple[Any, ...] = db.execute(
                f"SELECT body, signature, status, note FROM {table} WHERE {key} = ?", (item_id,)
            ).fetchone()
        return row


def _write_restrictions(db: sqlite3.Connection, found: list[Restriction]) -> None:
    """Keep a sweep's restrictions: new ones as `new`, known ones with their triage (a dismissed
    one whose content changed reopened); those no longer found made inactive."""
    db.executemany(
        "INSERT INTO restrictions (restriction_id, signature, status, note, active, body) "
        "VALUES (?, ?, 'new', '', 1, ?) ON CONFLICT (restriction_id) DO UPDATE SET active = 1, "
        "body = excluded.body, signature = excluded.signature, status = CASE WHEN "
        "restrictions.status = 'dismissed' AND restrictions.signature <> excluded.signature "
        "THEN 'new' ELSE restrictions.status END",
        [(r.restriction_id, r.signature, json.dumps(r.as_dict(), ensure_ascii=False))
         for r in found],
    )  # fmt: skip
    db.execute(
        "UPDATE restrictions SET active = 0 WHERE active AND restriction_id NOT IN "
        "(SELECT value FROM json_each(?))",
        (json.dumps([r.restriction_id for r in found]),),
    )


def _bulk_upsert(
    db: sqlite3.Connection,
    table: str,
    statement: str,
    params: tuple[int, ...],
    empty: bool,
    threads: int = 0,
    kept: frozenset[str] = frozenset(),
) -> int:
    """Run `statement` (an `INSERT … SELECT` from the attached staging databases) with `params`
    (the revision); the number of rows it inserted or updated (not counting what triggers
    wrote).

    Into an empty table, rows go in primary-key order (the statements' ORDER BY) and the secondary
    indexes are dropped and rebuilt afterwards (`_indexes_after`, with `threads` helper threads),
    but those named in `kept`, which take their few entries as the rows go in: several times
    faster for a first load, and just as atomic (SQLite's DDL is transactional).
    (Keeping the indexes the rows fill in order, `links_rev` and the like, saved 2.4 s of the
    large bundle's write but interleaved their pages with the table's: a sweep reading the store
    through its memory map then mapped 270 MB more of it, past the 1.5 GB `sweep --all` may
    hold.)
    """
    if not empty:
        return int(db.execute(statement, params).rowcount)
    with _indexes_after(db, table, threads, kept):
        return int(db.execute(statement, params).rowcount)


@contextlib.contextmanager
def _indexes_after(
    db: sqlite3.Connection, table: str, threads: int, kept: frozenset[str] = frozenset()
) -> Iterator[None]:
    """Drop the secondary indexes of `table` but those in `kept` for the block, then make them
    again, sorting in small runs (`cofi.sorting`) with `threads` helper threads."""
    indexes = [
        (name, sql)
        for name, sql in db.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
            "AND sql IS NOT NULL",
            (table,),
        )
        if name not in kept
    ]
    for name, _ in indexes:
        db.execute(f'DROP INDEX "{name}"')
    yield
    with sorted_in_runs(db, threads):
        for _, sql in indexes:
            db.execute(sql)


REINDEX_SHARE = 0.05
"""The share of a first load's links, rejected once written and indexed, beyond which they are
taken out with the indexes dropped and made again rather than one by one through them."""


def _take_out_links(
    db: sqlite3.Connection, keys: list[LinkKey], written: int, threads: int, kept: frozenset[str]
) -> int:
    """Delete the links with `keys` from the links a first load `written` and indexed (their
    ends were rejected meanwhile); how many there were.  (Written and indexed before the ends'
    check was over, the large synthetic scale's load waited for it 2.1 s less.)  Made again, the
    indexes in `kept` are not (`_filled_alongside`)."""
    if len(keys) <= REINDEX_SHARE * written:
        return _delete_links(db, keys)
    with _indexes_after(db, "links", threads, kept):
        return _delete_links(db, keys)


_FEW_LINKS = frozenset({"links_same_as", "links_same_as_target", "links_declared"})
"""The partial indexes of the few links of a kind: SAME_AS (a bundle's own, or a match's
accepted) and the declarations stored as links (hundreds at the large synthetic scale)."""


def _filled_alongside(rev: int) -> frozenset[str]:
    """The links' indexes a write into the empty links table (at revision `rev`) keeps while
    its rows go in, instead of dropping them and making them again: those that take few of its
    rows (`_FEW_LINKS`; and at the first revision `links_rev`, which takes none).  Each made
    after the rows scans the whole table: at the large synthetic scale the four took 1.5 s of a
    first load's links write on one core.  (A kept index's entries are written as the rows go
    in, between the table's pages: a few pages here, where the revision and target indexes of
    every row, kept, made `sweep --all` map 828 MB of the store instead of 560 MB, c2c70dd.)"""
    return _FEW_LINKS | {"links_rev"} if rev == 1 else _FEW_LINKS


def _let_go(db: sqlite3.Connection) -> None:
    """Give back what a load no longer needs before the graph file, the peak of a large one's
    memory: SQLite's page cache of the store's connection (up to 256 MB) and the free memory of
    the heaps (`give_back_free_memory`: the sorts' helper threads have heaps of their own)."""
    db.execute("PRAGMA shrink_memory")
    give_back_free_memory()


def _links_after(since: int) -> str:
    """The FROM and WHERE of a query of the links written after revision `since` (its one
    parameter).

    `links_rev` leaves out the links of revision 1: the first load that wrote anything, most of
    a store, whose 5.5M links at the large scale took 3.3 s to sort into it.  A query after
    revision 1 or later reads the index (its `rev > 1` lets SQLite use it); one after revision 0
    wants every link anyway and reads the table.  (A store an older cofi made keeps its index of
    every link, which serves the same queries.)"""
    if since >= 1:
        return "links INDEXED BY links_rev WHERE rev > ? AND rev > 1"
    return "links WHERE rev > ?"


def _delete_links(db: sqlite3.Connection, keys: list[LinkKey]) -> int:
    """Delete the links with `keys`; how many there were.  (The same match as the loader's
    `_DROP_LINK`, written out: importing the loader here would add pydantic to every command's
    start-up.)"""
    before = db.total_changes
    db.executemany(
        "DELETE FROM links WHERE source = ? AND target = ? AND type = ? AND role = ? AND since = ?",
        keys,
    )
    return db.total_changes - before


def _caches_shrunk(db: sqlite3.Connection, schemas: tuple[str, ...]) -> None:
    """Let go of the page cache of the staging databases `schemas` (attached to the store's
    connection with 256 MB each: `staging.attach_scratch`) once the write has read what it
    needed of them, and give the memory back: at the xlarge scale the store's process held
    1.1 GB while the link checks' process made the link file beside it (6.9 GB), over the 8 GB
    the load may use."""
    for schema in schemas:
        db.execute(f"PRAGMA {schema}.cache_size = -4096")
    give_back_free_memory()


def _start_writeback(path: Path) -> None:
    """Begin writing the store's file at `path` back to disk (`heap.start_writeback`), so that
    the commit's `fsync` has less left to wait for (the large scale's: 1.2 s -> 0.3 s).  From a
    forked process: closing a descriptor of the file here would drop every POSIX lock this
    process holds on it, SQLite's (a fork inherits none of them)."""
    if not hasattr(os, "fork") or writeback_call() is None:
        return
    with contextlib.suppress(OSError):
        pid = os.fork()
        if pid == 0:  # (no SQLite here: a descriptor of its own, the call, out)
            try:
                start_writeback(os.open(path, os.O_RDONLY))
            finally:
                os._exit(0)
        os.waitpid(pid, 0)


def _names_aside(db: sqlite3.Connection, plan: LoadPlan) -> NamesAside | None:
    """The index of a first load's names to make beside its write (`NamesAside`), when the
    store has no name numbered yet and the plan has enough of them; else None."""
    if db.execute("SELECT 1 FROM name_rows LIMIT 1").fetchone() is not None:
        return None
    (entities,) = db.execute("SELECT count(*) FROM stage_e.ent_ids WHERE ok").fetchone()
    return NamesAside.planned(db, plan, entities)


def _written_unnamed(db: sqlite3.Connection, rev: int, aside: NamesAside) -> int:
    """`_UPSERT_ENTITY` into the empty entities table without the trigger that indexes each
    name, then each numbered in id order, as the trigger would have (the index is made beside,
    by `aside`, begun once the entities are in); the rows written."""
    (trigger,) = db.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'entities_named'"
    ).fetchone()
    db.execute("DROP TRIGGER entities_named")
    written = _bulk_upsert(db, "entities", _UPSERT_ENTITY, (rev,), True)
    aside.begin()
    db.execute("INSERT INTO name_rows (id) SELECT id FROM entities ORDER BY id")
    db.execute(trigger)
    return written


def _no_space(exc: BaseException, directory: Path) -> bool:
    """A write that failed for want of space: SQLite's SQLITE_FULL (a full disk, or the
    database's `max_page_count`), the operating system's ENOSPC, or SQLite's I/O error while
    the disk holding the store has no room left (it cannot grow its shared-memory file)."""
    if isinstance(exc, OSError):
        return exc.errno == errno.ENOSPC
    if not isinstance(exc, sqlite3.Error):
        return False
    code = getattr(exc, "sqlite_errorcode", 0)
    if code == sqlite3.SQLITE_FULL:
        return True
    if code & 0xFF != sqlite3.SQLITE_IOERR:
        return False
    try:
        return shutil.disk_usage(directory).free < 1 << 20
    except OSError:
        return False


def _stats_counts(db: sqlite3.Connection, links: FileLinks | None) -> dict[str, Any]:
    """Entities by kind, links by type and distinct identifier values by kind, with the revision
    they were counted at (in one read transaction, the caller's or this one's)."""
    with contextlib.ExitStack() as stack:
        if not db.in_transaction:
            db.execute("BEGIN")
            stack.callback(db.execute, "COMMIT")
        return {
            "rev": int(db.execute("SELECT value FROM meta WHERE key = 'rev'").fetchone()[0]),
            "entities": dict(db.execute("SELECT kind, count(*) FROM entities GROUP BY kind")),
            "links": {
                **dict(db.execute("SELECT type, count(*) FROM links GROUP BY type")),
                **(links.counts() if links is not None else {}),
            },
            "identifiers": dict(
                db.execute(
                    "SELECT kind, count(*) FROM (SELECT DISTINCT kind, key FROM contacts) "
                    "GROUP BY kind"
                )
            ),
        }


def _decided_of(links: FileLinks) -> Iterator[tuple[str, str]]:
    """Each contract with DECIDED links, and them as the JSON of [record, role] pairs."""
    contracts = sorted({row[1] for row in links.of_types(("DECIDED",))})
    yield from links.deciders_json(contracts).items()


def _schema_version(db: sqlite3.Connection) -> str | None:
    try:
        row = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    except sqlite3.OperationalError:  # no meta table: a new store
        return None
    return row[0] if row else None


def _count(db: sqlite3.Connection, table: str) -> int:
    row = db.execute(f"SELECT count(*) FROM {table}").fetchone()
    return int(row[0])
