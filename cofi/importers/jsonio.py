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
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from cofi.errors import InvalidInput

_DECODER = json.JSONDecoder()
_WS = " \t\n\r"

Item = tuple[int, Any]
"""(line, decoded JSON value)."""


def json_items(
    path: Path, package_keys: tuple[str, ...], is_item: Callable[[dict[str, Any]], bool]
) -> Iterator[Item]:
    """Every item of the file at `path`: the elements of a top-level array or of a package's
    `package_keys` arrays, or the top-level value itself when `is_item` says it is one.

    A value that cannot be decoded is yielded as `(line, JsonProblem)`: the caller reports it.
    """
    name = str(path)
    try:
        with path.open(encoding="utf-8-sig") as fh:
            first, text = 0, ""
            for first, text in enumerate(fh, start=1):  # noqa: B007 (used after the loop)
                if text.strip():
                    break
            else:
                yield 1, JsonProblem("the file is empty")
                return
            try:
                value = json.loads(text)
            except ValueError:
                pass  # not JSON lines: a document over several lines
            else:
                yield from _expand(first, value, package_keys, is_item)
                for line, text in enumerate(fh, start=first + 1):
                    if not text.strip():
                        continue
                    try:
                        value = json.loads(text)
                    except ValueError as exc:
                        yield line, JsonProblem(f"not JSON ({exc})")
                        continue
                    yield from _expand(line, value, package_keys, is_item)
                return
        document = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"{name}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    yield from _document(document, package_keys, is_item)


class JsonProblem(str):
    """Why a piece of the input is not a JSON value (yielded in place of the item)."""


def _expand(
    line: int, value: Any, package_keys: tuple[str, ...], is_item: Callable[[dict[str, Any]], bool]
) -> Iterator[Item]:
    if isinstance(value, list):
        yield from ((line, v) for v in value)
    elif (
        isinstance(value, dict)
        and not is_item(value)
        and any(isinstance(value.get(k), list) for k in package_keys)
    ):
        for key in package_keys:
            if isinstance(value.get(key), list):
                yield from ((line, v) for v in value[key])
    else:
        yield line, value


def _document(
    text: str, package_keys: tuple[str, ...], is_item: Callable[[dict[str, Any]], bool]
) -> Iterator[Item]:
    """The items of a whole JSON document, each with the line its text starts on."""
    lines = _LineCounter(text)
    i = _skip(text, 0)
    try:
        if text.startswith("[", i):
            yield from _array(text, i, lines)[0]
            return
        if not text.startswith("{", i):
            value, _ = _DECODER.raw_decode(text, i)
            yield lines.at(i), value
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
        yield 1, JsonProblem(f"not JSON ({exc})")
        return
    if is_item(top) or not arrays:
        yield lines.at(start), top
        return
    for key in package_keys:
        yield from arrays.get(key, ())


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


def json_lines_file(path: Path) -> bool:
    """Whether the file is JSON lines: its first non-empty line is a whole JSON value."""
    try:
        with path.open(encoding="utf-8-sig") as fh:
            for text in fh:
                if text.strip():
                    try:
                        json.loads(text)
                    except ValueError:
                        return False
                    return True
    except UnicodeDecodeError:
        return False
    return False
