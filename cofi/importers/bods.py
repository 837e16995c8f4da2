"""BODS (Beneficial Ownership Data Standard) 0.1–0.4 into cofi rows.

0.1–0.3 statements (`statementType`, `statementID`) and 0.4 statements (`recordType`,
`recordId`, `recordDetails`), as a JSON array, JSON lines or a package with `statements`:

- entity statements become companies (`bods:<statement or record id>`): name, identifiers (a
  KZ-BIN fills `bin`, another register number `registry_id`), founding and dissolution dates, the
  registered (else first) address;
- person statements become people: the first name given (the others as aliases), a full birth
  date (a partial one is left out, with a warning); unknown and anonymous persons are not
  imported (a warning says so, and links to them are left out with a warning too);
- ownership-or-control statements become links from the interested party to the subject, one per
  interest: `shareholding` / `voting-rights` are OWNS with the share (exact, else the minimum, else
  the maximum of the range); board and management interests of a person are DIRECTS; any other
  interest is OWNS without a share (control); `startDate` / `endDate` are since / until; the role
  is the interest type.
- an `indirect` interest (0.4 `directOrIndirect`, 0.2–0.3 `interestLevel`) is held through
  others: the statement summarises a chain whose links are statements of their own (0.4
  `componentRecords`, 0.3 `componentStatementIDs`).  It stays one OWNS link, marked as what it
  is: role `<interest> (indirect, through A, B)`, A and B the chain's intermediaries from the
  owner's side where the file holds them, so that an explanation reads "indirectly owns 100% of
  … (through …)" and never passes for a direct holding.

A statement replaced by another in the same file (0.1–0.3 `replacesStatements`) is not imported,
and references to it lead to the replacing statement; of a 0.4 record's statements only the latest
is imported; a 0.4 relationship record whose latest statement is `closed` has ended, on that
statement's date where its interests name no end date.  A reference to a statement that is in
neither the file nor the store is an invalid row, reported like any other.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from cofi.bundle import RawRow
from cofi.importers.common import (
    Rows,
    day,
    identifier_columns,
    number,
    obj,
    period_end,
    period_start,
    text,
    unique_links,
)
from cofi.importers.jsonio import JsonProblem, json_items_twice
from cofi.vocab import Kind, indirect_role

PACKAGE_KEYS = ("statements",)
_OWNERSHIP = ("shareholding", "voting-rights", "votingRights")
_DIRECTING = (
    "appointment-of-board", "board-member", "board-chair", "senior-managing-official",
    "appointmentOfBoard", "boardMember", "boardChair", "seniorManagingOfficial",
)  # fmt: skip
"""Interest types (0.1–0.3 codes, then 0.4's) that make a person a director."""
_NOBODY = ("unknownPerson", "anonymousPerson", "unknownEntity", "anonymousEntity", "unknown",
           "anonymous")  # fmt: skip
"""Person and entity types that stand for no one known: not imported."""


def is_item(value: dict[str, Any]) -> bool:
    return any(k in value for k in ("statementType", "recordType", "statementID", "statementId"))


class _Index:
    """What the first pass learns: replacements, the latest statement of each 0.4 record,
    and the statements that are not imported (unknown persons)."""

    def __init__(self) -> None:
        self.replaced_by: dict[str, str] = {}
        self.latest: dict[str, tuple[str, str]] = {}
        """0.4 record id -> (statement date, statement id) of its latest statement."""
        self.nobody: set[str] = set()
        self.people: set[str] = set()
        """0.4 records that are persons (0.1–0.3 references say so themselves)."""
        self.names: dict[str, str] = {}
        """Entity statement or record id -> name (an indirect interest's intermediaries)."""
        self.ends: dict[str, tuple[str, str]] = {}
        """Relationship statement or record id -> (interested party, subject)."""

    def add(self, s: dict[str, Any]) -> None:
        if "recordType" in s:
            rid, sid = text(s.get("recordId")), text(s.get("statementId"))
            key = (text(s.get("statementDate")), sid)
            if rid and key >= self.latest.get(rid, ("", "")):
                self.latest[rid] = key
            details = obj(s.get("recordDetails"))
            if s.get("recordType") == "person":
                self.people.add(rid)
            if _nobody(details.get("personType"), details.get("entityType")):
                self.nobody.add(rid)
            self._ends_and_names(rid, s.get("recordType"), details)
            return
        sid = text(s.get("statementID"))
        for old in s.get("replacesStatements") or []:
            self.replaced_by[text(old)] = sid
        if _nobody(s.get("personType"), s.get("entityType")):
            self.nobody.add(sid)
        party = obj(s.get("interestedParty"))
        party_id = text(party.get("describedByEntityStatement")) or text(
            party.get("describedByPersonStatement")
        )
        subject = text(obj(s.get("subject")).get("describedByEntityStatement"))
        kind = {"entityStatement": "entity", "ownershipOrControlStatement": "relationship"}
        details = {**s, "interestedParty": party_id, "subject": subject}
        self._ends_and_names(sid, kind.get(text(s.get("statementType"))), details)

    def _ends_and_names(self, sid: str, kind: Any, details: dict[str, Any]) -> None:
        if kind == "entity" and text(details.get("name")):
            self.names[sid] = text(details.get("name"))
        elif kind == "relationship":
            party = details.get("interestedParty")
            self.ends[sid] = (party if isinstance(party, str) else "",
                              text(details.get("subject")))  # fmt: skip

    def intermediaries(self, source: str, target: str, components: list[str]) -> list[str]:
        """The names of the entities an indirect interest of `source` in `target` is held
        through: along its component relationships from the owner's side (breadth first), else
        the component entities in the order listed; those the file does not name are left out."""
        ends = [(self.resolve(p), self.resolve(t)) for c in components if c in self.ends
                for p, t in [self.ends[c]]]  # fmt: skip
        order, queue = [source], [source]
        while queue:
            node = queue.pop(0)
            for party, subject in ends:
                if party == node and subject not in order:
                    order.append(subject)
                    queue.append(subject)
        if target not in order:
            order = [c for c in components if c not in self.ends]
        chain = [self.resolve(n) for n in order if n not in (source, target)]
        return [self.names[n] for n in dict.fromkeys(chain) if n in self.names]

    def resolve(self, ref: str) -> str:
        seen = set()
        while ref in self.replaced_by and ref not in seen:
            seen.add(ref)
            ref = self.replaced_by[ref]
        return ref


def _nobody(*types: Any) -> bool:
    """Whether a person or entity type (0.4: `{"type": …}`) stands for no one known."""
    return any(text(obj(t).get("type") if isinstance(t, dict) else t) in _NOBODY for t in types)


def read(path: Path) -> Iterator[RawRow]:
    rows = Rows(path)
    return unique_links(rows, _read(rows, path))


def _read(rows: Rows, path: Path) -> Iterator[RawRow]:
    index = _Index()
    first, second = json_items_twice(path, PACKAGE_KEYS, is_item)
    for _, item in first:
        if isinstance(item, dict):
            index.add(item)
    for line, item in second:
        if isinstance(item, JsonProblem):
            yield rows.problem(line, "row", str(item))
        elif not isinstance(item, dict) or not is_item(item):
            yield rows.problem(line, "row", "not a BODS statement (no statementType/recordType)")
        elif "recordType" in item:
            yield from _v04(rows, line, item, index)
        else:
            yield from _v02(rows, line, item, index)


def _v02(rows: Rows, line: int, s: dict[str, Any], index: _Index) -> Iterator[RawRow]:
    sid = text(s.get("statementID"))
    if not sid:
        yield rows.problem(line, "statementID", "required", s)
        return
    if sid in index.replaced_by:
        return  # a later statement in this file replaces it
    kind = s.get("statementType")
    if sid in index.nobody:
        what = text(s.get("personType")) or text(s.get("entityType"))
        yield rows.note(line, "statementType", f"bods:{sid} is an {what} (no one to import)")
    elif kind == "entityStatement":
        yield _entity(rows, line, sid, s)
    elif kind == "personStatement":
        yield from _person(rows, line, sid, s, index)
    elif kind == "ownershipOrControlStatement":
        subject = obj(s.get("subject"))
        party = obj(s.get("interestedParty"))
        target = text(subject.get("describedByEntityStatement"))
        source = text(party.get("describedByEntityStatement")) or text(
            party.get("describedByPersonStatement")
        )
        person = bool(text(party.get("describedByPersonStatement")))
        yield from _relationship(rows, line, sid, s, index.resolve(source) if source else "",
                                 index.resolve(target), person, index)  # fmt: skip
    else:
        yield rows.problem(line, "statementType", f"unknown statement type {kind!r}", s)


def _v04(rows: Rows, line: int, s: dict[str, Any], index: _Index) -> Iterator[RawRow]:
    rid, sid = text(s.get("recordId")), text(s.get("statementId"))
    if not rid:
        yield rows.problem(line, "recordId", "required", s)
        return
    if index.latest.get(rid, ("", sid))[1] != sid:
        return  # a later statement of the same record is imported instead
    details = obj(s.get("recordDetails"))
    kind = s.get("recordType")
    if rid in index.nobody:
        yield rows.note(line, "recordType", f"bods:{rid} stands for no one known (not imported)")
    elif kind == "entity":
        yield _entity(rows, line, rid, {**details, "statementDate": s.get("statementDate")})
    elif kind == "person":
        yield from _person(rows, line, rid, details, index)
    elif kind == "relationship":
        party = details.get("interestedParty")
        source = party if isinstance(party, str) else ""
        person = source in index.people
        if s.get("recordStatus") == "closed":  # the relationship ended: by its statement's date
            details = {**details, "closedOn": day(s.get("statementDate"))}
        yield from _relationship(rows, line, rid, details, source, text(details.get("subject")),
                                 person, index)  # fmt: skip
    else:
        yield rows.problem(line, "recordType", f"unknown record type {kind!r}", s)


def _entity(rows: Rows, line: int, sid: str, s: dict[str, Any]) -> RawRow:
    identifiers = [(i.get("scheme"), i.get("id")) for i in s.get("identifiers") or []
                   if isinstance(i, dict)]  # fmt: skip
    data: dict[str, Any] = {
        "id": f"bods:{sid}",
        "name": text(s.get("name")),
        "founded": day(s.get("foundingDate")),
        "dissolved": day(s.get("dissolutionDate")),
        "address": _address(s.get("addresses")),
    }
    data.update(identifier_columns(Kind.COMPANY, identifiers))
    return rows.entity(line, Kind.COMPANY, data)


def _person(rows: Rows, line: int, sid: str, s: dict[str, Any], index: _Index) -> Iterator[RawRow]:
    names = [_full_name(n) for n in s.get("names") or [] if isinstance(n, dict)]
    names = [n for n in names if n]
    notes: list[tuple[str, str]] = []
    birth = s.get("birthDate")
    if birth and not day(birth):
        notes.append(("birth_date", f"bods:{sid}: {birth!r} is not a full date; left out"))
    identifiers = [(i.get("scheme"), i.get("id")) for i in s.get("identifiers") or []
                   if isinstance(i, dict)]  # fmt: skip
    data: dict[str, Any] = {
        "id": f"bods:{sid}",
        "name": names[0] if names else "",
        "aliases": tuple(dict.fromkeys(names[1:])),
        "birth_date": day(birth),
        "address": _address(s.get("addresses")),
    }
    data.update(identifier_columns(Kind.PERSON, identifiers))
    yield rows.entity(line, Kind.PERSON, data, tuple(notes))


def _relationship(
    rows: Rows,
    line: int,
    sid: str,
    s: dict[str, Any],
    source: str,
    target: str,
    person: bool,
    index: _Index,
) -> Iterator[RawRow]:
    if not source:
        yield rows.note(line, "interestedParty",
                        f"bods:{sid}: the interested party is unspecified; no link")  # fmt: skip
        return
    if source in index.nobody:
        yield rows.note(line, "interestedParty",
                        f"bods:{sid}: the interested party bods:{source} stands for no one "
                        "known; no link")  # fmt: skip
        return
    interests = [i for i in s.get("interests") or [] if isinstance(i, dict)]
    base = {"source": f"bods:{source}", "target": f"bods:{target}", "source_ref": f"bods:{sid}"}
    if not interests:
        yield rows.link(line, {**base, "type": "OWNS", "role": "unspecified"},
                        (("interests", f"bods:{sid} lists no interest: recorded as control "
                                       "without a share"),))  # fmt: skip
        return
    if target in index.nobody:
        yield rows.note(line, "subject", f"bods:{sid}: the subject bods:{target} stands for no "
                        "one known; no link")  # fmt: skip
        return
    listed = s.get("componentRecords") or s.get("componentStatementIDs") or []
    components = [index.resolve(text(c)) for c in listed]
    for interest in interests:
        kind = text(interest.get("type")) or "unknown-interest"
        details = text(interest.get("details"))
        role = f"{kind} ({details})" if details else kind
        level = interest.get("directOrIndirect") or interest.get("interestLevel")
        if level == "indirect":
            role = indirect_role(role, index.intermediaries(source, target, components))
        link: dict[str, Any] = {**base, "role": role,
                                "since": period_start(interest.get("startDate")),
                "until": period_end(interest.get("endDate"))}  # fmt: skip
        notes: tuple[tuple[str, str], ...] = ()
        if s.get("closedOn") and not link["until"]:
            link["until"] = s["closedOn"]
            why = (f"bods:{sid} is closed and its {kind} interest names no end date: it ends "
                   f"on the closing statement's date {s['closedOn']}")  # fmt: skip
            notes = (("recordStatus", why),)
        if kind in _DIRECTING and person:
            yield rows.link(line, {**link, "type": "DIRECTS"}, notes)
            continue
        link["type"] = "OWNS"
        if kind in _OWNERSHIP:
            link["share"] = _share(interest.get("share"))
        yield rows.link(line, link, notes)


def _share(share: Any) -> float | None:
    if not isinstance(share, dict):
        return None
    for key in ("exact", "minimum", "maximum"):
        value = number(share.get(key))
        if value is not None and 0 < value <= 100:
            return value
    return None


def _full_name(name: dict[str, Any]) -> str:
    full = text(name.get("fullName"))
    if full:
        return full
    parts = (text(name.get(k)) for k in ("givenName", "patronymicName", "familyName"))
    return " ".join(p for p in parts if p)


def _address(addresses: Any) -> str:
    found = [a for a in addresses or [] if isinstance(a, dict) and text(a.get("address"))]
    if not found:
        return ""
    best = next((a for a in found if a.get("type") == "registered"), found[0])
    parts = (text(best.get(k)) for k in ("address", "postCode", "country"))
    return ", ".join(p for p in parts if p)
