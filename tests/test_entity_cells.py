"""The loader's quick check of a CSV entity row (`model.entity_cells`) against the full one
(`model.validate_row`): a row it takes is one the full check finds valid, with the same values;
a plain valid row it takes; and a file staged with it is staged as without it."""

from __future__ import annotations

from contextlib import closing
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cofi import staging
from cofi.bundle import Part
from cofi.model import COLUMNS, REQUIRED, entity_cells, validate_row
from cofi.staging import _stage_part, scratch
from tests.test_link_cells import csv_text, one_file_stage

KINDS = {"person": "people.csv", "agency": "agencies.csv", "company": "companies.csv",
         "contract": "contracts.csv"}  # fmt: skip
IDS = ["p1", "c1", " p1 ", "", " ", "x" * 512, "x" * 513, "p 1", "p1\n"]
DAYS = ["2020-01-01", "2020-02-30", "2019-12-31", " 2021-06-01", "2020-1-01", "20200101",
        "٢٠٢٠-٠١-٠١", "2020-01-01T00", "0000-01-01", "9999-12-31", ""]  # fmt: skip
KEYS = ["x" * 512, "x" * 513, "x" * 1000, "x" * 1001, " ", "—", ""]
TEXTS = ["x" * 10_000, "x" * 10_001, "a,b", 'the "register"', " ", ""]
EDGES: dict[str, list[str]] = {
    "id": IDS,
    "buyer_id": IDS,
    "supplier_id": IDS,
    "name": ["Иван", "Ivan ", "n" * 513, "n" * 10_001, "a;b", ""],
    "title": TEXTS,
    "currency": TEXTS,
    "procedure": TEXTS,
    "birth_date": DAYS,
    "founded": DAYS,
    "dissolved": DAYS,
    "signed_on": DAYS,
    "iin": ["680217300009", "680217300001", "12345", "٦٨٠٢١٧٣٠٠٠٠٩", *KEYS],
    "bin": ["990840000002", "990840000001", "9908400000020", *KEYS],
    "aliases": ["a; b", ";", " ; ", "a;;b", "Ivan;Иван", "x" * 600, ""],
    "address": ["Алматы қ., Абай 1", "A-1, b_2", *KEYS],
    "phone": ["+7 775 861 77 60", "8 701 111 22 33", "—", *KEYS],
    "email": ["A@B.kz", "a@b.kz", *KEYS],
    "registry_id": ["GB-COH:06436883", "bad", "gb-coh: 0643-6883", *KEYS],
    "value": [
        "0",
        "5047373.10",
        "-1",
        "1e5",
        "nan",
        "inf",
        "007",
        " 5",
        "５",
        "12.",
        ".5",
        "1" * 16,
        "1" * 15 + ".5",
        "1.0000000000001",
        "",
    ],
}
"""Edge cases of each column, put into otherwise valid rows."""
VALID = {"id": "e1", "name": "Ерлан Сәрсенов", "buyer_id": "a1", "supplier_id": "c1",
         "signed_on": "2024-02-29", "title": "Шарт № 1", "value": "1500000.50",
         "currency": "KZT", "procedure": "open", "birth_date": "1980-01-31", "founded": "2001-05-05",
         "dissolved": "2020-12-31", "iin": "680217300009", "bin": "990840000002",
         "aliases": "Erlan Sarsenov", "address": "Алматы қ., Абай даңғылы, 1-үй",
         "phone": "+7 775 861 77 60", "email": "info@example.kz",
         "registry_id": "KZ-BIN:990840000002"}  # fmt: skip


@st.composite
def entity_rows(draw: st.DrawFn, kind: str | None = None) -> tuple[str, list[str], list[str]]:
    """A kind, a header (the required columns, some optional ones, in any order) and a row of it:
    a valid row with a few cells swapped for edge cases."""
    kind = kind or draw(st.sampled_from(sorted(KINDS)))
    optional = [c for c in COLUMNS[kind] if c not in REQUIRED[kind]]
    some = st.lists(st.sampled_from(optional), unique=True)
    header = draw(st.permutations([*REQUIRED[kind], *draw(st.one_of(st.just(optional), some))]))
    return (
        kind,
        header,
        [
            draw(st.one_of(st.just(VALID[c]), st.sampled_from(EDGES[c]), st.text(max_size=4)))
            for c in header
        ],
    )


def _full(kind: str, header: list[str], cells: list[str]) -> dict[str, object] | None:
    """What the load's full way makes of the row (`bundle.csv_rows`, `validate_row`)."""
    data = {c: v.strip() for c, v in zip(header, cells, strict=True) if v.strip()}
    return validate_row(kind, data)[0]


@settings(max_examples=3000, deadline=None)
@given(entity_rows())
def test_a_row_the_quick_check_takes_is_valid_with_the_same_values(
    row: tuple[str, list[str], list[str]],
) -> None:
    kind, header, cells = row
    quick = entity_cells(kind, header)(list(cells))
    if quick is not None:
        full = _full(kind, header, cells)
        assert quick == full
        assert {k: type(v) for k, v in quick.items()} == {
            k: type(v) for k, v in (full or {}).items()
        }


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_a_plain_valid_row_is_taken(kind: str) -> None:
    header = list(COLUMNS[kind])
    cells = [VALID[c] for c in header]
    assert _full(kind, header, cells) is not None
    assert entity_cells(kind, header)(cells) == _full(kind, header, cells)
    # and with its optional cells empty
    bare = [VALID[c] if c in REQUIRED[kind] else "" for c in header]
    assert entity_cells(kind, header)(bare) == _full(kind, header, bare)


def _staged(
    tmp: Path, name: str, kind: str, text: str, quick: bool
) -> list[list[tuple[object, ...]]]:
    """What staging a bundle holding only the file of `kind` rows (`text`) leaves, with the quick
    check or without it (every row the full way)."""
    files, stage = one_file_stage(tmp, name, KINDS[kind], text)
    with pytest.MonkeyPatch.context() as mp:
        if not quick:
            mp.setattr(staging, "entity_cells", lambda kind, header: lambda cells: None)
        _stage_part(files, stage, Part(), None)
    with closing(scratch(stage.databases)) as db:
        return [sorted(db.execute(f"SELECT * FROM {t}").fetchall(), key=repr)
                for t in ("ent", "contract", "contact", "rej", "badid", "warn")]  # fmt: skip


def test_a_file_staged_with_the_quick_check_is_staged_as_without_it(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    quick_rows: list[int] = []

    @settings(max_examples=150, deadline=None)
    @given(st.sampled_from(sorted(KINDS)).flatmap(
        lambda kind: st.lists(entity_rows(kind), min_size=1, max_size=30)
    ))  # fmt: skip
    def check(drawn: list[tuple[str, list[str], list[str]]]) -> None:
        tmp = tmp_path_factory.mktemp("entities")
        kind, header = drawn[0][0], drawn[0][1]  # (the rows drawn with the same columns)
        rows = [[cells[h.index(c)] for c in header] for _, h, cells in drawn
                if sorted(h) == sorted(header)]  # fmt: skip
        text = csv_text(header, rows)
        with_it = _staged(tmp, "a", kind, text, quick=True)
        assert with_it == _staged(tmp, "b", kind, text, quick=False)
        quick_rows.append(sum(entity_cells(kind, header)(r) is not None for r in rows))

    check()
    assert sum(map(bool, quick_rows)) >= len(quick_rows) // 3  # (most files: a row the quick way)
