"""The link file (`cofi.link_file`) against SQLite's `links` table: the same rows after the same
loads, the same rows found from either end, and a file that is not the one sealed never read."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from cofi.link_file import (
    KEY,
    LinkColumns,
    LinkFile,
    key_firsts,
    key_order,
    merged,
    numbered,
    stable_order,
    write,
)
from cofi.link_pages import LinkFileDamaged, LinkPages, Seal
from cofi.store.embedded import _SCHEMA, _UPSERT_LINK
from cofi.text_lookup import TextLookup

_IDS = pa.array([f"e{i}" for i in range(7)], pa.large_string())
"""The ids the tests' entity numbers (0 to 6) stand for."""
_FIELDS = ("source", "target", "type", "role", "since", "share", "until", "source_ref")

link = st.tuples(
    st.integers(0, 4),
    st.integers(0, 4),
    st.sampled_from(["OWNS", "FAMILY", "DECIDED"]),
    st.sampled_from(["", "head", "child", "Ана"]),
    st.sampled_from(["", "2020-01-01", "2021-05-05"]),
    st.sampled_from([None, 0.5, 51.0]),
    st.sampled_from(["", "2022-01-01", "2019-12-31"]),
    st.sampled_from(["", "r1", "r2"]),
)
batches = st.lists(st.lists(link, max_size=25), min_size=1, max_size=3)


def _grouped(batch: list[tuple]) -> list[tuple]:
    """A load's links: one row a key (the last given, as any one would do here)."""
    return list({row[:5]: row for row in batch}.values())


def _sqlite_rows(loads: list[list[tuple]]) -> tuple[set[tuple], list[tuple[int, int]]]:
    """The store's `links` after each load's `_UPSERT_LINK`, at revisions 1, 2, …, and each
    load's rows changed (its row count) and created."""
    counts = []
    with closing(sqlite3.connect(":memory:")) as db:
        db.executescript(_SCHEMA)
        for rev, batch in enumerate(loads, 1):
            db.execute(f"CREATE TEMP TABLE plan_links ({', '.join(_FIELDS)})")
            db.executemany(
                "INSERT INTO plan_links VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [(str(s), str(t), *rest) for s, t, *rest in batch],
            )
            (before,) = db.execute("SELECT count(*) FROM links").fetchone()
            changed = db.execute(_UPSERT_LINK, (rev,)).rowcount
            (after,) = db.execute("SELECT count(*) FROM links").fetchone()
            counts.append((changed, after - before))
            db.execute("DROP TABLE plan_links")
        rows = db.execute(f"SELECT {', '.join(_FIELDS)}, rev FROM links").fetchall()
    return {(int(s), int(t), *rest) for s, t, *rest in rows}, counts


def _columns(batch: list[tuple], rev: int) -> LinkColumns:
    return LinkColumns.from_rows(
        (s, t, ty, role, since, share, until, ref, rev)
        for s, t, ty, role, since, share, until, ref in batch
    )


def _file_rows(loads: list[list[tuple]]) -> LinkColumns:
    return _merges(loads)[0]


def _merges(loads: list[list[tuple]]) -> tuple[LinkColumns, list[tuple[int, int]]]:
    links = _columns(loads[0], 1)
    counts = [(len(links), len(links))]
    for rev, batch in enumerate(loads[1:], 2):
        links, changed, created = merged(links, _columns(batch, 0), rev)
        counts.append((changed, created))
    return links, counts


def _as_link_rows(links: LinkColumns) -> set[tuple]:
    return {(s, t, ty, role, since, share, until, ref, rev)
            for s, t, ty, role, since, share, until, ref, rev in links.rows()}  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(batches)
def test_loads_merged_as_sqlite_upserts_them(loads: list[list[tuple]]) -> None:
    loads = [_grouped(b) for b in loads]
    links, counts = _merges(loads)
    assert (_as_link_rows(links), counts) == _sqlite_rows(loads)
    rows = links.rows()
    keys = [(s, t, ty, role, since) for s, t, ty, role, since, *_ in rows]
    assert keys == sorted(keys)  # key order: the primary key's (texts by code point)
    assert len(set(keys)) == len(keys)


def test_an_unchanged_link_keeps_its_revision_and_a_changed_one_takes_the_new() -> None:
    first = [(1, 2, "OWNS", "", "2020-01-01", 51.0, "", ""),
             (1, 3, "OWNS", "", "2020-01-01", 49.0, "", "")]  # fmt: skip
    later = [(1, 2, "OWNS", "", "2020-01-01", 51.0, "", ""),  # the same
             (1, 3, "OWNS", "", "2020-01-01", 49.0, "2023-01-01", ""),  # ended
             (2, 3, "FAMILY", "spouse", "", None, "", "")]  # new  # fmt: skip
    got = {row[:2]: row[-1] for row in _file_rows([first, later]).rows()}
    assert got == {(1, 2): 1, (1, 3): 2, (2, 3): 2}


def test_a_key_given_twice_is_refused() -> None:
    with pytest.raises(ValueError, match="given twice"):
        _columns([(1, 2, "OWNS", "", "", 1.0, "", ""), (1, 2, "OWNS", "", "", 2.0, "", "")], 1)


@settings(max_examples=50, deadline=None)
@given(batches)
def test_written_and_read_back_whole_and_found_from_either_end(loads: list[list[tuple]]) -> None:
    import tempfile

    links = _file_rows([_grouped(b) for b in loads])
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "links-1.bin"
        seal = write(path, links, _IDS, "store:1")
        read = LinkFile(path, seal, "store:1")
        read.verify()
        assert read.links.rows() == links.rows()
        assert read.ids.to_pylist() == _IDS.to_pylist()
        assert read.numbers_of(["e3", "nobody", "e0"]).tolist() == [3, 0]
        assert read.ids_of([4, 1, 4]) == {1: "e1", 4: "e4"}
        rows = links.rows()
        for n in range(-1, 7):
            assert [rows[i] for i in read.rows_from([n])] == [r for r in rows if r[0] == n]
            into = [rows[i] for i in read.rows_into([n])]
            assert into == sorted((r for r in rows if r[1] == n), key=lambda r: r[:5])
        both = read.rows_from([1, 3])
        assert sorted(both.tolist()) == [i for i, r in enumerate(rows) if r[0] in (1, 3)]
        # the same reads by `pread`, in plain Python (a ring read's)
        pages = LinkPages(path, seal, "store:1")
        try:
            assert pages.tables == links.tables
            assert pages.rows_at(range(len(rows))) == rows
            picks = [i % len(rows) for i in (2, 0, 2)] if rows else []
            assert pages.rows_at(picks) == [rows[i] for i in picks]
            assert pages.numbers_of(["e3", "nobody", "e0"]) == [3, 0]
            assert pages.ids_of([4, 1, 4]) == {1: "e1", 4: "e4"}
            for n in range(-1, 8):
                for into, by_file in ((False, read.rows_from), (True, read.rows_into)):
                    spans = pages.spans([n], into=into)
                    assert pages.rows_in(spans, into=into) == by_file([n]).tolist()
        finally:
            pages.close()


@pytest.fixture
def sealed(tmp_path: Path) -> tuple[Path, Seal]:
    links = _columns([(1, 2, "OWNS", "", "2020-01-01", 51.0, "", "ref"),
                      (2, 1, "FAMILY", "child", "", None, "", "")], 1)  # fmt: skip
    path = tmp_path / "links-1.bin"
    return path, write(path, links, _IDS, "store:1")


def test_the_sealed_file_opens(sealed: tuple[Path, Seal]) -> None:
    path, seal = sealed
    read = LinkFile(path, Seal.from_text(seal.as_text()), "store:1")
    assert [r[:3] for r in read.links.rows()] == [(1, 2, "OWNS"), (2, 1, "FAMILY")]
    assert KEY[0] == "source"


def _damage(path: Path, at: int) -> None:
    data = bytearray(path.read_bytes())
    data[at] ^= 0xFF
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    ("harm", "why"),
    [
        (lambda p: p.unlink(), "missing"),
        (lambda p: p.write_bytes(p.read_bytes()[:-10]), "bytes, not"),
        (lambda p: _damage(p, p.stat().st_size - 3), "footer is not the one sealed"),
        (lambda p: _damage(p, 0), "not a link file"),
    ],
)
@pytest.mark.parametrize("opener", [LinkFile, LinkPages])
def test_a_file_not_the_one_sealed_is_refused(
    sealed: tuple[Path, Seal], harm, why: str, opener
) -> None:
    path, seal = sealed
    harm(path)
    with pytest.raises(LinkFileDamaged, match=why):
        opener(path, seal, "store:1")


@pytest.mark.parametrize("opener", [LinkFile, LinkPages])
def test_another_stores_file_is_refused(sealed: tuple[Path, Seal], opener) -> None:
    path, seal = sealed
    with pytest.raises(LinkFileDamaged, match="not 'store:2'"):
        opener(path, seal, "store:2")


@given(st.lists(st.text(alphabet=st.sampled_from("ab€й\x00 9"), max_size=20), max_size=20))
def test_a_texts_hash_in_python_is_numpys(texts: list[str]) -> None:
    from cofi.link_pages import text_hash
    from cofi.text_lookup import text_hashes

    want = text_hashes(pa.array(texts, pa.string())).view(np.int64).tolist()
    assert [text_hash(t.encode()) for t in texts] == want


def test_a_damaged_column_is_found_by_verify(sealed: tuple[Path, Seal]) -> None:
    path, seal = sealed
    _damage(path, 24)  # the first byte of the first column (`source`)
    read = LinkFile(path, seal, "store:1")  # (the cheap check passes: footer and length)
    with pytest.raises(LinkFileDamaged, match="column source damaged"):
        read.verify()
    assert int(np.asarray(read.links.columns["source"])[0]) != 1


@settings(max_examples=50, deadline=None)
@given(st.lists(link, max_size=40), st.permutations(range(5)))
def test_arrow_rows_coded_and_numbered_as_python_rows(
    batch: list[tuple], numbers: list[int]
) -> None:
    import pyarrow as pa

    rows = _grouped(batch)
    texts = {f: [r[i] for r in rows] for i, f in enumerate(_FIELDS)}
    texts["source"], texts["target"] = ([f"e{r[i]}" for r in rows] for i in (0, 1))
    table = pa.table(
        {
            **{f: pa.array(v, pa.string()) for f, v in texts.items() if f != "share"},
            "share": pa.array(texts["share"], pa.float64()),
            "rev": pa.array([3] * len(rows), pa.int64()),
        }
    )

    from cofi.link_file import from_arrow

    known = TextLookup(pa.array([f"e{n}" for n in numbers[:2]], pa.large_string()))
    got, ids = from_arrow(table, known)
    number = {e: i for i, e in enumerate(ids.to_pylist())}
    want = _columns([(number[f"e{s}"], number[f"e{t}"], *rest) for s, t, *rest in rows], 3)
    assert got.rows() == want.rows()
    assert ids.to_pylist()[:2] == [f"e{n}" for n in numbers[:2]]
    assert ids.to_pylist()[2:] == sorted(ids.to_pylist()[2:])
    assert got.tables == want.tables


@settings(max_examples=80, deadline=None)
@given(st.lists(link, max_size=40))
@example([(0, 1, "OWNS", "", "", 0.5, "", ""), (0, 1, "OWNS", "", "", None, "", ""),
          (0, 1, "OWNS", "", "", None, "", ""), (1, 0, "OWNS", "", "", None, "", "r1"),
          (1, 0, "OWNS", "", "", None, "", "r1")])  # fmt: skip
def test_each_keys_first_row_kept_and_a_key_given_with_other_fields_given_up(
    batch: list[tuple],
) -> None:
    # (the load's grouping as `_GROUP_LINKS` does it in SQL, in plain Python)
    by_key: dict[tuple, list[int]] = {}
    for seq, row in enumerate(batch):
        by_key.setdefault(row[:5], []).append(seq)
    unlike = {k for k, seqs in by_key.items() if len({batch[s][5:] for s in seqs}) > 1}
    # (the rows as columns in the input's order, each text coded by its place among the sorted)
    texts = sorted({v for row in batch for i, v in enumerate(row) if i in (2, 3, 4, 6, 7)})
    code = {t: i for i, t in enumerate(texts)}
    names = ("source", "target", "type", "role", "since", "share", "until", "source_ref")
    columns = {n: np.array([r[i] if n in ("source", "target") else code[r[i]] for r in batch],
                           np.int32) for i, n in enumerate(names) if n != "share"}  # fmt: skip
    columns["share"] = np.array([np.nan if r[5] is None else r[5] for r in batch], np.float64)
    columns["seq"] = np.arange(len(batch), dtype=np.int64)
    got, twice = key_firsts(columns)
    assert sorted(twice.tolist()) == sorted(s for k in unlike for s in by_key[k])
    kept = got["seq"].tolist()
    assert kept == [seqs[0] for k, seqs in sorted(by_key.items(), key=lambda kv: tuple(
        code[v] if i > 1 else v for i, v in enumerate(kv[0]))) if k not in unlike]  # fmt: skip
    for name in ("source", "target", "type", "role", "since", "until", "source_ref"):
        assert got[name].tolist() == [columns_value for columns_value in (
            batch[s][names.index(name)] if name in ("source", "target")
            else code[batch[s][names.index(name)]] for s in kept)]  # fmt: skip
    assert columns == {}  # (emptied as it was sorted)


@settings(max_examples=300, deadline=None)
@given(
    st.integers(1, 60).flatmap(lambda n: st.tuples(
        st.lists(st.lists(st.integers(0, 3), min_size=5, max_size=5)
                 | st.lists(st.integers(0, 2**31 - 1), min_size=5, max_size=5),
                 min_size=n, max_size=n),
        st.permutations(range(n)),
    ))
)  # fmt: skip
def test_the_key_order_is_lexsorts_packed_or_not(drawn: tuple[list[list[int]], list[int]]) -> None:
    """`key_order`: the rows by key, then by `seq` (not the input's order), with keys packed
    in a number (small values, keys often given twice) or too wide for one (the plain sort)."""
    rows, seqs = drawn
    columns = {name: np.array([r[i] for r in rows], np.int32) for i, name in enumerate(KEY)}
    columns["seq"] = np.array(seqs, np.int64)
    want = np.lexsort([columns[k] for k in ("seq", *reversed(KEY))])
    assert key_order(columns).tolist() == want.tolist()


@given(st.lists(st.integers(0, 2**31 - 1) | st.integers(0, 3), max_size=60))
def test_stable_order_is_numpys_stable_argsort(values: list[int]) -> None:
    array = np.array(values, np.int32)
    assert stable_order(array).tolist() == np.argsort(array, kind="stable").tolist()


def test_new_ids_are_numbered_after_the_known_in_id_order() -> None:
    known = TextLookup(pa.array(["p9", "a1", "k5"], pa.large_string()))
    numbers, ids = numbered(pa.array(["k5", "z0", "b2", "p9", "b2", "a0"]), known)
    assert numbers.tolist() == [2, 5, 4, 0, 4, 3]
    assert ids.to_pylist() == ["p9", "a1", "k5", "a0", "b2", "z0"]
    first, ids = numbered(pa.array(["c", "a", "c"]), None)
    assert (first.tolist(), ids.to_pylist()) == ([1, 0, 1], ["a", "c"])


def test_an_end_without_an_id_is_refused(tmp_path: Path) -> None:
    links = _columns([(1, 9, "OWNS", "", "", None, "", "")], 1)
    with pytest.raises(ValueError, match="no id"):
        write(tmp_path / "links.bin", links, _IDS, "t")
