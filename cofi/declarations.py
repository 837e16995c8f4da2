"""Declarations, conflict notices and recusals (DESIGN.md "Declarations and restrictions").

A row of `declarations.csv` is stored as a link from the declaring person (`DECLARATION_LINK`):
to the relative (`DECLARED_RELATIVE`), to the company (`DECLARED_INTEREST`) or to the contract
(`NOTIFIED_CONFLICT`, `RECUSED`), its `since` the row's `declared_on`.  The loader checks and
stores them as it does every link; this module turns them back into declarations and answers
what the detection asks: who recused from a contract, who notified a conflict, what a person's
declarations in force on a day name.

All of one person's `relative` and `interest` rows of one `declared_on` are one filing, a
complete list: on a day, what is in force is what the person's latest filing on or before it
names.  The records of one entity (SAME_AS, one IIN) are one person here too.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, TypeVar

from cofi.records import LinkRecord
from cofi.vocab import DECLARATION_LINK, LINK_TYPES, with_article

if TYPE_CHECKING:
    from cofi.rings import Merges

Reader = TypeVar("Reader", covariant=True)


class RegisterStore(Protocol[Reader]):
    """A store as the register checks (`cofi.audit`, `cofi.restrictions`) read it: their own
    reader of its declarations and links, its merges and its records."""

    def declarations(self) -> Reader: ...

    def merges(self) -> Merges: ...

    def records(self, ids: Iterable[str]) -> dict[str, dict[str, Any]]: ...


DECLARED_TYPE: dict[str, str] = {link: kind for kind, link in DECLARATION_LINK.items()}
"""The link type a declaration is stored as -> the declaration's `type`."""
FILING_LINKS: tuple[str, ...] = (DECLARATION_LINK["relative"], DECLARATION_LINK["interest"])
CONTRACT_LINKS: tuple[str, ...] = (
    DECLARATION_LINK["conflict_notice"],
    DECLARATION_LINK["recusal"],
)
DISCLOSURES: tuple[str, ...] = ("undeclared", "declared", "notified", "not_declarable")

DISCLOSURE_FACTOR: dict[str, float] = {
    "undeclared": 1.0,
    "not_declarable": 1.0,
    "declared": 0.8,
    "notified": 0.6,
}
"""What a finding's score keeps for its disclosure: a conflict hidden weighs most; one the official
declared, less; one they notified and still decided, least (it is known, yet still a finding)."""


class Declaration(NamedTuple):
    """One row of `declarations.csv` as stored ('' for an empty field, None for no share)."""

    person_id: str
    declared_on: str
    type: str
    subject_id: str
    role: str
    share: float | None
    contract_id: str
    source_ref: str

    @classmethod
    def of_link(
        cls, source: str, target: str, type_: str, role: str, since: str, share: float | None,
        source_ref: str,
    ) -> Declaration:  # fmt: skip
        kind = DECLARED_TYPE[type_]
        about_contract = type_ in CONTRACT_LINKS
        return cls(source, since, kind, "" if about_contract else target, role, share,
                   target if about_contract else "", source_ref)  # fmt: skip

    def as_row(self) -> dict[str, Any]:
        """The fields as written in the input (empty ones left out)."""
        return {k: v for k, v in self._asdict().items() if v not in ("", None)}


def is_declaration(link_type: str) -> bool:
    return link_type in DECLARED_TYPE


def input_row(link: LinkRecord) -> dict[str, Any]:
    """A declaration stored as `link`, with the fields of its input row (for the rejects)."""
    return Declaration.of_link(link.source, link.target, link.type, link.role, link.since,
                               link.share, link.source_ref).as_row()  # fmt: skip


def input_field(link_type: str, column: str) -> str:
    """The declarations.csv column that a link column (`source`, `target`) of a stored
    declaration comes from."""
    if column == "source":
        return "person_id"
    return "contract_id" if link_type in CONTRACT_LINKS else "subject_id"


def kinds_problem(link_type: str, source_kind: str, target_kind: str) -> tuple[str, str]:
    """(field, reason) for a declaration whose person or subject is of the wrong kind."""
    lt = LINK_TYPES[link_type]
    if source_kind not in lt.sources:
        return "person_id", f"names {with_article(source_kind)}, not a person"
    wanted = " or ".join(sorted(k.value for k in lt.targets))
    named, given = with_article(wanted), with_article(target_kind)
    reason = f"a {DECLARED_TYPE[link_type]} names {named}, not {given}"
    return input_field(link_type, "target"), reason


class DeclarationReader(Protocol):
    """How a store hands its declarations over (see `Book`)."""

    def about_contracts(self, contract_ids: list[str] | None) -> Iterable[Declaration]:
        """The conflict notices and recusals of the given contracts (None: of every one)."""

    def filings_of(self, person_ids: list[str]) -> Iterable[Declaration]:
        """The `relative` and `interest` rows of the given person records."""

    def has_filings(self) -> bool:
        """Whether any person filed a declaration at all."""


@dataclass
class Book:
    """The declarations a detection consults, read from the store as they are needed and kept.

    `members(record)` gives every record of the entity a person record belongs to, so that a
    declaration by (or naming) any record of an entity counts for all of them.
    """

    reader: DeclarationReader | None = None
    _notes: dict[str, list[Declaration]] = field(default_factory=dict)
    _all_notes: bool = False
    _filings: dict[str, list[Declaration]] = field(default_factory=dict)
    _any_filing: bool | None = None

    def read_all_notes(self) -> None:
        """Read every contract's notices and recusals at once (before a sweep of many)."""
        if self.reader is None or self._all_notes:
            return
        self._notes = {}
        for d in self.reader.about_contracts(None):
            self._notes.setdefault(d.contract_id, []).append(d)
        self._all_notes = True
        self.has_filings()

    def read_notes(self, contract_ids: list[str]) -> None:
        """Read the notices and recusals of the given contracts at once (a sweep's batch)."""
        if self.reader is None or self._all_notes:
            return
        for c in contract_ids:
            self._notes[c] = []
        for d in self.reader.about_contracts(contract_ids):
            self._notes[d.contract_id].append(d)

    def notes(self, contract_id: str) -> list[Declaration]:
        """The notices and recusals of one contract."""
        if self.reader is None:
            return []
        if not self._all_notes and contract_id not in self._notes:
            self._notes[contract_id] = list(self.reader.about_contracts([contract_id]))
        return self._notes.get(contract_id, [])

    def has_filings(self) -> bool:
        if self._any_filing is None:
            self._any_filing = self.reader is not None and self.reader.has_filings()
        return self._any_filing

    def filings(self, records: list[str]) -> list[Declaration]:
        """The `relative` and `interest` rows filed under any of `records`."""
        if self.reader is None or not self.has_filings():
            return []
        missing = [r for r in records if r not in self._filings]
        if missing:
            for r in missing:
                self._filings[r] = []
            for d in self.reader.filings_of(missing):
                self._filings[d.person_id].append(d)
        return [d for r in records for d in self._filings[r]]


def in_force(filings: Iterable[Declaration], on: str) -> tuple[str, set[str]]:
    """The date of the latest filing on or before `on` ('' when none) and the subjects it
    names."""
    latest = max((d.declared_on for d in filings if d.declared_on <= on), default="")
    return latest, {d.subject_id for d in filings if d.declared_on == latest} if latest else set()


def named_between(filings: Iterable[Declaration], since: str, until: str) -> dict[str, str]:
    """Subject -> the first filing date in [since, until] ('' = open) that named it."""
    out: dict[str, str] = {}
    for d in sorted(filings, key=lambda d: d.declared_on):
        if (not since or d.declared_on >= since) and (not until or d.declared_on <= until):
            out.setdefault(d.subject_id, d.declared_on)
    return out
