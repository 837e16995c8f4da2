"""The whole graph kept on disk beside the embedded store: a sweep opens it in a fraction of a
second instead of rebuilding it from millions of rows (about a minute at the large synthetic
scale).  The store writes it straight from its rows (`cofi.graph_build`); `write` writes a
`Graph` built in memory, the same file.  (Just over 500 lines: the format's writer and reader
together, so that they cannot drift apart.)

The file holds a `Graph`'s columns: integer and float columns as raw `array` bytes, text columns as
UTF-8 with the end offset of each value, text repeated on millions of edges (a role, a date) as
codes into a small table.  `read` maps the file into memory and hands back a `Graph` whose columns
are views of it: nothing is decoded until it is asked for, pages are shared by the forked workers
of a sweep, and an id is found through a hash table kept in the file.  Only the small parts
(merges, agency heads, the code tables) are read eagerly.

The file carries a *tag*: the store's identity and the revision its rows were read at.  A
revision is raised only by a committed load, so a file whose tag names a revision describes
exactly the rows committed at it; a file of another store, or damaged or truncated (every column
has a CRC-32, checked when the file is opened), is never read, and the graph is built from the
rows again.  It is written to a temporary name and renamed over the old one, so a reader sees the
old file or the new one, never half of one.
"""

from __future__ import annotations

import bisect
import contextlib
import json
import math
import mmap
import os
import struct
import zlib
from array import array
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, BinaryIO

from cofi.graph import ContractRow, Graph, Head
from cofi.heap import start_writeback
from cofi.orphans import remove_orphans
from cofi.vocab import Kind

MAGIC = b"COFI-GRAPH-6\n"
"""The first bytes of a graph file; a new layout gets a new number (an old file is rebuilt)."""
_KINDS = tuple(Kind)
_KIND_CODE = {k: i for i, k in enumerate(_KINDS)}
_ALIGN = 8
_WRITEBACK = 32 << 20
"""Bytes written between two calls that start writing the file back to disk (`start_writeback`):
the `fsync` at the end then waits for the last of them only."""
_START = 24
"""Where the columns begin: after the magic and the footer's offset, aligned.  The footer (JSON:
the tag and each column's name, type, count, offset, size and CRC-32) is written last, so that
columns go to the file as they are made, never all held at once."""


class Writer:
    """Columns written one after another to an open file; `finish` writes the footer."""

    def __init__(self, f: BinaryIO, magic: bytes = MAGIC) -> None:
        self.f, self.magic = f, magic
        self.toc: list[dict[str, Any]] = []
        self.offset = 0
        self._kicked = 0  # (the offset up to which its writing back was begun)
        f.write(magic + bytes(_START - len(magic)))

    def raw(self, name: str, data: Any, kind: str, count: int) -> None:
        """`data`: anything with the buffer protocol (bytes, an `array`, a numpy array)."""
        view = memoryview(data).cast("B")
        crc = zlib.crc32(view)
        self.toc.append(
            dict(name=name, kind=kind, count=count, offset=self.offset, size=len(view), crc=crc)
        )
        pad = -len(view) % _ALIGN  # every column starts aligned for its typed view
        self.f.write(view)
        self.f.write(bytes(pad))
        self.offset += len(view) + pad
        if self.offset - self._kicked >= _WRITEBACK:
            self.f.flush()
            start_writeback(self.f.fileno())
            self._kicked = self.offset

    def ints(self, name: str, values: Sequence[int], code: str = "i") -> None:
        data = values if isinstance(values, array) else array(code, values)
        self.raw(name, data, f"array:{data.typecode}", len(data))

    def floats(self, name: str, values: Sequence[float]) -> None:
        data = values if isinstance(values, array) else array("d", values)
        self.raw(name, data, "array:d", len(data))

    def kinds(self, name: str, values: Sequence[Kind]) -> None:
        self.raw(name, bytes(_KIND_CODE[k] for k in values), "bytes", len(values))

    def texts(self, name: str, values: Sequence[str]) -> None:
        encoded = [v.encode() for v in values]
        ends = array("q")
        end = 0
        for e in encoded:
            end += len(e)
            ends.append(end)
        self.raw(f"{name}.text", b"".join(encoded), "bytes", end)
        self.ints(f"{name}.ends", ends)

    def coded(self, name: str, values: Sequence[str]) -> None:
        """Text from few distinct values: a code per row and the table of values."""
        table: dict[str, int] = {}
        codes = array("i", (table.setdefault(v, len(table)) for v in values))
        self.texts(f"{name}.table", list(table))
        self.ints(f"{name}.codes", codes)

    def finish(self, tag: str) -> None:
        footer = _START + self.offset
        self.f.write(json.dumps({"tag": tag, "columns": self.toc}).encode())
        self.f.seek(len(self.magic))
        self.f.write(struct.pack("<Q", footer))


@contextlib.contextmanager
def writing(path: Path, tag: str) -> Iterator[Writer]:
    """A `Writer` to a temporary file that is renamed over `path` once every column is written
    and synced (and removed if anything fails)."""
    _remove_orphans(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as f:
            w = Writer(f)
            yield w
            w.finish(tag)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_joins(w: Writer, joins: dict[str, list[tuple[str, float, str]]]) -> None:
    """`Graph.joins`, one row per record and join (each join is written from both ends)."""
    rows = [(a, b, confidence, reasons) for a, out in joins.items()
            for b, confidence, reasons in out]  # fmt: skip
    w.texts("joins.a", [r[0] for r in rows])
    w.texts("joins.b", [r[1] for r in rows])
    w.floats("joins.confidence", [r[2] for r in rows])
    w.texts("joins.reasons", [r[3] for r in rows])


def write(graph: Graph, path: Path, tag: str) -> None:
    """Write `graph` (built from rows, ids in order) to `path` under `tag`.  (The embedded store
    writes its file straight from its rows instead: `cofi.graph_build`.)"""
    g = graph
    with writing(path, tag) as w:
        w.texts("rec_id", g.rec_id)
        w.ints("rec_id.hash", hash_table(g.rec_id))
        w.texts("rec_name", g.rec_name)
        w.kinds("rec_kind", g.rec_kind)
        w.ints("rec_node", g.rec_node)
        w.texts("canonical.keys", list(g.canonical))
        w.texts("canonical.values", list(g.canonical.values()))
        write_joins(w, g.joins)
        w.ints("node_rec", g.node_rec)
        w.kinds("node_kind", g.node_kind)
        idents = sorted(g.ident_value)
        w.ints("ident.node", idents)
        w.texts("ident.key", [g.ident_value[n][0] for n in idents])
        w.texts("ident.raw", [g.ident_value[n][1] for n in idents])
        w.ints("ident.size", [g.ident_size[n] for n in idents])
        for name in ("e_a", "e_b", "e_ra", "e_rb", "offsets", "halves", "far"):
            w.ints(name, getattr(g, name))
        w.raw("e_type", bytes(g.e_type), "bytes", len(g.e_type))
        w.floats("e_share", g.e_share)
        for name in ("e_role", "e_since", "e_until"):
            w.coded(name, getattr(g, name))
        contracts = list(g.contracts.values())
        ids = [c.id for c in contracts]
        w.texts("contract.id", ids)
        w.ints("contract.hash", hash_table(ids))
        w.texts("contract.buyer_id", [c.buyer_id for c in contracts])
        w.texts("contract.supplier_id", [c.supplier_id for c in contracts])
        w.texts("contract.signed_on", [c.signed_on for c in contracts])
        w.floats("contract.value", [math.nan if c.value is None else c.value for c in contracts])
        w.texts("contract.currency", [c.currency for c in contracts])
        w.texts("contract.title", [c.title for c in contracts])
        w.texts("contract.decided", [g.decided.get(c.id, "") for c in contracts])
        w.ints("contract.winner", g.contract_winners())
        slot_contract, slot_node = g.decider_slots()
        w.ints("slot.contract", slot_contract)
        w.ints("slot.node", slot_node)
        write_heads(w, [(agency, h) for agency, hs in g.heads.items() for h in hs])


def write_heads(w: Writer, heads: list[tuple[str, Head]]) -> None:
    """The agency heads' columns: (canonical agency id, head link) in the graph's order."""
    w.texts("head.agency", [agency for agency, _ in heads])
    w.texts("head.record", [h.record for _, h in heads])
    w.texts("head.since", [h.since for _, h in heads])
    w.texts("head.until", [h.until for _, h in heads])


def _remove_orphans(path: Path) -> None:
    """Remove what writers killed before their rename left behind (`.NAME.PID.tmp`)."""
    remove_orphans(path.parent, f".{path.name}.", ".tmp")


def _header(f: BinaryIO) -> dict[str, Any] | None:
    if f.read(len(MAGIC)) != MAGIC:
        return None
    size = f.read(8)
    if len(size) != 8:
        return None
    f.seek(struct.unpack("<Q", size)[0])
    header: dict[str, Any] = json.loads(f.read())
    return header


def tag_of(path: Path) -> str | None:
    """The tag a graph file was written under (None: no file, or not a graph file)."""
    try:
        with open(path, "rb") as f:
            header = _header(f)
    except (OSError, ValueError):
        return None
    return None if header is None else str(header.get("tag"))


def read(path: Path, tag: str) -> Graph | None:
    """The graph in `path`, as views of the mapped file, if it was written under `tag` and is
    whole; else None."""
    try:
        with open(path, "rb") as f:
            header = _header(f)
            if header is None or header.get("tag") != tag:
                return None
            start = _START
            mapped = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    except (OSError, ValueError):
        return None
    view = memoryview(mapped)
    columns: dict[str, Any] = {}
    for c in header["columns"]:
        lo = start + c["offset"]
        data = view[lo : lo + c["size"]]
        if len(data) != c["size"] or zlib.crc32(data) != c["crc"]:
            return None  # truncated or damaged
        kind = c["kind"]
        value = data if kind == "bytes" else data.cast(kind.removeprefix("array:"))
        if len(value) != c["count"]:
            return None
        columns[c["name"]] = value
    return _graph(columns)


class Texts(Sequence[str]):
    """A text column of the file: each value decoded when it is asked for."""

    def __init__(self, columns: dict[str, Any], name: str) -> None:
        self.text: memoryview = columns[f"{name}.text"]
        self.ends: memoryview = columns[f"{name}.ends"]

    def __len__(self) -> int:
        return len(self.ends)

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        if i < 0:
            i += len(self.ends)
        start = self.ends[i - 1] if i else 0
        return str(self.text[start : self.ends[i]], "utf-8")

    def __iter__(self) -> Iterator[str]:
        text, start = self.text, 0
        for end in self.ends:
            yield str(text[start:end], "utf-8")
            start = end


def _hash(key: str) -> int:
    return zlib.crc32(key.encode())  # stable across processes, unlike hash()


def hash_table(keys: Sequence[str]) -> Any:
    """An open-addressing table of `keys`: slot -> position + 1 (0: empty), at least half empty,
    each key reachable by linear probing from `_hash(key)` (`cofi.text_lookup.hash_table`)."""
    import numpy as np

    from cofi.text_lookup import hash_table as of_hashes

    return of_hashes(np.fromiter(map(_hash, keys), np.int64, len(keys)))


class _Index(Mapping[str, int]):
    """Value -> position in a text column, by the column's hash table (`hash_table`)."""

    def __init__(self, keys: Sequence[str], table: memoryview) -> None:
        self.keys_, self.table, self.mask = keys, table, len(table) - 1

    def get(self, key: str, default: Any = None) -> Any:
        table, mask, keys = self.table, self.mask, self.keys_
        slot = _hash(key) & mask
        while i := table[slot]:
            if keys[i - 1] == key:
                return i - 1
            slot = (slot + 1) & mask
        return default

    def __getitem__(self, key: str) -> int:
        found = self.get(key)
        if found is None:
            raise KeyError(key)
        return int(found)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.get(key) is not None

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys_)

    def __len__(self) -> int:
        return len(self.keys_)


class _Kinds(Sequence[Kind]):
    def __init__(self, codes: memoryview) -> None:
        self.codes = codes

    def __len__(self) -> int:
        return len(self.codes)

    def __getitem__(self, i: Any) -> Any:
        return _KINDS[self.codes[i]]


class _Coded(Sequence[str]):
    def __init__(self, columns: dict[str, Any], name: str) -> None:
        self.table = list(Texts(columns, f"{name}.table"))
        self.codes: memoryview = columns[f"{name}.codes"]

    def __len__(self) -> int:
        return len(self.codes)

    def __getitem__(self, i: Any) -> Any:
        return self.table[self.codes[i]]


class _ByNode(Mapping[int, Any]):
    """Identifier node -> a value of it, by binary search in the ascending node column."""

    def __init__(self, nodes: memoryview, value: Callable[[int], Any]) -> None:
        self.nodes, self.value = nodes, value

    def __getitem__(self, node: int) -> Any:
        i = bisect.bisect_left(self.nodes, node)
        if i < len(self.nodes) and self.nodes[i] == node:
            return self.value(i)
        raise KeyError(node)

    def __iter__(self) -> Iterator[int]:
        return iter(self.nodes)

    def __len__(self) -> int:
        return len(self.nodes)

    def items(self) -> Iterator[tuple[int, Any]]:  # type: ignore[override]
        return zip(self.nodes, map(self.value, range(len(self.nodes))), strict=True)


class Contracts(Mapping[str, ContractRow]):
    """The file's contracts, and `extra` ones (new or changed since it was written) over them."""

    def __init__(self, columns: dict[str, Any]) -> None:
        self.ids = Texts(columns, "contract.id")
        self.index = _Index(self.ids, columns["contract.hash"])
        self.columns = [Texts(columns, f"contract.{c}") for c in ("buyer_id", "supplier_id",
                                                                "signed_on")]  # fmt: skip
        self.value: memoryview = columns["contract.value"]
        self.currency = Texts(columns, "contract.currency")
        self.title = Texts(columns, "contract.title")
        self.decided = Texts(columns, "contract.decided")
        self.extra: dict[str, ContractRow] = {}

    def row(self, i: int) -> ContractRow:
        buyer, supplier, signed = (c[i] for c in self.columns)
        value = self.value[i]
        return ContractRow(self.ids[i], buyer, supplier, signed,
                           None if math.isnan(value) else value, self.currency[i],
                           self.title[i])  # fmt: skip

    def __getitem__(self, contract_id: str) -> ContractRow:
        found = self.extra.get(contract_id)
        if found is not None:
            return found
        return self.row(self.index[contract_id])

    def __contains__(self, contract_id: object) -> bool:
        return contract_id in self.extra or contract_id in self.index

    def __iter__(self) -> Iterator[str]:
        yield from self.ids  # (a changed one among them reads from `extra`)
        yield from (c for c in self.extra if c not in self.index)

    def __len__(self) -> int:
        return len(self.ids) + sum(c not in self.index for c in self.extra)

    def dates(self) -> Iterator[tuple[str, str]]:
        """(id, signed_on) of each contract, in order (`Graph.contract_dates`)."""
        extra, signed = self.extra, self.columns[2]
        for contract_id, on in zip(self.ids, signed, strict=True):
            found = extra.get(contract_id)
            yield (contract_id, on) if found is None else (contract_id, found.signed_on)
        yield from ((c, k.signed_on) for c, k in extra.items() if c not in self.index)

    def values(self) -> Iterator[ContractRow]:  # type: ignore[override]
        extra = self.extra
        for i, contract_id in enumerate(self.ids):
            yield extra.get(contract_id) or self.row(i)
        yield from (k for c, k in extra.items() if c not in self.index)


class Decided(Mapping[str, str]):
    """Contract id -> its DECIDED links as JSON (`Graph.decided`), and `extra` ones over them."""

    def __init__(self, contracts: Contracts) -> None:
        self.contracts = contracts
        self.extra: dict[str, str] = {}

    def get(self, contract_id: str, default: Any = None) -> Any:
        if contract_id in self.extra:
            return self.extra[contract_id] or default
        i = self.contracts.index.get(contract_id)
        return (self.contracts.decided[i] or default) if i is not None else default

    def __getitem__(self, contract_id: str) -> str:
        found = self.get(contract_id)
        if found is None:
            raise KeyError(contract_id)
        return str(found)

    def __iter__(self) -> Iterator[str]:
        return (c for c in self.contracts if self.get(c) is not None)

    def __len__(self) -> int:
        return sum(1 for _ in self)


class _Won(Mapping[int, list[str]]):
    """Winner node -> ids of the contracts it won, gathered on first use."""

    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self.won: dict[int, list[str]] | None = None

    def _all(self) -> dict[int, list[str]]:
        if self.won is None:
            self.won = {}
            for contract_id, node in zip(self.graph.contracts, self.graph.contract_winners(),
                                         strict=True):  # fmt: skip
                if node >= 0:
                    self.won.setdefault(node, []).append(contract_id)
        return self.won

    def __getitem__(self, node: int) -> list[str]:
        return self._all()[node]

    def __iter__(self) -> Iterator[int]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())


def _graph(c: dict[str, Any]) -> Graph:
    g = Graph()
    rec_id = Texts(c, "rec_id")
    ident_key, ident_raw = Texts(c, "ident.key"), Texts(c, "ident.raw")
    sizes = c["ident.size"]
    contracts = Contracts(c)
    views: dict[str, Any] = {
        "rec_id": rec_id,
        "rec_index": _Index(rec_id, c["rec_id.hash"]),
        "rec_name": Texts(c, "rec_name"),
        "rec_kind": _Kinds(c["rec_kind"]),
        "node_kind": _Kinds(c["node_kind"]),
        "ident_value": _ByNode(c["ident.node"], lambda i: (ident_key[i], ident_raw[i])),
        "ident_size": _ByNode(c["ident.node"], sizes.__getitem__),
        "e_type": c["e_type"],
        "contracts": contracts,
        "decided": Decided(contracts),
        "contracts_of": _Won(g),
        "winners": c["contract.winner"],
        "slots": (c["slot.contract"], c["slot.node"]),
    }
    for name in ("rec_node", "node_rec", "e_a", "e_b", "e_ra", "e_rb", "offsets", "halves",
                 "far", "e_share"):  # fmt: skip
        views[name] = c[name]
    for name in ("e_role", "e_since", "e_until"):
        views[name] = _Coded(c, name)
    for name, value in views.items():
        setattr(g, name, value)
    g.canonical = dict(zip(Texts(c, "canonical.keys"), Texts(c, "canonical.values"), strict=True))
    joins = zip(Texts(c, "joins.a"), Texts(c, "joins.b"), c["joins.confidence"],
                Texts(c, "joins.reasons"), strict=True)  # fmt: skip
    for a, b, confidence, reasons in joins:
        g.joins.setdefault(a, []).append((b, confidence, reasons))
    heads = zip(*(Texts(c, f"head.{column}") for column in ("agency", "record", "since", "until")),
                strict=True)  # fmt: skip
    for agency, record, since, until in heads:
        g.heads.setdefault(agency, []).append(Head(record, since, until))
    return g


def with_changes(graph: Graph, contracts: list[ContractRow], decided: dict[str, str]) -> None:
    """Lay contracts and DECIDED links changed since the file was written over its graph (the
    rest of the graph unchanged); what was derived from the file's contracts is derived again."""
    assert isinstance(graph.contracts, Contracts) and isinstance(graph.decided, Decided)
    graph.contracts.extra.update((k.id, k) for k in contracts)
    graph.decided.extra.update(decided)
    graph.slots = graph.winners = None
    graph.contracts_of = _Won(graph)
