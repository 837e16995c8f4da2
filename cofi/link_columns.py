"""A bundle's CSV file of links staged column by column, in a process of its own beside the
readers of the other files (`staging.stage_rows`, with more than one reader).

The reader of `staging` spends about 10 µs of Python on each link row (the csv module, the
checks of `model.link_cells`, an `executemany` into the staging database): 54 s of CPU for the
5.5M links of the large synthetic scale.  Here pyarrow reads the file in C++, the same checks run
on whole columns (each distinct type and role, day and share through `link_cells` itself, so
the rules are the same by construction), and ADBC's SQLite driver appends the rows that pass to
the staging database without a Python object per row.  Every other row (a cell with a quote,
space at either end, a character outside printable ASCII, or anything `link_cells` doubts) goes
through Python's csv module and `staging`'s own path, one by one, as before.  A file whose lines
are not each one row of the header's width (a quoted newline, a blank line, another number of
cells, not UTF-8) is read by that path whole: it says what is wrong, where.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import adbc_driver_sqlite.dbapi as adbc
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from cofi.bundle import SEQ_PER_FILE, csv_rows, line_count, read_header
from cofi.importers import InputFile
from cofi.model import COLUMNS, LINK_ID_CHARS, LINK_TEXT_CHARS, link_cells
from cofi.staging import BATCH, _Staged, scratch

_PLAIN = r"^(?:[!#-~](?:[ !#-~]*[!#-~])?)?$"
"""A cell taken as it is written: printable ASCII but the double quote, no space at either end
(`str.strip` leaves it as it is, and no quoting can have changed it)."""
_SEP = "\x1f"
"""Joins a type and a role (never in a plain cell)."""
_PRAGMAS = ("journal_mode = OFF", "synchronous = OFF", "busy_timeout = 3600000",
            "cache_size = -262144")  # fmt: skip
"""The staging database's settings (`staging.attach_scratch`), and a wait for the readers'
writes as long as theirs."""
_INGEST = 10 * BATCH
"""Rows appended per transaction (the readers append theirs in between)."""


def stage_link_file(
    files: list[InputFile], number: int, stage: Path, progress: Callable[[int], None] | None
) -> int | None:
    """Stage the rows of the bundle's CSV file of links `files[number]` into the staging
    database at `stage`; the rows read, or None when the file's lines are not each one row (the
    caller then reads it with the csv module)."""
    path = files[number].path
    header = read_header(path, "link")
    table = _read(path, len(header)) if header else None
    if header is None or table is None:
        return None
    base, name = number * SEQ_PER_FILE, str(path)
    at = {c: i for i, c in enumerate(header)}
    n = table.num_rows
    blank = pa.repeat(pa.scalar("", pa.string()), n)
    column = {c: table.column(at[c]) if c in at else blank for c in COLUMNS["link"]}
    fast, shares = _fast(header, at, column)
    rest = _rows(table, pc.invert(fast))
    if rest is None:
        return None
    with closing(scratch({"stage": stage})) as db:
        (fno,) = db.execute("SELECT fno FROM stage.files WHERE name = ?", (name,)).fetchone()
    line = pa.array(range(2, n + 2), pa.int64())
    chosen = pa.table({
        "seq": pc.add(line, base), "source": column["source"], "target": column["target"],
        "type": pc.ascii_upper(column["type"]), "role": column["role"],
        "since": column["since"], "share": shares, "until": column["until"],
        "source_ref": column["source_ref"], "fno": pa.repeat(pa.scalar(fno, pa.int64()), n),
        "line": line,
    }).filter(fast)  # fmt: skip
    _append(stage, chosen)
    if progress is not None:
        progress(chosen.num_rows)
    with closing(scratch({"stage": stage})) as db:
        out = _Staged(db, {name: fno}, progress)
        for raw in csv_rows(name, "link", header, rest, base, out.taker(name, "link", header)):
            out.add(raw)
        out.flush()
    return int(chosen.num_rows) + out.rows


def _read(path: Path, width: int) -> pa.Table | None:
    """The cells of the CSV file at `path` after its header, one row per line, in columns c0,
    c1, …; None unless every line is a row of `width` cells (quotes are read as characters)."""
    names = [f"c{i}" for i in range(width)]
    try:
        table = pcsv.read_csv(
            path,
            read_options=pcsv.ReadOptions(skip_rows=1, column_names=names, block_size=1 << 24),
            parse_options=pcsv.ParseOptions(
                quote_char=False, newlines_in_values=False, ignore_empty_lines=False
            ),
            convert_options=pcsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()), strings_can_be_null=False
            ),
        )
    except pa.ArrowInvalid:
        return None
    with path.open("rb") as fh:
        fh.seek(-1, 2)
        ended = fh.read(1) == b"\n"
    lines = line_count(path) + (0 if ended else 1)
    return table if table.num_rows == lines - 1 else None


def _fast(
    header: list[str], at: dict[str, int], column: dict[str, Any]
) -> tuple[pa.ChunkedArray, pa.ChunkedArray]:
    """Which rows `link_cells` finds valid beyond doubt, and their shares as numbers."""
    cells = link_cells(header)
    width = len(header)

    def row(**values: str) -> list[str]:
        made = [""] * width
        for c, v in values.items():
            if c in at:
                made[at[c]] = v
        return made

    ok = pc.and_(*(pc.match_substring_regex(column[c], _PLAIN) for c in ("source", "target")))
    for c in ("type", "role", "share", "since", "until", "source_ref"):
        ok = pc.and_(ok, pc.match_substring_regex(column[c], _PLAIN))
    for end in ("source", "target"):
        length = pc.utf8_length(column[end])
        ok = pc.and_(ok, pc.and_(pc.greater(length, 0), pc.less_equal(length, LINK_ID_CHARS)))
    ok = pc.and_(ok, pc.not_equal(column["source"], column["target"]))
    ok = pc.and_(ok, pc.less_equal(pc.utf8_length(column["source_ref"]), LINK_TEXT_CHARS))
    # each distinct type and role, then day and share, as `link_cells` finds it in a row that
    # is valid but for it
    pairs = pc.binary_join_element_wise(column["type"], column["role"], _SEP)
    good = []
    for pair in pc.unique(pc.filter(pairs, ok)).to_pylist():
        kind, role = pair.split(_SEP)
        if cells(row(source="a", target="b", type=kind, role=role)) is not None:
            good.append(pair)
    ok = pc.and_(ok, pc.is_in(pairs, value_set=pa.array(good, pa.string())))
    if not good:
        return ok, pa.chunked_array([pa.nulls(len(pairs), pa.float64())])
    kind, role = good[0].split(_SEP)
    for c in ("since", "until"):
        days = [
            day
            for day in pc.unique(pc.filter(column[c], ok)).to_pylist()
            if cells(row(source="a", target="b", type=kind, role=role, **{c: day})) is not None
        ]
        ok = pc.and_(ok, pc.is_in(column[c], value_set=pa.array(days, pa.string())))
    since, until = column["since"], column["until"]
    ordered = pc.or_(pc.or_(pc.equal(since, ""), pc.equal(until, "")),
                     pc.greater_equal(until, since))  # fmt: skip
    ok = pc.and_(ok, ordered)
    texts, numbers = [], []
    for text in pc.unique(pc.filter(column["share"], ok)).to_pylist():
        made = cells(row(source="a", target="b", type=kind, role=role, share=text))
        if made is not None:
            texts.append(text)
            numbers.append(None if made[5] == "" else made[5])
    place = pc.index_in(column["share"], value_set=pa.array(texts, pa.string()))
    ok = pc.and_(ok, pc.is_valid(place))
    return ok, pc.take(pa.array(numbers, pa.float64()), place)


def _rows(table: pa.Table, chosen: pa.ChunkedArray) -> list[tuple[int, list[str]]] | None:
    """The `chosen` rows as Python's csv module reads their lines, each with its line; None
    when it finds one malformed (then the whole file is read by it, which says where)."""
    picked = table.append_column("line", pa.array(range(2, table.num_rows + 2))).filter(chosen)
    if not picked.num_rows:
        return []
    columns = [picked.column(i).to_pylist() for i in range(picked.num_columns)]
    *cells, lines = columns
    try:
        return [
            (line, next(csv.reader([",".join(row)], strict=True)))
            for line, row in zip(lines, zip(*cells, strict=True), strict=True)
        ]
    except csv.Error:
        return None


def _append(stage: Path, rows: pa.Table) -> None:
    """Append `rows` to the staging database's links, a transaction at a time."""
    with closing(adbc.connect(str(stage), autocommit=True)) as con, closing(con.cursor()) as cur:
        for pragma in _PRAGMAS:
            cur.execute(f"PRAGMA {pragma}")
        for batch in _batches(rows):
            cur.execute("BEGIN IMMEDIATE")
            cur.adbc_ingest("link", batch, mode="append")
            cur.execute("COMMIT")


def _batches(rows: pa.Table) -> Iterator[pa.RecordBatch]:
    yield from rows.combine_chunks().to_batches(max_chunksize=_INGEST)
