"""Reading a cofi bundle (format v1): a directory of CSV files or a `.jsonl` file.

`read_rows` yields every row with the file and line it came from; a row's empty values are dropped
so that a missing optional field and an empty cell mean the same.  Problems with a whole file (not
UTF-8, a header with unknown or missing columns) raise `InvalidInput`: no row of it can be trusted.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

from cofi.errors import InvalidInput, RowError
from cofi.model import COLUMNS, REQUIRED
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
    """The row's position among all rows of the bundles read (0-based)."""
    notes: tuple[tuple[str, str], ...] = ()
    """(field, reason) warnings about the row that do not make it invalid (importers)."""


NOTE = "note"
"""The kind of a RawRow that is no row, only `notes` about the input (an importer's remarks)."""


class Part:
    """Which rows one of `parts` readers takes: every `parts`-th run of `chunk` rows.

    Each reader parses every file (CSV parsing is cheap) but builds and validates only its share,
    so rows keep one numbering, `seq`, across readers.
    """

    def __init__(self, part: int = 0, parts: int = 1, chunk: int = 10_000) -> None:
        self.part, self.parts, self.chunk = part, parts, chunk
        self.seq = -1

    def take(self) -> bool:
        """Count one more row; whether it is this reader's (the CSV reader inlines this)."""
        self.seq += 1
        return self.parts == 1 or (self.seq // self.chunk) % self.parts == self.part


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


def read_rows(paths: list[Path], part: Part | None = None) -> Iterator[RawRow]:
    """Every row of the bundles at `paths` (or `part`'s share), with `file:line` provenance."""
    part = part or Part()
    for path, kind in bundle_files(paths):
        if kind is None:
            yield from read_jsonl(path, part)
        else:
            yield from read_csv(path, kind, part)


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


def read_csv(path: Path, kind: str, part: Part) -> Iterator[RawRow]:
    name = str(path)
    start = 1
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh, strict=True)
            try:
                header = [h.strip() for h in next(reader)]
            except StopIteration:
                return
            _check_header(name, kind, header)
            width = len(header)
            start = reader.line_num + 1
            seq, every, chunk, mine = part.seq, part.parts, part.chunk, part.part
            for cells in reader:
                line = start
                start = reader.line_num + 1
                if not "".join(cells).strip():
                    continue
                seq += 1
                if every > 1 and (seq // chunk) % every != mine:
                    continue
                if len(cells) != width:
                    problem = RowError(
                        name, line, "row", f"has {len(cells)} fields, the header has {width}"
                    )
                    yield RawRow(name, line, kind, {}, problem, seq)
                    continue
                data = {h: v for h, c in zip(header, cells, strict=True) if (v := c.strip())}
                yield RawRow(name, line, kind, data, None, seq)
            part.seq = seq
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"{name}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except csv.Error as exc:
        raise InvalidInput(f"{name}:{start}: row: malformed CSV ({exc})") from None


def _check_header(name: str, kind: str, header: list[str]) -> None:
    allowed = COLUMNS[kind]
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


def read_jsonl(path: Path, part: Part) -> Iterator[RawRow]:
    name = str(path)
    try:
        with path.open(encoding="utf-8-sig") as fh:
            for line, text in enumerate(fh, start=1):
                if not text.strip() or not part.take():
                    continue
                seq = part.seq
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
