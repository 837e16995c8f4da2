"""Validating a bundle into a `LoadPlan` that a store writes in one atomic commit.

Every row is checked by its pydantic model; then, across rows, ids seen twice with conflicting
fields, references to ids neither in the bundle nor in the store, and endpoint kinds the vocabulary
does not allow.  A bad IIN/BIN is a warning, not an error.  Nothing here writes to the store.
"""

from __future__ import annotations

import gc
import json
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from cofi.bundle import RawRow, read_rows
from cofi.errors import LoadRejected, RowError
from cofi.model import (
    ROW_MODELS,
    ContractRow,
    EntityRecord,
    LinkRecord,
    LinkRow,
    error_reasons,
)
from cofi.normalize import normalize_contact, search_key, valid_iin_bin
from cofi.vocab import (
    IDENTIFIER_HOLDERS,
    IDENTIFIER_KINDS,
    LINK_TYPES,
    STRONG_ID_FIELD,
    Kind,
)

KindLookup = Callable[[Iterable[str]], dict[str, Kind]]


@dataclass(frozen=True)
class Reject:
    """An invalid row as written to the rejects file."""

    file: str
    line: int
    errors: tuple[RowError, ...]
    row: dict[str, Any]

    def as_json(self) -> str:
        return json.dumps(
            {
                "file": self.file,
                "line": self.line,
                "errors": [{"field": e.field, "reason": e.reason} for e in self.errors],
                "row": self.row,
            },
            ensure_ascii=False,
        )


@dataclass
class LoadPlan:
    """What a load writes: validated, de-duplicated records, plus what was rejected and warned."""

    entities: list[EntityRecord] = field(default_factory=list)
    links: list[LinkRecord] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    warnings: list[RowError] = field(default_factory=list)
    rows_read: int = 0

    @property
    def errors(self) -> list[RowError]:
        return sorted(e for r in self.rejects for e in r.errors)


@dataclass(slots=True)
class _Where:
    """Where a record was first read (its row is rebuilt from the record if it is rejected)."""

    file: str
    line: int
    record: Any


def plan_load(
    paths: list[Path],
    store_kinds: KindLookup,
    *,
    skip_invalid: bool = False,
    progress: Callable[[int], None] | None = None,
) -> LoadPlan:
    """Validate the bundles at `paths` into a plan.

    `store_kinds` maps ids already in the store to their kinds.  Raises `LoadRejected` listing
    every bad row when any row is invalid and `skip_invalid` is false; raises `InvalidInput` for a
    file that cannot be read at all.
    """
    with gc_paused():
        return _plan_load(paths, store_kinds, skip_invalid, progress)


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while millions of records are built.

    It would rescan the ever-growing heap again and again; the records hold no cycles.
    """
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


def _plan_load(
    paths: list[Path],
    store_kinds: KindLookup,
    skip_invalid: bool,
    progress: Callable[[int], None] | None,
) -> LoadPlan:
    plan = LoadPlan()
    rejects: dict[tuple[str, int], Reject] = {}

    def reject(file: str, line: int, data: dict[str, Any], *errors: RowError) -> None:
        prev = rejects.get((file, line))
        merged = (prev.errors if prev else ()) + errors
        rejects[(file, line)] = Reject(file, line, merged, data)

    entities: dict[str, _Where] = {}
    links: dict[tuple[str, ...], _Where] = {}
    conflicts: dict[Any, list[tuple[str, int, dict[str, Any]]]] = {}
    bad_ids: set[str] = set()

    for raw in _counted(read_rows(paths), plan, progress):
        if raw.problem is not None:
            reject(raw.file, raw.line, raw.data, raw.problem)
            continue
        try:
            row = ROW_MODELS[raw.kind].model_validate(raw.data)
        except ValidationError as exc:
            errs = [RowError(raw.file, raw.line, f, r) for f, r in error_reasons(exc)]
            reject(raw.file, raw.line, raw.data, *errs)
            if raw.kind != "link" and isinstance(raw.data.get("id"), str):
                bad_ids.add(raw.data["id"])
            continue
        record: EntityRecord | LinkRecord
        if isinstance(row, LinkRow):
            record = _link_record(row)
            key: Any = record.key
            table: dict[Any, _Where] = links
        else:
            record = _entity_record(Kind(raw.kind), row)
            key = record.id
            table = entities
        first = table.get(key)
        if first is None:
            table[key] = _Where(raw.file, raw.line, record)
            if isinstance(record, EntityRecord):
                warning = _strong_id_warning(raw, record)
                if warning:
                    plan.warnings.append(warning)
        elif first.record != record:
            conflicts.setdefault(key, []).append((raw.file, raw.line, raw.data))

    for key, others in conflicts.items():
        where = entities.get(key) if isinstance(key, str) else links[key]
        assert where is not None
        places = [(where.file, where.line, _row_of(where.record)), *others]
        what = f"id {key!r}" if isinstance(key, str) else f"link {'/'.join(key)!r}"
        for file, line, data in places:
            elsewhere = ", ".join(f"{f}:{n}" for f, n, _ in places if (f, n) != (file, line))
            reason = f"{what} appears with conflicting fields at {elsewhere}"
            reject(
                file,
                line,
                data,
                RowError(file, line, "id" if isinstance(key, str) else "row", reason),
            )
        if isinstance(key, str):
            bad_ids.add(key)

    contracts = [w for w in entities.values() if w.record.kind is Kind.CONTRACT]
    referenced = {w.record.props["buyer_id"] for w in contracts}
    referenced |= {w.record.props["supplier_id"] for w in contracts}
    referenced |= {k[0] for k in links} | {k[1] for k in links}
    in_store = store_kinds(sorted(referenced.difference(entities)))
    for row_id, stored in store_kinds(sorted(entities)).items():
        where = entities[row_id]
        if stored != where.record.kind and row_id not in bad_ids:
            bad_ids.add(row_id)
            new = _a(where.record.kind)
            reason = f"id is already {_a(stored)} in the store, cannot become {new}"
            reject(
                where.file,
                where.line,
                _row_of(where.record),
                RowError(where.file, where.line, "id", reason),
            )

    def kind_of(ref: str) -> tuple[Kind | None, str]:
        """The kind of a referenced id, or None with the reason it cannot be used."""
        if ref in bad_ids:
            return None, f"refers to {ref!r}, whose row is invalid"
        where = entities.get(ref)
        if where is not None:
            return where.record.kind, ""
        if ref in in_store:
            return in_store[ref], ""
        return None, f"unknown id {ref!r} (neither in the bundle nor in the store)"

    for where in contracts:
        if where.record.id in bad_ids:
            continue
        for column, wanted in (("buyer_id", Kind.AGENCY), ("supplier_id", Kind.COMPANY)):
            ref = where.record.props[column]
            ref_kind, why = kind_of(ref)
            if ref_kind is not None and ref_kind is not wanted:
                why = f"{ref!r} is {_a(ref_kind)}, must be {_a(wanted)}"
            if why:
                bad_ids.add(where.record.id)
                reject(
                    where.file,
                    where.line,
                    _row_of(where.record),
                    RowError(where.file, where.line, column, why),
                )

    good_links: list[LinkRecord] = []
    for key, where in links.items():
        link: LinkRecord = where.record
        if key in conflicts:
            continue
        errs = []
        kinds: list[Kind | None] = []
        for column, ref in (("source", link.source), ("target", link.target)):
            ref_kind, why = kind_of(ref)
            kinds.append(ref_kind)
            if why:
                errs.append(RowError(where.file, where.line, column, why))
        src, dst = kinds
        if src is not None and dst is not None and not LINK_TYPES[link.type].allows(src, dst):
            why = f"{link.type} cannot join {_a(src)} to {_a(dst)}"
            errs.append(RowError(where.file, where.line, "type", why))
        if errs:
            reject(where.file, where.line, _row_of(link), *errs)
        else:
            good_links.append(link)

    plan.rejects = sorted(rejects.values(), key=lambda r: (r.file, r.line))
    if plan.rejects and not skip_invalid:
        raise LoadRejected(plan.errors)
    plan.entities = [w.record for i, w in entities.items() if i not in bad_ids]
    plan.links = good_links
    return plan


def _row_of(record: EntityRecord | LinkRecord) -> dict[str, Any]:
    """The input fields of a record, for the rejects file."""
    if isinstance(record, LinkRecord):
        return {k: v for k, v in record._asdict().items() if v not in ("", None)}
    return {"kind": record.kind.value, "id": record.id, "name": record.name, **record.props}


def _a(kind: Kind) -> str:
    return ("an " if kind.value[0] in "aeiou" else "a ") + kind.value


def _counted(
    rows: Iterator[RawRow], plan: LoadPlan, progress: Callable[[int], None] | None
) -> Iterator[RawRow]:
    for n, raw in enumerate(rows, start=1):
        plan.rows_read = n
        if progress is not None and n % 10_000 == 0:
            progress(10_000)
        yield raw


def _link_record(row: LinkRow) -> LinkRecord:
    return LinkRecord(
        row.source,
        row.target,
        row.type,
        row.role or "",
        row.share,
        row.since or "",
        row.until or "",
        row.source_ref or "",
    )


def _entity_record(kind: Kind, row: BaseModel) -> EntityRecord:
    props = row.model_dump(exclude_none=True, exclude_defaults=True, exclude={"id", "name"})
    if "aliases" in props:
        props["aliases"] = list(props["aliases"])
    name = (row.title or row.id) if isinstance(row, ContractRow) else row.name  # type: ignore[attr-defined]
    strong_field = STRONG_ID_FIELD.get(kind)
    raw_strong = props.get(strong_field, "") if strong_field else ""
    strong = raw_strong if raw_strong and valid_iin_bin(raw_strong) else ""
    contacts: list[tuple[Kind, str, str]] = []
    if kind in IDENTIFIER_HOLDERS:
        for ident in IDENTIFIER_KINDS:
            value = props.get(ident.value)
            if value:
                key = normalize_contact(ident, value)
                if key:
                    contacts.append((ident, key, value))
    names = [name, *props.get("aliases", ())]
    return EntityRecord(
        row.id,  # type: ignore[attr-defined]
        kind,
        name,
        props,
        strong,
        " | ".join(search_key(n) for n in names),
        tuple(contacts),
    )


def _strong_id_warning(raw: RawRow, record: EntityRecord) -> RowError | None:
    field_name = STRONG_ID_FIELD.get(record.kind)
    value = record.props.get(field_name) if field_name else None
    if field_name and value and not record.strong_id:
        reason = f"{value!r} fails the {field_name.upper()} check; kept, not used to match records"
        return RowError(raw.file, raw.line, field_name, reason)
    return None
