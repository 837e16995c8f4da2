"""Findings as JSON lines, CSV (safe to open in a spreadsheet) or text for people."""

from __future__ import annotations

import csv
import json
import os
import sys
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from cofi.findings import Finding

if TYPE_CHECKING:
    from cofi.match import Candidate
    from cofi.restrictions import Restriction

FORMATS = ("jsonl", "csv", "text", "html")

CSV_COLUMNS = (*(name for name in Finding.FIELDS if name != "path"), "path_text")

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")


@contextmanager
def report_to(out: Path | None) -> Iterator[TextIO]:
    """The file a report is written to (stdout when `out` is None), opened before the work that
    fills it: a sweep stores what it finds, so a report it could not write afterwards would be
    lost to the next sweep.  When the work fails, a file it made is removed: never one that was
    there before, nor a device such as /dev/null, nor from a forked worker that unwinds this."""
    if out is None:
        yield sys.stdout
        return
    made, owner = not out.exists(), os.getpid()
    with out.open("w", encoding="utf-8", newline="") as fh:
        try:
            yield fh
        except BaseException:
            fh.close()
            if made and os.getpid() == owner and out.is_file():
                out.unlink(missing_ok=True)
            raise


def safe_cell(value: Any) -> Any:
    """A CSV cell no spreadsheet runs as a formula: text that starts like one gets a `'` first.

    Numbers are left alone (they are never negative here); every string is checked, names too.
    """
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def path_text(path: list[dict[str, Any]]) -> str:
    """`Name [kind] -TYPE role share%- Name …` on one line."""
    parts = []
    for i, item in enumerate(path):
        if i % 2 == 0:
            parts.append(f"{item['name']} [{item['id']}]")
        else:
            words = [item["type"]]
            if item.get("role"):
                words.append(item["role"])
            if item.get("share") is not None:
                words.append(f"{item['share']:g}%")
            if item.get("until"):
                words.append(f"until {item['until']}")
            parts.append(f"-{' '.join(words)}-")
    return " ".join(parts)


def write_findings(
    findings: Iterable[Finding], fmt: str, out: TextIO, title: str = "cofi findings",
    restrictions: Sequence[Restriction] = (),
) -> int:  # fmt: skip
    """Write `findings` to `out` in `fmt`, then `restrictions` (a sweep's: jsonl objects with
    `"kind": "restriction"`, text blocks, a table of the page; none in csv, whose columns are the
    findings'); return how many findings were written.

    `html` is one self-contained page (a sortable, filterable table) titled `title`.
    """
    n = 0
    if fmt == "html":
        from cofi.html import report_html  # the page template is only read when asked for

        listed = list(findings)
        out.write(report_html(listed, title, restrictions))
        return len(listed)
    if fmt == "jsonl":
        n = _write_jsonl(findings, out)
        out.writelines(
            json.dumps({"kind": "restriction", **r.as_dict()}, ensure_ascii=False) + "\n"
            for r in restrictions
        )
        return n
    if fmt == "text":
        n = _write_text(findings, out)
        out.writelines(f"RESTRICTION {r.text()}" for r in restrictions)
        return n
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for f in findings:
        row = f.as_dict()
        row["path_text"] = path_text(f.path)
        writer.writerow([safe_cell(row[c]) for c in CSV_COLUMNS])
        n += 1
    return n


def _write_jsonl(findings: Iterable[Finding], out: TextIO) -> int:
    n = 0
    for f in findings:
        out.write(json.dumps(f.as_dict(), ensure_ascii=False) + "\n")
        n += 1
    return n


def _write_text(findings: Iterable[Finding], out: TextIO) -> int:
    n = 0
    for f in findings:
        if n:
            out.write("\n")
        out.write(text_block(f))
        n += 1
    return n


MATCH_CSV_COLUMNS = ("match_id", "verdict", "score", "kind", "left_id", "left_name", "right_id",
                     "right_name", "reasons")  # fmt: skip


def write_candidates(candidates: list[Candidate], fmt: str, out: TextIO, title: str) -> int:
    """Write `cofi match`'s candidate pairs to `out` in `fmt`; return how many."""
    rows = [c.as_dict() for c in candidates]
    if fmt == "html":
        from cofi.html import matches_html

        out.write(matches_html(rows, title))
    elif fmt == "jsonl":
        out.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    elif fmt == "csv":
        writer = csv.writer(out)
        writer.writerow(MATCH_CSV_COLUMNS)
        for r in rows:
            r["reasons"] = "; ".join(r["reasons"])
            writer.writerow([safe_cell(r[c]) for c in MATCH_CSV_COLUMNS])
    else:
        for r in rows:
            out.write(
                f"{r['verdict'].upper()} {r['score']:.3f}  {r['kind']}  {r['match_id']}\n"
                f"  {r['left_name']} [{r['left_id']}]  ~  {r['right_name']} [{r['right_id']}]\n"
                f"  {'; '.join(r['reasons'])}\n"
            )
    return len(rows)


def write_rows(
    rows: list[dict[str, Any]], columns: tuple[str, ...], fmt: str, out: TextIO,
    texts: list[str],
) -> int:  # fmt: skip
    """Write report rows (an audit's, a restriction list's) as JSON lines, CSV with `columns`
    (safe for spreadsheets) or, for people, the lines `texts`; return how many."""
    if fmt == "jsonl":
        out.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    elif fmt == "csv":
        writer = csv.writer(out)
        writer.writerow(columns)
        writer.writerows([safe_cell(r[c]) for c in columns] for r in rows)
    else:
        out.writelines(t + "\n" for t in texts)
    return len(rows)


def text_block(f: Finding) -> str:
    value = f"{f.value:,.0f} {f.currency}".strip() if f.value is not None else "no value"
    return (
        f"{f.severity.upper()} {f.score:.2f}  {f.pattern}  contract {f.contract_id} "
        f"({f.signed_on}, {value})  {f.finding_id}  [{f.status}]\n"
        f"  {f.explanation}\n"
        f"  path ({f.hops} hop{'s' if f.hops != 1 else ''}): {path_text(f.path)}\n"
        + (
            f"  through a match: confidence {f.match_confidence:.4f}\n"
            if f.match_confidence < 1
            else ""
        )
        + note_line(f.note)
    )


def note_line(note: str) -> str:
    """A triage note under a finding or restriction in text: '' for none; a note of several
    lines keeps them under its first, indented alike."""
    return "  note: " + note.replace("\n", "\n        ") + "\n" if note else ""
