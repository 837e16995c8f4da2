"""Reading the JSON that publishers put out, item by item, with the line each item starts on.

Three shapes, told apart by content, not by the file name:
- JSON lines: one JSON value per line, read a line at a time (constant memory);
- a JSON array of items (a BODS file, a bare list of releases);
- a JSON object: a package holding its items in one of `package_keys` (`releases`, `records`,
  `statements`), or a single bare item.

A document that is not JSON lines is read whole (memory grows with the file); each item's line is
where its text starts, found while the document is decoded, so errors name `file:line`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import orjson

from cofi.errors import InvalidInput

_DECODER = json.JSONDecoder()
_WS = " \t\n\r"

Item = tuple[int, Any]
"""(line, decoded JSON value)."""
PackagedItem = tuple[int, Any, dict[str, Any]]
"""(line, decoded JSON value, the metadata of the package it came in: {} for a bare item)."""
T = TypeVar("T")


def json_items(
    path: Path, package_keys: tuple[str, ...], is_item: Callable[[dict[str, Any]], bool]
) -> Iterator[Item]:
    """Every item of the file at `path`: the elements of a top-level array or of a package's
    `package_keys` arrays, or the top-level value itself when `is_item` says it is one.

    A value that cannot be decoded is yielded as `(line, JsonProblem)`: the caller reports it.
    """
    return ((line, value) for line, value, _ in json_package_items(path, package_keys, is_item))


def json_package_items(
    path: Path, package_keys: tuple[str, ...], is_item: Callable[[dict[str, Any]], bool]
) -> Iterator[PackagedItem]:
    """The items of `json_items`, each with its package's other fields (an OCDS package's
    `version`, say); a streamed document's fields are those written before its items."""
    name = str(path)
    try:
        lines = json_lines_file(path)
        if not lines and path.stat().st_size >= STREAM_BYTES:
            yield from _stream(path, package_keys)
            return
        if lines:
            yield from _lines(path, package_keys, is_item)
            return
        document = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"{name}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    if not document.strip():
        yield 1, JsonProblem("the file is empty"), {}
        return
    yield from _document(document, package_keys, is_item)


def json_items_twice(
    path: Path, package_keys: tuple[str, ...], is_item: Callable[[dict[str, Any]], bool]
) -> tuple[Iterable[Item], Iterable[Item]]:
    """The items for an importer's two passes (an index, then the rows).

    A small document is decoded once and its items kept for both passes; JSON lines and a
    streamed document are read twice, so that memory stays flat.
    """
    return two_passes(path, lambda: json_items(path, package_keys, is_item))


def two_passes(path: Path, items: Callable[[], Iterator[T]]) -> tuple[Iterable[T], Iterable[T]]:
    """`items()` for two passes: kept from the first for a small document, read again for JSON
    lines and a streamed document."""
    if json_lines_file(path) or path.stat().st_size >= STREAM_BYTES:
        return items(), items()
    kept = list(items())
    return kept, kept


def _lines(
    path: Path, package_keys: tuple[str, ...], is_item: Callable[[dict[str, Any]], bool]
) -> Iterator[PackagedItem]:
    """The items of a JSON-lines file, a line at a time."""
    with path.open(encoding="utf-8-sig") as fh:
        for line, text in enumerate(fh, start=1):
            if not text.strip():
                continue
            try:
                value = _loads(text)
            except ValueError as exc:
                yield line, JsonProblem(f"not JSON ({exc})"), {}
                continue
            yield from _expand(line, value, package_keys, is_item)


def _loads(text: str) -> Any:
    """A JSON value: decoded by orjson (3x faster), else by the json module, which also takes
    what orjson refuses (NaN, integers past 64 bits) and words its errors as before."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


STREAM_BYTES = 32 << 20
"""A JSON document (not JSON lines) this large is streamed item by item as a package, in
constant memory; a smaller one is read whole (exact for bare items whose keys come in any order)."""
_CHUNK = 1 << 20
_MAX_ITEM = 64 << 20
"""Streaming gives up on a single item (a release, a statement) larger than this."""


def json_lines_file(path: Path) -> bool:
    """Whether the file is JSON lines: its first non-empty line, found within the first
    megabyte, is a whole JSON value (a longer first line is a compact document)."""
    with path.open(encoding="utf-8-sig", errors="replace") as fh:
        head = fh.read(_CHUNK)
    for text in head.split("\n"):
        if text.strip():
            if len(text) == len(head) == _CHUNK:
                return False
            try:
                json.loads(text)
            except ValueError:
                return False
            return True
    return False


def _stream(path: Path, package_keys: tuple[str, ...]) -> Iterator[PackagedItem]:
    """The items of a large JSON document, decoded one at a time from a sliding buffer: the
    elements of a top-level array, else of the top-level object's `package_keys` arrays."""
    with path.open(encoding="utf-8-sig") as fh:
        scan = _Scanner(fh)
        try:
            if scan.peek() == "[":
                yield from ((line, value, {}) for line, value in scan.elements())
                return
            scan.expect("{")
            meta: dict[str, Any] = {}
            while scan.peek() != "}":
                key = scan.value()
                scan.expect(":")
                if key in package_keys and scan.peek() == "[":
                    known = dict(meta)
                    yield from ((line, value, known) for line, value in scan.elements())
                else:
                    meta[key] = scan.value()
                if scan.peek() == ",":
                    scan.expect(",")
        except ValueError as exc:
            yield scan.line(), JsonProblem(f"not JSON ({exc})"), {}


class _Scanner:
    """JSON values read from a text file through a buffer of about `_CHUNK` characters, with the
    line each starts on."""

    def __init__(self, fh: Any) -> None:
        self.fh, self.buf, self.pos, self.eof = fh, "", 0, False
        self.lines_before = 0
        """Line breaks in the text before `counted` (dropped from the buffer or not)."""
        self.counted = 0
        """Where in the buffer the line breaks have been counted up to."""

    def _more(self) -> bool:
        if self.eof:
            return False
        if self.pos > _CHUNK:
            self.lines_before += self.buf.count("\n", self.counted, self.pos)
            self.buf, self.pos, self.counted = self.buf[self.pos :], 0, 0
        chunk = self.fh.read(_CHUNK)
        self.eof = not chunk
        self.buf += chunk
        return bool(chunk)

    def line(self) -> int:
        """The line at the current position (line breaks counted once, as the position moves)."""
        self.lines_before += self.buf.count("\n", self.counted, self.pos)
        self.counted = self.pos
        return self.lines_before + 1

    def peek(self) -> str:
        while True:
            while self.pos < len(self.buf) and self.buf[self.pos] in _WS:
                self.pos += 1
            if self.pos < len(self.buf) or not self._more():
                return self.buf[self.pos : self.pos + 1]

    def expect(self, char: str) -> None:
        if self.peek() != char:
            found = self.buf[self.pos : self.pos + 1] or "the end"
            raise ValueError(f"{char!r} expected at line {self.line()}, found {found!r}")
        self.pos += 1

    def value(self) -> Any:
        self.peek()
        while True:
            try:
                value, end = _DECODER.raw_decode(self.buf, self.pos)
            except ValueError:
                if len(self.buf) - self.pos > _MAX_ITEM:
                    raise ValueError(f"an item over {_MAX_ITEM >> 20} MB at line {self.line()} "
                                     "(or broken JSON)") from None  # fmt: skip
                if self._more():
                    continue
                raise
            if end == len(self.buf) and self._more():
                continue  # a number cut by the buffer's end: read on and decode again
            self.pos = end
            return value

    def elements(self) -> Iterator[Item]:
        self.expect("[")
        while self.peek() != "]":
            if not self.peek():
                raise ValueError("the document ends inside an array")
            line = self.line()
            yield line, self.value()
            if self.peek() == ",":
                self.expect(",")
        self.expect("]")


class JsonProblem(str):
    """Why a piece of the input is not a JSON value (yielded in place of the item)."""


def _expand(
    line: int, value: Any, package_keys: tuple[str, ...], is_item: Callable[[dict[str, Any]], bool]
) -> Iterator[PackagedItem]:
    if isinstance(value, list):
        yield from ((line, v, {}) for v in value)
    elif (
        isinstance(value, dict)
        and not is_item(value)
        and any(isinstance(value.get(k), list) for k in package_keys)
    ):
        meta = _metadata(value, package_keys)
        for key in package_keys:
            if isinstance(value.get(key), list):
                yield from ((line, v, meta) for v in value[key])
    else:
        yield line, value, {}


def _metadata(package: dict[str, Any], package_keys: tuple[str, ...]) -> dict[str, Any]:
    return {k: v for k, v in package.items() if k not in package_keys}


def _document(
    text: str, package_keys: tuple[str, ...], is_item: Callable[[dict[str, Any]], bool]
) -> Iterator[PackagedItem]:
    """The items of a whole JSON document, each with the line its text starts on."""
    lines = _LineCounter(text)
    i = _skip(text, 0)
    try:
        if text.startswith("[", i):
            yield from ((line, value, {}) for line, value in _array(text, i, lines)[0])
            return
        if not text.startswith("{", i):
            value, _ = _DECODER.raw_decode(text, i)
            yield lines.at(i), value, {}
            return
        start = i
        top: dict[str, Any] = {}
        arrays: dict[str, list[Item]] = {}
        i = _skip(text, i + 1)
        while not text.startswith("}", i):
            if i >= len(text):
                raise ValueError("the document ends inside an object")
            key, i = _DECODER.raw_decode(text, i)
            i = _skip(text, i)
            if not text.startswith(":", i):
                raise ValueError(f"':' expected at char {i}")
            i = _skip(text, i + 1)
            if key in package_keys and text.startswith("[", i):
                items, i = _array(text, i, lines)
                arrays[key] = items
                top[key] = [v for _, v in items]
            else:
                top[key], i = _DECODER.raw_decode(text, i)
            i = _skip(text, i)
            if text.startswith(",", i):
                i = _skip(text, i + 1)
    except ValueError as exc:
        yield 1, JsonProblem(f"not JSON ({exc})"), {}
        return
    if is_item(top) or not arrays:
        yield lines.at(start), top, {}
        return
    meta = _metadata(top, package_keys)
    for key in package_keys:
        yield from ((line, value, meta) for line, value in arrays.get(key, ()))


def _array(text: str, i: int, lines: _LineCounter) -> tuple[list[Item], int]:
    """The elements of the array that starts at `i`, each with its line; the index past it."""
    items: list[Item] = []
    i = _skip(text, i + 1)
    while not text.startswith("]", i):
        if i >= len(text):
            raise ValueError("the document ends inside an array")
        value, end = _DECODER.raw_decode(text, i)
        items.append((lines.at(i), value))
        i = _skip(text, end)
        if text.startswith(",", i):
            i = _skip(text, i + 1)
    return items, i + 1


def _skip(text: str, i: int) -> int:
    n = len(text)
    while i < n and text[i] in _WS:
        i += 1
    return i


class _LineCounter:
    """Line numbers of increasing offsets into `text`, counted once."""

    def __init__(self, text: str) -> None:
        self.text, self.pos, self.line = text, 0, 1

    def at(self, offset: int) -> int:
        if offset < self.pos:
            return self.text.count("\n", 0, offset) + 1
        self.line += self.text.count("\n", self.pos, offset)
        self.pos = offset
        return self.line
