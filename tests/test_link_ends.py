"""The link checks' ends (`cofi.link_ends`) against the rule spelled out in Python: a link key is
flagged when an end is neither among the bundle's ids nor the store's, is a rejected id, or its
type may not join the two kinds (the bundle's kind of an id first, then the store's)."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cofi.link_ends
from cofi.link_ends import flagged_ends
from cofi.loader import _LINK_CHECK_SCHEMA
from cofi.vocab import LINK_TYPES, STORED_LINK_TYPES, Kind

IDS = st.text(alphabet="abzé€😀0", min_size=1, max_size=3)
KINDS = st.sampled_from([k.value for k in Kind])
TYPES = st.sampled_from(["OWNS", "FAMILY", "DECIDED", "EMPLOYED", "SAME_AS", "NOT_A_TYPE"])


def _expected(
    ids: dict[str, str], stored: dict[str, str], bad: set[str], keys: list[tuple[str, str, str]]
) -> list[tuple[int, str | None, str | None]]:
    flagged = []
    for seq, (source, target, kind) in enumerate(keys):
        a = ids.get(source) or stored.get(source)
        b = ids.get(target) or stored.get(target)
        allowed = (
            a is not None
            and b is not None
            and kind in LINK_TYPES
            and LINK_TYPES[kind].allows(Kind(a), Kind(b))
        )
        if not allowed or source in bad or target in bad:
            flagged.append((seq, a, b))
    return flagged


def _staged(
    tmp: Path,
    ids: dict[str, str],
    stored: dict[str, str],
    bad: set[str],
    keys: list[tuple[str, str, str]],
) -> tuple[Path, Path]:
    entities, links = tmp / "e.sqlite", tmp / "l.sqlite"
    for path in (entities, links):
        path.unlink(missing_ok=True)
    with closing(sqlite3.connect(entities)) as db, db:
        db.executescript(
            "CREATE TABLE ent_ids (id TEXT PRIMARY KEY, seq INTEGER, n INTEGER, kind TEXT, "
            "ok INTEGER NOT NULL DEFAULT 1) WITHOUT ROWID;"
            "CREATE TABLE stored (id TEXT PRIMARY KEY, kind TEXT) WITHOUT ROWID;"
            "CREATE TABLE bad (id TEXT PRIMARY KEY) WITHOUT ROWID;"
        )
        db.executemany("INSERT INTO ent_ids (id, kind) VALUES (?, ?)", ids.items())
        db.executemany("INSERT INTO stored VALUES (?, ?)", stored.items())
        db.executemany("INSERT INTO bad VALUES (?)", [(i,) for i in bad])
    with closing(sqlite3.connect(":memory:")) as db:
        db.execute("ATTACH DATABASE ? AS stage_l", (str(links),))
        db.executescript(_LINK_CHECK_SCHEMA)
        db.executemany(
            "INSERT INTO stage_l.link_keys (source, target, type, role, since, seq, n) "
            "VALUES (?, ?, ?, '', '', ?, 1) ON CONFLICT DO NOTHING",
            [(s, t, k, seq) for seq, (s, t, k) in enumerate(keys)],
        )
        db.execute(
            "INSERT INTO stage_l.link_keys VALUES ('x', 'y', 'OWNS', '', '', -1, 1, "
            "NULL, '', '', 0)"
        )  # fmt: skip (a key dropped before: never flagged)
        db.commit()
    return entities, links


@st.composite
def _stores(draw: st.DrawFn) -> tuple[Any, ...]:
    """Ids of the bundle, of the store and rejected, and link keys between ids of the same few
    (an end now and then neither's)."""
    pool = draw(st.lists(IDS, min_size=1, max_size=10, unique=True))
    some = st.sampled_from(pool)
    ids = draw(st.dictionaries(some, KINDS))
    stored = draw(st.dictionaries(some, KINDS, max_size=4))
    bad = draw(st.sets(some, max_size=2))
    end = st.one_of(some, some, some, IDS)
    keys = draw(st.lists(st.tuples(end, end, TYPES), max_size=30, unique=True))
    return ids, stored, bad, keys


@settings(max_examples=200, deadline=None)
@given(staged=_stores(), batch=st.sampled_from([1, 3, 1 << 20]))
def test_the_flagged_keys_are_those_the_rule_flags(
    tmp_path_factory: pytest.TempPathFactory, staged: tuple[Any, ...], batch: int
) -> None:
    """(The bundle's targets by a hash table, the store's by binary search.)"""
    files = _staged(tmp_path_factory.mktemp("ends"), *staged)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(cofi.link_ends, "_BATCH", batch)  # (keys in one batch, or a few in each)
        assert flagged_ends(*files) == _expected(*staged)


def test_a_known_key_of_allowed_kinds_is_not_flagged_and_a_wrong_one_is(tmp_path: Path) -> None:
    ids = {"p1": "person", "p2": "person", "c1": "company"}
    # (a type the store does not keep, between kinds the last one it keeps may join)
    last = LINK_TYPES[STORED_LINK_TYPES[-1]]
    a, b = next((a, b) for a in Kind for b in Kind if last.allows(a, b))
    ids |= {"a1": a.value, "b1": b.value}
    keys = [("p1", "c1", "OWNS"), ("p1", "p2", "FAMILY"), ("c1", "p1", "FAMILY"),
            ("p1", "ghost", "OWNS"), ("a1", "b1", "NOT_A_TYPE"), ("a1", "b1", last.name)]  # fmt: skip
    assert flagged_ends(*_staged(tmp_path, ids, {}, set(), keys)) == [
        (2, "company", "person"),
        (3, "person", None),
        (4, a.value, b.value),
    ]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(-1, len(Kind) - 1), min_size=1, max_size=8),
    st.data(),
)
def test_keys_given_as_numbers_are_flagged_as_the_rule_flags_them_a_few_at_a_time(
    kinds: list[int], data: st.DataObject
) -> None:
    """`flagged_rows` (a link file's keys, as numbers) looks at `_ROWS_AT_ONCE` keys at a time:
    three at a time here, the rule of `_expected` spelled out on the same keys."""
    import numpy as np

    types = ["OWNS", "FAMILY", "DECIDED", "NOT_A_TYPE"]
    n = len(kinds)
    bad = data.draw(st.lists(st.booleans(), min_size=n, max_size=n))
    rows = data.draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1),
                                         st.integers(0, len(types) - 1)), max_size=20))  # fmt: skip
    names = [k.value for k in Kind]
    ids = {str(i): names[k] for i, k in enumerate(kinds) if k >= 0}
    keys = [(str(s), str(t), types[c]) for s, t, c in rows]
    want = _expected(ids, {}, {str(i) for i, b in enumerate(bad) if b}, keys)
    seqs = np.arange(len(rows), dtype=np.int64) * 7  # (a key's first row: any number)
    columns = [np.array([r[i] for r in rows], np.int64) for i in range(3)]
    old = cofi.link_ends._ROWS_AT_ONCE
    try:
        cofi.link_ends._ROWS_AT_ONCE = 3
        got = cofi.link_ends.flagged_rows(np.array(kinds, np.int64), np.array(bad, bool), types,
                                          columns[2], columns[0], columns[1], seqs)  # fmt: skip
    finally:
        cofi.link_ends._ROWS_AT_ONCE = old
    assert got == sorted((seq * 7, a, b) for seq, a, b in want)
