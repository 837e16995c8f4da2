"""A bundle's CSV file of entities (people, agencies, companies, contracts) staged column by
column by one of the readers' processes, before its share of the other rows (`staging.stage_rows`,
with more than one reader), as `cofi.link_columns` stages a file of links.

The readers of `staging` spend about 24 µs of Python on a person row and 41 µs on a company
row (the csv module, `model.entity_cells`, the staged record, an `executemany`).  Here pyarrow
parses the file in C++, the checks of `entity_cells` run on whole columns (each distinct day and
sum of money through the same functions), the props are joined as JSON text by Arrow, and ADBC's
SQLite driver appends the rows; Python is left only what only it does exactly: the fold of each
distinct word of a block's names and addresses (`normalize.by_words`: Arrow splits the words and
joins their keys), each distinct phone's digits, an IIN/BIN check's warning.  (Folding each name
and each distinct contact value in Python took 12.4-13.0 s of CPU to stage the large synthetic
bundle's entity files; by words, 8.3-9.0 s.)

A row takes this way only when both readers would make the same cells of its line and
`props_json` would write each cell as it is: a line of plain fields or fields in double quotes
with no quote inside, and no backslash or control character (`_CLEAN_LINE`); no cell with space
at either end (as `str.strip` sees it); every required cell there, none over 512
characters; days and sums of money written plainly.  (Aliases are split at semicolons and
stripped by Arrow, each folded by words as a name is.)  Every other row goes through
Python's csv module and `staging`'s own path, one by one.  A file whose lines are not each one
row of the header's width (a newline inside quotes, another number of cells, not UTF-8, a
carriage return but before a newline) is read by that path whole.  Memory holds a block of the
file (4 MB), not the file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from cofi.bundle import SEQ_PER_FILE, read_header
from cofi.importers import InputFile
from cofi.link_columns import Declined, append, csv_lines, line_total, stage_odd, take_out
from cofi.model import DATE_FIELDS, ID_CHARS, PLAIN_MONEY, REQUIRED, is_plain_day
from cofi.normalize import contact_keys, registry_key, search_keys
from cofi.staging import (
    CONTACT_FIELDS,
    ENTITY_FILES,
    Stage,
    failed_check,
    not_registry_id,
    scratch,
)
from cofi.vocab import IDENTIFIER_HOLDERS, STRONG_ID_FIELD, Kind

_FIELD = r'(?:"[^"\\\x00-\x1f]*"|[^",\\\x00-\x1f]*)'
_CLEAN_LINE = rf"^{_FIELD}(?:,{_FIELD})*\r?\n?$"
"""A line of fields each plain (no quote or comma) or in double quotes with no quote inside, none
with a backslash or a control character, ended by a newline or a carriage return and a newline
(or, the file's last, by neither):
Python's csv module and Arrow's parser make the same cells of it, and `orjson` writes each cell
as it is (it escapes only the double quote, the backslash and the control characters: a test
holds it to every code point)."""
_BLOCK = 1 << 22
"""Bytes of the file parsed, checked and appended at a time."""


def stage_entity_file(
    files: list[InputFile], number: int, stage: Stage, progress: Callable[[int], None] | None
) -> int | None:
    """Stage the rows of the bundle's CSV file of entities `files[number]` into the staging
    databases `stage`, a block of the file at a time; the rows read, or None when the file's
    lines are not each one row (the caller then reads it with the csv module)."""
    path, kind = files[number].path, files[number].kind or ""
    header = read_header(path, kind)
    if header is None or kind not in ENTITY_FILES:
        return None
    base, name = number * SEQ_PER_FILE, str(path)
    with closing(scratch(stage.databases)) as db:
        (fno,) = db.execute("SELECT fno FROM stage.files WHERE name = ?", (name,)).fetchone()
    rules = _Rules(ENTITY_FILES[kind], header, fno, base)
    read = staged = 0
    try:
        first = 2  # (the number of a block's first line)
        for block in _blocks(path):
            table = _parse(block, len(header))  # (raises `ArrowInvalid` if not UTF-8)
            ends = _line_ends(block)
            if table.num_rows != len(ends) or not _carriage_returns_end_lines(block, ends):
                raise Declined
            lines = _lines(block, ends)
            line = pa.array(range(first, first + len(lines)), pa.int64())
            read += len(lines)
            fast = rules.fast(table, lines)
            odd = _odd_rows(lines, first, fast)
            if odd is None:
                raise Declined
            made = rules.staged(table.filter(fast), line.filter(fast))
            append(stage.rows, made)
            taken = made["ent"].num_rows
            staged += taken
            if progress is not None:
                progress(taken)
            staged += stage_odd(stage, (name, fno, kind, header, base), odd, progress)
            first += len(ends)
        if read != line_total(path) - 1:
            raise Declined
    except (Declined, pa.ArrowInvalid, UnicodeDecodeError):
        take_out(stage, ("ent", "contract", "contact"), (base, fno), staged, progress)
        return None
    return staged


def _blocks(path: Path) -> Iterator[bytes]:
    """The bytes of the file at `path` after its header line, a block of whole lines at a time
    (the last may lack its newline); raises `Declined` at a carriage return but before a
    newline in the header (`_carriage_returns_end_lines` checks the blocks')."""
    with path.open("rb") as fh:
        head = fh.readline()
        if head.count(b"\r") != head.count(b"\r\n"):
            raise Declined
        rest = b""
        while chunk := fh.read(_BLOCK):
            data = rest + chunk
            cut = data.rfind(b"\n") + 1
            if cut == 0:
                rest = data
                continue
            block, rest = data[:cut], data[cut:]
            yield block
        if rest:
            yield rest


def _carriage_returns_end_lines(block: bytes, ends: Any) -> bool:
    """Whether every carriage return of `block` comes just before a newline (Python's csv
    module ends a line at any other too), given where its lines end (`_line_ends`): its
    carriage returns counted once, those before its newlines taken from `ends`.  (Counting
    the carriage returns and the pairs in each block, and its newlines again, took 0.27 s of
    CPU for the large synthetic bundle's 105 MB of people, written with CRLF.)"""
    returns = block.count(b"\r")
    if not returns:
        return True
    data = np.frombuffer(block, np.uint8)
    ended = ends[(ends >= 2) & (data[ends - 1] == ord("\n"))]  # (lines ended by a newline)
    return returns == int(np.count_nonzero(data[ended - 2] == ord("\r")))


def _parse(block: bytes, width: int) -> pa.Table:
    names = [f"c{i}" for i in range(width)]
    return pcsv.read_csv(
        pa.py_buffer(block),
        read_options=pcsv.ReadOptions(column_names=names, use_threads=False),
        parse_options=pcsv.ParseOptions(newlines_in_values=False, ignore_empty_lines=False),
        convert_options=pcsv.ConvertOptions(
            column_types=dict.fromkeys(names, pa.string()),
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    )


def _line_ends(block: bytes) -> Any:
    """Where each line of `block` ends: after its newline (the last's, which may lack it, at
    the block's end)."""
    ends = np.flatnonzero(np.frombuffer(block, np.uint8) == ord("\n")) + 1
    if not len(ends) or ends[-1] != len(block):
        ends = np.append(ends, len(block))
    return ends


def _lines(block: bytes, ends: Any = None) -> Any:
    """The lines of `block` (UTF-8 already checked; `ends`: `_line_ends`), each with its
    newline (the last may lack it), as an Arrow string array over the block's own bytes: no
    Python string is made (a decode and a split of each block, then an Arrow array of the
    lines, took 0.63 s of CPU for the large synthetic bundle's entity files; this takes
    0.05 s)."""
    if ends is None:
        ends = _line_ends(block)
    offsets = np.zeros(len(ends) + 1, np.int32)  # (a block is 4 MB)
    offsets[1:] = ends
    return pa.StringArray.from_buffers(len(ends), pa.py_buffer(offsets), pa.py_buffer(block))


def _odd_rows(lines: Any, first: int, fast: Any) -> list[tuple[int, list[str]]] | None:
    """The lines not `fast` as Python's csv module reads them, each with its number (None: one
    is malformed)."""
    odd = np.flatnonzero(~fast.to_numpy(zero_copy_only=False)).tolist()
    return csv_lines((first + i, lines[i].as_py().removesuffix("\n")) for i in odd)


class _Rules:
    """`entity_cells` and `Staged._entity` on whole columns, for one file; the verdicts on
    each distinct day and sum kept from block to block."""

    def __init__(self, kind: Kind, header: list[str], fno: int, base: int) -> None:
        self.kind, self.fno, self.base = kind, fno, base
        self.at = {c: i for i, c in enumerate(header)}
        self.required = [self.at[c] for c in REQUIRED[kind.value]]
        self.dates = [self.at[c] for c in DATE_FIELDS[kind.value] if c in self.at]
        self.days: dict[str, bool] = {}
        """The verdict on each day seen (whether `entity_cells` takes it)."""
        self.seen_days = self.good_days = pa.array([], pa.string())
        """The days seen, and those taken, as Arrow arrays (made again when a block brings
        days not seen before)."""
        self.block_sums: dict[str, tuple[str, float | None]] = {}
        """Each sum of money of the block's rows taken: its JSON text and its number."""
        own = ("id",) if kind is Kind.CONTRACT else ("id", "name")
        self.props = sorted(c for c in header if c not in own)  # (orjson's OPT_SORT_KEYS)

    def column(self, table: pa.Table, name: str) -> Any:
        return table.column(self.at[name]) if name in self.at else None

    def fast(self, table: pa.Table, lines: Any) -> Any:
        """Which rows take the columns' way (see the module's docstring)."""
        ok = pc.match_substring_regex(lines, _CLEAN_LINE)
        for i, cells in enumerate(table.columns):
            if i in self.required:
                ok = pc.and_(ok, pc.not_equal(cells, ""))
            # (Arrow's white space is `str.isspace`'s but for the control characters, which no
            # clean line has: a test holds it to every code point)
            spaced = pc.not_equal(pc.utf8_trim_whitespace(cells), cells)
            ok = pc.and_(ok, pc.and_(pc.invert(spaced),
                                     pc.less_equal(pc.utf8_length(cells), ID_CHARS)))  # fmt: skip
        for i in self.dates:
            cells = table.column(i)
            # (only the days not seen before reach Python: the large synthetic bundle's people
            # bring 14,700 distinct birth days a block, 22,000 in all)
            distinct = pc.unique(pc.filter(cells, ok))
            new = distinct.filter(pc.invert(pc.is_in(distinct, value_set=self.seen_days)))
            if len(new):
                for day in new.to_pylist():  # (no day, '', is taken too)
                    self.days[day] = day == "" or is_plain_day(day, set())
                self.seen_days = pa.array(list(self.days), pa.string())
                self.good_days = pa.array([d for d, v in self.days.items() if v], pa.string())
            ok = pc.and_(ok, pc.is_in(cells, value_set=self.good_days))
        self.block_sums = {}
        if (value := self.column(table, "value")) is not None:
            for text in pc.unique(pc.filter(value, ok)).to_pylist():
                if text == "" or PLAIN_MONEY.fullmatch(text):
                    number = float(text) if text else None
                    self.block_sums[text] = (orjson.dumps(number).decode(), number)
            taken = pa.array(list(self.block_sums), pa.string())
            ok = pc.and_(ok, pc.is_in(value, value_set=taken))
        return ok

    def staged(self, table: pa.Table, line: Any) -> dict[str, pa.Table]:
        """The staging tables' rows of the `table` rows (all taken), at lines `line`."""
        n = table.num_rows
        seq = pc.add(line, self.base)
        fno = pa.repeat(pa.scalar(self.fno, pa.int64()), n)
        ids = self.column(table, "id")
        if self.kind is Kind.CONTRACT:
            title = self.column(table, "title")
            names = ids if title is None else pc.if_else(pc.equal(title, ""), ids, title)
        else:
            names = self.column(table, "name")
        value = self.column(table, "value")
        sums, numbers = self._sums(value) if value is not None else (None, None)
        aliases = _Aliases.of(self.column(table, "aliases"))
        pieces = []
        for c in self.props:
            cells = table.column(self.at[c])
            if c == "aliases":
                assert aliases is not None
                pieces.append(aliases.props)
                continue
            quoted = sums if c == "value" else pc.binary_join_element_wise('"', cells, '"', "")
            piece = pc.binary_join_element_wise(f'"{c}":', quoted, "")
            pieces.append(pc.if_else(pc.equal(cells, ""), pa.scalar(None, pa.string()), piece))
        joined = (pc.binary_join_element_wise(*pieces, ",", null_handling="skip") if pieces
                  else pa.repeat(pa.scalar("", pa.string()), n))  # fmt: skip
        props = pc.binary_join_element_wise("{", joined, "}", "")
        warn: list[tuple[Any, ...]] = []
        strong = self._strong(table, ids, seq, line, warn)
        ent = pa.table({
            "seq": seq, "id": ids, "kind": pa.repeat(pa.scalar(self.kind.value), n),
            "name": names, "props": props, "strong_id": strong,
            "search_key": search_keys(names) if aliases is None else aliases.keyed(names),
            "fno": fno, "line": line,
        })  # fmt: skip
        out = {"ent": ent, "contact": self._contacts(table, ids, seq)}
        if self.kind is Kind.CONTRACT:
            out["contract"] = pa.table({
                "seq": seq, "buyer_id": self.column(table, "buyer_id"),
                "supplier_id": self.column(table, "supplier_id"),
                "signed_on": self.column(table, "signed_on"),
                "value": pa.nulls(n, pa.float64()) if numbers is None else numbers,
            })  # fmt: skip
        if warn:
            columns = ("seq", "id", "fno", "line", "field", "reason")
            out["warn"] = pa.table(dict(zip(columns, zip(*warn, strict=True), strict=True)))
        return out

    def _sums(self, cells: Any) -> tuple[Any, Any]:
        """The block's sums `cells` as JSON texts and as numbers (null where empty)."""
        known = list(self.block_sums)
        place = pc.index_in(cells, value_set=pa.array(known, pa.string()))
        texts = pa.array([self.block_sums[k][0] if k else None for k in known], pa.string())
        numbers = pa.array([self.block_sums[k][1] for k in known], pa.float64())
        return pc.take(texts, place), pc.take(numbers, place)

    def _strong(
        self, table: pa.Table, ids: Any, seq: Any, line: Any, warn: list[tuple[Any, ...]]
    ) -> Any:
        """Each row's strong id (`Staged._entity`): a valid IIN/BIN, else a register
        identifier's key, else ''; the warnings of the others into `warn`, in row order."""
        field = STRONG_ID_FIELD.get(self.kind)
        n = table.num_rows
        cells = self.column(table, field) if field else None
        registry = self.column(table, "registry_id")
        if cells is None:
            strong = pa.repeat(pa.scalar("", pa.string()), n)
            bad = np.zeros(n, bool)
        else:
            valid = _valid_iin_bin(cells)
            strong = pc.if_else(valid, cells, "")
            bad = ~valid.to_numpy(zero_copy_only=False) & (
                pc.not_equal(cells, "").to_numpy(zero_copy_only=False)
            )
        todo = bad.copy()
        if registry is not None:
            todo |= pc.and_(pc.not_equal(registry, ""), pc.equal(strong, "")).to_numpy(
                zero_copy_only=False
            )
        if not todo.any():
            return strong
        made = strong.to_pylist()
        for i in np.flatnonzero(todo).tolist():
            where = (seq[i].as_py(), ids[i].as_py(), self.fno, line[i].as_py())
            if bad[i]:
                warn.append((*where, field, failed_check(field, cells[i].as_py())))  # type: ignore[arg-type,index]
            written = registry[i].as_py() if registry is not None else ""
            if written and not made[i]:
                made[i] = registry_key(written) or ""
                if not made[i]:
                    warn.append((*where, "registry_id", not_registry_id(written)))
        return pa.array(made, pa.string())

    def _contacts(self, table: pa.Table, ids: Any, seq: Any) -> pa.Table:
        """The contact keys of the rows (`Staged._entity`), by kind in row order."""
        parts = []
        if self.kind in IDENTIFIER_HOLDERS:
            for field, kind in CONTACT_FIELDS:
                cells = self.column(table, field)
                if cells is None:
                    continue
                key = contact_keys(kind, cells)
                parts.append(pa.table({
                    "seq": seq, "id": ids, "kind": pa.repeat(pa.scalar(field), len(cells)),
                    "key": key, "raw": cells,
                }).filter(pc.not_equal(key, "")))  # fmt: skip
        if not parts:
            return pa.table({"seq": pa.array([], pa.int64())})
        return pa.concat_tables(parts)


class _Aliases:
    """The aliases of a block's rows (`model.entity_cells`: each cell split at semicolons, each
    part stripped, the empty ones dropped), as the staged record has them (`Staged._entity`)."""

    def __init__(self, cells: Any) -> None:
        if isinstance(cells, pa.ChunkedArray):
            cells = cells.combine_chunks()
        parts = pc.split_pattern(cells, ";")
        # (Arrow's white space is `str.isspace`'s but for the control characters, which no
        # clean line has)
        stripped = pc.utf8_trim_whitespace(pc.list_flatten(parts))
        kept = pc.not_equal(stripped, "")
        self.names = stripped.filter(kept)
        """Each row's aliases in turn."""
        owner = pc.list_parent_indices(parts).filter(kept).to_numpy()
        self.offsets = np.zeros(len(cells) + 1, np.int32)
        np.cumsum(np.bincount(owner, minlength=len(cells)), out=self.offsets[1:])
        self.has = pa.array(np.diff(self.offsets) > 0)
        """Whether each row has an alias."""

    @staticmethod
    def of(cells: Any) -> _Aliases | None:
        return None if cells is None else _Aliases(cells)

    def _joined(self, values: Any, between: str) -> Any:
        """Each row's `values` (one per alias) joined by `between`."""
        return pc.binary_join(pa.ListArray.from_arrays(pa.array(self.offsets), values), between)

    @property
    def props(self) -> Any:
        """Each row's aliases as its props' JSON member (null: none), each alias as it is (a
        clean line's cell needs no escape)."""
        listed = self._joined(self.names, '","')
        member = pc.binary_join_element_wise('"aliases":["', listed, '"]', "")
        return pc.if_else(self.has, member, pa.scalar(None, pa.string()))

    def keyed(self, names: Any) -> Any:
        """Each row's search key: its name's, then its aliases', joined by " | "."""
        keys = self._joined(search_keys(self.names), " | ")
        named = search_keys(names)
        return pc.if_else(self.has, pc.binary_join_element_wise(named, keys, " | "), named)


_WEIGHTS = (np.arange(1, 12), np.array([3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2]))


def _valid_iin_bin(cells: Any) -> Any:
    """`normalize.valid_iin_bin` of each cell, on the whole column."""
    twelve = pc.match_substring_regex(cells, "^[0-9]{12}$")
    picked = pc.filter(cells, twelve)
    valid = np.zeros(len(cells), bool)
    if len(picked):
        codes = np.frombuffer("".join(picked.to_pylist()).encode(), np.uint8).reshape(-1, 12)
        digits = codes.astype(np.int64) - 48
        check = digits[:, :11] @ _WEIGHTS[0] % 11
        second = digits[:, :11] @ _WEIGHTS[1] % 11
        check = np.where(check == 10, second, check)
        where = np.flatnonzero(twelve.to_numpy(zero_copy_only=False))
        valid[where] = (check != 10) & (check == digits[:, 11])
    return pa.array(valid)
