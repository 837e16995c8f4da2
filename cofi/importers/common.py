"""What the importers share: building rows with their provenance, dates, identifiers, shares."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from cofi.bundle import NOTE, RawRow
from cofi.errors import RowError
from cofi.normalize import registry_key
from cofi.vocab import Kind

Notes = tuple[tuple[str, str], ...]

_DAY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_YEAR = re.compile(r"^(\d{4})$")
_NATIONAL = {"KZ-BIN": {Kind.COMPANY: "bin", Kind.AGENCY: "bin"}, "KZ-IIN": {Kind.PERSON: "iin"}}
"""Identifier schemes that are Kazakhstan's IIN/BIN: they fill the bundle's own columns."""
_GLOBAL_SCHEMES = ("XI-LEI",)
"""Schemes used only when a record has no national register number (a LEI last)."""


class Rows:
    """The rows an importer makes from one file, each with the line of the item it came from."""

    def __init__(self, path: Path) -> None:
        self.file = str(path)

    def entity(self, line: int, kind: Kind, data: dict[str, Any], notes: Notes = ()) -> RawRow:
        return RawRow(self.file, line, kind.value, clean(data), None, 0, notes)

    def link(self, line: int, data: dict[str, Any], notes: Notes = ()) -> RawRow:
        return RawRow(self.file, line, "link", clean(data), None, 0, notes)

    def problem(self, line: int, field: str, reason: str, item: Any = None) -> RawRow:
        """An item that cannot be imported: an invalid row (rejected, or skipped and reported)."""
        data = item if isinstance(item, dict) else {}
        return RawRow(self.file, line, "", data, RowError(self.file, line, field, reason), 0)

    def note(self, line: int, field: str, reason: str) -> RawRow:
        """A remark about the input that does not make anything invalid (a warning)."""
        return RawRow(self.file, line, NOTE, {}, None, 0, ((field, reason),))


def clean(data: dict[str, Any]) -> dict[str, Any]:
    """`data` without empty values; text stripped."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, str):
            value = value.strip()
        if value not in (None, "", [], ()):
            out[key] = value
    return out


def obj(value: Any) -> dict[str, Any]:
    """`value` if it is a JSON object, else an empty one."""
    return value if isinstance(value, dict) else {}


def text(value: Any) -> str:
    """A JSON value as text ('' for null, a list's first text)."""
    if isinstance(value, list):
        return next((text(v) for v in value if text(v)), "")
    if value is None or isinstance(value, dict):
        return ""
    return str(value).strip()


def day(value: Any) -> str | None:
    """The calendar day a date or timestamp names (its first ten characters), else None."""
    match = _DAY.match(value) if isinstance(value, str) else None
    return match.group(0) if match else None


def period_start(value: Any) -> str | None:
    """A link's start date: a partial date (`2022`, `2022-05`) starts on its first day."""
    if (d := day(value)) is not None:
        return d
    if not isinstance(value, str):
        return None
    if m := _MONTH.match(value):
        return f"{m.group(1)}-{m.group(2)}-01"
    if m := _YEAR.match(value):
        return f"{m.group(1)}-01-01"
    return None


def period_end(value: Any) -> str | None:
    """A link's end date: a partial date (`2022`, `2022-05`) ends on its last day."""
    if (d := day(value)) is not None:
        return d
    if not isinstance(value, str):
        return None
    if m := _MONTH.match(value):
        year, month = int(m.group(1)), int(m.group(2))
        if not 1 <= month <= 12:
            return None
        last = [31, 29 if year % 4 == 0 and (year % 100 or year % 400 == 0) else 28, 31, 30, 31,
                30, 31, 31, 30, 31, 30, 31][month - 1]  # fmt: skip
        return f"{year:04d}-{month:02d}-{last:02d}"
    if m := _YEAR.match(value):
        return f"{m.group(1)}-12-31"
    return None


def number(value: Any) -> float | None:
    """A number written as a JSON number or as text (`"12.5"`, `"12,5"`), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip().replace(",", ".").rstrip("%"))
        except ValueError:
            return None
    return None


def identifier_columns(kind: Kind, identifiers: Iterable[tuple[Any, Any]]) -> dict[str, str]:
    """The bundle columns for a record's (scheme, value) identifiers.

    A Kazakh IIN/BIN fills `iin` / `bin` (checked like any bundle's); otherwise the first
    national register number (`GB-COH`, `UA-EDR`, `RU-INN`, …; a LEI only when there is none)
    becomes `registry_id`, the strong identifier that makes records from different sources one
    entity.
    """
    pairs = [(text(s).upper(), text(v)) for s, v in identifiers]
    pairs = [(s, v) for s, v in pairs if s and v]
    out: dict[str, str] = {}
    for scheme, value in pairs:
        column = _NATIONAL.get(scheme, {}).get(kind)
        if column and column not in out:
            out[column] = value
    if out:
        return out
    ranked = sorted(pairs, key=lambda p: p[0] in _GLOBAL_SCHEMES)
    for scheme, value in ranked:
        if scheme not in _NATIONAL and registry_key(f"{scheme}:{value}"):
            return {"registry_id": f"{scheme}:{value}"}
    return {}


def first_day(values: Iterable[Any]) -> str | None:
    days = sorted(d for v in values if (d := day(v)))
    return days[0] if days else None


def last_day(values: Iterable[Any]) -> str | None:
    days = sorted(d for v in values if (d := day(v)))
    return days[-1] if days else None


def unique_links(rows: Rows, found: Iterable[RawRow]) -> Iterator[RawRow]:
    """`found` without repeated links: a second link with the same ends, type, role and start
    (what makes two rows one link) is left out with a warning, so that two statements of one
    fact with different provenance do not make the load reject both."""
    seen: dict[tuple[str, ...], int] = {}
    for raw in found:
        if raw.kind == "link":
            key = tuple(str(raw.data.get(k, "")) for k in ("source", "target", "type", "role",
                                                            "since"))  # fmt: skip
            if key in seen:
                reason = (f"repeats the link read at line {seen[key]} (same ends, type, role and "
                          f"start; {raw.data.get('source_ref', '')}); left out")  # fmt: skip
                yield rows.note(raw.line, "row", reason)
                continue
            seen[key] = raw.line
        yield raw
