"""The embedded store's graph file written straight from its rows: the same graph as
`Graph.build` followed by `graph_file.write`, without a `Graph` in memory.  (Over 500 lines: one
pass whose steps share the records' numbers.)

`Graph.build` makes a Python object per record, link and identifier (2.4 GB and 40-55 s at the
large synthetic scale, so a national register would not fit).  Here numpy does it on whole
columns: which links are edges, the entity of each record after merges, the identifier nodes, the
compressed adjacency, the decision-makers of each contract.

The records, links, contacts and contracts cross from SQLite to Python as Arrow columns, read
through ADBC's SQLite driver by a forked process of their own (`_Reader`), in the order
`Graph.build` reads them; Arrow looks the ends of links up among the records' ids (a record's
number is its place among them, in id order) and tells identifiers apart.
Columns are written as they are made, so memory holds columns, never rows.
`tests/test_reference.py` checks, on every generated bundle, that the file read back is the
graph `Graph.build` makes.
"""

from __future__ import annotations

import bisect
import contextlib
import json
import multiprocessing
import os
import pickle
import signal
import sqlite3
import zlib
from collections.abc import Iterable, Iterator, Sequence
from contextlib import closing
from itertools import chain, groupby
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import numpy as np

from cofi.graph import EDGE_CODE, Head, joins
from cofi.graph_file import Writer, write_heads, write_joins, writing
from cofi.heap import give_back_free_memory
from cofi.link_file import distinct, stable_order
from cofi.merge import canonical_ids
from cofi.orphans import remove_orphans
from cofi.sorted_texts import SortedTexts
from cofi.store.embedded import MATCHED, SAME_AS_REFS
from cofi.text_lookup import TextLookup, hash_table
from cofi.vocab import HEAD_ROLE, IDENTIFIER_LINK, LINK_TYPES, STRONG_ID_FIELD, Kind

if TYPE_CHECKING:
    from cofi.store.embedded_link_rings import FileLinks

Array = np.ndarray[Any, Any]

_KINDS = tuple(Kind)
_AGENCY = _KINDS.index(Kind.AGENCY)
_NO_SHARE = -1.0


def _kind_code(column: str) -> str:
    """SQL for the code (position in `Kind`) of a kind column."""
    cases = " ".join(f"WHEN '{k.value}' THEN {i}" for i, k in enumerate(_KINDS))
    return f"CASE {column} {cases} END"


class _Texts:
    """A text column gathered part by part: UTF-8 and the end of each value."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.ends: list[Array] = []
        self.size = 0

    def add_all(self, values: Sequence[str]) -> None:
        encoded = [v.encode() for v in values]
        lengths = np.fromiter(map(len, encoded), np.int64, len(encoded))
        self.parts.append(b"".join(encoded))
        self.ends.append(self.size + np.cumsum(lengths))
        self.size += len(self.parts[-1])

    def add_arrow(self, values: Any) -> None:
        """An Arrow array of texts (none null), from its buffers."""
        import pyarrow as pa

        values = values.cast(pa.large_string()) if len(values) else values
        if not len(values):
            return
        offsets = np.frombuffer(values.buffers()[1], np.int64)[
            values.offset : values.offset + len(values) + 1
        ]
        self.parts.append(values.buffers()[2].to_pybytes()[offsets[0] : offsets[-1]])
        self.ends.append(self.size + offsets[1:] - offsets[0])
        self.size += int(offsets[-1] - offsets[0])

    def write(self, w: Writer, name: str) -> None:
        text = b"".join(self.parts)
        self.parts = []
        ends = np.concatenate([*self.ends, np.zeros(0, np.int64)])
        w.raw(f"{name}.text", text, "bytes", len(text))
        w.raw(f"{name}.ends", ends, "array:q", len(ends))


class _Codes:
    """A column of few distinct texts (a role, a date) as codes into a table."""

    def __init__(self) -> None:
        self.table: dict[str, int] = {}
        self.codes: list[Array] = []

    def add(self, values: Sequence[str]) -> None:
        table = self.table
        for v in dict.fromkeys(values):
            if v not in table:
                table[v] = len(table)
        self.codes.append(np.fromiter(map(table.__getitem__, values), np.int32, len(values)))

    def add_repeated(self, value: str, n: int) -> None:
        """`add` of `value` `n` times (none: `value` is not added to the table)."""
        code = self.table.setdefault(value, len(self.table)) if n else 0
        self.codes.append(np.full(n, code, np.int32))

    def add_encoded(self, table: list[str], at: Array) -> None:
        """`add` of the values `table[at]`: the table's texts get codes in the order they
        first appear in `at`, as `add` gives them."""
        n = len(at)
        first = np.full(len(table), n, np.int64)
        np.minimum.at(first, at, np.arange(n))
        present = np.flatnonzero(first < n)
        codes = np.zeros(len(table), np.int32)
        for i in present[np.argsort(first[present], kind="stable")].tolist():
            codes[i] = self.table.setdefault(table[i], len(self.table))
        self.codes.append(codes[at])

    def write(self, w: Writer, name: str) -> None:
        texts = _Texts()
        texts.add_all(list(self.table))
        texts.write(w, f"{name}.table")
        codes = np.concatenate([*self.codes, np.zeros(0, np.int32)])
        w.raw(f"{name}.codes", codes, "array:i", len(codes))


def _ints(w: Writer, name: str, values: Any) -> None:
    data = np.ascontiguousarray(values, dtype=np.int32)
    w.raw(name, data, "array:i", len(data))


def _cat(parts: list[Array], dtype: Any = np.int64) -> Array:
    return np.concatenate([*parts, np.zeros(0, dtype)])


_BATCH_ROWS = 1 << 18
"""Rows per Arrow batch read from the links table (`_Reader`)."""
_LOOKUP_ROWS = 1 << 22
"""Links whose targets are looked up together (`_Reader`): below `TABLE_IDS` records, Arrow makes
its hash table of the records' ids at each lookup (0.2 s for 1M ids; above, `TextLookup` made
its own once), and the batches wait, with their targets' texts, until theirs (about 40 bytes a
link)."""


class _Reader:
    """Rows read as Arrow columns, links with the records' numbers of their ends (`lookup`: the
    records' ids in id order, a `TextLookup`; None for `records`, which reads them): a batch's
    sources, read in key order, are looked up among the few ids between its first and last; the
    targets, held as texts, together for `_LOOKUP_ROWS` links at a time.

    The rows come from ADBC's SQLite driver, on a read-only connection in the state `db` holds
    open (`_SNAPSHOT` tells), in a forked process that sends them back as Arrow IPC streams
    (`_serve_reads`): never in a process that holds the store open through Python's `sqlite3`.
    The driver carries a SQLite library of its own, and two on one file in one process break
    its locks (SQLite's "How To Corrupt An SQLite Database File", 2.2.1): closing the driver's
    connection dropped every POSIX lock the process held on the store, so another process could
    truncate the log under its read snapshot (`tests/test_graph_file.py` shows it), and opening
    it found no other process holding the shared-memory file and truncated it under the forked
    processes reading it (they died of "Bus error")."""

    def __init__(self, db: sqlite3.Connection, lookup: TextLookup | None) -> None:
        store = next(f for _, name, f in db.execute("PRAGMA database_list") if name == "main")
        if not store:
            raise sqlite3.OperationalError("the graph file is written from a store on disk")
        self.snapshot = [tuple(r) for r in db.execute(_SNAPSHOT)]
        self.lookup = lookup
        self.uri = f"file:{quote(store)}?mode=ro"
        self.pid: int | None = None
        self.status: int | None = None

    @property
    def ids(self) -> Any:
        """The records' ids (an Arrow array, in id order) of `lookup`."""
        assert self.lookup is not None
        return self.lookup.ids

    def __enter__(self) -> _Reader:
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop()

    def _start(self, queries: list[tuple[str, list[Any]]]) -> Any:
        """Start the reader of `queries` (`_serve_reads`, forked by `os.fork`: a step forked
        aside, a daemon, may not start processes of `multiprocessing`): the source to read each
        one's stream of batches from, in turn."""
        import adbc_driver_sqlite.dbapi  # noqa: F401 (here, once: each reader inherits it)
        import pyarrow as pa

        data, data_in = os.pipe()
        why, why_in = os.pipe()
        give_back_free_memory()  # (else the pages the heaps kept free are copied as reused)
        pid = os.fork()
        if pid == 0:  # the reader
            os.close(data)
            os.close(why)
            os._exit(_serve_reads(self.uri, self.snapshot, queries, data_in, why_in))
        os.close(data_in)
        os.close(why_in)
        self.pid, self.status, self.message = pid, None, ""
        self.file, self.why = open(data, "rb"), open(why, "rb")  # noqa: SIM115 (`_stop`)
        return pa.PythonFile(self.file, mode="r")

    def _wait(self) -> int:
        assert self.pid is not None
        if self.status is None:
            self.status = os.waitstatus_to_exitcode(os.waitpid(self.pid, 0)[1])
        return self.status

    def _done(self) -> None:
        """Wait for the reader, which sent every stream: raise what it says went wrong (a stream
        it broke off between two batches reads like one that ended)."""
        if self._wait() != 0:
            raise self._failed(f"the reader ended with {self.status}")

    def _failed(self, what: object) -> sqlite3.OperationalError:
        """The error to raise when reading failed (`what`), as the reader tells it if it can."""
        self._stop()
        return sqlite3.OperationalError(
            self.message or f"reading the store for the graph file: {what}"
        )

    def _stop(self) -> None:
        """End the reader (if it still runs), keep what it said went wrong, close its pipes."""
        if self.pid is None:
            return
        if self.status is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
            self._wait()
        self.message = self.why.read().decode(errors="replace")
        self.why.close()
        self.file.close()
        self.pid = None

    @staticmethod
    def _columns(source: Any, n: int) -> list[Any]:
        """The next stream of `source`, whole: its `n` columns as Arrow arrays (texts when it
        has no row: SQLite then tells no column's type, and Arrow's would be a number)."""
        import pyarrow as pa

        table = pa.ipc.open_stream(source).read_all()
        if not table.num_rows:
            return [pa.array([], pa.string()) for _ in range(n)]
        return [table.column(i).combine_chunks() for i in range(n)]

    def records(self, query: str) -> tuple[Any, Any, Array, Any]:
        """The records in id order (`query`: their ids, names, kind codes and strong ids): the
        ids, names and strong ids as Arrow arrays, the codes as numbers."""
        import pyarrow as pa

        try:
            ids, names, kinds, strong = self._columns(self._start([(query, [])]), 4)
            self._done()
        except (pa.ArrowInvalid, OSError) as exc:
            raise self._failed(exc) from None
        return ids, names, kinds.to_numpy(zero_copy_only=False).astype(np.int8), strong

    def contacts(self) -> tuple[Array, Any, Any, Any]:
        """Every contact in the table's order (entity, kind): its record's number (-1: not a
        record) and its kind, key and raw text as Arrow arrays."""
        import pyarrow as pa

        try:
            source = self._start(
                [("SELECT entity_id, kind, key, raw FROM contacts ORDER BY entity_id, kind", [])]
            )
            entity, kind, key, raw = self._columns(source, 4)
            self._done()
        except (pa.ArrowInvalid, OSError) as exc:
            raise self._failed(exc) from None
        assert self.lookup is not None
        return self.lookup.places(entity), kind, key, raw

    def read(self, query: str, params: list[Any]) -> Iterator[tuple[Any, ...]]:
        """Each batch of `query` (its first two columns a link's ends, then its type code and
        share, then three text columns): the ends' record numbers (-1: not a record), the type
        code and share as arrays, each text column as its distinct texts and their positions."""
        import pyarrow as pa
        import pyarrow.compute as pc

        try:
            source = self._start([(query, params)])
            at = SortedTexts(self.ids)
            pending: list[tuple[Any, ...]] = []
            for batch in pa.ipc.open_stream(source):
                if not batch.num_rows:
                    continue
                sources = batch.column(0)
                lo = bisect.bisect_left(at, sources[0].as_py())
                hi = bisect.bisect_right(at, sources[-1].as_py(), lo)
                a = pc.index_in(sources, value_set=self.ids.slice(lo, hi - lo))
                a_rec = pc.fill_null(a, -1).to_numpy().astype(np.int32)  # (32 bits: a national
                a_rec[a_rec >= 0] += lo  # register's links are held whole until written)
                texts = []
                for i in (4, 5, 6):
                    encoded = pc.dictionary_encode(batch.column(i))
                    texts.append((encoded.dictionary.to_pylist(), encoded.indices.to_numpy()))
                pending.append((a_rec, batch.column(1), batch.column(2).to_numpy().astype(np.int8),
                                batch.column(3).to_numpy(), *texts))  # fmt: skip
                if len(pending) * _BATCH_ROWS >= _LOOKUP_ROWS:
                    yield from self._targets(pending)
                    pending = []
            self._done()  # (before the last batches are used: all came)
            yield from self._targets(pending)
        except (pa.ArrowInvalid, OSError) as exc:
            raise self._failed(exc) from None

    def contracts_alone(self, query: str, columns: int) -> Any:
        """The contracts in id order (`query`, `columns` texts), as Arrow arrays."""
        import pyarrow as pa

        try:
            texts = self._columns(self._start([(query, [])]), columns)
            self._done()
        except (pa.ArrowInvalid, OSError) as exc:
            raise self._failed(exc) from None
        return texts

    def contracts(self, query: str, columns: int) -> tuple[Any, Iterator[tuple[Array, Array]]]:
        """The contracts in id order (`query`, `columns` texts, the first their ids), as Arrow
        arrays, then the DECIDED links from a record to a contract, as the numbers of the
        contract (its place in that order) and of the record, `_LOOKUP_ROWS` links at a time
        (read in contract order: each batch's contracts looked up among the few between its
        first and last)."""
        import pyarrow as pa

        try:
            source = self._start([(query, []), (_DECIDED_LINKS, [])])
            texts = self._columns(source, columns)
        except (pa.ArrowInvalid, OSError) as exc:
            raise self._failed(exc) from None
        return texts, self._decided(source, texts[0])

    def _decided(self, source: Any, contracts: Any) -> Iterator[tuple[Array, Array]]:
        import pyarrow as pa
        import pyarrow.compute as pc

        try:
            at = SortedTexts(contracts)
            ks: list[Array] = []
            sources: list[Any] = []
            for batch in chain(pa.ipc.open_stream(source), [None]):  # (None: the last lookup)
                if batch is None:
                    self._done()  # (before the last batches are used: all came)
                elif batch.num_rows:
                    targets = batch.column(0)
                    lo = bisect.bisect_left(at, targets[0].as_py())
                    hi = bisect.bisect_right(at, targets[-1].as_py(), lo)
                    k = pc.index_in(targets, value_set=contracts.slice(lo, hi - lo))
                    k = pc.fill_null(k, -1).to_numpy().astype(np.int64)
                    ks.append(np.where(k >= 0, k + lo, -1))
                    sources.append(batch.column(1))
                if ks and (batch is None or len(ks) * _BATCH_ROWS >= _LOOKUP_ROWS):
                    assert self.lookup is not None
                    rec = self.lookup.places(pa.chunked_array(sources))
                    k = np.concatenate(ks)
                    held = (k >= 0) & (rec >= 0)
                    yield k[held], rec[held].astype(np.int64)
                    ks, sources = [], []
        except (pa.ArrowInvalid, OSError) as exc:
            raise self._failed(exc) from None

    def _targets(self, pending: list[tuple[Any, ...]]) -> Iterator[tuple[Any, ...]]:
        """The batches `pending` with their targets' record numbers, looked up together."""
        import pyarrow as pa

        if not pending:
            return
        assert self.lookup is not None
        b_all = self.lookup.places(pa.chunked_array([p[1] for p in pending]))
        start = 0
        pending.reverse()
        while pending:  # (each batch let go as it is taken)
            a_rec, _, t, share, *texts = pending.pop()
            yield (a_rec, b_all[start : start + len(a_rec)].astype(np.int32), t, share, *texts)
            start += len(a_rec)


_CHANGED = "the store changed while its graph file was written"
_DECIDED_LINKS = (
    "SELECT target, source FROM links INDEXED BY links_target WHERE type = 'DECIDED' "
    "ORDER BY target"
)
_CONTRACT_COLUMNS = (
    "SELECT e.id, e.buyer_id, e.supplier_id, e.signed_on, "
    "CASE WHEN e.value IS NULL THEN 'nan' ELSE printf('%!.17g', e.value) END, "
    "coalesce(json_extract(e.props, '$.currency'), ''), "
    "CASE WHEN e.name <> e.id THEN e.name ELSE coalesce(json_extract(e.props, '$.title'), '') END, "
    "(SELECT CASE WHEN count(*) THEN json_group_array(json_array(d.source, d.role)) ELSE '' END "
    " FROM links AS d INDEXED BY links_target WHERE d.target = e.id AND d.type = 'DECIDED') "
    "FROM entities AS e WHERE e.kind = 'contract' ORDER BY e.id"
)
"""A contract's id, buyer, supplier, day, value (a text: 'nan' for none), currency, title and
deciders (a JSON list of [record, role], '' for none).  A contract's name is its title, or its id
when it has none: the title is read from its fields only when the name is the id.  (The large
synthetic bundle's 504,400 contracts read through ADBC: 0.92-0.97 s with the title read from the
fields' JSON, 0.86-0.91 s so; the currency's read costs 0.23 s, the value's text 0.12 s.)"""
_CONTRACT_COLUMNS_ALONE = _CONTRACT_COLUMNS.replace(
    _CONTRACT_COLUMNS[
        _CONTRACT_COLUMNS.index("(SELECT CASE") : _CONTRACT_COLUMNS.index(
            " FROM entities AS e WHERE"
        )
    ],
    "''",
)
"""`_CONTRACT_COLUMNS` without the deciders (''), for a store whose link file holds them."""


def _serve_reads(
    uri: str, snapshot: list[tuple[Any, ...]], queries: list[tuple[str, list[Any]]],
    out: int, why: int,
) -> int:  # fmt: skip
    """`_Reader`'s forked process: each of `queries`, in the store's state `snapshot`, through
    ADBC, written to the pipe `out` as an Arrow IPC stream of batches of `_BATCH_ROWS`, in turn.
    Its exit code; what stopped it is written to the pipe `why`.  (It touches the store through
    ADBC alone.)"""
    import pyarrow as pa

    with open(out, "wb") as f:  # (closed after `why` is written: its end tells the parent)
        try:
            import adbc_driver_sqlite.dbapi as adbc

            with closing(adbc.connect(uri, autocommit=True)) as con, closing(con.cursor()) as cur:
                cur.execute("PRAGMA busy_timeout = 60000")
                cur.execute("BEGIN")
                cur.execute(_SNAPSHOT)
                if [tuple(r) for r in cur.fetchall()] != snapshot:
                    raise _Changed
                sink = pa.PythonFile(f, mode="w")
                for query, params in queries:
                    cur.adbc_statement.set_options(
                        **{"adbc.sqlite.query.batch_rows": str(_BATCH_ROWS)}
                    )
                    cur.execute(query, params)
                    batches = cur.fetch_record_batch()
                    with pa.ipc.new_stream(sink, batches.schema) as stream:
                        for batch in batches:
                            stream.write_batch(batch)
            return 0
        except BaseException as exc:
            with contextlib.suppress(Exception), open(why, "wb") as told:
                told.write((_CHANGED if isinstance(exc, _Changed) else
                            f"reading the store for the graph file: {exc}").encode())  # fmt: skip
            return 1


class _Changed(Exception):
    """The store is not in the state the graph file is written from."""


ASIDE_RECORDS = (200_000, 5_000_000)
"""From the first number of records to the second, the identifier and contract steps run in
forked processes beside the links step.  Below, forking costs more than it saves; above, the three
processes' memory together has not been measured against the xlarge scale's 8 GB (at the large
scale a load's peak went from 1.4 GB to 1.8 GB, PSS), so a national register builds in one."""


def write_graph_file(
    db: sqlite3.Connection, path: Path, tag: str, links: FileLinks | None = None
) -> tuple[int, int]:
    """Write the graph of the rows `db` holds (in the snapshot the caller holds open), and of
    the store's link file `links` if it keeps one, to `path` under `tag`; (nodes, edges)."""
    with writing(path, tag) as w:
        return _Build(db, w, path, links).run()


_SNAPSHOT = "SELECT key, value FROM meta WHERE key IN ('rev', 'store_id') ORDER BY key"
"""What tells one state of the store from another (a load that changes anything raises `rev`)."""
_CONTACTS_KEPT = ("c_rec", "c_entity", "c_ident", "c_type", "nodes")
"""What the identifier step leaves for the edges step."""


class _Recorder:
    """Stands in for a `Writer` in a forked step: keeps the columns, in order, for the parent to
    write where the step would have been run (the links step writes none, and the contracts' come
    after the edges' as before, so the file is the same byte for byte)."""

    def __init__(self) -> None:
        self.columns: list[tuple[str, Any, str, int]] = []

    def raw(self, name: str, data: Any, kind: str, count: int) -> None:
        self.columns.append((name, bytes(data) if isinstance(data, memoryview) else data, kind,
                             count))  # fmt: skip


class _Build:
    def __init__(
        self, db: sqlite3.Connection, w: Writer, path: Path | None = None,
        links: FileLinks | None = None,
    ) -> None:  # fmt: skip
        self.db, self.w, self.path, self.file = db, w, path, links
        self.heads: list[tuple[str, Head]] = []

    def run(self) -> tuple[int, int]:
        self._records()
        self._nodes()
        self._heads()
        # (with a core to spare, the identifier and contract steps run in forked processes beside
        # the links step: each is about a third of the build at the large synthetic scale)
        contacts = self._aside("_contacts", _CONTACTS_KEPT)
        contracts = self._aside("_contracts", ())
        try:
            self._links()
        except BaseException:
            for aside in (contacts, contracts):
                if aside is not None:
                    _stop(*aside[:2])
            raise
        if contacts is None or not self._joined(*contacts):
            self._contacts()
        self._edges()
        if contracts is None or not self._joined(*contracts):
            self._contracts()
        write_heads(self.w, self.heads)
        return self.nodes, self.edges

    def _aside(self, step: str, kept: tuple[str, ...]) -> tuple[Any, Path, tuple[str, ...]] | None:
        """Start the method `step` in a forked process (on a connection of its own to the same
        state of the store) when the store is big and there is a core for it: its process and the
        file where it leaves what it made (the columns it writes, and its attributes `kept`).
        None: the caller runs the step itself."""
        low, high = ASIDE_RECORDS
        if not low <= len(self.kind) <= high or (os.cpu_count() or 1) < 2 or self.path is None:
            return None
        store = next(f for _, name, f in self.db.execute("PRAGMA database_list") if name == "main")
        if not store:
            return None
        remove_orphans(self.path.parent, f".{self.path.name}.", "-aside.tmp")
        proc = multiprocessing.get_context("fork").Process(
            target=self._aside_child,
            args=(step, kept, store, self.db.execute(_SNAPSHOT).fetchall()),
            daemon=True,
        )
        proc.start()
        assert proc.pid is not None
        return proc, self._aside_file(proc.pid), kept

    def _aside_file(self, pid: int) -> Path:
        assert self.path is not None
        return self.path.with_name(f".{self.path.name}.{pid}-aside.tmp")

    def _aside_child(
        self, step: str, kept: tuple[str, ...], store: str, snapshot: list[tuple[str, str]]
    ) -> None:
        try:
            self._aside_made(step, kept, store, snapshot)
        except BaseException:
            os._exit(1)  # (quietly: the parent does the step itself, and says what goes wrong)

    def _aside_made(
        self, step: str, kept: tuple[str, ...], store: str, snapshot: list[tuple[str, str]]
    ) -> None:
        db = sqlite3.connect(store, isolation_level=None)
        db.execute("BEGIN")
        if db.execute(_SNAPSHOT).fetchall() != snapshot:
            os._exit(3)  # another load committed meanwhile: the parent does the step itself
        self.db, recorder = db, _Recorder()
        self.w = recorder  # type: ignore[assignment]
        getattr(self, step)()
        values = [getattr(self, name) for name in kept]
        with open(self._aside_file(os.getpid()), "wb") as f:
            pickle.dump((recorder.columns, values), f, protocol=pickle.HIGHEST_PROTOCOL)

    def _joined(self, proc: Any, made: Path, kept: tuple[str, ...]) -> bool:
        """Wait for a forked step; write what it made as the step would have, and take the
        attributes `kept` it set.  False when it did not finish (the caller then runs the step)."""
        try:
            proc.join()
            if proc.exitcode != 0 or not made.is_file():
                return False
            with open(made, "rb") as f:
                columns, values = pickle.load(f)
        finally:
            _stop(proc, made)
        for name, data, kind, count in columns:
            self.w.raw(name, data, kind, count)
        for name, value in zip(kept, values, strict=True):
            setattr(self, name, value)
        return True

    def _records(self) -> None:
        """Records (persons, companies, agencies) in id order: ids, names, kinds.  A record's
        number is its place in that order; `rec_lookup` keeps the ids (an Arrow array) to look
        numbers up in (`_numbers_of`, `_Reader`), made once before the steps that fork aside
        (`TextLookup`).  (SQLite's numbering table and the columns
        read range by range from it took 4.2-5.7 s at the large synthetic scale.)"""
        w = self.w
        with _Reader(self.db, None) as ends:
            ids, names, self.kind, self.rec_strong = ends.records(
                f"SELECT id, name, {_kind_code('kind')}, strong_id FROM entities "
                "WHERE kind <> 'contract' ORDER BY id"
            )
        self.rec_lookup = TextLookup(ids)
        texts = _Texts()
        texts.add_arrow(ids)
        texts.write(w, "rec_id")
        hashes = np.fromiter(map(zlib.crc32, map(str.encode, ids.to_pylist())), np.int64, len(ids))
        _ints(w, "rec_id.hash", hash_table(hashes))
        texts = _Texts()
        texts.add_arrow(names)
        texts.write(w, "rec_name")
        w.raw("rec_kind", self.kind, "bytes", len(self.kind))

    def _numbers_of(self, ids: list[str]) -> Array:
        """The records' numbers of `ids` (-1: not a record)."""
        import pyarrow as pa

        if not ids:
            return np.zeros(0, np.int64)
        return self.rec_lookup.places(pa.array(ids, pa.string()))

    def _nodes(self) -> None:
        """Each record's entity node after merges (`Graph.build`: a node for each canonical
        id, at the first record that maps to it; none for agencies)."""
        db, w = self.db, self.w
        groups = self._strong_groups()
        same_as = db.execute("SELECT source, target FROM links WHERE type = 'SAME_AS'")
        made = db.execute(f"SELECT 1 {MATCHED}").fetchone() is not None
        self.canonical = canonical = canonical_ids(same_as, groups)
        refs = db.execute(SAME_AS_REFS).fetchall() if made else []
        write_joins(self.w, joins(canonical, refs, groups))
        new = self.kind != _AGENCY
        first_of: dict[str, int] = {}
        follows: list[tuple[int, str]] = []
        merged = list(canonical)
        at = self._numbers_of(merged)
        for rec, rec_id in sorted((int(i), r) for i, r in zip(at, merged, strict=True) if i >= 0):
            if self.kind[rec] == _AGENCY:
                continue
            head = canonical[rec_id]
            if head in first_of:
                new[rec] = False
                follows.append((rec, head))
            else:
                first_of[head] = rec
        node = np.cumsum(new, dtype=np.int64) - 1
        for rec, head in follows:
            node[rec] = node[first_of[head]]
        node[self.kind == _AGENCY] = -1
        self.rec_node = node
        self.node_rec = np.flatnonzero(new)
        self.entity_nodes = len(self.node_rec)
        _ints(w, "rec_node", node)
        keys, values = _Texts(), _Texts()
        keys.add_all(list(canonical))
        values.add_all(list(canonical.values()))
        keys.write(w, "canonical.keys")
        values.write(w, "canonical.values")

    def _strong_groups(self) -> list[list[str]]:
        """The ids of the records of one kind (`STRONG_ID_FIELD`'s) that one strong id is given
        to, where it is given to more than one: a list of each, in the order of their kind and
        strong id, each in id order (as the store's `entities_strong` index groups them).  Told
        apart by Arrow among the records read: SQLite's grouping of that index took 0.6 s at the
        large synthetic scale, where no strong id is given twice."""
        import pyarrow as pa
        import pyarrow.compute as pc

        strong, self.rec_strong = self.rec_strong, None  # (let go once grouped)
        codes = np.array([_KINDS.index(k) for k in STRONG_ID_FIELD], np.int8)
        held = pc.not_equal(strong, "").to_numpy(zero_copy_only=False) & np.isin(self.kind, codes)
        at = np.flatnonzero(held)
        if not len(at):
            return []
        coded = pc.dictionary_encode(strong.take(pa.array(at)))
        group = coded.indices.to_numpy(zero_copy_only=False).astype(np.int64) * len(_KINDS)
        group += self.kind[at]
        twice = at[np.bincount(group)[group] > 1]
        rows = sorted(zip((_KINDS[k].value for k in self.kind[twice].tolist()),
                          strong.take(pa.array(twice)).to_pylist(),
                          self.rec_lookup.ids.take(pa.array(twice)).to_pylist(),
                          strict=True))  # fmt: skip
        return [[i for *_, i in rows] for _, rows in groupby(rows, key=lambda r: r[:2])]

    def _links(self) -> None:
        """The traversable links between records whose kinds their type may be walked into, in
        the order of the links table (as `Graph.build` reads).

        Read through ADBC as Arrow columns, on a read-only connection of its own to the same
        state of the store (else it raises `sqlite3.OperationalError`), and their ends looked
        up by Arrow among the records' ids (`_Reader`): SQLite's two joins with the numbering
        table and the texts of the `group_concat` way took 16 s of the step's 21 s for the 3.0M
        traversable links of the large synthetic bundle, against 6.5 s this way."""
        walk = {
            name: (EDGE_CODE[name], lt.traverse_into)
            for name, lt in LINK_TYPES.items()
            if lt.traversable and name in EDGE_CODE
        }
        allowed = np.zeros((len(EDGE_CODE), len(_KINDS)), bool)
        for code, kinds in walk.values():
            for kind in kinds:
                allowed[code, _KINDS.index(kind)] = True
        type_case = "CASE type " + " ".join(f"WHEN '{t}' THEN {c}" for t, (c, _) in walk.items())
        self.roles, self.sinces, self.untils = _Codes(), _Codes(), _Codes()
        parts: dict[str, list[Array]] = {k: [] for k in ("ra", "rb", "type", "share")}
        if self.file is not None:
            self._keep_links(self._file_links(walk), allowed, parts)
        else:
            self._read_links(type_case, walk, allowed, parts)
        dtypes = {"ra": np.int32, "rb": np.int32, "type": np.int8, "share": np.float64}
        self.links = {}
        for k in list(parts):  # each column's pieces let go as it is joined
            self.links[k] = _cat(parts.pop(k), dtypes[k])

    def _file_places(self) -> Array:
        """The record's number of each of the link file's ids (-1: not a record)."""
        assert self.file is not None
        if not hasattr(self, "_places_of_file"):
            self._places_of_file = self.rec_lookup.places(self.file.file.ids)
        return self._places_of_file

    def _file_links(self, walk: dict[str, tuple[int, Any]]) -> Iterator[tuple[Any, ...]]:
        """The link file's links of the types walked, as `_Reader.read` gives the table's: in
        the table's key order (by the records' ids), their ends' record numbers, type code,
        share (`_NO_SHARE`: none) and role, since and until as (table, codes)."""
        assert self.file is not None
        links = self.file.file.links
        c, tables = links.columns, links.tables
        code = np.array([walk[t][0] if t in walk else -1 for t in tables["types"]], np.int64)
        at = np.flatnonzero(code[c["type"]] >= 0) if len(code) else np.zeros(0, np.int64)
        places = self._file_places()
        a_rec, b_rec = places[c["source"][at]], places[c["target"][at]]
        held = (a_rec >= 0) & (b_rec >= 0)
        at, a_rec, b_rec = at[held], a_rec[held], b_rec[held]
        # (the table's order: the ids', then the texts'.  The file's, unless a later load
        # numbered ids after the first load's: the file's numbers are in id order then)
        if not _ascending(self._file_places()):
            keys = [a_rec, b_rec, *(np.asarray(c[k])[at] for k in ("type", "role", "since"))]
            order = np.lexsort(keys[::-1])
            at, a_rec, b_rec = at[order], a_rec[order], b_rec[order]
        share = np.asarray(c["share"])[at]
        yield (
            a_rec.astype(np.int32), b_rec.astype(np.int32), code[c["type"][at]].astype(np.int8),
            np.where(np.isnan(share), _NO_SHARE, share),
            *((tables[t], np.asarray(c[k])[at])
              for k, t in (("role", "roles"), ("since", "days"), ("until", "days"))),
        )  # fmt: skip

    def _read_links(
        self, type_case: str, walk: dict[str, tuple[int, Any]], allowed: Array,
        parts: dict[str, list[Array]],
    ) -> None:  # fmt: skip
        """`_links` of the links table."""
        with _Reader(self.db, self.rec_lookup) as ends:
            batches = ends.read(
                f"SELECT source, target, {type_case} END, "
                "CAST(coalesce(share, ?) AS REAL), role, since, until FROM links "
                f"WHERE type IN ({','.join('?' * len(walk))}) "
                "ORDER BY source, target, type, role, since",
                [_NO_SHARE, *walk],
            )
            self._keep_links(batches, allowed, parts)

    def _keep_links(
        self, batches: Iterable[tuple[Any, ...]], allowed: Array, parts: dict[str, list[Array]]
    ) -> None:
        """The edges among the links `batches` (`_Reader.read`), into `parts` and the code
        tables."""
        node, rec_kind = self.rec_node, self.kind
        for a_rec, b_rec, t, share, role, since, until in batches:
            keep = (a_rec >= 0) & (b_rec >= 0)  # (both ends records: not contracts, not unknown)
            a_rec, b_rec = np.where(keep, a_rec, 0), np.where(keep, b_rec, 0)
            keep &= allowed[t, rec_kind[a_rec]] & allowed[t, rec_kind[b_rec]]
            keep &= node[a_rec] != node[b_rec]
            parts["ra"].append(a_rec[keep].astype(np.int32))  # (the columns' own widths:
            parts["rb"].append(b_rec[keep].astype(np.int32))  # a national register's links
            parts["type"].append(t[keep].astype(np.int8))  # are held whole until written)
            parts["share"].append(share[keep])
            for codes, (table, at) in zip((self.roles, self.sinces, self.untils),
                                          (role, since, until), strict=True):  # fmt: skip
                codes.add_encoded(table, at[keep])

    def _heads(self) -> None:
        """The heads of agencies (EMPLOYED links with the head role into an agency), and each
        headed agency's nodes."""
        db, node = self.db, self.rec_node
        by_agency: dict[str, list[Head]] = {}
        # (from each agency to the links into it: the scan of every link this replaces took 3.4 s
        # of the large synthetic bundle's 5.5M, this 0.4 s)
        if self.file is not None:
            agencies = [a for (a,) in db.execute(
                "SELECT id FROM entities INDEXED BY entities_kind WHERE kind = ?",
                (Kind.AGENCY.value,))]  # fmt: skip
            employed = sorted(
                (s, t, role, since, until) for s, t, _, role, since, _, until, _ in
                self.file.rows(agencies, out=False, into=True, types=("EMPLOYED",))
            )  # fmt: skip
        else:
            employed = db.execute(
                "SELECT l.source, l.target, l.role, l.since, l.until "
                "FROM entities AS rb INDEXED BY entities_kind "
                "CROSS JOIN links AS l INDEXED BY links_target ON l.target = rb.id "
                "WHERE rb.kind = ? AND l.type = 'EMPLOYED' "
                "ORDER BY l.source, l.target, l.type, l.role, l.since",
                (Kind.AGENCY.value,),
            ).fetchall()
        # (the sources' numbers in one lookup: Arrow hashes the records' ids at each)
        numbers = self._numbers_of([source for source, *_ in employed]).tolist()
        nodes_of: dict[str, set[int]] = {}
        for (source, target, role, since, until), rec in zip(employed, numbers, strict=True):
            if rec >= 0 and role.strip().casefold() == HEAD_ROLE:  # (a record's link)
                boss = self.canonical.get(target, target)
                by_agency.setdefault(boss, []).append(Head(source, since, until))
                if node[rec] >= 0:
                    nodes_of.setdefault(boss, set()).add(int(node[rec]))
        self.heads = [(agency, h) for agency, hs in by_agency.items() for h in hs]
        self.head_nodes: dict[str, list[int]] = {
            agency: sorted(nodes_of[agency]) for agency in by_agency if agency in nodes_of
        }

    def _contacts(self) -> None:
        """One identifier node per (kind, key) in the order first held, one edge per entity
        holding it (`Graph._add_contacts`).  The contacts come as Arrow columns in the table's
        order (`_Reader.contacts`); Arrow tells the identifiers apart by hashing their keys (each
        with its kind's rank; a national register holds millions: as Python strings they would
        cost gigabytes),
        numpy orders them by first holder, and the first holders' keys and texts are taken
        from the columns.  (SQLite's numbering of them by a window over the (kind, key) index,
        then a scan for the keys, took 8.4 s of the step's 11.4 s for the large synthetic
        bundle's 1.2M contacts; this takes 2.8 s in all, the Arrow columns 180 MB.)"""
        import pyarrow as pa
        import pyarrow.compute as pc

        w, node = self.w, self.rec_node
        kinds = sorted(k.value for k in IDENTIFIER_LINK)  # (a record's contacts, in kind order)
        with _Reader(self.db, self.rec_lookup) as ends:
            rec, kind, key, raw = ends.contacts()
        held = rec >= 0  # (a record's, not an agency's)
        held[held] = self.kind[rec[held]] != _AGENCY
        rows = pa.array(np.flatnonzero(held))
        rank = pc.index_in(kind.take(rows), value_set=pa.array(kinds)).to_numpy()
        place = rec[held] * len(kinds) + rank  # (a holding's place: its record, then kind)
        # each (kind, key) one group: the key's code among the distinct keys with the kind's
        # rank, numbered densely (joined as texts and hashed again, the pairs took 0.8 s more
        # at the large synthetic scale)
        pair = pc.dictionary_encode(key.take(rows)).indices.to_numpy().astype(np.int64)
        pair = pair * len(kinds) + rank
        used = np.zeros(int(pair.max()) + 1 if len(pair) else 0, bool)
        used[pair] = True
        group = (np.cumsum(used) - 1)[pair]
        del pair, used
        n = len(place)
        order = np.argsort(place, kind="stable")  # (the places are distinct: the table's order)
        place, group, rows = place[order], group[order], rows.take(pa.array(order))
        del order
        first = np.full(int(group.max()) + 1 if n else 0, n, np.int64)
        np.minimum.at(first, group, np.arange(n))  # each identifier's first holding
        number = np.empty(len(first), np.int64)  # identifiers numbered in the order first held
        number[np.argsort(first, kind="stable")] = np.arange(len(first))
        rec_all, ident_all = place // len(kinds), number[group]
        del group, number
        entity = node[rec_all]
        # one edge per (entity, identifier): the first record of the entity to hold it
        pair = ident_all * (self.entity_nodes + 1) + entity
        order = np.argsort(pair, kind="stable")
        starts = np.ones(len(order), bool)
        starts[1:] = pair[order[1:]] != pair[order[:-1]]
        kept = np.sort(order[starts])
        del pair, order, starts
        self.c_rec, self.c_entity = rec_all[kept], entity[kept]
        ident_first = ident_all[kept]
        self.c_ident = ident_first + self.entity_nodes
        del rec_all, ident_all, entity, kept
        first.sort()  # (the first holdings in the table's order: in identifier order)
        keys, raws = _Texts(), _Texts()
        firsts = rows.take(pa.array(first))
        keys.add_arrow(key.take(firsts))
        raws.add_arrow(raw.take(firsts))
        del rows, firsts, key, raw, kind
        code = np.array([_KINDS.index(Kind(k)) for k in kinds], np.int8)
        ident_kind = code[place[first] % len(kinds)]
        del place, first
        idents_n = len(ident_kind)
        codes = np.zeros(len(_KINDS), np.int64)
        for k, link in IDENTIFIER_LINK.items():
            codes[_KINDS.index(k)] = EDGE_CODE[link]
        self.c_type = codes[ident_kind[ident_first]]
        self.nodes = self.entity_nodes + idents_n
        node_kind = np.concatenate([self.kind[self.node_rec], ident_kind]).astype(np.int8)
        _ints(w, "node_rec", np.concatenate([self.node_rec, np.full(idents_n, -1)]))
        w.raw("node_kind", node_kind, "bytes", len(node_kind))
        _ints(w, "ident.node", np.arange(self.entity_nodes, self.nodes))
        keys.write(w, "ident.key")
        raws.write(w, "ident.raw")
        _ints(w, "ident.size", np.bincount(ident_first, minlength=idents_n))

    def _edges(self) -> None:
        """Edge columns (links, then identifier edges) and the compressed adjacency."""
        w, links, node = self.w, self.links, self.rec_node
        n_c = len(self.c_rec)
        e_a = np.concatenate([node[links["ra"]], self.c_entity]).astype(np.int32)
        e_b = np.concatenate([node[links["rb"]], self.c_ident]).astype(np.int32)
        self.edges = edges = len(e_a)
        _ints(w, "e_a", e_a)
        _ints(w, "e_b", e_b)
        _ints(w, "e_ra", np.concatenate([links["ra"], self.c_rec]))
        _ints(w, "e_rb", np.concatenate([links["rb"], np.full(n_c, -1)]))
        ends = np.empty(2 * edges, np.int32)  # half-edge h is at node ends[h]
        ends[0::2], ends[1::2] = e_a, e_b
        del e_a, e_b
        offsets = np.zeros(self.nodes + 1, np.int64)
        np.cumsum(np.bincount(ends, minlength=self.nodes), out=offsets[1:])
        halves = stable_order(ends).astype(np.int32)
        far = ends[halves ^ 1]  # the other half of the same edge
        del ends
        _ints(w, "offsets", offsets)
        _ints(w, "halves", halves)
        _ints(w, "far", far)
        del halves, far
        e_type = np.concatenate([links["type"], self.c_type]).astype(np.uint8)
        w.raw("e_type", e_type, "bytes", len(e_type))
        share = np.concatenate([links["share"], np.full(n_c, _NO_SHARE)])
        w.raw("e_share", share, "array:d", len(share))
        for name, codes in (
            ("e_role", self.roles),
            ("e_since", self.sinces),
            ("e_until", self.untils),
        ):
            codes.add_repeated("", n_c)  # (an identifier edge's role and days: none)
            codes.write(w, name)
        del self.links

    def _file_decided(self, contracts: Any) -> tuple[Any, Iterator[tuple[Array, Array]]]:
        """From the link file: each contract's deciders as `_CONTRACT_COLUMNS` gives them (the
        JSON of [record, role] in the target index's order, '' for none), and the DECIDED
        pairs as `_Reader.contracts` gives them."""
        import pyarrow as pa
        import pyarrow.compute as pc

        assert self.file is not None
        f = self.file.file
        c, tables = f.links.columns, f.links.tables
        n = len(contracts)
        if "DECIDED" not in tables["types"] or not n:
            return pa.array([""] * n, pa.string()), iter([])
        at = np.flatnonzero(np.asarray(c["type"]) == tables["types"].index("DECIDED"))
        # (each contract's number in the file, by the file's own hash table: the contracts
        # hashed, not every id of the file looked up among the contracts)
        numbers = f.lookup.places(contracts)
        k_of = np.full(len(f.ids) + 1, -1, np.int64)  # (the last: a contract not in the file)
        k_of[numbers] = np.arange(n)
        k = k_of[c["target"][at]]
        at, k = at[k >= 0], k[k >= 0]
        source = np.asarray(c["source"])[at]
        ids = f.ids
        role, since = np.asarray(c["role"])[at], np.asarray(c["since"])[at]
        if len(ids) > 1 and not pc.all(pc.less(ids.slice(0, len(ids) - 1), ids.slice(1))).as_py():
            rank = np.empty(len(ids), np.int64)  # (numbers not in id order: a later load's)
            rank[pc.sort_indices(ids).to_numpy()] = np.arange(len(ids))
            order = np.lexsort((since, role, rank[source], k))
        else:  # (a contract's rows are in the file's order already: by source, role, since)
            order = stable_order(k)
        k, source, role = k[order], source[order], role[order]
        roles = pa.array(tables["roles"], pa.string())
        # (each distinct pair written once: a decision-maker decides many contracts)
        per_role = len(tables["roles"])
        pair = source.astype(np.int64) * per_role + role
        distinct_pairs, which = np.unique(pair, return_inverse=True)
        texts_of = _decided_json(
            ids.take(pa.array(distinct_pairs // per_role)).cast(pa.string()),
            roles.take(pa.array(distinct_pairs % per_role)),
        )
        pairs = texts_of.take(pa.array(which.reshape(-1)))
        offsets = np.concatenate([[0], np.cumsum(np.bincount(k, minlength=n))]).astype(np.int32)
        joined = pc.binary_join(pa.ListArray.from_arrays(pa.array(offsets), pairs), ",")
        texts = pc.if_else(
            pa.array(np.diff(offsets) > 0),
            pc.binary_join_element_wise("[", joined, "]", ""),
            pa.scalar("", pa.string()),
        )
        rec = self._file_places()[source]
        held = rec >= 0
        return texts, iter([(k[held].astype(np.int64), rec[held].astype(np.int64))])

    def _contracts(self) -> None:
        """The contracts in id order, their deciders' text, winner node and decision-makers
        (`Graph.decider_slots`: DECIDED records and the buyer's heads, as nodes)."""
        import pyarrow as pa
        import pyarrow.compute as pc

        w, node = self.w, self.rec_node
        names = ("id", "buyer_id", "supplier_id", "signed_on", "currency", "title", "decided")
        canonical = self.canonical
        # the buyer's heads, as decision-makers: each headed agency's nodes, one run per agency
        agency_at = {agency: i for i, agency in enumerate(self.head_nodes)}
        runs = [np.array(nodes, np.int64) for nodes in self.head_nodes.values()]
        run_len = np.array([len(r) for r in runs] + [0], np.int64)  # (the last: no head)
        run_end = np.cumsum(run_len)
        run_nodes = _cat(runs)
        # (the columns through Arrow: read range by range as SQLite's texts, 8 s of the step's
        # 12 s for the large synthetic bundle's 504,400 contracts)
        with _Reader(self.db, self.rec_lookup) as ends:
            if self.file is None:
                columns, decided = ends.contracts(_CONTRACT_COLUMNS, 8)
            else:
                columns = ends.contracts_alone(_CONTRACT_COLUMNS_ALONE, 8)
                columns[-1], decided = self._file_decided(columns[0])
            ids, buyer, supplier, signed, value, currency, title, deciders = columns
            for name, column in zip(
                names, (ids, buyer, supplier, signed, currency, title, deciders), strict=True
            ):
                texts = _Texts()
                texts.add_arrow(column)
                texts.write(w, f"contract.{name}")
                if name == "id":
                    hashes = np.fromiter(
                        map(zlib.crc32, map(str.encode, ids.to_pylist())), np.int64, len(ids)
                    )
                    _ints(w, "contract.hash", hash_table(hashes))
                elif name == "signed_on":  # ('nan' for none; '%!.17g': each parsed exactly)
                    value_all = value.cast(pa.float64()).to_numpy(zero_copy_only=False)
                    w.raw("contract.value", value_all, "array:d", len(value_all))
            won = self.rec_lookup.places(supplier)
            winners = np.where(won >= 0, node[np.maximum(won, 0)] if len(node) else -1, -1)
            _ints(w, "contract.winner", winners)
            # (each distinct buyer's run looked up once: a few agencies buy every contract)
            buyers = pc.dictionary_encode(buyer)
            runs_of = np.fromiter(
                (agency_at.get(canonical.get(b, b), -1) for b in buyers.dictionary.to_pylist()),
                np.int64, len(buyers.dictionary),
            )  # fmt: skip
            run = runs_of[buyers.indices.to_numpy(zero_copy_only=False)]
            size = run_len[run]
            slot_k = [np.repeat(np.arange(len(buyer)), size)]
            first = np.repeat(run_end[run] - size, size)  # each slot's run, from its start
            step = np.arange(len(first)) - np.repeat(np.cumsum(size) - size, size)
            slot_n = [run_nodes[first + step]]
            # The DECIDED pairs, in any order (they are sorted below), through Arrow: joined to
            # both numbering tables in SQLite they took 5.7 s of the step for the large scale's
            # 2.5M.
            for k, rec in decided:
                slot_k.append(k)
                slot_n.append(node[rec])
        pos, at = _cat(slot_k), _cat(slot_n)
        held = at >= 0
        radix = self.entity_nodes + 1  # (a decision-maker is an entity's node)
        pairs = distinct(pos[held] * radix + at[held])
        _ints(w, "slot.contract", pairs // radix)
        _ints(w, "slot.node", pairs % radix)


def _ascending(places: Array) -> bool:
    """Whether the records' numbers of the ids that are records (not -1) ascend as the ids'
    own numbers do: then links in the order of the ids' numbers are in the records'."""
    held = places[places >= 0]
    return bool((held[1:] > held[:-1]).all())


def _decided_json(sources: Any, roles: Any) -> Any:
    """Each pair's `[source, role]` as SQLite's `json_array` writes it (an Arrow array)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    texts = []
    for column in (sources, roles):
        plain = pc.invert(pc.match_substring_regex(column, r'["\\\x00-\x1f]'))
        quoted = pc.binary_join_element_wise('"', column, '"', "")
        odd = np.flatnonzero(~plain.to_numpy(zero_copy_only=False))
        if len(odd):  # (a quote, a backslash or a control character: escaped as SQLite does)
            values = quoted.to_pylist()
            for i in odd.tolist():
                values[i] = json.dumps(column[i].as_py(), ensure_ascii=False)
            quoted = pa.array(values, pa.string())
        texts.append(quoted)
    return pc.binary_join_element_wise("[", texts[0], ",", texts[1], "]", "")


def _stop(proc: Any, made: Path) -> None:
    """End the forked step (if it still runs) and remove what it left."""
    if proc.is_alive():
        proc.kill()
    proc.join()
    made.unlink(missing_ok=True)
