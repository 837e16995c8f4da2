"""The loader's quick check of a CSV link row (`model.link_cells`) against the full one
(`model.validate_row`): a row it takes is one the full check finds valid, with the same values;
a plain valid row it takes."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from cofi.model import COLUMNS, REQUIRED, link_cells, validate_row
from cofi.vocab import INPUT_LINK_TYPES, LINK_TYPES

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
    """What the load's full way makes of the row (`bundle.read_csv`, `staging._Staged.add`)."""
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
