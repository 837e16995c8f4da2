"""Property test: whatever rows the loader is fed, it answers with a plan or a clean error."""

from __future__ import annotations

import csv
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cofi.errors import CofiError
from cofi.loader import plan_load
from cofi.model import COLUMNS
from tests.conftest import FILES

IDS = st.sampled_from(["p1", "p2", "c1", "a1", "k1", "", " ", "x"])
VALUES = st.one_of(
    IDS,
    st.text(max_size=12),
    st.sampled_from(
        [
            "2025-01-01",
            "2025-02-30",
            "0",
            "100",
            "-5",
            "1e999",
            "nan",
            "FAMILY",
            "owns",
            "spouse",
            "800312400002",
            "ABC",
            "=cmd()",
            "\x00",
        ]
    ),
)


@st.composite
def bundles(draw: st.DrawFn) -> dict[str, list[list[str]]]:
    out: dict[str, list[list[str]]] = {}
    for kind in draw(st.lists(st.sampled_from(sorted(FILES)), unique=True, max_size=5)):
        width = len(COLUMNS[kind])
        rows = draw(st.lists(st.lists(VALUES, min_size=width, max_size=width), max_size=6))
        out[kind] = rows
    return out


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bundle=bundles(), skip=st.booleans())
def test_loader_never_raises_anything_but_a_clean_error(
    bundle: dict[str, list[list[str]]], skip: bool
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        for kind, rows in bundle.items():
            with (directory / FILES[kind]).open("w", encoding="utf-8", newline="") as fh:
                writer = csv.writer(fh)
                writer.writerow(COLUMNS[kind])
                writer.writerows(rows)
        try:
            plan = plan_load([directory], lambda ids: {}, skip_invalid=skip)
        except CofiError as exc:
            assert str(exc)
            return
        with plan:
            ids = {e.id for e in plan.entities()}
            for link in plan.links():
                assert link.source in ids and link.target in ids
            for reject in plan.rejects:
                assert reject.errors and all(e.reason for e in reject.errors)
