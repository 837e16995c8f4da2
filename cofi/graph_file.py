"""The whole graph kept on disk beside the embedded store, so that a sweep reads it in about a
second instead of rebuilding it from millions of rows.

The file holds a `Graph`'s columns as they are in memory: integer and float columns as raw
`array` bytes, text columns as UTF-8 joined by NUL, text repeated on millions of edges (a role, a
date) as codes into a table of its distinct values.  It carries a *tag*: the store's identity and
the revision its rows were read at.  A revision is raised only by a committed load, so a file
whose tag names the store's current revision describes exactly the committed rows; any other
file (an older revision, another store, a killed write, a damaged or truncated file: every
column has a CRC-32) is never read, and the graph is built from the rows again.

The file is written to a temporary name and renamed over the old one, so a reader sees the old
file or the new one, never half of one.
"""

from __future__ import annotations

import json
import math
import os
import struct
import zlib
from array import array
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, BinaryIO

from cofi.graph import ContractRow, Graph, Head
from cofi.heap import gc_paused
from cofi.vocab import Kind

MAGIC = b"COFI-GRAPH-2\n"
"""The first bytes of a graph file; a new layout gets a new number (an old file is rebuilt)."""
_KINDS = tuple(Kind)
_KIND_CODE = {k: i for i, k in enumerate(_KINDS)}
_SEP = "\x00"


class _Writer:
    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.toc: list[dict[str, Any]] = []
        self.offset = 0

    def raw(self, name: str, data: bytes, kind: str, count: int) -> None:
        crc = zlib.crc32(data)
        self.toc.append(
            dict(name=name, kind=kind, count=count, offset=self.offset, size=len(data), crc=crc)
        )
        self.parts.append(data)
        self.offset += len(data)

    def ints(self, name: str, values: Iterable[int] | array[int], code: str = "i") -> None:
        data = values if isinstance(values, array) else array(code, values)
        self.raw(name, data.tobytes(), f"array:{data.typecode}", len(data))

    def floats(self, name: str, values: Iterable[float] | array[float]) -> None:
        data = values if isinstance(values, array) else array("d", values)
        self.raw(name, data.tobytes(), "array:d", len(data))

    def texts(self, name: str, values: Sequence[str]) -> None:
        if any(_SEP in v for v in values):
            raise ValueError(f"graph column {name} holds a NUL character")
        self.raw(name, _SEP.join(values).encode(), "text", len(values))

    def coded(self, name: str, values: Sequence[str]) -> None:
        """Text from few distinct values: a code per row and the table of values."""
        table: dict[str, int] = {}
        codes = array("i", (table.setdefault(v, len(table)) for v in values))
        self.texts(f"{name}.table", list(table))
        self.ints(f"{name}.codes", codes)


def write(graph: Graph, path: Path, tag: str) -> None:
    """Write `graph` to `path` under `tag` (see the module docstring)."""
    w = _Writer()
    g = graph
    w.texts("rec_id", g.rec_id)
    w.texts("rec_name", g.rec_name)
    w.raw("rec_kind", bytes(_KIND_CODE[k] for k in g.rec_kind), "bytes", len(g.rec_kind))
    w.ints("rec_node", g.rec_node)
    w.texts("canonical.keys", list(g.canonical))
    w.texts("canonical.values", list(g.canonical.values()))
    w.ints("node_rec", g.node_rec)
    w.raw("node_kind", bytes(_KIND_CODE[k] for k in g.node_kind), "bytes", len(g.node_kind))
    w.ints("ident.node", list(g.ident_value))
    w.texts("ident.key", [key for key, _ in g.ident_value.values()])
    w.texts("ident.raw", [raw for _, raw in g.ident_value.values()])
    w.ints("ident.size", [g.ident_size[n] for n in g.ident_value])
    for name in ("e_a", "e_b", "e_ra", "e_rb", "offsets", "halves", "far"):
        w.ints(name, getattr(g, name))
    w.raw("e_type", bytes(g.e_type), "bytes", len(g.e_type))
    w.floats("e_share", g.e_share)
    for name in ("e_role", "e_since", "e_until"):
        w.coded(name, getattr(g, name))
    contracts = list(g.contracts.values())
    w.texts("contract.id", [c.id for c in contracts])
    w.texts("contract.buyer_id", [c.buyer_id for c in contracts])
    w.texts("contract.supplier_id", [c.supplier_id for c in contracts])
    w.texts("contract.signed_on", [c.signed_on for c in contracts])
    w.floats("contract.value", [math.nan if c.value is None else c.value for c in contracts])
    w.texts("contract.currency", [c.currency for c in contracts])
    w.texts("contract.title", [c.title for c in contracts])
    w.ints("contract.winner", g.contract_winners())
    slot_contract, slot_node = g.decider_slots()
    w.ints("slot.contract", slot_contract)
    w.ints("slot.node", slot_node)
    w.texts("decided.contract", list(g.decided))
    w.texts("decided.json", list(g.decided.values()))
    heads = [(agency, h) for agency, hs in g.heads.items() for h in hs]
    w.texts("head.agency", [agency for agency, _ in heads])
    for i, column in enumerate(("record", "since", "until")):
        w.texts(f"head.{column}", [h[i] for _, h in heads])
    header = json.dumps({"tag": tag, "columns": w.toc}).encode()
    _remove_orphans(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as f:
            f.write(MAGIC + struct.pack("<Q", len(header)) + header)
            for part in w.parts:
                f.write(part)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _remove_orphans(path: Path) -> None:
    """Remove what writers killed before their rename left behind (`.NAME.PID.tmp`)."""
    for tmp in path.parent.glob(f".{path.name}.*.tmp"):
        pid = tmp.name.removeprefix(f".{path.name}.").removesuffix(".tmp")
        if not pid.isdigit():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            tmp.unlink(missing_ok=True)
        except OSError:
            continue  # alive, another user's: left alone


def _header(f: BinaryIO) -> dict[str, Any] | None:
    if f.read(len(MAGIC)) != MAGIC:
        return None
    size = f.read(8)
    if len(size) != 8:
        return None
    header: dict[str, Any] = json.loads(f.read(struct.unpack("<Q", size)[0]))
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
    """The graph in `path` if it was written under `tag` and is whole, else None."""
    with gc_paused():  # millions of strings: the collector would rescan them again and again
        return _read(path, tag)


def _read(path: Path, tag: str) -> Graph | None:
    columns: dict[str, Any] = {}
    try:
        with open(path, "rb") as f:
            header = _header(f)
            if header is None or header.get("tag") != tag:
                return None
            start = f.tell()
            for c in header["columns"]:  # one column at a time: never the whole file in memory
                f.seek(start + c["offset"])
                data = f.read(c["size"])
                if len(data) != c["size"] or zlib.crc32(data) != c["crc"]:
                    return None  # truncated or damaged
                value = _column(c["kind"], data, c["count"])
                del data
                if len(value) != c["count"]:
                    return None
                columns[c["name"]] = value
    except (OSError, ValueError):
        return None
    return _graph(columns)


def _column(kind: str, data: bytes, count: int) -> Any:
    if kind == "bytes":
        return data
    if kind == "text":
        return data.decode().split(_SEP) if count else []
    values = array(kind.removeprefix("array:"))
    values.frombytes(data)
    return values


def _graph(c: dict[str, Any]) -> Graph:
    g = Graph()
    g.rec_id = c["rec_id"]
    g.rec_name = c["rec_name"]
    g.rec_index = dict(zip(g.rec_id, range(len(g.rec_id)), strict=True))
    g.rec_kind = [_KINDS[k] for k in c["rec_kind"]]
    g.rec_node = c["rec_node"]
    g.canonical = dict(zip(c["canonical.keys"], c["canonical.values"], strict=True))
    g.node_rec = c["node_rec"]
    g.node_kind = [_KINDS[k] for k in c["node_kind"]]
    g.ident_value = dict(
        zip(c["ident.node"], zip(c["ident.key"], c["ident.raw"], strict=True), strict=True)
    )
    g.ident_size = dict(zip(c["ident.node"], c["ident.size"], strict=True))
    for name in ("e_a", "e_b", "e_ra", "e_rb", "offsets", "halves", "far", "e_share"):
        setattr(g, name, c[name])
    g.e_type = bytearray(c["e_type"])
    for name in ("e_role", "e_since", "e_until"):
        table = c[f"{name}.table"]
        setattr(g, name, list(map(table.__getitem__, c[f"{name}.codes"])))
    values = [None if math.isnan(v) else v for v in c["contract.value"]]
    columns = (
        c["contract.id"],
        c["contract.buyer_id"],
        c["contract.supplier_id"],
        c["contract.signed_on"],
        values,
        c["contract.currency"],
        c["contract.title"],
    )
    g.contracts = dict(
        zip(columns[0], map(ContractRow._make, zip(*columns, strict=True)), strict=True)
    )
    g.decided = dict(zip(c["decided.contract"], c["decided.json"], strict=True))
    for agency, record, since, until in zip(
        c["head.agency"], c["head.record"], c["head.since"], c["head.until"], strict=True
    ):
        g.heads.setdefault(agency, []).append(Head(record, since, until))
    g.winners = c["contract.winner"]
    g.slots = (c["slot.contract"], c["slot.node"])
    won = g.contracts_of
    for contract_id, node in zip(columns[0], c["contract.winner"], strict=True):
        if node >= 0:
            won.setdefault(node, []).append(contract_id)
    return g
