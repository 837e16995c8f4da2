"""The embedded store's links of the graph's types (`FILE_TYPES`: the many) as columns in a
file of their own beside its database, named in its `meta` with a seal (issue 17; the plan and
its measurements: `docs/link-store.md`).  SQLite keeps the few (SAME_AS, the declarations).
(Over 500 lines: the format's writer and reader, a later load's merge and a load's making of
the file together, so that they cannot drift apart.)

A link's ends are numbers into the file's own ids (kept in it with their hash table: a load
numbers the ends of its links, and a ring read finds them, without the store); a later load's
new ids are numbered after the known, so the numbers never change.  Its texts are codes into
small sorted tables (types, roles, days, references), so that the rows sort by codes in the
order of the `links` table's primary key, `(source, target, type, role, since)`, which SQLite
compares as UTF-8 bytes, that is, as code points.  Beside the rows: where each entity's links
from it begin (`source_start`), and the rows in the order of their targets (`by_target`,
`target_start`), which replace the `links_target` index.  A lookup from either end is then two
reads of an array, no search.  Each step is tested against what SQLite does with the same rows
(`tests/test_link_file.py`).

Every load that changes a link writes a new file (`make`), under its revision and its process's
id; the store's transaction names it, so a killed load leaves the file it named before, and the
files no one names are removed by the next load (`remove_unnamed`).

The file is the graph file's layout (`graph_file.Writer`: aligned columns, a CRC-32 each, a JSON
footer) under its own magic.  Opening it checks what is cheap, its length and its footer's CRC
against the seal its writer returned (the store keeps the seal in the transaction that names the
file), so `check` does not read 300 MB to answer; `verify` checks every column's CRC.
"""

from __future__ import annotations

import contextlib
import errno
import mmap
import os
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from cofi.graph_file import _START, Writer
from cofi.link_pages import CODED, MAGIC, LinkFileDamaged, Seal, footer, opened
from cofi.link_pages import TABLES as _TABLES
from cofi.text_lookup import TextLookup
from cofi.vocab import FILE_TYPES

Array = np.ndarray[Any, Any]

KEY = ("source", "target", "type", "role", "since")
"""The columns of a link's key, in the order its rows are sorted by."""
_DTYPES = {"source": np.int32, "target": np.int32, "type": np.int8, "role": np.int32,
           "since": np.int32, "until": np.int32, "share": np.float64, "source_ref": np.int32,
           "rev": np.int32}  # fmt: skip
Row = tuple[int, int, str, str, str, float | None, str, str, int]
"""A link as the `links` table holds it, its ends as numbers: source, target, type, role, since,
share, until, source_ref, rev."""


@dataclass(frozen=True)
class LinkColumns:
    """Links in key order, unique by key: each column an array, each coded one's texts in
    `tables` (sorted, so that codes compare as their texts)."""

    columns: dict[str, Array]
    tables: dict[str, list[str]]

    def __len__(self) -> int:
        return len(self.columns["source"])

    @classmethod
    def from_rows(cls, rows: Iterable[Row]) -> LinkColumns:
        """The links `rows` (at most one a key) in key order."""
        rows = list(rows)
        fields = dict(zip(("source", "target", "type", "role", "since", "share", "until",
                           "source_ref", "rev"), zip(*rows, strict=True) if rows else [()] * 9,
                          strict=True))  # fmt: skip
        tables: dict[str, list[str]] = {}
        for table in _TABLES:
            texts = {v for column, t in CODED.items() if t == table for v in fields[column]}
            tables[table] = sorted(texts)
        columns = {name: np.asarray(fields[name], _DTYPES[name]).reshape(-1)
                   for name in ("source", "target", "rev")}  # fmt: skip
        columns["share"] = np.array([np.nan if v is None else v for v in fields["share"]],
                                    np.float64).reshape(-1)  # fmt: skip
        for column, table in CODED.items():
            at = {text: i for i, text in enumerate(tables[table])}
            columns[column] = np.array([at[v] for v in fields[column]], _DTYPES[column]).reshape(-1)
        return _sorted(cls(columns, tables))

    def row(self, i: int) -> Row:
        c, t = self.columns, self.tables
        share = float(c["share"][i])
        return (int(c["source"][i]), int(c["target"][i]), t["types"][c["type"][i]],
                t["roles"][c["role"][i]], t["days"][c["since"][i]],
                None if np.isnan(share) else share, t["days"][c["until"][i]],
                t["refs"][c["source_ref"][i]], int(c["rev"][i]))  # fmt: skip

    def rows(self, at: Iterable[int] | None = None) -> list[Row]:
        """The rows `at` (every row: None), column by column."""
        if at is None:
            at = np.arange(len(self))
        at = np.asarray(at if isinstance(at, np.ndarray) else list(at), np.int64)
        c, t = self.columns, self.tables
        shares = [None if s != s else s for s in c["share"][at].tolist()]  # (NaN: none)
        texts = {k: [t[CODED[k]][code] for code in c[k][at].tolist()] for k in CODED}
        return list(zip(c["source"][at].tolist(), c["target"][at].tolist(), texts["type"],
                        texts["role"], texts["since"], shares, texts["until"],
                        texts["source_ref"], c["rev"][at].tolist(), strict=True))  # fmt: skip


def from_arrow(rows: Any, known: TextLookup | None) -> tuple[LinkColumns, Any]:
    """The links `rows` (an Arrow table of the `links` table's columns, texts but `share` and
    `rev`; at most one a key) in key order, each end numbered among the ids `known` (a file's;
    `numbered`), and the ids the numbers stand for."""
    import pyarrow as pa
    import pyarrow.compute as pc

    n = rows.num_rows
    ends = pa.chunked_array([*rows["source"].chunks, *rows["target"].chunks], pa.string())
    numbers, ids = numbered(ends, known)
    tables, columns = coded(rows)
    columns["source"], columns["target"] = (
        numbers[:n].astype(np.int32),
        numbers[n:].astype(np.int32),
    )
    columns["share"] = _numpy(pc.fill_null(rows["share"].cast(pa.float64()), np.nan))
    columns["rev"] = _numpy(rows["rev"]).astype(np.int32)
    return _sorted(LinkColumns(columns, tables)), ids


def coded(rows: Any) -> tuple[dict[str, list[str]], dict[str, Array]]:
    """The sorted tables of the texts of `rows`' coded columns (an Arrow table), and each
    coded column's codes into its table."""
    coder = Coder()
    coder.add(rows)
    return coder.finish()


class Coder:
    """The codes of the coded columns of rows given a batch at a time (`add`): memory holds
    each batch's codes, not its texts; the tables are sorted, and the codes made theirs, at
    the end (`finish`)."""

    def __init__(self) -> None:
        self.seen: dict[str, dict[str, int]] = {t: {} for t in _TABLES}
        self.parts: dict[str, list[Array]] = {c: [] for c in CODED}

    def add(self, rows: Any) -> None:
        """Code the coded columns of `rows` (an Arrow table or record batch)."""
        import pyarrow as pa
        import pyarrow.compute as pc

        for column, table in CODED.items():
            values = rows.column(column)
            if isinstance(values, pa.ChunkedArray):
                values = values.combine_chunks()
            encoded = pc.dictionary_encode(values)
            seen = self.seen[table]
            local = np.fromiter((seen.setdefault(v, len(seen)) for v in
                                 encoded.dictionary.to_pylist()), np.int64)  # fmt: skip
            indices = encoded.indices.to_numpy(zero_copy_only=False)
            dtype = _DTYPES[column]  # (as narrow as the column's codes in the file)
            self.parts[column].append(local[indices].astype(dtype) if len(local)
                                      else np.zeros(0, dtype))  # fmt: skip

    def finish(self) -> tuple[dict[str, list[str]], dict[str, Array]]:
        """The sorted tables, and each column's codes into its table."""
        tables = {t: sorted(seen) for t, seen in self.seen.items()}
        rank = {}
        for t, seen in self.seen.items():
            rank[t] = np.empty(len(seen), np.int64)
            rank[t][[seen[v] for v in tables[t]]] = np.arange(len(seen))
        codes = {}
        for column, table in CODED.items():
            parts, self.parts[column] = self.parts[column], []
            at = np.concatenate([*parts, np.zeros(0, _DTYPES[column])])
            codes[column] = rank[table][at].astype(_DTYPES[column])
        return tables, codes


def key_firsts(columns: dict[str, Array]) -> tuple[dict[str, Array], Array]:
    """Each key's first row (least `seq`) of the rows `columns` (the `KEY` columns, numbered
    and coded, `share` with NaN for none, `until`, `source_ref`, and `seq`, each row's place in
    the input), in key order, but of the keys given more than once with other fields; and the
    `seq` of every row of those keys, in key order.  `columns` is emptied: its columns are
    sorted one at a time, so that memory holds one column more than the rows, and the sort."""
    order = key_order(columns)
    for name in list(columns):
        columns[name] = columns[name][order]
    del order
    n = len(columns["seq"])
    if not n:
        return {name: columns.pop(name) for name in list(columns)}, np.zeros(0, np.int64)
    new = np.zeros(n, bool)  # (a row whose key is not the row's before it)
    for name in KEY:
        values = columns[name]
        new[1:] |= values[1:] != values[:-1]
    new[0] = True
    unlike = np.zeros(n, bool)  # (a row whose other fields are not the row's before it)
    for name in ("share", "until", "source_ref"):
        values = columns[name]
        if name == "share":  # (NaN is unlike itself; a share is above 0)
            values = np.where(np.isnan(values), -1.0, values)
        unlike[1:] |= values[1:] != values[:-1]
    unlike &= ~new
    start = np.flatnonzero(new)
    twice = np.logical_or.reduceat(unlike, start)  # (a key given with other fields)
    twice_rows = np.repeat(twice, np.diff(np.append(start, n)))
    first, twice_seqs = start[~twice], columns["seq"][twice_rows]
    return {name: columns.pop(name)[first] for name in list(columns)}, twice_seqs


def key_order(columns: dict[str, Array]) -> Array:
    """The rows of `columns` in key order (`KEY`), a key's rows in `seq` order: the key's
    columns packed into one number when it fits in 63 bits (each a count of values times the
    rest), sorted by numpy's quick sort, then the rows of keys given more than once put in
    `seq` order; else `np.lexsort` of the six.  (The large synthetic bundle's 5.5M staged
    links: 2.0-2.6 s of CPU by `np.lexsort`, 0.5 s packed.)"""
    key = np.zeros(len(columns["seq"]), np.int64)
    room = 1
    for name in KEY:
        values = columns[name]
        width = int(values.max()) + 1 if len(values) else 1
        room *= width
        if room >= 1 << 63 or (len(values) and int(values.min()) < 0):
            return np.lexsort([columns[k] for k in ("seq", *reversed(KEY))])
        key *= width
        key += values
    order = np.argsort(key)
    ordered = key[order]
    same = ordered[1:] == ordered[:-1]  # (a row whose key is the row's before it)
    if same.any():
        repeated = np.zeros(len(order), bool)
        repeated[1:] |= same
        repeated[:-1] |= same
        at = np.flatnonzero(repeated)  # (the places of the keys given more than once)
        rows = order[at]
        order[at] = rows[np.lexsort((columns["seq"][rows], key[rows]))]
    return order


def of_store(db: Any) -> tuple[LinkColumns, Any]:
    """The links of `FILE_TYPES` of a store (an open `sqlite3` connection to it) and the ids
    their ends' numbers stand for, numbered as `name_rows` numbers them (less one): row by row in
    Python, for tests and small stores."""
    import pyarrow as pa

    types = ", ".join(f"'{t}'" for t in FILE_TYPES)
    links = LinkColumns.from_rows(
        db.execute(
            "SELECT s.n - 1, t.n - 1, l.type, l.role, l.since, l.share, l.until, l.source_ref, "
            "l.rev FROM links AS l JOIN name_rows AS s ON s.id = l.source "
            f"JOIN name_rows AS t ON t.id = l.target WHERE l.type IN ({types})"
        )
    )
    ids = [i for (i,) in db.execute("SELECT id FROM name_rows ORDER BY n")]
    return links, pa.array(ids, pa.large_string())


def numbered(ends: Any, known: TextLookup | None) -> tuple[Array, Any]:
    """The number of each of `ends` (an Arrow array of ids): its place among the ids `known`
    (a file's), or, for an id new to them, a number after theirs, new ids numbered in id
    order; and the ids the numbers stand for, the known ones first."""
    import pyarrow as pa
    import pyarrow.compute as pc

    ends = ends.combine_chunks() if isinstance(ends, pa.ChunkedArray) else ends
    old = known.ids if known is not None else pa.array([], pa.large_string())
    numbers = known.places(ends) if known is not None and len(old) else np.full(len(ends), -1)
    new = numbers < 0
    if not new.any():
        return numbers, old
    unknown = ends.filter(pa.array(new))
    fresh = pc.unique(unknown)
    fresh = fresh.take(pc.sort_indices(fresh)).cast(pa.large_string())
    numbers[new] = len(old) + TextLookup(fresh).places(unknown)
    return numbers, pa.concat_arrays([old.cast(pa.large_string()), fresh])


def _numpy(values: Any) -> Array:
    import pyarrow as pa

    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    array: Array = values.to_numpy(zero_copy_only=False)
    return array


def _sorted(links: LinkColumns) -> LinkColumns:
    """`links` in key order (sorted only if they are not); a key given twice is refused (a load
    groups its links first)."""
    c = links.columns
    less, same = _order(c, slice(None, -1), slice(1, None))
    if not (less | same).all():
        order = np.lexsort([c[k] for k in reversed(KEY)])
        c = {name: values[order] for name, values in c.items()}
        less, same = _order(c, slice(None, -1), slice(1, None))
    if same.any():
        raise ValueError("a link's key given twice")
    return LinkColumns(c, links.tables)


def _order(c: dict[str, Array], a: Any, b: Any) -> tuple[Array, Array]:
    """For each pair of rows `a`, `b`: whether a's key sorts before b's, whether they are the
    same."""
    less = np.zeros(len(c["source"][a]), bool)
    same = np.ones(len(less), bool)
    for k in KEY:
        x, y = c[k][a], c[k][b]
        less |= same & (x < y)
        same &= x == y
    return less, same


def _recoded(links: LinkColumns, tables: dict[str, list[str]]) -> dict[str, Array]:
    """`links`' columns with their codes into `tables` (which hold every text of theirs)."""
    columns = dict(links.columns)
    for column, table in CODED.items():
        old = links.tables[table]
        if old != tables[table]:
            to = np.searchsorted(np.array(tables[table], object), np.array(old, object))
            columns[column] = to.astype(_DTYPES[column])[links.columns[column]]
    return columns


class Merged(NamedTuple):
    """The links after a merge, and how many rows it changed (inserted or updated, as an
    upsert's row count) and created."""

    links: LinkColumns
    changed: int
    created: int


def merged(old: LinkColumns, new: LinkColumns, rev: int) -> Merged:
    """`old` with a later load's links `new` upserted at revision `rev`, as the store's
    `_UPSERT_LINK` does it: a new key comes in at `rev`; a key in both takes the new share,
    until and reference, and `rev`, only when one of them differs; every other row stays as it
    was, its revision too.  Each new row's place is found among the old rows by binary search
    (a day's 6,000 links into 5.5M: no sort of them all)."""
    tables = {t: sorted(set(old.tables[t]) | set(new.tables[t])) for t in _TABLES}
    a, b = _recoded(old, tables), _recoded(new, tables)
    place, match = _places(a, b)
    found = match >= 0
    differs = ~(b["share"][found] == a["share"][match[found]])
    differs &= ~(np.isnan(b["share"][found]) & np.isnan(a["share"][match[found]]))
    for name in ("until", "source_ref"):
        differs |= b[name][found] != a[name][match[found]]
    changed, by = match[found][differs], np.flatnonzero(found)[differs]
    added = np.flatnonzero(~found)
    columns = {}
    for name, values in a.items():
        values = values.copy()
        values[changed] = rev if name == "rev" else b[name][by]
        fresh = np.full(len(added), rev, values.dtype) if name == "rev" else b[name][added]
        columns[name] = np.insert(values, place[added], fresh)
    return Merged(LinkColumns(columns, tables), len(changed) + len(added), len(added))


def _places(a: dict[str, Array], b: dict[str, Array]) -> tuple[Array, Array]:
    """For each row of `b` (in key order): where it goes among the rows of `a` (in key order),
    and the row of `a` with its key (-1: none)."""
    pair_a, pair_b = _pairs(a), _pairs(b)
    lo = np.searchsorted(pair_a, pair_b, "left")
    hi = np.searchsorted(pair_a, pair_b, "right")
    place, match = lo.copy(), np.full(len(lo), -1, np.int64)
    todo, k = np.flatnonzero(hi > lo), 0
    while len(todo):  # (the rows of `a` between the same two ends, one at a time)
        at = lo[todo] + k
        before = np.zeros(len(todo), bool)
        same = np.ones(len(todo), bool)
        for name in KEY[2:]:
            x, y = a[name][at], b[name][todo]
            before |= same & (x < y)
            same &= x == y
        place[todo] += before
        match[todo[same]] = at[same]
        k += 1
        todo = todo[lo[todo] + k < hi[todo]]
    return place, match


def _pairs(c: dict[str, Array]) -> Array:
    """Each row's two ends as one number that sorts as the pair does (ends are not negative)."""
    return (c["source"].astype(np.int64) << 32) | c["target"].astype(np.int64)


def write(
    path: Path, links: LinkColumns, ids: Any, tag: str, lookup: TextLookup | None = None
) -> Seal:
    """Write `links` and the `ids` their ends' numbers stand for (an Arrow array of texts;
    their `lookup`, if made) to `path` (a new file, synced) under `tag`; the seal to open it
    by."""
    import pyarrow as pa

    c = links.columns
    size = len(ids)
    if len(links) and max(int(c["source"].max()), int(c["target"].max())) >= size:
        raise ValueError("a link's end has no id")
    ids = ids.cast(pa.large_string())
    hashes, table = (lookup if lookup is not None else TextLookup(ids)).parts
    by_target = stable_order(c["target"]).astype(np.int32)
    with open(path, "xb") as f:
        w = Writer(f, MAGIC)
        for name, values in c.items():
            data = np.ascontiguousarray(values, _DTYPES[name])
            w.raw(name, data, f"numpy:{data.dtype.str}", len(data))
        for name, values in (("by_target", by_target),
                             ("source_start", _starts(c["source"], size)),
                             ("target_start", _starts(c["target"], size))):  # fmt: skip
            w.raw(name, values, f"numpy:{values.dtype.str}", len(values))
        for table_name in _TABLES:
            w.texts(table_name, links.tables[table_name])
        offsets = np.frombuffer(ids.buffers()[1], np.int64)[ids.offset : ids.offset + size + 1]
        data = ids.buffers()[2]
        start = int(offsets[0]) if size else 0
        end = int(offsets[-1]) if size else 0
        for name, values in (("ids.offsets", np.ascontiguousarray(offsets - start)),
                             ("ids.hashes", hashes), ("ids.table", table)):  # fmt: skip
            w.raw(name, values, f"numpy:{values.dtype.str}", len(values))
        raw = memoryview(data)[start:end] if data is not None else b""
        w.raw("ids.data", raw, "bytes", end - start)
        w.finish(tag)
        f.flush()
        os.fsync(f.fileno())
    return _seal_of(path)


def stable_order(values: Array) -> Array:
    """`np.argsort(values, kind="stable")` of values from 0 to 2^31 - 1, by one sort of each
    value with its place (5.5M rows: 0.27 s against 0.78 s)."""
    keyed = (values.astype(np.int64) << 32) | np.arange(len(values), dtype=np.int64)
    keyed.sort()
    keyed &= 0xFFFFFFFF
    return keyed


def _starts(ends: Array, size: int) -> Array:
    """Where each number's rows begin among rows sorted by `ends` (and where they end: the next
    one's start), for numbers 0 to `size` - 1."""
    return np.concatenate([[0], np.cumsum(np.bincount(ends, minlength=size))]).astype(np.int64)


def _seal_of(path: Path) -> Seal:
    with open(path, "rb") as f:
        _, raw = footer(f)
    return Seal(path.stat().st_size, zlib.crc32(raw))


class LinkFile:
    """A link file opened by its seal: its columns as views of the mapped file."""

    def __init__(self, path: Path, seal: Seal, tag: str | None = None) -> None:
        f, _, header = opened(path, seal, tag)
        with f:
            try:
                self._map = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
            except (OSError, ValueError) as exc:
                raise LinkFileDamaged(str(exc)) from None
        self.path, self.toc = path, header["columns"]
        columns = {c["name"]: self._column(c) for c in self.toc}
        self._mapped = {name: np.frombuffer(values, np.uint8) if isinstance(values, memoryview)
                        else values for name, values in columns.items()}  # fmt: skip
        tables = {t: _texts(columns.pop(f"{t}.text"), columns.pop(f"{t}.ends")) for t in _TABLES}
        self._offsets, self._data = columns.pop("ids.offsets"), columns.pop("ids.data")
        self._hashes, self._table = columns.pop("ids.hashes"), columns.pop("ids.table")
        self.by_target = columns.pop("by_target")
        self.source_start = columns.pop("source_start")
        self.target_start = columns.pop("target_start")
        self.links = LinkColumns(columns, tables)

    def _column(self, c: dict[str, Any]) -> Any:
        lo = _START + c["offset"]
        kind = c["kind"]
        if kind == "bytes":
            return memoryview(self._map)[lo : lo + c["size"]]
        dtype = np.dtype(kind.removeprefix("numpy:").removeprefix("array:"))
        return np.frombuffer(self._map, dtype, c["count"], lo)

    def verify(self) -> None:
        """Check every column's CRC-32 (a whole read of the file)."""
        view = memoryview(self._map)
        for c in self.toc:
            lo = _START + c["offset"]
            if zlib.crc32(view[lo : lo + c["size"]]) != c["crc"]:
                raise LinkFileDamaged(f"column {c['name']} damaged")

    @property
    def ids(self) -> Any:
        """The ids the numbers stand for, as an Arrow array (a view of the file)."""
        import pyarrow as pa

        offsets, data = self._offsets, self._data
        return pa.Array.from_buffers(
            pa.large_string(), len(offsets) - 1, [None, pa.py_buffer(offsets), pa.py_buffer(data)]
        )

    @property
    def lookup(self) -> TextLookup:
        """The ids' `TextLookup`, from the hash table the file keeps."""
        return TextLookup.of_parts(self.ids, self._hashes, self._table)

    # `LinkFile` reads through the map: the bulk reads of a load, the graph file, `restrictions`
    # and `declarations audit`.  A ring read (`check`, `path`, `links`, `explore`) reads a few
    # values here and there by `pread` (`link_pages.LinkPages`): through the map, each scattered
    # read mapped about 1 MB of the file (the page cache holds it in large folios, and a fault
    # maps the folio around it), 90 MB for one `check`.

    def take(self, name: str, at: Any) -> Array:
        """The values of the column `name` at the places `at` (an array)."""
        taken: Array = self._mapped[name][np.asarray(at, np.int64)]
        return taken

    def numbers_of(self, ids: Sequence[str]) -> Array:
        """The numbers of those of `ids` that end a link, by the file's own hash table."""
        import pyarrow as pa

        found = self.lookup.places(pa.array(list(ids), pa.string()))
        return found[found >= 0]

    def texts_of(self, numbers: Any) -> dict[int, bytes]:
        """The UTF-8 of the id each of `numbers` stands for."""
        offsets, data = self._offsets, self._data
        return {n: bytes(data[int(offsets[n]) : int(offsets[n + 1])])
                for n in distinct(np.asarray(numbers, np.int64)).tolist()}  # fmt: skip

    def ids_of(self, numbers: Iterable[int]) -> dict[int, str]:
        """The id each of `numbers` stands for."""
        return {n: t.decode() for n, t in self.texts_of(list(set(numbers))).items()}

    def rows_from(self, numbers: Sequence[int] | Array) -> Array:
        """The rows of the links from the entities `numbers`, in key order for each."""
        return _ranges(self.source_start, numbers, None)

    def rows_into(self, numbers: Sequence[int] | Array) -> Array:
        """The rows of the links into the entities `numbers` (by source, type, role, since)."""
        return _ranges(self.target_start, numbers, self.by_target)

    def rows_at(self, at: Any) -> list[Row]:
        """`links.rows(at)`."""
        return self.links.rows(np.asarray(at, np.int64))


def distinct(values: Array) -> Array:
    """The distinct values, sorted: `np.unique(values)` by a sort.  (numpy 2.3+ finds the
    values alone through a hash table, which took 11.4 s for 7M int64 here, against 0.15 s
    sorted: the decision-makers' slots of the large synthetic scale; and 1.6 s of a
    `restrictions --all` for the 1.3M rows of links into the agencies.)"""
    ordered = np.sort(values)
    first = np.ones(len(ordered), bool)
    np.not_equal(ordered[1:], ordered[:-1], out=first[1:])
    return ordered[first]


def _ranges(starts: Array, numbers: Sequence[int] | Array, order: Array | None) -> Array:
    at = np.asarray(numbers, np.int64)
    at = at[(at >= 0) & (at < len(starts) - 1)]
    lo, hi = starts[at], starts[at + 1]
    rows = np.concatenate([np.arange(a, b) for a, b in zip(lo.tolist(), hi.tolist(), strict=True)]
                          or [np.zeros(0, np.int64)])  # fmt: skip
    return rows if order is None else order[rows].astype(np.int64)


def _texts(text: memoryview, ends: Any) -> list[str]:
    out, start = [], 0
    for end in ends.tolist():
        out.append(str(text[start:end], "utf-8"))
        start = end
    return out


@dataclass(frozen=True)
class LinkTarget:
    """Where a load writes its link file: the store's directory, the file the store names now
    (None: none yet) with its seal, and the revision the load will commit."""

    directory: Path
    base: str | None
    seal: str | None
    rev: int
    owner: int
    """The process of the load (its store's write): the new file carries its id, so that the
    file is not taken for a killed load's while the load runs (`remove_unnamed`)."""


@dataclass(frozen=True)
class LinkFileMade:
    """A load's new link file (in `LinkTarget.directory`), made from `base` (the file the store
    named when the load began), and the rows it changed and created."""

    name: str
    seal: str
    base: str | None
    changed: int
    created: int
    made_directory: bool = False
    """Whether the store's directory was made for it (a first load's: removed with the file
    when the load fails)."""


def make(target: LinkTarget, rows: Any) -> LinkFileMade | None:
    """Merge a load's links `rows` (an Arrow table of the `links` table's columns but `rev`, at
    most one a key) into the file `target` names, as a new file beside it; None when they change
    nothing there."""
    import pyarrow as pa

    base = None
    if target.base is not None:
        assert target.seal is not None
        base = LinkFile(target.directory / target.base, Seal.from_text(target.seal))
    rows = rows.append_column("rev", pa.array(np.full(rows.num_rows, target.rev, np.int32)))
    new, ids = from_arrow(rows, base.lookup if base is not None else None)
    return make_from(target, base, new, ids)


def make_from(
    target: LinkTarget,
    base: LinkFile | None,
    new: LinkColumns,
    ids: Any,
    lookup: TextLookup | None = None,
) -> LinkFileMade | None:
    """`make` of a load's links `new` (numbered among `ids`, which extend `base`'s; their
    `lookup`, if made), merged into `base`, the file `target` names (opened)."""
    if base is None:
        change = Merged(new, len(new), len(new))
    else:
        change = merged(base.links, new, target.rev)
    if base is not None and not change.changed:
        return None
    made_directory = not target.directory.exists()
    target.directory.mkdir(parents=True, exist_ok=True)
    name = f"links-{target.rev}-{target.owner}.bin"
    path = target.directory / name
    path.unlink(missing_ok=True)  # (a load of this process killed before: never named)
    try:
        seal = write(path, change.links, ids, name, lookup)
    except BaseException as exc:
        path.unlink(missing_ok=True)
        if made_directory:
            with contextlib.suppress(OSError):
                target.directory.rmdir()
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
            from cofi.errors import StoreFull

            raise StoreFull(
                f"{target.directory}: disk full ({exc}); nothing was written, the store is as "
                "it was"
            ) from None
        raise
    return LinkFileMade(
        name, seal.as_text(), target.base, change.changed, change.created, made_directory
    )


def remove_unnamed(directory: Path, named: str | None) -> None:
    """Remove the link files in `directory` but `named` whose loads are gone: left by killed
    loads, or superseded (a load leaves the file it superseded to the readers still in a
    snapshot of the revision before, until the next load).  Only under the store's write lock,
    with `named` read under it: else a load could name a file, commit and end between the read
    and the removal."""
    from cofi.orphans import owner_gone

    for path in directory.glob("links-*-*.bin"):
        if path.name != named and owner_gone(path.stem.rsplit("-", 1)[-1]):
            path.unlink(missing_ok=True)
