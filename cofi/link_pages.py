"""A link file (`cofi.link_file`) read a few rows at a time in plain Python: `os.pread` of the
runs of a column that hold them, decoded by `array`.  The ring reads of `check`, `path`, `links`
and `explore` go through here and import no numpy (its import was 0.1 s of a 0.23 s `check` at
the large scale); a read of many rows (a bulk read: `restrictions`, `declarations audit`) goes
through `LinkFile`'s map of the file instead.

Here too are what both read before a column: the file's magic, its seal (length and footer
CRC-32, kept by the store) and the footer checked against it (`opened`).  The layout is the
graph file's (`graph_file.Writer`); `tests/test_link_file.py` holds the reads here to
`LinkFile`'s, value for value.
"""

from __future__ import annotations

import json
import math
import os
import struct
import zlib
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MAGIC = b"COFI-LINKS-1\n"
START = 24
"""Where the columns begin (`graph_file._START`: the magic, then the footer's offset)."""
CODED = {"type": "types", "role": "roles", "since": "days", "until": "days", "source_ref": "refs"}
"""Each coded column and the table of texts its codes point into."""
TABLES = ("types", "roles", "days", "refs")
RUN = 256
"""Values apart by at most this many places are read by one `pread`."""
FEW = 4096
"""Above this many rows or ids, a read is a bulk read: through `LinkFile`'s map.  (A `pread` a
run costs more than the map's faults once the rows are many: at the large scale, with 50,000
here, `restrictions --all` took 1.34 s, `declarations audit` 5.91 s and `explore` of a
decision-maker 1.43 s; with 3,000-5,000, 0.90 s, 5.2 s and 1.2 s, `check` and `links` alike.)"""
ROW_COLUMNS = ("source", "target", "type", "role", "since", "share", "until", "source_ref", "rev")
"""The columns of a row (`link_file.Row`), in its order."""

_TYPECODES = {"<i4": "i", "<i8": "q", "|i1": "b", "<f8": "d", "<u4": "I", "<u8": "Q", "|u1": "B"}
"""The `array` typecode of each numpy dtype a link file's columns are written as."""
_MUL = 0x9E3779B97F4A7C15
_WORD = (1 << 64) - 1


class LinkFileDamaged(Exception):
    """The file is not the one its seal describes (missing, truncated, another file, damaged)."""


@dataclass(frozen=True)
class Seal:
    """What the store keeps of a link file it names: its length and its footer's CRC-32."""

    size: int
    footer_crc: int

    def as_text(self) -> str:
        return f"{self.size}:{self.footer_crc}"

    @classmethod
    def from_text(cls, text: str) -> Seal:
        size, crc = text.split(":")
        return cls(int(size), int(crc))


def footer(f: Any) -> tuple[int, bytes]:
    """Where the footer of the open link file `f` begins, and its bytes."""
    if f.read(len(MAGIC)) != MAGIC:
        raise LinkFileDamaged("not a link file")
    raw = f.read(8)
    if len(raw) != 8:
        raise LinkFileDamaged("truncated")
    at = struct.unpack("<Q", raw)[0]
    f.seek(at)
    return at, f.read()


def opened(path: Path, seal: Seal, tag: str | None) -> tuple[Any, int, dict[str, Any]]:
    """The file `path` open for reading once its length and footer are the ones `seal` gives
    and its tag is `tag` (None: its name); where its footer begins, and the footer."""
    try:
        f = open(path, "rb")  # noqa: SIM115  (the caller's to close)
    except FileNotFoundError:
        raise LinkFileDamaged("missing") from None
    except OSError as exc:
        raise LinkFileDamaged(str(exc)) from None
    try:
        size = os.fstat(f.fileno()).st_size
        if size != seal.size:
            raise LinkFileDamaged(f"{size} bytes, not {seal.size}")
        at, raw = footer(f)
        if zlib.crc32(raw) != seal.footer_crc:
            raise LinkFileDamaged("its footer is not the one sealed")
        header = json.loads(raw)
    except (OSError, ValueError) as exc:  # (json's errors are ValueErrors)
        f.close()
        raise LinkFileDamaged(str(exc)) from None
    except BaseException:
        f.close()
        raise
    tag = path.name if tag is None else tag
    if header.get("tag") != tag:
        f.close()
        raise LinkFileDamaged(f"written for {header.get('tag')!r}, not {tag!r}")
    for c in header["columns"]:
        if START + c["offset"] + c["size"] > at:
            f.close()
            raise LinkFileDamaged(f"column {c['name']} past the footer")
    return f, at, header


def text_hash(text: bytes) -> int:
    """`text_lookup.text_hashes` of one text, as the signed 64-bit number a file keeps."""
    h = (len(text) * _MUL) & _WORD
    for at in range(0, len(text), 8):
        word = int.from_bytes(text[at : at + 8], "little")
        mixed = ((h ^ word) * _MUL) & _WORD
        h = mixed ^ (mixed >> 29)
    return h - (1 << 64) if h >= 1 << 63 else h


class LinkPages:
    """A link file opened by its seal, read a few values at a time (`take`)."""

    _fd = -1  # (until opened)

    def __init__(self, path: Path, seal: Seal, tag: str | None = None) -> None:
        f, _, header = opened(path, seal, tag)
        with f:
            self._fd = os.dup(f.fileno())
        self.path = path
        self._where = {
            c["name"]: (START + c["offset"], c["kind"], c["count"]) for c in header["columns"]
        }
        self.tables = {t: self._table(t) for t in TABLES}
        self._slots = self._where["ids.table"][2]

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __del__(self) -> None:
        self.close()

    def _read(self, name: str, first: int, count: int) -> Any:
        """`count` values of the column `name` from the place `first` (bytes for a column of
        bytes, else an `array`)."""
        base, kind, _ = self._where[name]
        if kind == "bytes":
            return os.pread(self._fd, count, base + first)
        values = array(_TYPECODES.get(kind.removeprefix("numpy:"), kind.removeprefix("array:")))
        raw = os.pread(self._fd, count * values.itemsize, base + first * values.itemsize)
        values.frombytes(raw)
        return values

    def _table(self, table: str) -> list[str]:
        ends = self._read(f"{table}.ends", 0, self._where[f"{table}.ends"][2])
        text = self._read(f"{table}.text", 0, ends[-1] if ends else 0)
        out, start = [], 0
        for end in ends:
            out.append(str(text[start:end], "utf-8"))
            start = end
        return out

    def take(self, name: str, at: Iterable[int]) -> list[Any]:
        """The values of the column `name` at the places `at`, in that order."""
        at = list(at)
        places = sorted(set(at))
        got: dict[int, Any] = {}
        i = 0
        while i < len(places):
            j = i + 1
            while j < len(places) and places[j] - places[j - 1] <= RUN:
                j += 1
            first = places[i]
            values = self._read(name, first, places[j - 1] + 1 - first)
            for p in places[i:j]:
                got[p] = values[p - first]
            i = j
        return [got[p] for p in at]

    def numbers_of(self, ids: Sequence[str]) -> list[int]:
        """The numbers of those of `ids` that end a link, by the file's own hash table."""
        encoded = [i.encode() for i in ids]
        hashes = [text_hash(e) for e in encoded]
        mask = self._slots - 1
        slots = [h & mask for h in hashes]
        found: list[int | None] = [None] * len(encoded)
        todo = list(range(len(encoded)))
        while todo:  # (each round: the ids not yet found or known absent, a slot on)
            held = [h - 1 for h in self.take("ids.table", (slots[i] for i in todo))]
            candidates = [(i, n) for i, n in zip(todo, held, strict=True) if n >= 0]
            kept = self.take("ids.hashes", (n for _, n in candidates))
            same = [(i, n) for (i, n), h in zip(candidates, kept, strict=True) if h == hashes[i]]
            texts = self.texts_of(n for _, n in same)
            for i, n in same:
                if texts[n] == encoded[i]:
                    found[i] = n
            todo = [i for i, _ in candidates if found[i] is None]
            for i in todo:
                slots[i] = (slots[i] + 1) & mask
        return [n for n in found if n is not None]

    def texts_of(self, numbers: Iterable[int]) -> dict[int, bytes]:
        """The UTF-8 of the id each of `numbers` stands for."""
        wanted = sorted(set(numbers))
        starts = self.take("ids.offsets", wanted)
        ends = self.take("ids.offsets", (n + 1 for n in wanted))
        return {n: self._read("ids.data", a, b - a)
                for n, a, b in zip(wanted, starts, ends, strict=True)}  # fmt: skip

    def ids_of(self, numbers: Iterable[int]) -> dict[int, str]:
        """The id each of `numbers` stands for."""
        return {n: t.decode() for n, t in self.texts_of(numbers).items()}

    def spans(self, numbers: Sequence[int], *, into: bool) -> list[tuple[int, int]]:
        """Where the rows of the links from (into) each of the entities `numbers` begin and
        end, among the rows in key order (in the order of their targets)."""
        starts = "target_start" if into else "source_start"
        size = self._where[starts][2] - 1
        at = [n for n in numbers if 0 <= n < size]
        return list(zip(self.take(starts, at), self.take(starts, (n + 1 for n in at)),
                        strict=True))  # fmt: skip

    def rows_in(self, spans: Iterable[tuple[int, int]], *, into: bool) -> list[int]:
        """The rows of `spans` (`spans`), as places among the rows in key order."""
        places = [p for lo, hi in spans for p in range(lo, hi)]
        return [int(r) for r in self.take("by_target", places)] if into else places

    def rows_at(self, at: Sequence[int]) -> list[tuple[Any, ...]]:
        """The rows `at` (`link_file.Row`s: ends as numbers, texts decoded, None for no share)."""
        columns = {name: self.take(name, at) for name in ROW_COLUMNS}
        for name, table in CODED.items():
            texts = self.tables[table]
            columns[name] = [texts[code] for code in columns[name]]
        columns["share"] = [None if math.isnan(s) else s for s in columns["share"]]
        return list(zip(*(columns[name] for name in ROW_COLUMNS), strict=True))
