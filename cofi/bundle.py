"""Reading a cofi bundle (format v1): a directory of CSV files or a `.jsonl` file.

`read_rows` yields every row with the file and line it came from; a row's empty values are dropped
so that a missing optional field and an empty cell mean the same.  Problems with a whole file (not
UTF-8, a header with unknown or missing columns) raise `InvalidInput`: no row of it can be trusted.
"""

from __future__ import annotations

import csv
import itertools
import json
import mmap
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, NamedTuple, Protocol

from cofi.errors import InvalidInput, RowError
from cofi.model import COLUMNS, REQUIRED, nonempty_cells
from cofi.vocab import BUNDLE_FILES

csv.field_size_limit(sys.maxsize)


class RawRow(NamedTuple):
    """One input row before validation; `problem` is set when the row could not even be read."""

    file: str
    line: int
    kind: str
    data: dict[str, Any]
    problem: RowError | None = None
    seq: int = 0
    """The row's place in the input: rows sort by it in input order (see `SEQ_PER_FILE`)."""
    notes: tuple[tuple[str, str], ...] = ()
    """(field, reason) warnings about the row that do not make it invalid (importers)."""


NOTE = "note"
"""The kind of a RawRow that is no row, only `notes` about the input (an importer's remarks)."""


SEQ_PER_FILE = 1 << 40
"""A row's `seq` is its file's place among the files read times this, plus its line (CSV, JSON
lines) or its number in the file (importers): rows sort in input order across readers."""


class Part:
    """Which rows one of `parts` readers takes.

    A CSV file is cut into `parts` byte ranges at row boundaries, each parsed by one reader only
    (see `csv_ranges`); a JSON-lines file is read by every reader, each taking every `parts`-th
    run of `chunk` lines.
    """

    def __init__(self, part: int = 0, parts: int = 1, chunk: int = 10_000) -> None:
        self.part, self.parts, self.chunk = part, parts, chunk

    def take(self, line: int) -> bool:
        """Whether line `line` of a JSON-lines file is this reader's."""
        return self.parts == 1 or (line // self.chunk) % self.parts == self.part


class Misplit(Exception):
    """A CSV byte range ended inside a quoted field: the ranges were cut by counting quotes, and
    a stray quote inside an unquoted field (which CSV readers take literally) misled the count.
    The caller reads the file again whole."""


def bundle_files(paths: list[Path]) -> list[tuple[Path, str | None]]:
    """The files to read, in a stable order, each with its row kind (None for JSON lines).

    Raises `InvalidInput` for a path that does not exist or holds no bundle file.
    """
    out: list[tuple[Path, str | None]] = []
    for path in paths:
        if path.is_dir():
            found: list[tuple[Path, str | None]] = [
                (path / name, kind)
                for name, kind in BUNDLE_FILES.items()
                if (path / name).is_file()
            ]
            found += [(p, None) for p in sorted(path.glob("*.jsonl")) if _is_bundle_jsonl(p)]
            if not found:
                names = ", ".join(BUNDLE_FILES)
                raise InvalidInput(f"{path}: no bundle files here (expected any of {names})")
            out.extend(found)
        elif path.is_file():
            if path.name in BUNDLE_FILES:
                out.append((path, BUNDLE_FILES[path.name]))
            elif path.suffix == ".jsonl":
                out.append((path, None))
            else:
                raise InvalidInput(f"{path}: not a bundle file (a directory, a .jsonl or a .csv)")
        else:
            raise InvalidInput(f"{path}: no such file or directory")
    return out


def unknown_files(paths: list[Path]) -> list[Path]:
    """The CSV files in the bundle directories at `paths` that are not bundle files (a misspelt
    `declaration.csv` is named, not skipped in silence)."""
    return sorted(
        p
        for path in paths
        if path.is_dir()
        for p in path.glob("*.csv")
        if p.name not in BUNDLE_FILES
    )


def _is_bundle_jsonl(path: Path) -> bool:
    """A directory's .jsonl is part of the bundle when its first object has a `kind` field.

    (A synthetic bundle keeps its ground truth, `truth.jsonl`, beside the CSV files.)
    """
    with path.open(encoding="utf-8-sig") as fh:
        for line in fh:
            if line.strip():
                try:
                    first = json.loads(line)
                except ValueError:
                    return True
                return isinstance(first, dict) and "kind" in first
    return False


def _clean(data: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for key, value in data.items():
        if isinstance(value, str):
            value = value.strip()
            if value:
                out[key] = value
        elif value is not None:
            out[key] = value
    return out


class RowTaker(Protocol):
    """Given a CSV file's name, row kind and header, a function that takes a row's cells (all of
    them: as many as the header has columns), line and `seq` and returns whether it took the row
    (found it valid and kept it); or None, to take no row of that file."""

    def __call__(
        self, name: str, kind: str, header: list[str]
    ) -> Callable[[list[str], int, int], bool] | None: ...


def read_csv(
    path: Path, kind: str, part: Part, base: int = 0, taker: RowTaker | None = None
) -> Iterator[RawRow]:
    """The rows of `part`'s byte range of the CSV file at `path` (`seq` = `base` + line); a row
    that `taker`'s function takes is not yielded.

    Raises `Misplit` when a range that is not the file's last ends inside a quoted field.
    """
    name = str(path)
    line = 1  # where the next row starts
    last = True  # whether the rows read run to the end of the file
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            head = csv.reader(fh, strict=True)
            try:
                header = [h.strip() for h in next(head)]
            except StopIteration:
                return
            _check_header(name, kind, header)
            take = taker(name, kind, header) if taker is not None else None
            line = head.line_num + 1
            rows: Iterator[str] = fh
            if part.parts > 1:
                ranges = csv_ranges(path, part.parts)
                start, end, first_line = ranges[part.part]
                if start == end:
                    return
                last = end == path.stat().st_size
                if start > 0:
                    # Seeking a UTF-8 text file to a byte offset is exact: no decoder state
                    # crosses a line.
                    fh.seek(start)
                    line = first_line
                if not last:
                    rows = itertools.islice(fh, ranges[part.part + 1].line - line)
            first = line
            reader = csv.reader(rows, strict=True)

            def numbered() -> Iterator[tuple[int, list[str]]]:
                nonlocal line
                for cells in reader:
                    row_line, line = line, first + reader.line_num
                    yield row_line, cells

            yield from csv_rows(name, kind, header, numbered(), base, take)
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"{name}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except csv.Error as exc:
        if not last and "unexpected end of data" in str(exc):
            raise Misplit(name) from None
        raise InvalidInput(f"{name}:{line}: row: malformed CSV ({exc})") from None


def read_header(path: Path, kind: str) -> list[str] | None:
    """The header of the CSV file at `path` of `kind` rows, as `read_csv` reads it; None when
    it has none or `read_csv` would find fault with it (and say what)."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            header = [h.strip() for h in next(csv.reader(fh, strict=True))]
        _check_header(str(path), kind, header)
    except (StopIteration, UnicodeDecodeError, csv.Error, InvalidInput):
        return None
    return header


def csv_rows(
    name: str,
    kind: str,
    header: list[str],
    rows: Iterable[tuple[int, list[str]]],
    base: int,
    take: Callable[[list[str], int, int], bool] | None,
) -> Iterator[RawRow]:
    """The rows of the CSV file `name` from its cells, each with the line it starts on: those
    `take` does not take, less the blank ones (`seq` = `base` + line)."""
    width = len(header)
    for row_line, cells in rows:
        if take and len(cells) == width and take(cells, row_line, base + row_line):
            continue
        if not "".join(cells).strip():
            continue
        seq = base + row_line
        if len(cells) != width:
            problem = RowError(
                name, row_line, "row", f"has {len(cells)} fields, the header has {width}"
            )
            yield RawRow(name, row_line, kind, {}, problem, seq)
            continue
        data = nonempty_cells(header, cells)
        yield _row(RawRow, (name, row_line, kind, data, None, seq, ()))


_BLOCK = 1 << 24
_row = tuple.__new__
"""Makes a RawRow from all its fields without the Python-level __new__ of a named tuple (a
million rows: a third of a second less)."""


def line_count(path: Path) -> int:
    """The newlines in the file at `path` (a progress bar's length), a megabyte at a time."""
    with path.open("rb") as fh:
        return sum(block.count(b"\n") for block in iter(lambda: fh.read(1 << 20), b""))


class CsvRange(NamedTuple):
    """Bytes [start, end) of a CSV file, whose first byte begins line `line`."""

    start: int
    end: int
    line: int


def csv_ranges(path: Path, parts: int) -> list[CsvRange]:
    """`parts` byte ranges that cover the CSV file at `path`, each (but the first, which holds
    the header) starting right after a newline outside quotes.

    Outside quotes means after an even number of quote characters, which is exact for CSV as
    written by any tool; a stray quote inside an unquoted field (taken literally by CSV readers)
    can mislead it, which the reader of the range before notices (`Misplit`).  Lines are counted
    in the same pass, as Python reads a text file opened with newline='' (ended by \\n, \\r\\n or
    a lone \\r).
    """
    size = path.stat().st_size
    starts, pos, quotes, lines = [(0, 1)], 0, 0, 0
    with path.open("rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:

        def scan(end: int) -> None:
            """Count quotes and line ends from `pos` to `end`."""
            nonlocal pos, quotes, lines
            for i in range(pos, end, _BLOCK):
                stop = min(i + _BLOCK, end)
                block = mm[i:stop]
                quotes += block.count(b'"')
                lines += block.count(b"\n") + block.count(b"\r") - block.count(b"\r\n")
                if block.endswith(b"\r") and mm[stop : stop + 1] == b"\n":
                    lines -= 1  # a \r\n across two blocks: counted once, by its \n
            pos = max(pos, end)

        for w in range(parts):  # w = 0: the end of the header
            scan(size * w // parts)
            while (newline := mm.find(b"\n", pos)) >= 0:
                scan(newline + 1)
                if quotes % 2 == 0:
                    break
            else:
                pos = size
            if w:
                starts.append((pos, lines + 1))
    ends = [start for start, _ in starts[1:]] + [size]
    return [CsvRange(s, e, n) for (s, n), e in zip(starts, ends, strict=True)]


def _check_header(name: str, kind: str, header: list[str]) -> None:
    allowed = COLUMNS[kind]
    if len(header) == 1:  # (a spreadsheet's export in a locale whose lists use ';', or tabs)
        for sep, said in ((";", "semicolons"), ("\t", "tabs")):
            if sep in header[0] and all(c in allowed for c in header[0].split(sep) if c):
                raise InvalidInput(
                    f"{name}:1: header: columns separated by {said}, not commas "
                    "(save the file as CSV UTF-8, comma-delimited)"
                )
    for column in header:
        if column not in allowed:
            raise InvalidInput(
                f"{name}:1: {column or '(empty)'}: unknown column (allowed: {', '.join(allowed)})"
            )
    if len(set(header)) != len(header):
        dup = next(c for c in header if header.count(c) > 1)
        raise InvalidInput(f"{name}:1: {dup}: column appears twice")
    for column in sorted(REQUIRED[kind]):
        if column not in header:
            raise InvalidInput(f"{name}:1: {column}: required column missing")


def read_jsonl(path: Path, part: Part, base: int = 0) -> Iterator[RawRow]:
    """The rows of `part`'s lines of the JSON-lines bundle file at `path` (`seq` = `base` +
    line)."""
    name = str(path)
    try:
        with path.open(encoding="utf-8-sig") as fh:
            for line, text in enumerate(fh, start=1):
                if not part.take(line) or not text.strip():
                    continue
                seq = base + line
                try:
                    obj = json.loads(text)
                except ValueError as exc:
                    problem = RowError(name, line, "row", f"not JSON ({exc})")
                    yield RawRow(name, line, "", {}, problem, seq)
                    continue
                if not isinstance(obj, dict):
                    problem = RowError(name, line, "row", "not a JSON object")
                    yield RawRow(name, line, "", {}, problem, seq)
                    continue
                kind = obj.pop("kind", None)
                if kind not in COLUMNS:
                    allowed = ", ".join(COLUMNS)
                    problem = RowError(name, line, "kind", f"must be one of: {allowed}")
                    yield RawRow(name, line, str(kind), {}, problem, seq)
                    continue
                yield RawRow(name, line, kind, _clean(obj), None, seq)
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"{name}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
