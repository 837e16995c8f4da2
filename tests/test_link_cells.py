"""The loader's quick check of a CSV link row (`model.link_cells`) against the full one
(`model.validate_row`): a row it takes is one the full check finds valid, with the same values;
a plain valid row it takes."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cofi import link_columns
from cofi.bundle import Part
from cofi.importers import InputFile, input_files
from cofi.link_columns import stage_link_file
from cofi.model import COLUMNS, REQUIRED, link_cells, validate_row
from cofi.staging import Stage, _new_stage, _stage_part, link_column_files, scratch
from cofi.vocab import FILE_TYPES, INPUT_LINK_TYPES, LINK_TYPES

ROLES = sorted({r for t in INPUT_LINK_TYPES for r in (LINK_TYPES[t].roles or ())})
LINK = COLUMNS["link"]
IDS = ["p1", "p2", "c1", " p1 ", "", " ", "P1", "x" * 512, "x" * 513, "p1\n"]
DAYS = ["2020-01-01", "2020-02-30", "2019-12-31", " 2021-06-01", "2020-1-01", "20200101",
        "٢٠٢٠-٠١-٠١", "2020-01-01T00", "0000-01-01", "9999-12-31", ""]  # fmt: skip
EDGES = {
    "source": IDS,
    "target": IDS,
    "type": [*INPUT_LINK_TYPES, "family", "Owns", "SAME_AS", "DECIDED ", "ß", "owns\n", ""],
    "role": [*ROLES, "Spouse", " child", "r" * 10_000, "r" * 10_001, "director", ""],
    "share": [
        "50",
        "0",
        "100",
        "100.0",
        "100.000000000001",
        "007",
        "1e1",
        " 5",
        "５",
        "0.5",
        "-1",
        "nan",
        "inf",
        "12.",
        ".5",
        "99.999999999999",
        "",
    ],
    "since": DAYS,
    "until": DAYS,
    "source_ref": ["r" * 10_000, "r" * 10_001, " ", "a,b"],
}
"""Edge cases of each column, put into otherwise valid rows."""


@st.composite
def link_rows(draw: st.DrawFn) -> tuple[list[str], list[str]]:
    """A header (the required columns, some optional ones, in any order) and a row of it: a valid
    row with a few cells swapped for edge cases."""
    optional = [c for c in LINK if c not in REQUIRED["link"]]
    some = st.lists(st.sampled_from(optional), unique=True)
    header = [*REQUIRED["link"], *draw(st.one_of(st.just(optional), some))]
    header = draw(st.permutations(header))
    kind = draw(st.sampled_from(INPUT_LINK_TYPES))
    roles = LINK_TYPES[kind].roles
    valid = {"source": "p1", "target": "c1", "type": kind, "role": roles[0] if roles else "",
             "share": "50", "since": "2020-01-01", "until": "2021-01-01", "source_ref": "r"}  # fmt: skip
    return header, [
        draw(st.one_of(st.just(valid[c]), st.sampled_from(EDGES[c]), st.text(max_size=4)))
        for c in header
    ]


def _full(header: list[str], cells: list[str]) -> tuple[object, ...] | None:
    """What the load's full way makes of the row (`bundle.read_csv`, `staging.Staged.add`)."""
    data = {c: v.strip() for c, v in zip(header, cells, strict=True) if v.strip()}
    row, _ = validate_row("link", data)
    if row is None:
        return None
    return tuple(row.get(c, "") for c in ("source", "target", "type", "role", "since", "share",
                                          "until", "source_ref"))  # fmt: skip


@settings(max_examples=3000, deadline=None)
@given(link_rows())
def test_a_row_the_quick_check_takes_is_valid_with_the_same_values(
    row: tuple[list[str], list[str]],
) -> None:
    header, cells = row
    quick = link_cells(header)(list(cells))
    if quick is not None:
        assert quick == _full(header, cells)
        assert [type(v) for v in quick] == [type(v) for v in _full(header, cells) or ()]


@settings(max_examples=500, deadline=None)
@given(
    st.sampled_from(INPUT_LINK_TYPES),
    st.sampled_from(["", "2020-01-01", "1999-02-28"]),
    st.sampled_from(["", "2024-02-29"]),
    st.sampled_from(["", "0.5", "51", "100", "12.25"]),
)
def test_a_plain_valid_row_is_taken(kind: str, since: str, until: str, share: str) -> None:
    roles = LINK_TYPES[kind].roles
    role = roles[0] if roles else "chair"
    cells = ["p1", "c1", kind.lower(), role, share, since, until, "ref 1"]
    assert _full(list(LINK), cells) is not None
    assert link_cells(list(LINK))(cells) == _full(list(LINK), cells)


# The same rules on whole columns (`cofi.link_columns`): a links file staged by columns is staged
# exactly as the csv module's path stages it, rows, rejects and warnings alike.

FILE_ROWS = st.lists(link_rows(), min_size=1, max_size=30)


def _staged(
    tmp: Path, name: str, text: str, columns: bool, as_columns: frozenset[str] = frozenset()
) -> tuple[object, ...]:
    """What staging a bundle holding only `links.csv` (`text`) leaves: by columns (None when the
    file is declined) or by the csv module.  The link rows are those in SQLite and, staged by
    columns with `as_columns` (`Stage.as_columns`), those kept as Arrow columns, as the table's
    rows, in its order."""
    by = stage_link_file if columns else None
    rows, found = staged_file(tmp, name, "links.csv", text, by, ("link", "rej", "warn"),
                              as_columns)  # fmt: skip
    if rows is None:
        return rows, found
    links = tmp / f"{name}-links.db"
    in_columns = [
        (seq, *rest, 0, seq)  # (the file's first seq is 0: its line is its seq)
        for path in link_column_files(links)
        for batch in pa.ipc.open_stream(pa.memory_map(str(path)))
        for seq, *rest in zip(*(c.to_pylist() for c in batch.columns), strict=True)
    ]
    assert all(r[3] in as_columns for r in in_columns)
    assert not {r[0] for r in in_columns} & {r[0] for r in found[0]}  # (each row in one place)
    return rows, [sorted(found[0] + in_columns), *found[1:]]


def staged_file(
    tmp: Path,
    name: str,
    file: str,
    text: str,
    stage_file: Callable[..., int | None] | None,
    tables: tuple[str, ...],
    as_columns: frozenset[str] = frozenset(),
) -> tuple[object, ...]:
    """The rows read and the staging database's `tables` (each in the order of all its
    columns) after staging a bundle holding only `file` (`text`): by `stage_file` (None, [] when
    it declines the file) or, without one, by the csv module (`as_columns`:
    `Stage.as_columns`)."""
    files, stage = one_file_stage(tmp, name, file, text, as_columns)
    if stage_file is not None:
        rows = stage_file(files, 0, stage, None)
        if rows is None:
            return None, []
    else:
        rows = _stage_part(files, stage, Part(), None)
    with closing(scratch(stage.databases)) as db:
        found = []
        for t in tables:
            columns = ", ".join(c[0] for c in db.execute(f"SELECT * FROM {t}").description)
            found.append(db.execute(f"SELECT * FROM {t} ORDER BY {columns}").fetchall())
        return rows, found


def one_file_stage(
    tmp: Path, name: str, file: str, text: str, as_columns: frozenset[str] = frozenset()
) -> tuple[list[InputFile], Stage]:
    """A bundle `tmp/name` holding only `file` (`text`), its files listed, and new staging
    databases for them."""
    bundle = tmp / name
    bundle.mkdir()
    (bundle / file).write_bytes(text.encode())
    files = input_files([bundle])
    stage = Stage(tmp / f"{name}.db", tmp / f"{name}-links.db", as_columns)
    _new_stage(stage, files)
    return files, stage


def csv_text(header: list[str], rows: list[list[str]], newline: str = "\n") -> str:
    """A CSV file's text: `header`, then `rows` (quoted where the csv module quotes)."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator=newline)
    w.writerow(header)
    w.writerows(rows)
    return out.getvalue()


@pytest.mark.parametrize(
    "as_columns", [frozenset(), frozenset(FILE_TYPES)], ids=["sqlite", "arrow"]
)
def test_a_file_staged_by_columns_is_staged_as_the_csv_module_stages_it(
    tmp_path_factory: pytest.TempPathFactory, as_columns: frozenset[str]
) -> None:
    taken: list[bool] = []

    @settings(max_examples=150, deadline=None)
    @given(FILE_ROWS)
    def check(drawn: list[tuple[list[str], list[str]]]) -> None:
        tmp = tmp_path_factory.mktemp("links")
        header = drawn[0][0]  # (the rows drawn with the same columns, in its order)
        rows = [[cells[h.index(c)] for c in header] for h, cells in drawn
                if sorted(h) == sorted(header)]  # fmt: skip
        text = csv_text(header, rows)
        by_columns = _staged(tmp, "a", text, columns=True, as_columns=as_columns)
        taken.append(by_columns[0] is not None)
        if by_columns[0] is not None:
            assert by_columns == _staged(tmp, "b", text, columns=False)

    check()
    assert sum(taken) >= len(taken) // 3  # (most files compared: few have a comma in quotes)


def test_plain_files_are_staged_by_columns_and_others_are_declined(tmp_path: Path) -> None:
    header = list(LINK)
    good = ["p1", "c1", "owns", "", "50", "2020-01-01", "", "ref 1"]
    doubted = ["p1", "p1", "OWNS", "", "", "", "", ""]  # (one end twice: rejected)
    spaced = [" p2 ", "c1", "OWNS", "", "", "", "", ""]  # (taken after the csv module)
    quoted = ["p3", "c1", "OWNS", "", "", "", "", 'the "register"']
    longest = ["x" * 512, *good[1:]]
    too_long = ["x" * 513, *good[1:]]
    plain = csv_text(header, [good, doubted, spaced, quoted, [*good[:1], "c2", *good[2:]], longest,
                          too_long])  # fmt: skip
    cases = {
        "plain": (plain, True),
        "crlf": (plain.replace("\n", "\r\n"), True),
        "bom": ("\ufeff" + plain, True),
        "unended": (plain.rstrip("\n"), True),
        "blank line": (plain + "\n" + csv_text(header, [good])[len(csv_text(header, [])) :], True),
        "comma in quotes": (csv_text(header, [[*good[:7], "a, b"]]), False),
        "newline in quotes": (csv_text(header, [[*good[:7], "a\nb"]]), False),
        "short row": (plain + "p9,c9\n", False),
        "lone cr": (plain.replace("\n", "\r"), False),
    }
    for name, (text, taken) in cases.items():
        by_columns = _staged(tmp_path, name, text, columns=True)
        by_csv = _staged(tmp_path, f"{name} csv", text, columns=False)
        assert (by_columns[0] is not None) == taken, name
        if taken:
            assert by_columns == by_csv, name
    rows, (links, rejects, _) = _staged(tmp_path, "again", plain, columns=True)
    assert rows == 7
    assert [(r[1], r[10]) for r in links] == [
        ("p1", 2), ("p2", 4), ("p3", 5), ("p1", 6), ("x" * 512, 7)
    ]  # fmt: skip
    assert [(r[1], r[2]) for r in rejects] == [(3, "target"), (8, "source")]


def test_a_file_is_staged_a_block_at_a_time_and_a_late_fault_takes_out_what_was_appended(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(link_columns, "_BLOCK", 256)  # (about six rows a block)
    rows = [[f"p{i}", f"c{i % 7}", "OWNS", "", str(i % 100 + 1), "2020-01-01", "", ""]
            for i in range(60)]  # fmt: skip
    rows[33][0] = " p33"  # (a row of a middle block the csv module's way)
    text = csv_text(list(LINK), rows)
    rows_read, (links, rejects, warnings) = _staged(tmp_path, "blocks", text, columns=True)
    assert rows_read == 60 and len(links) == 60 and not rejects
    as_columns = frozenset(FILE_TYPES)
    assert _staged(tmp_path, "arrow", text, True, as_columns) == (rows_read, [links, rejects,
                                                                              warnings])  # fmt: skip
    (arrow,) = link_column_files(tmp_path / "arrow-links.db")
    assert sum(b.num_rows for b in pa.ipc.open_stream(pa.memory_map(str(arrow)))) == 59
    assert (rows_read, [links, rejects, warnings]) == _staged(tmp_path, "csv", text, columns=False)
    assert links[33][1:3] == ("p33", "c5") and links[59][6] == 60.0
    # a short row in the last block: the file is declined, and nothing of it stays staged (here
    # a row of the first block rejected, one of the fourth staged the csv module's way)
    rows[2][1] = rows[2][0]
    bundle = tmp_path / "late"
    bundle.mkdir()
    (bundle / "links.csv").write_text(csv_text(list(LINK), rows) + "p1,c1\n")
    files = input_files([bundle])
    stage = Stage(tmp_path / "late.db", tmp_path / "late-links.db", frozenset(FILE_TYPES))
    _new_stage(stage, files)
    assert stage_link_file(files, 0, stage, None) is None
    with closing(scratch(stage.databases)) as db:
        assert [db.execute(f"SELECT count(*) FROM {t}").fetchone() for t in ("link", "rej")] == [
            (0,), (0,)
        ]  # fmt: skip
    assert not stage.link_column_files()


_ASCII = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=6)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.one_of(st.text(max_size=6), st.sampled_from(["", " ", "a b", "a ", " a", ' "', "~", "\x7f", "é"])),
             min_size=1, max_size=40),
    st.lists(st.one_of(_ASCII, st.sampled_from(["", " ", "a b", "a ", " a", "~"])), min_size=1,
             max_size=40),
    st.integers(0, 3),
)  # fmt: skip
def test_the_plain_cell_test_is_its_regular_expression(
    cells: list[str], ascii_cells: list[str], cut: int
) -> None:
    """Either way (`_plain` looks at a column's bytes at once when they are all printable ASCII
    but the quote, as most of the second lists' are), on a column that begins at its buffers'
    start or further in (`cut`), in one piece or two."""
    for drawn in (cells, ascii_cells):
        column = pa.array(["x"] * cut + drawn, pa.string()).slice(cut)
        expected = [re.fullmatch(link_columns._PLAIN, c) is not None for c in drawn]
        assert link_columns._plain(column).to_pylist() == expected
        halves = pa.chunked_array([column.slice(0, len(drawn) // 2), column.slice(len(drawn) // 2)])
        assert link_columns._plain(halves).to_pylist() == expected
