"""Input formats: cofi bundles, and the public standards mapped into the same rows.

`input_files` lists what a `cofi load` reads, each file with its format (given by `--format`, or
detected from its content); `read_input` yields every row of them, with `file:line` provenance,
for the loader to validate like any bundle row (same error policy, same store write).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Container, Iterator
from pathlib import Path
from typing import NamedTuple

from cofi.bundle import SEQ_PER_FILE, Part, RawRow, RowTaker, bundle_files, read_csv, read_jsonl
from cofi.errors import InvalidInput, RowError
from cofi.importers import bods, ftm, ocds
from cofi.vocab import BUNDLE_FILES, INPUT_FORMATS

FORMATS = INPUT_FORMATS
IMPORTERS: dict[str, Callable[[Path], Iterator[RawRow]]] = {
    "ocds": ocds.read,
    "bods": bods.read,
    "ftm": ftm.read,
}
_SNIFF_BYTES = 1 << 18
_BODS = re.compile(r'"(statementType|statementID|statementId|recordType)"\s*:')
_OCDS = re.compile(r'"(ocid|releases|records)"\s*:')
_FTM = re.compile(r'"schema"\s*:\s*"[A-Z]')


class InputFile(NamedTuple):
    path: Path
    format: str
    """One of FORMATS, or '' when it could not be told."""
    kind: str | None = None
    """A bundle CSV's row kind (None for JSON)."""


def input_files(paths: list[Path], fmt: str | None = None) -> list[InputFile]:
    """The files to read at `paths`, in a stable order, each with its format.

    A directory holding bundle files is a bundle; any other directory stands for the .json and
    .jsonl files under it.  Raises `InvalidInput` for a path that holds nothing to read.
    """
    out: list[InputFile] = []
    for path in paths:
        if fmt == "bundle" or (fmt is None and _is_bundle(path)):
            out += [InputFile(p, "bundle", k) for p, k in bundle_files([path])]
            continue
        if path.is_dir():
            found = sorted(p for p in path.rglob("*")
                           if p.is_file() and p.suffix in (".json", ".jsonl"))  # fmt: skip
            if not found:
                raise InvalidInput(f"{path}: no bundle files and no .json / .jsonl files here")
        elif path.is_file():
            found = [path]
        else:
            raise InvalidInput(f"{path}: no such file or directory")
        out += [InputFile(p, fmt or sniff(p)) for p in found]
    return out


def _is_bundle(path: Path) -> bool:
    if path.is_dir():
        return any((path / name).is_file() for name in BUNDLE_FILES)
    if path.suffix == ".csv":
        return True
    return path.suffix == ".jsonl" and sniff(path) == "bundle"


def sniff(path: Path) -> str:
    """The format of a JSON file, from the keys near its start ('' when it cannot be told)."""
    try:
        with path.open(encoding="utf-8-sig", errors="replace") as fh:
            head = fh.read(_SNIFF_BYTES)
    except OSError:
        return ""
    first = next((line for line in head.splitlines() if line.strip()), "")
    if re.match(r'\s*\{.*"kind"\s*:', first) and not _BODS.search(first):
        return "bundle"
    if _BODS.search(head):
        return "bods"
    if _OCDS.search(head):
        return "ocds"
    if _FTM.search(head) and '"properties"' in head:
        return "ftm"
    return ""


def read_input(
    files: list[InputFile],
    part: Part,
    taker: RowTaker | None = None,
    skip: Container[Path] = (),
) -> Iterator[RawRow]:
    """Every row of `files` (`part`'s share for bundles), numbered in input order (`seq`), but
    the rows of a bundle's CSV files that `taker` takes (`bundle.read_csv`) and of the files
    at the paths `skip`."""
    for number, f in enumerate(files):
        if f.path in skip:
            continue
        name, base = str(f.path), number * SEQ_PER_FILE
        if f.format == "bundle":
            if f.kind is None:
                yield from read_jsonl(f.path, part, base)
            else:
                yield from read_csv(f.path, f.kind, part, base, taker)
            continue
        importer = IMPORTERS.get(f.format)
        if importer is None:
            reason = "cannot tell its format (not a bundle, OCDS, BODS or FtM file); use --format"
            if f.path.stat().st_size == 0:
                reason = "the file is empty"
            yield RawRow(name, 1, "", {}, RowError(name, 1, "file", reason), base)
            continue
        for seq, raw in enumerate(importer(f.path), start=base):
            yield raw._replace(seq=seq)
