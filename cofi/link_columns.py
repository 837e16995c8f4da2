"""A bundle's CSV file of links staged column by column by one of the readers' processes, before
its share of the other rows (`staging.stage_rows`, with more than one reader).

The reader of `staging` spends about 10 µs of Python on each link row (the csv module, the
checks of `model.link_cells`, an `executemany` into the staging database): 54 s of CPU for the
5.5M links of the large synthetic scale.  Here pyarrow reads the file in C++, the same checks run
on whole columns (each distinct type and role, day and share through `link_cells` itself, so
the rules are the same by construction), and the rows that pass are kept without a Python object
per row: those of the types `Stage.as_columns` (a link file's, for a store that keeps one) as
Arrow columns in a file of their own (`Stage.link_columns`), the others appended to the staging
database by ADBC's SQLite driver.  Every other row (a cell with a quote,
space at either end, a character outside printable ASCII, or anything `link_cells` doubts) goes
through Python's csv module and `staging`'s own path, one by one, as before.  A file whose lines
are not each one row of the header's width (a newline or a comma inside quotes, another number
of cells, not UTF-8) is read by that path whole: it says what is wrong, where.  Memory holds a
block of the file (4 MB), not the file.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import adbc_driver_sqlite.dbapi as adbc
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from cofi.bundle import SEQ_PER_FILE, csv_rows, line_count, read_header
from cofi.importers import InputFile
from cofi.model import COLUMNS, ID_CHARS, TEXT_CHARS, LinkCells, link_cells
from cofi.staging import Stage, Staged, scratch

_PLAIN = r"^(?:[!#-~](?:[ !#-~]*[!#-~])?)?$"
"""A cell taken as it is written: printable ASCII but the double quote, no space at either end
(`str.strip` leaves it as it is, and no quoting can have changed it).  (`_plain` checks it.)"""
_SEP = "\x1f"
"""Joins a type and a role (never in a plain cell)."""
_PRAGMAS = ("busy_timeout = 3600000", "journal_mode = OFF", "synchronous = OFF",
            "cache_size = -262144")  # fmt: skip
"""A wait for the readers' writes as long as theirs (first: setting the journal takes a lock,
and failed at once while a reader committed), then the staging database's settings
(`staging.attach_scratch`)."""
_BLOCK = 1 << 22
"""Bytes of the file read, checked and appended at a time (about 115,000 link rows).  Memory
holds a block, not the file: staging 1M links that all went the csv module's way peaked at 379 MB
(820 MB with 16 MB blocks), and the 5.5M plain links of the large scale took 25.1 s of CPU
(24.0 s with 16 MB blocks)."""


def stage_link_file(
    files: list[InputFile], number: int, stage: Stage, progress: Callable[[int], None] | None
) -> int | None:
    """Stage the rows of the bundle's CSV file of links `files[number]` into the staging
    databases `stage`, a block of the file at a time; the rows read, or None when the file's
    lines are not each one row (the caller then reads it with the csv module)."""
    path = files[number].path
    header = read_header(path, "link")
    if header is None:
        return None
    base, name = number * SEQ_PER_FILE, str(path)
    with closing(scratch(stage.databases)) as db:
        (fno,) = db.execute("SELECT fno FROM stage.files WHERE name = ?", (name,)).fetchone()
    if fno != number:  # (`staging._new_stage` numbers the files in order)
        raise RuntimeError(f"{name}: staged as file {fno}, not {number}")
    rules = _Rules(header)
    read = staged = 0
    as_columns = pa.array(sorted(stage.as_columns), pa.string())
    columns = stage.link_columns(number)
    sink = pa.OSFile(str(columns), "wb")
    writer = None
    try:
        for batch in _blocks(path, len(header)):
            table = pa.Table.from_batches([batch])
            n = table.num_rows
            lines = np.arange(read + 2, read + 2 + n, dtype=np.int64)
            line = pa.array(lines)
            read += n
            column = rules.columns(table)
            fast, shares = rules.fast(column)
            odd = _rows(table, line, pc.invert(fast))
            if odd is None:
                raise Declined
            kinds = pc.ascii_upper(column["type"])
            kept = pc.is_in(kinds, value_set=as_columns)
            rows = {
                "seq": pa.array(lines + base), "source": column["source"],
                "target": column["target"], "type": kinds, "role": column["role"],
                "since": column["since"], "share": shares, "until": column["until"],
                "source_ref": column["source_ref"],
            }  # fmt: skip
            # (each row taken once: as Arrow columns, or into the staging database)
            in_database = pc.and_(fast, pc.invert(kept))
            if pc.any(in_database).as_py():
                fnos = pa.array(np.full(n, fno, np.int64))
                append(stage.links, {"link": pa.table({**rows, "fno": fnos, "line": line})
                                     .filter(in_database)})  # fmt: skip
            taken = pc.sum(fast).as_py() or 0
            if len(as_columns):
                chosen = pa.table(rows).filter(pc.and_(fast, kept))
                if writer is None:
                    writer = pa.ipc.new_stream(sink, chosen.schema)
                writer.write_table(chosen)
            staged += taken
            if progress is not None:
                progress(taken)
            staged += stage_odd(stage, (name, fno, "link", header, base), odd, progress)
        if read != line_total(path) - 1:
            raise Declined
    except (Declined, pa.ArrowInvalid):
        take_out(stage, ("link",), (base, fno), staged, progress)
        _closed(writer, sink)
        columns.unlink(missing_ok=True)
        return None
    except BaseException:
        _closed(writer, sink)
        columns.unlink(missing_ok=True)
        raise
    _closed(writer, sink)
    if writer is None:  # (no row taken this way)
        columns.unlink(missing_ok=True)
    return staged


COLUMN_NAMES = ["seq", "source", "target", "type", "role", "since", "share", "until",
                "source_ref"]  # fmt: skip
"""The columns of the staged link rows kept as Arrow columns (`Stage.link_columns`: the rows
of the types `Stage.as_columns`, instead of in SQLite).  A row's file is the stream's number
and its line is `seq` less the file's first `seq`.  The link checks read them there
(`loader._staged_file_links`): 5.6M rows took 5.6-5.9 s of CPU to append to SQLite and 5.0-5.5 s
to read back (`benchmarks/link_stage.py`), 0.15 s to read as columns."""


def _closed(writer: Any, sink: Any) -> None:
    if writer is not None:
        writer.close()
    sink.close()


FileOf = tuple[str, int, str, list[str], int]
"""A file being staged: its name, number in the staging database, kind, header and first `seq`
(`SEQ_PER_FILE` times its place among the files)."""


def stage_odd(
    stage: Stage,
    file: FileOf,
    odd: list[tuple[int, list[str]]],
    progress: Callable[[int], None] | None,
) -> int:
    """Stage the rows `odd` (each with its line) of `file` the csv module's way (`staging`'s
    own); the rows read.  (Never on a connection of the other SQLite library at the same
    time.)"""
    if not odd:
        return 0
    name, fno, kind, header, base = file
    with closing(scratch(stage.databases)) as db:
        out = Staged(db, {name: fno}, progress)
        take = out.taker(name, kind, header)
        for raw in csv_rows(name, kind, header, odd, base, take):
            out.add(raw)
        out.flush()
    return out.rows


def take_out(
    stage: Stage,
    tables: tuple[str, ...],
    file: tuple[int, int],
    staged: int,
    progress: Callable[[int], None] | None,
) -> None:
    """Take what was staged of a file (first `seq` and number `file`) out of the staging
    databases' `tables` and their rejects and warnings, and its `staged` rows out of the
    count."""
    base, fno = file
    with closing(scratch(stage.databases)) as db:
        for table in tables:
            db.execute(f"DELETE FROM {stage.of(table)} WHERE seq >= ? AND seq < ?",
                       (base, base + SEQ_PER_FILE))  # fmt: skip
        for table in ("rej", "warn"):
            db.execute(f"DELETE FROM {stage.of(table)} WHERE fno = ?", (fno,))
    if progress is not None and staged:
        progress(-staged)


class Declined(Exception):
    """The file is read the csv module's way."""


def _blocks(path: Path, width: int) -> Iterator[pa.RecordBatch]:
    """The cells of the CSV file at `path` after its header, a block at a time, one row per
    line, in columns c0, c1, …; raises `pa.ArrowInvalid` at a line that is not a row of `width`
    cells (quotes are read as characters)."""
    names = [f"c{i}" for i in range(width)]
    yield from pcsv.open_csv(
        path,
        read_options=pcsv.ReadOptions(skip_rows=1, column_names=names, block_size=_BLOCK),
        parse_options=pcsv.ParseOptions(
            quote_char=False, newlines_in_values=False, ignore_empty_lines=False
        ),
        convert_options=pcsv.ConvertOptions(
            column_types=dict.fromkeys(names, pa.string()), strings_can_be_null=False
        ),
    )


def line_total(path: Path) -> int:
    """The lines of the file at `path` (the last one with or without its newline)."""
    with path.open("rb") as fh:
        fh.seek(-1, 2)
        ended = fh.read(1) == b"\n"
    return line_count(path) + (0 if ended else 1)


class _Rules:
    """`link_cells` on whole columns: the verdicts on each distinct type and role, day and share
    kept from block to block."""

    def __init__(self, header: list[str]) -> None:
        self.cells, self.width = link_cells(header), len(header)
        self.at = {c: i for i, c in enumerate(header)}
        self.pairs: dict[str, bool] = {}
        self.days: dict[str, dict[str, bool]] = {"since": {}, "until": {}}
        self.shares: dict[str, float | None] = {}
        """The shares taken, each as its number (None: no share)."""
        self.refused: set[str] = set()
        """The shares `link_cells` does not take."""
        self.valid: tuple[str, str] | None = None
        """A type and a role that `link_cells` takes (for rows that are valid but for one cell)."""

    def columns(self, table: pa.Table) -> dict[str, Any]:
        blank = pa.repeat(pa.scalar("", pa.string()), table.num_rows)
        return {c: table.column(self.at[c]) if c in self.at else blank for c in COLUMNS["link"]}

    def _takes(self, **values: str) -> LinkCells | None:
        """What `link_cells` makes of a row of `values` with valid ends."""
        made = [""] * self.width
        for c, v in {"source": "a", "target": "b", **values}.items():
            if c in self.at:
                made[self.at[c]] = v
        return self.cells(made)

    def fast(self, column: dict[str, Any]) -> tuple[Any, Any]:
        """Which rows `link_cells` finds valid beyond doubt, and their shares as numbers."""
        ok = pc.not_equal(column["source"], column["target"])
        for c in COLUMNS["link"]:
            ok = pc.and_(ok, _plain(column[c]))
        for end in ("source", "target"):
            length = pc.utf8_length(column[end])
            ok = pc.and_(ok, pc.and_(pc.greater(length, 0), pc.less_equal(length, ID_CHARS)))
        ok = pc.and_(ok, pc.less_equal(pc.utf8_length(column["source_ref"]), TEXT_CHARS))
        pairs = pc.binary_join_element_wise(column["type"], column["role"], _SEP)
        for pair in pc.unique(pc.filter(pairs, ok)).to_pylist():
            if pair not in self.pairs:
                kind, role = pair.split(_SEP)
                self.pairs[pair] = taken = self._takes(type=kind, role=role) is not None
                if taken and self.valid is None:
                    self.valid = kind, role
        good = [p for p, taken in self.pairs.items() if taken]
        ok = pc.and_(ok, pc.is_in(pairs, value_set=pa.array(good, pa.string())))
        if self.valid is None:  # (no row of a type and role taken yet: none is taken)
            return ok, pa.nulls(len(pairs), pa.float64())
        kind, role = self.valid
        for c in ("since", "until"):
            seen = self.days[c]
            for day in pc.unique(pc.filter(column[c], ok)).to_pylist():
                if day not in seen:
                    seen[day] = self._takes(type=kind, role=role, **{c: day}) is not None
            days = [d for d, taken in seen.items() if taken]
            ok = pc.and_(ok, pc.is_in(column[c], value_set=pa.array(days, pa.string())))
        since, until = column["since"], column["until"]
        ordered = pc.or_(pc.or_(pc.equal(since, ""), pc.equal(until, "")),
                         pc.greater_equal(until, since))  # fmt: skip
        ok = pc.and_(ok, ordered)
        for text in pc.unique(pc.filter(column["share"], ok)).to_pylist():
            if text not in self.shares and text not in self.refused:
                made = self._takes(type=kind, role=role, share=text)
                if made is None:
                    self.refused.add(text)
                else:
                    self.shares[text] = None if made[5] == "" else float(made[5])
        place = pc.index_in(column["share"], value_set=pa.array(list(self.shares), pa.string()))
        ok = pc.and_(ok, pc.is_valid(place))
        return ok, pc.take(pa.array(list(self.shares.values()), pa.float64()), place)


def _plain(cells: Any) -> Any:
    """Which of `cells` match `_PLAIN`: when every byte of every cell is printable ASCII but
    the double quote (numpy's look at the bytes of the column at once), a cell is plain unless
    its first or last byte is a space; else by four plain tests of each cell (the regular
    expression took three times as long).  (The large scale's 5.5M links: 0.44 s against
    0.93 s for the eight columns.  A test holds both ways to the regular expression.)"""
    if isinstance(cells, pa.ChunkedArray):
        cells = cells.combine_chunks()
    _, offsets, data = cells.buffers()
    ends = np.frombuffer(offsets, np.int32)[cells.offset : cells.offset + len(cells) + 1]
    raw = np.frombuffer(data, np.uint8) if data is not None else np.zeros(0, np.uint8)
    used = raw[ends[0] : ends[-1]]
    if bool(((used - 0x20) < 0x5F).all()) and not bool((used == 0x22).any()):
        first, last = np.full(len(cells), 0x21, np.uint8), np.full(len(cells), 0x21, np.uint8)
        filled = ends[1:] > ends[:-1]
        first[filled], last[filled] = raw[ends[:-1][filled]], raw[ends[1:][filled] - 1]
        return pa.array((first != 0x20) & (last != 0x20))
    quoted_or_spaced = pc.or_(
        pc.match_substring(cells, '"'), pc.or_(pc.starts_with(cells, " "), pc.ends_with(cells, " "))
    )
    return pc.and_(pc.ascii_is_printable(cells), pc.invert(quoted_or_spaced))


def _rows(table: pa.Table, line: Any, chosen: Any) -> list[tuple[int, list[str]]] | None:
    """The `chosen` rows as Python's csv module reads their lines, each with its line; None
    when it finds one malformed (then the whole file is read by it, which says where)."""
    picked = table.append_column("line", line).filter(chosen)
    if not picked.num_rows:
        return []
    *cells, lines = (picked.column(i).to_pylist() for i in range(picked.num_columns))
    return csv_lines(zip(lines, map(",".join, zip(*cells, strict=True)), strict=True))


def csv_lines(lines: Iterable[tuple[int, str]]) -> list[tuple[int, list[str]]] | None:
    """Each line (with its number) as Python's csv module reads it; None when it finds one
    malformed (then the whole file is read by it, which says where)."""
    try:
        return [(n, next(csv.reader([text], strict=True))) for n, text in lines]
    except csv.Error:
        return None


def append(stage: Path, tables: dict[str, pa.Table]) -> None:
    """Append the rows of `tables` (by its table names) to the staging database at `stage`, in
    one transaction (the readers append theirs in between blocks)."""
    tables = {name: rows for name, rows in tables.items() if rows.num_rows}
    if not tables:
        return
    with closing(adbc.connect(str(stage), autocommit=True)) as con, closing(con.cursor()) as cur:
        for pragma in _PRAGMAS:
            cur.execute(f"PRAGMA {pragma}")
        cur.execute("BEGIN IMMEDIATE")
        for name, rows in tables.items():
            cur.adbc_ingest(name, rows, mode="append")
        cur.execute("COMMIT")
