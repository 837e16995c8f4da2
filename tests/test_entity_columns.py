"""A bundle's CSV file of entities staged by whole columns (`cofi.entity_columns`) is staged
exactly as the csv module's path stages it (`staging.Staged`): rows, contacts, contracts,
rejects, bad ids and warnings alike; a file it cannot read line by line is declined; and the
facts about Arrow and orjson it rests on hold for every code point."""

from __future__ import annotations

from contextlib import closing
from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cofi import entity_columns
from cofi.entity_columns import (
    _CLEAN_LINE,
    _line_ends,
    _lines,
    _parse,
    _valid_iin_bin,
    stage_entity_file,
)
from cofi.importers import input_files
from cofi.model import COLUMNS
from cofi.normalize import valid_iin_bin
from cofi.staging import Stage, _new_stage, scratch
from tests.test_entity_cells import EDGES, KINDS, VALID, entity_rows
from tests.test_link_cells import csv_text, staged_file

TABLES = ("ent", "contract", "contact", "rej", "badid", "warn")


def _staged(tmp: Path, name: str, kind: str, text: str, columns: bool) -> tuple[object, ...]:
    """What staging a bundle holding only the file of `kind` rows (`text`) leaves: by columns
    (None when the file is declined) or by the csv module."""
    by = stage_entity_file if columns else None
    return staged_file(tmp, name, KINDS[kind], text, by, TABLES)


def test_a_file_staged_by_columns_is_staged_as_the_csv_module_stages_it(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    taken: list[bool] = []

    @settings(max_examples=200, deadline=None)
    @given(
        st.sampled_from(sorted(KINDS)).flatmap(
            lambda kind: st.lists(entity_rows(kind), min_size=1, max_size=30)
        ),
        st.sampled_from(["\n", "\r\n"]),
    )
    def check(drawn: list[tuple[str, list[str], list[str]]], newline: str) -> None:
        tmp = tmp_path_factory.mktemp("entities")
        kind, header = drawn[0][0], drawn[0][1]  # (the rows drawn with the same columns)
        rows = [[cells[h.index(c)] for c in header] for _, h, cells in drawn
                if sorted(h) == sorted(header)]  # fmt: skip
        text = csv_text(header, rows, newline)
        by_columns = _staged(tmp, "a", kind, text, columns=True)
        taken.append(by_columns[0] is not None)
        if by_columns[0] is not None:
            assert by_columns == _staged(tmp, "b", kind, text, columns=False)

    check()
    assert sum(taken) >= len(taken) // 2  # (most files compared: few have a newline in a cell)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_plain_files_are_staged_by_columns_and_others_are_declined(
    tmp_path: Path, kind: str
) -> None:
    header = list(COLUMNS[kind])
    good = [VALID[c] for c in header]
    bare = ["" if c in ("aliases", "registry_id") else VALID[c] for c in header]
    second = [
        f"{v}2" if c == "id" else "" if c in ("birth_date", "founded", "dissolved") else v
        for c, v in zip(header, bare, strict=True)
    ]  # (no day given: taken too)
    spaced = [f" {v}\u3000" if c == "id" else v for c, v in zip(header, bare, strict=True)]
    quoted = [f'the "{v}"' if c in ("name", "title") else v
              for c, v in zip(header, bare, strict=True)]  # fmt: skip
    plain = csv_text(header, [good, bare, second, spaced, quoted])
    lines = plain.split("\n")
    with_cr = "\n".join([*lines[:2], lines[2].replace(",", ",\r", 1), *lines[3:]])
    stray = '"e8"x' + csv_text(header, [bare]).split("\n")[1][len("e1") :] + "\n"
    cases = {
        "plain": (plain, True),
        "crlf": (plain.replace("\n", "\r\n"), True),
        "bom": ("\ufeff" + plain, True),
        "unended": (plain.rstrip("\n"), True),
        "blank line": (plain + "\n" + plain.split("\n", 1)[1], True),
        "newline in quotes": (csv_text(header, [[v.replace("1", "1\n") for v in good]]), False),
        "short row": (plain + "e9\n", False),
        "lone cr": (plain.replace("\n", "\r"), False),
        "cr inside": (with_cr, False),
        "quote after quotes": (plain + stray, False),
    }
    for name, (text, taken) in cases.items():
        by_columns = _staged(tmp_path, name, kind, text, columns=True)
        assert (by_columns[0] is not None) == taken, name
        if taken:
            assert by_columns == _staged(tmp_path, f"{name} csv", kind, text, columns=False), name
    rows, (ents, *_) = _staged(tmp_path, "again", kind, plain, columns=True)
    assert rows == 5 and [e[8] for e in sorted(ents)] == [2, 3, 4, 5, 6]
    # the rows the columns took: all but the spaced and the quoted one (the first with aliases)
    table = _parse(plain.split("\n", 1)[1].encode(), len(header))
    lines = pa.array(plain.split("\n")[1:-1], pa.string())
    rules = entity_columns._Rules(entity_columns.ENTITY_FILES[kind], header, 0, 0)
    assert rules.fast(table, lines).to_pylist() == [True, True, True, False, False]


def test_aliases_staged_by_columns_are_split_stripped_and_keyed_as_names(tmp_path: Path) -> None:
    header = list(COLUMNS["person"])
    cells = {"a": "Ivan;Иван", "b": "a;;b", "c": ";", "d": ""}
    rows = [[i if c == "id" else cells[i] if c == "aliases" else VALID[c] for c in header]
            for i in cells]  # fmt: skip
    rows_read, (ents, *_) = _staged(tmp_path, "aliases", "person", csv_text(header, rows), True)
    assert rows_read == 4
    staged = {e[1]: (orjson.loads(e[4]).get("aliases"), e[6]) for e in ents}
    assert staged == {
        "a": (["Ivan", "Иван"], "erlan sarsenov | ivan | ivan"),
        "b": (["a", "b"], "erlan sarsenov | a | b"),
        "c": (None, "erlan sarsenov"),
        "d": (None, "erlan sarsenov"),
    }


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_each_edge_case_of_each_column_is_staged_as_the_csv_module_stages_it(
    tmp_path: Path, kind: str
) -> None:
    """Every edge case of `test_entity_cells` in an otherwise valid row, one row each (and
    each row once more with the line ended by a carriage return too)."""
    header = list(COLUMNS[kind])
    rows = []
    for c in header:
        for edge in (e for e in EDGES[c] if "\n" not in e):  # (a file declined: below)
            row = ["" if h == "aliases" else VALID[h] for h in header]
            row[header.index(c)] = edge
            if c != "id":
                row[header.index("id")] = f"e{len(rows)}"
            rows.append(row)
    for newline in ("\n", "\r\n"):
        text = csv_text(header, rows, newline)
        by_columns = _staged(tmp_path, f"columns{len(newline)}", kind, text, columns=True)
        assert by_columns[0] == len(rows)
        assert by_columns == _staged(tmp_path, f"csv{len(newline)}", kind, text, columns=False)


def test_a_line_is_clean_only_when_both_readers_make_the_same_cells_of_it() -> None:
    lines = ['a,"b, c",d', 'a,"b "" c",d', 'a,b"c', '"a"b,c', ' "a",b', "a,b\\c", "a,\tb",
             "a,b\r", "a\r,b", 'a,"b\nc"', "a,\x7f,é", "a,b\n", "a,b\r\n", "a,b\n\n",
             "a,b\n\r"]  # fmt: skip
    clean = pc.match_substring_regex(pa.array(lines), _CLEAN_LINE).to_pylist()
    assert clean == [True, False, False, False, False, False, False, True, False, False, True,
                     True, True, False, False]  # fmt: skip


@pytest.mark.parametrize(
    ("block", "ended"),
    [(b"a,b\n", True), (b"a,b\r\nc\r\n", True), (b"\r\n\n\r\n", True), (b"a\rb\n", False),
     (b"a,b\r\r\n", False), (b"a,b\r", False), (b"a\r\nb\r", False), (b"\r", False)],
)  # fmt: skip
def test_a_block_is_taken_only_when_its_carriage_returns_each_end_a_line(
    block: bytes, ended: bool
) -> None:
    """Python's csv module ends a line at a lone carriage return too (Arrow's parser makes
    another row of it as well: this check is the rule itself, not the row count's)."""
    assert entity_columns._carriage_returns_end_lines(block, _line_ends(block)) == ended


def test_a_blocks_lines_are_its_own_bytes_each_with_its_newline() -> None:
    assert _lines(b"a,b\nc,d\n").to_pylist() == ["a,b\n", "c,d\n"]
    assert _lines(b"a,b\r\nc,d").to_pylist() == ["a,b\r\n", "c,d"]  # (a last line unended)
    assert _lines("ä,b\n\nc\n".encode()).to_pylist() == ["ä,b\n", "\n", "c\n"]
    assert _lines(b"x").to_pylist() == ["x"]


def test_a_file_is_staged_a_block_at_a_time_and_a_late_fault_takes_out_what_was_appended(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(entity_columns, "_BLOCK", 256)  # (a few rows a block)
    header, rows = _people(60)
    rows[33][1] = " Иван "  # (a row of a middle block the csv module's way)
    rows[40][header.index("iin")] = "680217300001"  # (a bad IIN: a warning)
    text = csv_text(header, rows)
    staged = _staged(tmp_path, "blocks", "person", text, columns=True)
    assert staged == _staged(tmp_path, "csv", "person", text, columns=False)
    rows_read, (ents, _, _, rejects, _, warnings) = staged
    assert rows_read == 60 and len(ents) == 60 and not rejects
    assert [(w[3], w[4]) for w in warnings] == [(42, "iin")]
    # a short row in the last block: the file is declined, and nothing of it stays staged (here
    # a row of the first block rejected, one of the fourth staged the csv module's way)
    rows[2][0] = ""
    _declined_leaving_nothing(tmp_path / "late", (csv_text(header, rows) + "p1,Иван\n").encode())


def _people(n: int) -> tuple[list[str], list[list[str]]]:
    """The header of a file of people and `n` valid rows of it, ids p0, p1, …"""
    header = list(COLUMNS["person"])
    return header, [[f"p{i}" if c == "id" else "" if c == "aliases" else VALID[c] for c in header]
                    for i in range(n)]  # fmt: skip


def _declined_leaving_nothing(bundle: Path, people: bytes) -> None:
    """A bundle of the file `people` is declined by the columns' way (the csv module's way
    then reads it and says where it fails), and nothing of it stays staged."""
    bundle.mkdir()
    (bundle / "people.csv").write_bytes(people)
    files = input_files([bundle])
    stage = Stage(bundle / "stage.db", bundle / "stage-links.db")
    _new_stage(stage, files)
    assert stage_entity_file(files, 0, stage, None) is None
    with closing(scratch(stage.databases)) as db:
        assert [db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES] == [0] * 6


def test_a_file_not_in_utf8_is_declined_whole_even_in_a_late_block(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(entity_columns, "_BLOCK", 256)  # (a few rows a block)
    # (300 rows: past the 8 KB a read of the header decodes, which would decline the file itself)
    header, rows = _people(300)
    last = [*rows[0]]
    last[0], last[header.index("name")] = "p300", "Andr\u00e9"  # (a row but for its encoding)
    late = csv_text(header, [last]).split("\n", 1)[1]
    latin = late.encode().replace("\u00e9".encode(), b"\xe9")  # (its é in Latin-1)
    _declined_leaving_nothing(tmp_path / "latin", csv_text(header, rows).encode() + latin)


def test_orjson_writes_every_character_as_it_is_but_those_a_clean_line_lacks() -> None:
    escaped = [i for i in range(0x110000) if not 0xD800 <= i < 0xE000
               and orjson.dumps(chr(i)) != f'"{chr(i)}"'.encode()]  # fmt: skip
    assert escaped == [*range(0x20), ord('"'), ord("\\")]


def test_arrow_trims_what_str_strip_strips_but_the_control_characters() -> None:
    chars = [chr(i) for i in range(0x20, 0x110000) if not 0xD800 <= i < 0xE000]
    for side in ("a{}", "{}a"):
        trimmed = pc.utf8_trim_whitespace(pa.array([side.format(c) for c in chars]))
        assert [t == "a" for t in trimmed.to_pylist()] == [c.isspace() for c in chars]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.from_regex(r"\A[0-9]{12}\Z"),
            st.text(max_size=13),
            st.sampled_from(["680217300009", "990840000002", "٦٨٠٢١٧٣٠٠٠٠٩"]),
        )
    )
)
def test_the_iin_bin_check_on_a_column_is_the_check_of_each_cell(cells: list[str]) -> None:
    column = pa.array(cells, pa.string())
    assert _valid_iin_bin(column).to_pylist() == [valid_iin_bin(c) for c in cells]


def test_the_files_staged_by_columns_are_begun_longest_to_stage_first(tmp_path: Path) -> None:
    """By the CPU a byte of each kind takes (`_STAGING_COST`), not by size alone: a file of
    contracts a little smaller than one of companies takes longer, so it is begun first."""
    from cofi.staging import _staging_cost

    sizes = {"links.csv": 300, "people.csv": 105, "companies.csv": 54, "contracts.csv": 51}
    for name, size in sizes.items():
        (tmp_path / name).write_bytes(b"x" * size)
    files = input_files([tmp_path])
    order = sorted(files, key=lambda f: -_staging_cost(f))
    assert [f.path.name for f in order] == [
        "people.csv",
        "links.csv",
        "contracts.csv",
        "companies.csv",
    ]
