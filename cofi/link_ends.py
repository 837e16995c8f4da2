"""The link checks' ends (`loader._LinkChecks`): which link keys join an id that is unknown or
rejected, or two kinds their type may not join, with the kinds found.

The keys, the bundle's ids and the ids the store knew are read through ADBC's SQLite driver as
Arrow columns (read-only, from the staging databases' files) and looked up among the ids, which
the staging database holds in id order: a key's source by Arrow with a hash of the few ids between
its batch's first and last source (the keys are in source order), its target in a hash table of
them all (`TextLookup`, made once); an id the store knew, by binary search (`search_sorted`).
SQL's four joins a key took 10.0 s of CPU for the 5.5M links of the large synthetic scale (two
halves side by side, 8.3 s of a load); this takes about 3 s, in memory a batch of keys and the
ids.

Never call this in a process that holds one of those files open through Python's `sqlite3`: the
driver carries a SQLite library of its own, and two on one file in one process break its locks
(see `graph_build._Reader`).
"""

from __future__ import annotations

import bisect
from contextlib import closing
from pathlib import Path
from typing import Any
from urllib.parse import quote

import adbc_driver_sqlite.dbapi as adbc
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cofi.sorted_texts import SortedTexts
from cofi.text_lookup import TextLookup
from cofi.vocab import LINK_TYPES, STORED_LINK_TYPES, Kind

Flagged = tuple[int, str | None, str | None]
"""A flagged key's first row (`seq`) and its source's and target's kinds (None: unknown)."""
_BATCH = 1 << 20
"""Keys looked up at a time."""
_KINDS = [k.value for k in Kind]
_TYPES = list(STORED_LINK_TYPES)
_ALLOWED = np.array(
    [[[LINK_TYPES[t].allows(a, b) for b in Kind] for a in Kind] for t in _TYPES], dtype=bool
)
"""Whether a type (by its place in `_TYPES`) may join a source kind to a target kind (by their
places in `_KINDS`)."""


def flagged_ends(entities: Path, links: Path) -> list[Flagged]:
    """The keys of `link_keys` (with `ok`) in the staging database `links` whose ends are unknown
    (neither in `ent_ids` nor in `stored` of the staging database `entities`), in its `bad`, or
    of kinds their type may not join: each with its ends' kinds, in row order."""
    with closing(_connect(entities)) as con:
        ids, id_kinds = _ids(con, "SELECT id, kind FROM ent_ids ORDER BY id")
        stored, stored_kinds = _ids(con, "SELECT id, kind FROM stored ORDER BY id")
        bad = _texts(con, "SELECT id FROM bad")
    # (the targets by a hash table of the ids, made once: binary search among them took 1.6-2.0
    # s of CPU for the large scale's 5.5M targets among 1M ids, the table 0.8-1.1 s, and from 10,000
    # ids up it is the quicker; among 15M ids binary search kept an xlarge load waiting 63 s)
    table = TextLookup(ids, 0) if len(ids) else None
    found: list[Flagged] = []
    with closing(_connect(links)) as con, closing(con.cursor()) as cur:
        cur.adbc_statement.set_options(**{"adbc.sqlite.query.batch_rows": str(_BATCH)})
        cur.execute(
            "SELECT seq, source, target, type FROM link_keys WHERE ok "
            "ORDER BY source, target, type, role, since"
        )
        for batch in cur.fetch_record_batch():
            if not batch.num_rows:
                continue
            seq, source, target, kind = (batch.column(i) for i in range(4))
            a = _kind_of(source, ids, id_kinds, stored, stored_kinds, in_order=True)
            b = _kind_of(target, ids, id_kinds, stored, stored_kinds, in_order=False, table=table)
            t = pc.fill_null(pc.index_in(kind, value_set=pa.array(_TYPES)), -1).to_numpy()
            known = (a >= 0) & (b >= 0) & (t >= 0)
            ok = known.copy()
            ok[known] = _ALLOWED[t[known], a[known], b[known]]
            if len(bad):
                for end in (source, target):
                    ok &= ~pc.is_in(end, value_set=bad).to_numpy(zero_copy_only=False)
            for i in np.flatnonzero(~ok).tolist():
                found.append((seq[i].as_py(), _name(a[i]), _name(b[i])))
    return sorted(found)


def kinds_of_ids(entities: Path, ids: Any) -> tuple[Any, Any]:
    """The kind's place in `_KINDS` of each of `ids` (-1: unknown), as the bundle or else the
    store knew it (the staging database `entities`), and whether it was rejected."""
    with closing(_connect(entities)) as con:
        known, known_kinds = _ids(con, "SELECT id, kind FROM ent_ids ORDER BY id")
        stored, stored_kinds = _ids(con, "SELECT id, kind FROM stored ORDER BY id")
        bad = _texts(con, "SELECT id FROM bad")
    ids = ids.cast(pa.string())
    table = TextLookup(known, 0) if len(known) else None
    kinds = _kind_of(ids, known, known_kinds, stored, stored_kinds, in_order=False, table=table)
    if not len(bad):
        return kinds, np.zeros(len(ids), bool)
    return kinds, pc.is_in(ids, value_set=bad).to_numpy(zero_copy_only=False)


def flagged_rows(
    kinds: Any, bad: Any, types: list[str], type_codes: Any, sources: Any, targets: Any, seqs: Any
) -> list[Flagged]:
    """`flagged_ends` of keys given as numbers: their types (codes into `types`), their ends
    (numbers into `kinds` and `bad`, `kinds_of_ids`) and first rows (`seqs`)."""
    to_type = np.array([_TYPES.index(t) if t in _TYPES else -1 for t in types] + [-1], np.int64)
    flagged = []
    for lo in range(0, len(type_codes), _ROWS_AT_ONCE):
        hi = lo + _ROWS_AT_ONCE
        t = to_type[type_codes[lo:hi]]
        source, target = sources[lo:hi], targets[lo:hi]
        a, b = kinds[source], kinds[target]
        known = (a >= 0) & (b >= 0) & (t >= 0)
        ok = known.copy()
        ok[known] = _ALLOWED[t[known], a[known], b[known]]
        ok &= ~bad[source] & ~bad[target]
        flagged += [(int(seqs[lo + i]), _name(a[i]), _name(b[i]))
                    for i in np.flatnonzero(~ok).tolist()]  # fmt: skip
    return sorted(flagged)


_ROWS_AT_ONCE = 1 << 22
"""Keys `flagged_rows` looks at at a time: its arrays of them are a few times the rows' number
of int64s (the xlarge scale's 55.6M keys at once took 2.7 GB more, the load's peak)."""


def _connect(path: Path) -> Any:
    return adbc.connect(f"file:{quote(str(path))}?mode=ro")


def _texts(con: Any, query: str) -> Any:
    """The one text column of `query`, as an Arrow array."""
    return _ids(con, query)[0]


def _ids(con: Any, query: str) -> tuple[Any, Any]:
    """The ids (in id order, as the table's primary key keeps them) and, when `query` reads a
    second column, their kinds' places in `_KINDS` (-1: another)."""
    with closing(con.cursor()) as cur:
        cur.execute(query)
        table = cur.fetch_arrow_table()
    if not table.num_rows:  # (SQLite then tells no column's type)
        return pa.array([], pa.string()), np.zeros(0, np.int64)
    ids = table.column(0).combine_chunks()
    if table.num_columns < 2:
        return ids, np.zeros(0, np.int64)
    kinds = pc.index_in(table.column(1), value_set=pa.array(_KINDS))
    return ids, pc.fill_null(kinds, -1).to_numpy().astype(np.int64)


def _kind_of(
    ends: Any,
    ids: Any,
    id_kinds: Any,
    stored: Any,
    stored_kinds: Any,
    *,
    in_order: bool,
    table: TextLookup | None = None,
) -> Any:
    """The kinds' places of `ends` (-1: unknown): the bundle's kind of an id (looked up in
    `table`, of `ids`, when given), else the store's."""
    if table is not None:
        place = table.places(ends)
        kinds = np.where(place >= 0, id_kinds[np.maximum(place, 0)], -1)
    else:
        kinds = _kinds_in(ends, ids, id_kinds, in_order)
    if len(stored):
        missing = kinds < 0
        if missing.any():
            kinds[missing] = _kinds_in(ends.filter(pa.array(missing)), stored, stored_kinds, False)
    return kinds


def _kinds_in(ends: Any, ids: Any, kinds: Any, in_order: bool) -> Any:
    """The kinds' places of `ends` among `ids` (in id order), -1 where not there.  Ends `in_order`
    are looked up among the ids between the first and the last of them."""
    if not len(ids):
        return np.full(len(ends), -1, np.int64)
    if in_order:
        at = SortedTexts(ids)
        lo = bisect.bisect_left(at, ends[0].as_py())
        hi = bisect.bisect_right(at, ends[-1].as_py(), lo)
        place = pc.fill_null(pc.index_in(ends, value_set=ids.slice(lo, hi - lo)), -1).to_numpy()
        place = np.where(place >= 0, place + lo, -1)
    else:
        near = pc.search_sorted(ids, ends).to_numpy().astype(np.int64)
        near = np.minimum(near, len(ids) - 1)
        same = pc.equal(ids.take(pa.array(near)), ends).to_numpy(zero_copy_only=False)
        place = np.where(same, near, -1)
    return np.where(place >= 0, kinds[np.maximum(place, 0)], -1)


def _name(kind: int) -> str | None:
    return _KINDS[kind] if kind >= 0 else None
