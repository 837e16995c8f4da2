"""`cofi restrictions`: close relatives serving in direct subordination (Law 410-V, Article 6's
anti-corruption restrictions; DESIGN.md "Declarations and restrictions").

Two persons joined by a direct FAMILY link of a close role (`CLOSE_ROLES`), both EMPLOYED in one
agency over overlapping periods, one of them as head or deputy head there (`SUPERIOR_ROLES`).
The period is where both jobs and the FAMILY link are in force at once.  Records of one entity
(SAME_AS, one IIN/BIN), of a person or of an agency, are one.  One restriction per (agency,
superior, relative), with every period; its `restriction_id` is a hash of those three ids, so a
sweep that finds it again knows it, and triage works on it as on a finding.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace
from typing import Any, NamedTuple, Protocol

from cofi import kinship
from cofi.declarations import RegisterStore
from cofi.output import note_line

CLOSE_ROLES: frozenset[str] = frozenset(
    {"spouse", "parent", "child", "sibling", "parent_in_law", "child_in_law", "sibling_in_law"}
)
"""FAMILY roles of close relatives (grandparents, grandchildren and `other` are not)."""
SUPERIOR_ROLES: tuple[str, ...] = ("head", "deputy_head")
"""EMPLOYED roles (any case, spaces around) of a post the rest of the agency answers to, the
head's first."""


class Job(NamedTuple):
    """An EMPLOYED link into an agency."""

    person: str
    agency: str
    role: str
    since: str
    until: str
    source_ref: str


class Kin(NamedTuple):
    """A FAMILY link: `target` is `source`'s `role`."""

    source: str
    target: str
    role: str
    since: str
    until: str
    source_ref: str


class RestrictionReader(Protocol):
    def agency_jobs(self, agencies: list[str] | None = None) -> list[Job]:
        """Every EMPLOYED link into an agency, or into the given agency records only."""

    def agencies_of(self, persons: list[str]) -> list[str]:
        """The agency records the given person records have an EMPLOYED link into (any date)."""

    def family_of(self, ids: list[str]) -> Iterable[Kin]:
        """The FAMILY links touching the given person records."""


RestrictionStore = RegisterStore[RestrictionReader]


@dataclass(frozen=True)
class Restriction:
    restriction_id: str
    agency_id: str
    agency_name: str
    superior_id: str
    superior_name: str
    superior_role: str
    relative_id: str
    relative_name: str
    relative_role: str
    relation: str
    """The relative is the superior's `relation` (a FAMILY role)."""
    since: str
    until: str
    """The first day and the last ('' open) of the periods shown."""
    periods: list[list[str]]
    """Each [since, until] ('' open) in which the two served together, in order."""
    explanation: str
    status: str = "new"
    note: str = ""
    source_refs: list[str] = field(default_factory=list)

    FIELDS = (
        "restriction_id", "agency_id", "agency_name", "superior_id", "superior_name",
        "superior_role", "relative_id", "relative_name", "relative_role", "relation", "since",
        "until", "status", "note", "explanation",
    )  # fmt: skip

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def signature(self) -> str:
        """Changes when what the restriction says changes (a triaged one is then reopened)."""
        text = json.dumps([self.superior_role, self.relative_role, self.relation, self.periods])
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def text(self) -> str:
        return f"{self.restriction_id}  [{self.status}]\n  {self.explanation}\n" + note_line(
            self.note
        )

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Restriction:
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


def restriction_id(agency: str, superior: str, relative: str) -> str:
    text = f"{agency}\x1f{superior}\x1f{relative}"
    return "R-" + hashlib.sha256(text.encode()).hexdigest()[:16]


def _rank(role: str) -> int | None:
    """The rank of a superior's post (0: head), None for any other post."""
    word = role.strip().casefold()
    return SUPERIOR_ROLES.index(word) if word in SUPERIOR_ROLES else None


def _overlap(*spans: tuple[str, str]) -> tuple[str, str] | None:
    """Where all the [since, until] spans ('' open) meet, or None."""
    since = max(s for s, _ in spans)
    ends = [u for _, u in spans if u]
    until = min(ends) if ends else ""
    return None if until and since and until < since else (since, until)


def restrictions(
    store: RestrictionStore, at: str | None, around: str | None = None
) -> list[Restriction]:
    """Every restriction (`at` None) or those with a period that holds `at`, by id; with
    `around` (a person or agency record), only those in the agencies it is or works in (a
    restriction depends only on its agency's staff and their FAMILY links, so these are
    exactly the ones in the store's whole list there, read without reading every agency)."""
    reader: RestrictionReader = store.declarations()
    merges = store.merges()
    if around is None:
        jobs = reader.agency_jobs()
    else:
        records = merges.group(around)
        agencies = sorted({*reader.agencies_of(records), *records})
        merges.close(agencies)
        jobs = reader.agency_jobs(sorted({r for a in agencies for r in merges.group(a)}))
    merges.close({j.person for j in jobs} | {j.agency for j in jobs})
    held: dict[tuple[str, str], list[Job]] = {}
    for job in jobs:
        held.setdefault((merges.canonical(job.person), merges.canonical(job.agency)), []).append(
            job
        )
    agencies_of: dict[str, set[str]] = {}
    for person, agency in held:
        agencies_of.setdefault(person, set()).add(agency)
    # every record of every person on staff: a FAMILY link counts when both its ends are among them
    staff = sorted({r for j in jobs for r in merges.group(j.person)})
    mine = set(staff)
    kin = [
        k for k in (reader.family_of(staff) if staff else ())
        if k.role in CLOSE_ROLES and k.source in mine and k.target in mine
    ]  # fmt: skip
    found: dict[tuple[str, str, str], dict[str, Any]] = {}
    for k in sorted(set(kin)):
        a, b = merges.canonical(k.source), merges.canonical(k.target)
        if a == b:
            continue
        for agency in sorted(agencies_of.get(a, set()) & agencies_of.get(b, set())):
            for ja in held[(a, agency)]:
                for jb in held[(b, agency)]:
                    ra, rb = _rank(ja.role), _rank(jb.role)
                    if ra is None and rb is None:
                        continue
                    span = _overlap((ja.since, ja.until), (jb.since, jb.until), (k.since, k.until))
                    if span is None:
                        continue
                    # the superior: the higher post; between equal posts, the smaller id
                    a_first = rb is None or (ra is not None and (ra, a) < (rb, b))
                    sup, rel, js, jr = (a, b, ja, jb) if a_first else (b, a, jb, ja)
                    role = k.role if (sup == a) else kinship.inverse(k.role)
                    entry = found.setdefault((agency, sup, rel), {
                        "jobs": (js, jr), "relation": role, "periods": set(), "refs": set(),
                    })  # fmt: skip
                    entry["periods"].add(span)
                    entry["refs"].update(r for r in (js.source_ref, jr.source_ref,
                                                     k.source_ref) if r)  # fmt: skip
    names = store.records({x for key in found for x in key})
    out = []
    for (agency, sup, rel), entry in found.items():
        periods = _merged(sorted(entry["periods"]))
        if at is not None:
            periods = [p for p in periods if p[0] <= at and (not p[1] or p[1] >= at)]
            if not periods:
                continue
        js, jr = entry["jobs"]
        name = {x: names.get(x, {}).get("name", x) for x in (agency, sup, rel)}
        since, until = periods[0][0], periods[-1][1]
        out.append(Restriction(
            restriction_id=restriction_id(agency, sup, rel), agency_id=agency,
            agency_name=name[agency], superior_id=sup, superior_name=name[sup],
            superior_role=js.role, relative_id=rel, relative_name=name[rel],
            relative_role=jr.role, relation=entry["relation"], since=since, until=until,
            periods=[list(p) for p in periods],
            explanation=_explain(name[sup], js.role, name[rel], jr.role, entry["relation"],
                                 name[agency], periods),
            source_refs=sorted(entry["refs"]),
        ))  # fmt: skip
    return sorted(out, key=lambda r: r.restriction_id)


def _merged(spans: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Overlapping or touching spans (in `since` order) as one."""
    out: list[tuple[str, str]] = []
    for since, until in spans:
        if out and (not out[-1][1] or out[-1][1] >= since):
            last = out[-1]
            out[-1] = (last[0], "" if not last[1] or not until else max(last[1], until))
        else:
            out.append((since, until))
    return out


def _explain(
    superior: str, superior_role: str, relative: str, relative_role: str, relation: str,
    agency: str, periods: list[tuple[str, str]],
) -> str:  # fmt: skip
    def span(p: tuple[str, str]) -> str:
        since, until = p
        if since and until:
            return f"from {since} to {until}"
        if since:
            return f"since {since}"
        return f"until {until}" if until else "at all times on record"

    post = superior_role.strip().replace("_", " ").lower()
    job = relative_role.strip().replace("_", " ") or "staff"
    word = kinship.word(relation, relative)
    gender = kinship.gender(superior)
    pronoun = {"m": "his", "f": "her"}.get(gender or "", "the")
    when = "; ".join(span(p) for p in periods)
    verb = "have served" if not periods[-1][1] else "served"
    return (
        f"{superior}, {post} of {agency}, and {pronoun} {word} {relative} ({job} there) {verb} "
        f"together {when}: close relatives may not serve in direct subordination"
    )


def with_triage(found: list[Restriction], kept: dict[str, Any]) -> list[Restriction]:
    """`found`, each with the status and note a sweep kept for it (`Store.stored_restrictions`)."""
    return [
        replace(r, status=kept[r.restriction_id].status, note=kept[r.restriction_id].note)
        if r.restriction_id in kept else r
        for r in found
    ]  # fmt: skip
