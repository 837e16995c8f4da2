"""`cofi declarations audit`: what the registers show and an official's declarations omit.

For each official (a person EMPLOYED into an agency on the date) — or the one person named — the
relatives (FAMILY links touching any record of theirs, either direction, any role) and the
companies they own, direct or work for (their own OWNS / DIRECTS / EMPLOYED into a company), by
links in force on the date itself (no lookback), that the filing in force on that date does not
name (`cofi.declarations.in_force`).  Records of one entity are one person, on both sides: a
relative declared under another record of theirs is declared.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any, NamedTuple, Protocol

from cofi import kinship
from cofi.declarations import Declaration, RegisterStore, in_force
from cofi.errors import NotFound
from cofi.records import LinkRecord
from cofi.rings import Merges
from cofi.vocab import Kind


class AuditLink(NamedTuple):
    """A link touching an audited record, with the kind of its target."""

    link: LinkRecord
    target_kind: str

    @classmethod
    def of_row(cls, *row: Any) -> AuditLink:
        """From a store's row: a `LinkRecord`'s fields, then the target's kind."""
        *fields, kind = row
        return cls(LinkRecord(*fields), kind)


class AuditReader(Protocol):
    """What the audit reads from a store (`Store.declarations()` provides it)."""

    def officials(self, at: str) -> list[str]:
        """Person records with an EMPLOYED link into an agency in force on `at`."""

    def audit_links(self, ids: list[str], at: str) -> Iterable[AuditLink]:
        """The FAMILY links touching the records `ids` and their OWNS, DIRECTS and EMPLOYED
        links, in force on `at`."""

    def filings_of(self, person_ids: list[str]) -> Iterable[Declaration]: ...


AuditStore = RegisterStore[AuditReader]


@dataclass(frozen=True)
class Omission:
    """One link the registers show that the person's declaration in force does not name."""

    person_id: str
    person_name: str
    agencies: str
    """The agencies the person works for on the date ('; '-separated names; '' when none)."""
    what: str
    """`relative` or `interest`."""
    subject_id: str
    subject_name: str
    relation: str
    """How the subject is related, from the person's side: a FAMILY role, or owns / directs /
    employed (with the link's role)."""
    link_type: str
    share: float | None
    since: str
    until: str
    source_ref: str
    declaration: str
    """The date of the filing in force on the audit's date ('' when none was filed)."""

    FIELDS = (
        "person_id", "person_name", "agencies", "what", "subject_id", "subject_name",
        "relation", "link_type", "share", "since", "until", "source_ref", "declaration",
    )  # fmt: skip

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def text(self) -> str:
        where = f" ({self.agencies})" if self.agencies else ""
        dates = ", ".join(
            p for p in (f"since {self.since}" if self.since else "",
                        f"until {self.until}" if self.until else "") if p
        )  # fmt: skip
        about = ", ".join(p for p in (self.link_type, dates, self.source_ref) if p)
        filed = (
            f"not in the declaration of {self.declaration}" if self.declaration else "none filed"
        )
        return (
            f"{self.person_name} [{self.person_id}]{where}: {self.what} {self.subject_name} "
            f"[{self.subject_id}], {self.relation} ({about}): {filed}"
        )


def audit(store: AuditStore, person_id: str | None, at: str) -> list[Omission]:
    """The omissions of every official on `at`, or of `person_id`, in (person, subject) order."""
    reader: AuditReader = store.declarations()
    merges = store.merges()
    if person_id is not None:
        kind = store.records([person_id]).get(person_id, {}).get("kind")
        if kind != Kind.PERSON.value:
            raise NotFound(f"no person {person_id!r} in the store")
        roots = [person_id]
    else:
        roots = reader.officials(at)
    merges.close(roots)
    people: dict[str, list[str]] = {}  # canonical -> the root first, then the other records
    for root in roots:
        people.setdefault(merges.canonical(root), [root, *sorted(set(merges.group(root)) - {root})])
    records = sorted({r for group in people.values() for r in group})
    found = list(reader.audit_links(records, at)) if records else []
    links = [a.link for a in found]
    kind_of = {a.link: a.target_kind for a in found}  # (of each link's target)
    filings: dict[str, list[Declaration]] = {}
    for d in reader.filings_of(records) if records else ():
        filings.setdefault(merges.canonical(d.person_id), []).append(d)
    merges.close([x for link in links for x in (link.source, link.target)])
    merges.close([d.subject_id for ds in filings.values() for d in ds])
    names = store.records(
        {r for group in people.values() for r in group}
        | {x for link in links for x in (link.source, link.target)}
    )
    touching: dict[str, set[LinkRecord]] = defaultdict(set)  # (each person's own, not all)
    for link in links:
        touching[link.source].add(link)
        touching[link.target].add(link)
    out: list[Omission] = []
    for person, group in sorted(people.items()):
        mine = set(group)
        around = sorted({link for record in group for link in touching.get(record, ())})
        latest, named = in_force(filings.get(person, []), at)
        declared = {merges.canonical(s) for s in named}
        agencies = sorted({
            names.get(link.target, {}).get("name", link.target)
            for link in around
            if link.source in mine and link.type == "EMPLOYED"
            and kind_of[link] == Kind.AGENCY.value
        })  # fmt: skip
        seen: set[tuple[str, ...]] = set()
        for link in around:
            omission = _omission(link, kind_of[link], mine, merges, declared)
            if omission is None:
                continue
            what, other, relation = omission
            key = (link.source, link.target, link.type, link.role, link.since)
            if key in seen:
                continue
            seen.add(key)
            out.append(Omission(
                person_id=group[0], person_name=names.get(group[0], {}).get("name", group[0]),
                agencies="; ".join(agencies), what=what, subject_id=other,
                subject_name=names.get(other, {}).get("name", other), relation=relation,
                link_type=link.type, share=link.share, since=link.since, until=link.until,
                source_ref=link.source_ref, declaration=latest,
            ))  # fmt: skip
    return out


def _omission(
    link: LinkRecord, target_kind: str, mine: set[str], merges: Merges, declared: set[str]
) -> tuple[str, str, str] | None:
    """(what, the other end, the relation from the person's side) of a link that the person's
    declaration should name and does not; None for any other link."""
    if link.type == "FAMILY":
        if link.source in mine and link.target not in mine:
            other, relation = link.target, link.role
        elif link.target in mine and link.source not in mine:
            other, relation = link.source, kinship.inverse(link.role)
        else:
            return None
        what = "relative"
    elif link.source in mine and target_kind == Kind.COMPANY.value:
        other, what = link.target, "interest"
        relation = link.type.lower() + (f" {link.share:g}%" if link.share is not None else "")
        relation += f" as {link.role}" if link.role else ""
    else:
        return None
    if merges.canonical(other) in declared or other in mine:
        return None
    return what, other, relation
