"""Step 1 of a load (`cofi.loader`): every row checked on its own and appended to a staging
SQLite database, by one reader process per core, each validating its share of the rows (runs of
10,000, or byte ranges of a CSV file: `bundle.Part`): the pydantic shape of the row, a calendar
day, a link type in the vocabulary, a FAMILY role (a CSV row valid beyond doubt by a check of its
cells, `model.link_cells` and `model.entity_cells`, skips pydantic); then the record a store
writes (search key, normalised contact keys, IIN/BIN check).  With more than one reader, a
bundle's CSV files of links and of entities are each staged by whole columns, largest first, by
the same processes before their shares of the other rows (`cofi.link_columns`,
`cofi.entity_columns`).
Two files: the link rows in one (`stage_link.link`), everything else in the other (`stage`), so
that the processes staging a bundle's links and its entities side by side do not wait for each
other's writes (`Stage`); for a store that keeps a link file, the link rows of its types that
are staged by columns are kept as Arrow columns instead (`Stage.as_columns`).
The readers count their rows in one shared counter, made before they fork (`_COUNTER`), for the
progress bar.
"""

from __future__ import annotations

import json
import multiprocessing
import sqlite3
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any, NamedTuple

from cofi.bundle import NOTE, Misplit, Part, RawRow
from cofi.importers import InputFile, read_input
from cofi.model import entity_cells, link_cells, validate_row
from cofi.normalize import normalize_contact, registry_key, search_key, valid_iin_bin
from cofi.records import props_json
from cofi.sorting import SORT_RUN
from cofi.vocab import DECLARATION_LINK, IDENTIFIER_HOLDERS, IDENTIFIER_KINDS, STRONG_ID_FIELD, Kind

BATCH = 10_000
"""Rows a reader validates before it appends them to the staging databases (and counts them)."""
CONTACT_FIELDS = tuple((k.value, k) for k in IDENTIFIER_KINDS)
_KINDS = {k.value: k for k in Kind}
ENTITY_FILES = {k.value: k for k in (Kind.PERSON, Kind.AGENCY, Kind.COMPANY, Kind.CONTRACT)}
"""The kinds of a bundle's CSV files of entities (`entity_cells`)."""
_COLUMN_FILES = frozenset(("link", *ENTITY_FILES))
"""The kinds of a bundle's CSV files staged by whole columns (with more than one reader)."""


def failed_check(field: str, value: str) -> str:
    """The warning about an IIN or BIN (`field`) that fails its check."""
    return f"{value!r} fails the {field.upper()} check; kept, not used to match records"


def not_registry_id(value: str) -> str:
    """The warning about a `registry_id` that is not one."""
    return f"{value!r} is not SCHEME:value (e.g. GB-COH:06436883); kept, not used to match records"


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
CREATE TABLE stage_link.link (
    seq INTEGER PRIMARY KEY, source TEXT, target TEXT, type TEXT, role TEXT, since TEXT,
    share REAL, until TEXT, source_ref TEXT, fno INTEGER, line INTEGER
);
CREATE TABLE stage.rej (fno INTEGER, line INTEGER, field TEXT, reason TEXT, row TEXT);
CREATE TABLE stage.badid (id TEXT);
CREATE TABLE stage.warn (seq INTEGER, id TEXT, fno INTEGER, line INTEGER, field TEXT, reason TEXT);
"""


class Stage(NamedTuple):
    """The staging databases the readers write: `rows` (schema `stage`: the entity rows, their
    contacts and contracts, the rejects and warnings) and `links` (schema `stage_link`: the link
    rows).  (With one file, the process staging the large scale's people waited 2.9 s of its
    10.1 s for the appends of the process staging its links beside it: 6.1 s with two.)

    `as_columns`: the link types whose rows, when a CSV file of links is staged by columns
    (`cofi.link_columns`), are kept as Arrow columns only (`link_columns`), not in `links`: the
    link file's types, for a store that keeps one (its link checks read them as columns); none
    for any other store, which reads every link row from `links`.  Every other link row is in
    `links`: `loader._staged_link_rows` reads a row wherever it is."""

    rows: Path
    links: Path
    as_columns: frozenset[str] = frozenset()

    @property
    def databases(self) -> dict[str, Path]:
        """The files by schema name."""
        return {"stage": self.rows, "stage_link": self.links}

    def of(self, table: str) -> str:
        """The schema-qualified name of the staging table `table`."""
        return f"stage_link.{table}" if table == "link" else f"stage.{table}"

    def link_columns(self, number: int) -> Path:
        """Where the file of links `number` (its `fno`), staged by columns, leaves its rows of
        the types `as_columns` as Arrow columns (`cofi.link_columns`)."""
        return link_columns_of(self.links, number)

    def link_column_files(self) -> list[Path]:
        """The files `link_columns` names."""
        return link_column_files(self.links)


def link_columns_of(links: Path, number: int) -> Path:
    """`Stage.link_columns` of the staging database `links`."""
    return links.with_name(f"{links.stem}-{number}.arrow")


def link_column_files(links: Path) -> list[Path]:
    """The staged link rows kept as Arrow columns beside the staging database `links`
    (`Stage.link_columns`), in the order of their files (so of their rows' `seq`)."""
    files = links.parent.glob(f"{links.stem}-*.arrow")
    return sorted(files, key=lambda p: int(p.stem.rsplit("-", 1)[1]))


def scratch(databases: dict[str, Path]) -> sqlite3.Connection:
    """A connection with `databases` (schema name -> file) attached as scratch databases."""
    db = sqlite3.connect(":memory:", isolation_level=None, timeout=3600)
    # A sort (grouping the links by key) keeps this much in memory and spills the rest to
    # temporary files: with `temp_store = MEMORY` it held all of it (over 5 GB for 55M links);
    # on 6M rows the bounded sort was faster too (16.6 s, 269 MB against 23.5 s, 470 MB).  Smaller
    # runs sort faster still (`cofi.sorting`).
    db.execute(f"PRAGMA cache_size = {SORT_RUN}")
    attach_scratch(db, databases)
    return db


def attach_scratch(db: sqlite3.Connection, databases: dict[str, Path]) -> None:
    """Attach `databases`: no journal, no fsync, a large cache, 16 KB pages when new."""
    for schema, path in databases.items():
        db.execute(f"ATTACH DATABASE ? AS {schema}", (str(path),))
        for pragma in ("page_size = 16384", "journal_mode = OFF", "synchronous = OFF",
                       "cache_size = -262144"):  # fmt: skip
            db.execute(f"PRAGMA {schema}.{pragma}")


def stage_rows(
    files: list[InputFile], stage: Stage, workers: int, progress: Callable[[int], None] | None
) -> int:
    """Stage every row into new staging databases `stage`; the number of rows read."""
    _new_stage(stage, files)
    if workers <= 1:
        return _stage_part(files, stage, Part(), progress)
    global _COUNTER
    ctx = multiprocessing.get_context("fork")
    _COUNTER = counter = ctx.Value("q", 0)  # inherited by the forked readers
    # A bundle's CSV files of links and entities are each staged by whole columns, the longest
    # to stage first (`_STAGING_COST`), by the same processes, before they read their shares of
    # the other rows.  (With a process for each such file beside the readers, five processes
    # shared two cores: the file of links, the longest, took 17.8 s of the large scale's
    # 18.4 s, against 8.6 s alone.)
    aside = sorted((i for i, f in enumerate(files)
                    if f.format == "bundle" and f.kind in _COLUMN_FILES),
                   key=lambda i: -_staging_cost(files[i]))  # fmt: skip
    skip = frozenset(files[i].path for i in aside)
    if aside:  # (pyarrow imported once, before the processes fork, not once in each)
        import cofi.entity_columns  # noqa: F401
    with ctx.Pool(workers) as pool:
        results = [pool.apply_async(_columns_worker, (files, i, stage)) for i in aside] + [
            pool.apply_async(_stage_worker, (files, stage, Part(w, workers, BATCH), skip))
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


_STAGING_COST = {"link": 1.0, "person": 3.0, "agency": 3.0, "company": 3.4, "contract": 4.3}
"""The CPU a byte of a CSV file of each kind takes to stage by columns, against a byte of
links: measured on the large synthetic bundle's files staged alone (per 100 MB: links 1.36 s,
people 4.1 s, companies 4.6 s, contracts 5.9 s; a short row costs more a byte).  The files
are begun longest first, so that the two processes end together: by size, the companies'
(54 MB) went before the contracts' (51 MB), and the process that had the people's took the
contracts' too, ending 1.3 s after the other."""


def _staging_cost(file: InputFile) -> float:
    return file.path.stat().st_size * _STAGING_COST.get(file.kind or "", 1.0)


def _new_stage(stage: Stage, files: list[InputFile]) -> None:
    for path in [stage.rows, stage.links, *stage.link_column_files()]:
        path.unlink(missing_ok=True)
    with closing(scratch(stage.databases)) as db:
        db.executescript(_STAGE_SCHEMA)
        db.executemany(
            "INSERT INTO stage.files VALUES (?, ?)", enumerate(str(f.path) for f in files)
        )


_COUNTER: Any = None


def _count(n: int) -> None:
    with _COUNTER.get_lock():
        _COUNTER.value += n


def _stage_worker(files: list[InputFile], stage: Stage, part: Part, skip: frozenset[Path]) -> int:
    return _stage_part(files, stage, part, _count, skip)


def _columns_worker(files: list[InputFile], number: int, stage: Stage) -> int:
    """Stage the CSV file of links or entities `files[number]` by whole columns, or else with
    the csv module (`cofi.link_columns`, `cofi.entity_columns`)."""
    if files[number].kind == "link":
        from cofi.link_columns import stage_link_file as stage_file
    else:
        from cofi.entity_columns import stage_entity_file as stage_file

    try:
        rows = stage_file(files, number, stage, _count)
    except Exception as exc:  # (ADBC's errors do not unpickle: the pool would wait forever)
        raise RuntimeError(f"{files[number].path}: {type(exc).__name__}: {exc}") from None
    if rows is not None:
        return rows
    others = frozenset(f.path for i, f in enumerate(files) if i != number)
    return _stage_part(files, stage, Part(), _count, others)


def _stage_part(
    files: list[InputFile],
    stage: Stage,
    part: Part,
    progress: Callable[[int], None] | None,
    skip: frozenset[Path] = frozenset(),
) -> int:
    """Validate `part`'s share of the rows (but those of the files at the paths `skip`) into the
    staging databases; the rows read."""
    with closing(scratch(stage.databases)) as db:
        fno = {name: i for i, name in db.execute("SELECT fno, name FROM stage.files")}
        out = Staged(db, fno, progress)
        for raw in read_input(files, part, out.taker, skip):
            out.add(raw)
        out.flush()
        return out.rows


class Staged:
    """Validated rows waiting to be appended to the staging databases."""

    def __init__(
        self, db: sqlite3.Connection, fno: dict[str, int], progress: Callable[[int], None] | None
    ) -> None:
        self.db, self.fno, self.progress = db, fno, progress
        self.rows = 0
        """Rows read (not notes)."""
        self.pending = 0
        """Rows read since the last flush."""
        self.ent: list[tuple[Any, ...]] = []
        self.contract: list[tuple[Any, ...]] = []
        self.contact: list[tuple[Any, ...]] = []
        self.link: list[tuple[Any, ...]] = []
        self.rej: list[tuple[Any, ...]] = []
        self.badid: list[tuple[str]] = []
        self.warn: list[tuple[Any, ...]] = []

    def taker(
        self, name: str, kind: str, header: list[str]
    ) -> Callable[[list[str], int, int], bool] | None:
        """Takes the rows of a CSV file that are valid beyond doubt by a check of their cells
        (`link_cells`, `entity_cells`), without the `RawRow` and pydantic of the row's way
        through `add`."""
        fno = self.fno[name]
        if kind != "link":
            if kind not in ENTITY_FILES:
                return None
            entity_kind, quick = ENTITY_FILES[kind], entity_cells(kind, header)

            def take_entity(row: list[str], line: int, seq: int) -> bool:
                data = quick(row)
                if data is None:
                    return False
                self._entity(entity_kind, data, fno, seq, line, ())
                self._took()
                return True

            return take_entity
        cells, link = link_cells(header), self.link

        def take(row: list[str], line: int, seq: int) -> bool:
            valid = cells(row)
            if valid is None:
                return False
            link.append((seq, *valid, fno, line))
            self._took()
            return True

        return take

    def _took(self) -> None:
        """Count a row a taker took (flushing every `BATCH`)."""
        self.pending += 1
        if self.pending >= BATCH:
            self.flush()

    def add(self, raw: RawRow) -> None:
        fno = self.fno[raw.file]
        if raw.kind == NOTE:
            self.warn.extend((raw.seq, None, fno, raw.line, f, r) for f, r in raw.notes)
            return
        if self.pending >= BATCH:
            self.flush()
        self.pending += 1
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
        self._entity(_KINDS[raw.kind], row, fno, raw.seq, raw.line, raw.notes)

    def _entity(
        self,
        kind: Kind,
        row: dict[str, Any],
        fno: int,
        seq: int,
        line: int,
        notes: tuple[tuple[str, str], ...],
    ) -> None:
        eid = row.pop("id")
        name = (row.get("title") or eid) if kind is Kind.CONTRACT else row.pop("name")
        strong_field = STRONG_ID_FIELD.get(kind)
        strong = row.get(strong_field, "") if strong_field else ""
        if strong_field and strong and not valid_iin_bin(strong):
            self.warn.append(
                (seq, eid, fno, line, strong_field, failed_check(strong_field, strong))
            )
            strong = ""
        registry = row.get("registry_id")
        if registry and not strong:
            strong = registry_key(registry) or ""
            if not strong:
                self.warn.append((seq, eid, fno, line, "registry_id", not_registry_id(registry)))
        if notes:
            self.warn.extend((seq, eid, fno, line, f, r) for f, r in notes)
        if kind in IDENTIFIER_HOLDERS:
            for ident, ident_kind in CONTACT_FIELDS:
                value = row.get(ident)
                if value and (key := normalize_contact(ident_kind, value)):
                    self.contact.append((seq, eid, ident, key, value))
        aliases = row.get("aliases")
        skey = search_key(name)
        if aliases:
            skey = " | ".join([skey, *map(search_key, aliases)])
        self.ent.append((seq, eid, kind.value, name, props_json(row), strong, skey, fno,
                         line))  # fmt: skip
        if kind is Kind.CONTRACT:
            self.contract.append((seq, row["buyer_id"], row["supplier_id"], row["signed_on"],
                                  row.get("value", "")))  # fmt: skip

    def _reject(self, fno: int, raw: RawRow, problems: list[tuple[str, str]]) -> None:
        data = json.dumps(raw.data, ensure_ascii=False, default=str)
        self.rej.extend((fno, raw.line, f, r, data) for f, r in problems)

    def flush(self) -> None:
        """Append the rows waiting to the staging databases (and count them)."""
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        db.executemany("INSERT INTO stage.ent VALUES (?,?,?,?,?,?,?,?,?)", self.ent)
        # An absent number is staged as '' and stored as NULL: sqlite3 binds None slowly.
        db.executemany("INSERT INTO stage.contract VALUES (?,?,?,?,nullif(?, ''))", self.contract)
        db.executemany("INSERT INTO stage.contact VALUES (?,?,?,?,?)", self.contact)
        db.executemany(
            "INSERT INTO stage_link.link VALUES (?,?,?,?,?,?,nullif(?, ''),?,?,?,?)", self.link
        )
        db.executemany("INSERT INTO stage.rej VALUES (?,?,?,?,?)", self.rej)
        db.executemany("INSERT INTO stage.badid VALUES (?)", self.badid)
        db.executemany("INSERT INTO stage.warn VALUES (?,?,?,?,?,?)", self.warn)
        db.execute("COMMIT")
        for rows in (self.ent, self.contract, self.contact, self.link, self.rej, self.badid,
                     self.warn):  # fmt: skip
            rows.clear()
        self.rows += self.pending
        if self.progress is not None:
            self.progress(self.pending)
        self.pending = 0
