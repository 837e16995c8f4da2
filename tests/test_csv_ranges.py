"""CSV files cut into byte ranges for parallel readers: together the ranges give exactly the rows
one reader gives, or the cut is noticed (`Misplit`) and the loader reads the file whole."""

from __future__ import annotations

import csv
import io
import itertools
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cofi.bundle import Misplit, Part, RawRow, csv_ranges, read_csv
from cofi.loader import plan_load

HEADER = ["id", "name", "birth_date", "iin", "aliases", "address", "phone", "email"]
_TEXT = st.text(alphabet=st.sampled_from(list('ab Әз,"\n\r;')), max_size=12)


def _rows(path: Path, parts: int) -> list[RawRow]:
    out: list[RawRow] = []
    for w in range(parts):
        out += read_csv(path, "person", Part(w, parts), base=7 << 40)
    return out


@st.composite
def csv_files(draw: st.DrawFn) -> bytes:
    """A people.csv as a CSV writer makes it (quoted fields with newlines, commas and doubled
    quotes; \\n or \\r\\n line ends; blank lines; a BOM), sometimes with stray quotes inside
    unquoted fields, which CSV readers take literally."""
    ending = draw(st.sampled_from(["\n", "\r\n"]))
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator=ending)
    writer.writerow(HEADER)
    for i in range(draw(st.integers(0, 40))):
        if draw(st.integers(0, 9)) == 0:
            out.write(ending)
            continue
        writer.writerow([f"p{i}", draw(_TEXT) or "x", "", "", "", draw(_TEXT), "", ""])
    text = out.getvalue()
    for _ in range(draw(st.integers(0, 2))):  # a stray quote in an unquoted field
        at = draw(st.integers(0, len(text)))
        if text[at - 1 : at] not in ('"', "\r") and text[at : at + 1] not in ('"', "\n"):
            text = text[:at] + 'O"Brien' + text[at:]
    bom = "\ufeff" if draw(st.booleans()) else ""
    return (bom + text).encode()


@given(csv_files(), st.integers(2, 5))
@settings(
    max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_ranges_give_the_rows_of_one_reader(tmp_path: Path, data: bytes, parts: int) -> None:
    path = tmp_path / "people.csv"
    path.write_bytes(data)
    try:
        whole = _rows(path, 1)
    except Exception as exc:
        # a malformed file: the first part to fail says the same (or notices the cut, and the
        # loader reads the file whole)
        with pytest.raises((type(exc), Misplit)) as failed:
            _rows(path, parts)
        assert failed.type is Misplit or str(failed.value) == str(exc)
        return
    ranges = csv_ranges(path, parts)
    assert ranges[0][0] == 0 and ranges[-1][1] == len(data)
    assert all(a[1] == b[0] for a, b in itertools.pairwise(ranges))
    try:
        split = _rows(path, parts)
    except Misplit:
        assert b'O"Brien' in data  # only a stray quote can mislead the cut
        return
    assert split == whole


def test_a_stray_quote_that_misleads_the_cut_is_noticed_and_the_file_read_whole(
    tmp_path: Path,
) -> None:
    """O"Brien leaves an odd number of quotes before the cut, so the cut lands after the first
    line of a quoted address; the first reader finds its range ends inside that address."""
    bundle = tmp_path / "b"
    bundle.mkdir()
    lines = [",".join(HEADER), 'p0,Sean O"Brien,,,,,,']
    lines += [f"p{i},Person {i},,,,,," for i in range(1, 600)]
    lines += ['p600,Мадина,,,,"ул. Абая 1\nкв. 2",,']
    lines += [f"p{i},Person {i},,,,,," for i in range(601, 800)]
    people = bundle / "people.csv"
    people.write_text("\n".join(lines) + "\n", encoding="utf-8")
    _, second = csv_ranges(people, 2)
    assert second.line == 603  # cut after "ул. Абая 1", the end of line 602
    with pytest.raises(Misplit):
        list(read_csv(people, "person", Part(0, 2)))
    plans = []
    for workers in (0, 2):
        with plan_load([bundle], lambda ids: {}, workers=workers) as plan:
            plans.append((plan.rows_read, plan.warnings, list(plan.entities())))
    assert plans[0] == plans[1]
    entities = {e.id: e for e in plans[0][2]}
    assert entities["p0"].name == 'Sean O"Brien'
    assert entities["p600"].props["address"] == "ул. Абая 1\nкв. 2"
    assert plans[0][0] == 800


@pytest.mark.parametrize("block", [3, 1 << 24])
@pytest.mark.parametrize("parts", [2, 3, 5])
def test_ranges_know_their_first_line_as_python_reads_text(
    tmp_path: Path, parts: int, block: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Lines end with \\n, \\r\\n or a lone \\r, as in a text file opened with newline=''
    (also when a \\r\\n straddles two of the blocks the file is counted in)."""
    monkeypatch.setattr("cofi.bundle._BLOCK", block)
    path = tmp_path / "x.csv"
    rows = [b"p%d,a\r\n" % i if i % 3 else b"p%d,b\rx\n" % i for i in range(40)]
    data = b"id,name\r\n" + b"".join(rows)
    path.write_bytes(data)
    ranges = csv_ranges(path, parts)
    assert len(ranges) == parts and ranges[1].start > 0
    for start, _, line in ranges:
        read = io.StringIO(data[:start].decode(), newline="").readlines()
        assert line == 1 + len(read)
