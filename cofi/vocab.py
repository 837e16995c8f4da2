"""The one vocabulary of cofi: entity kinds, link types and their allowed endpoints.

The loader, both stores, the Cypher loader and the docs read these tables; adding a link type is one
edit here.  Neo4j labels and relationship types are taken from this module only, never from input.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

INPUT_FORMATS = ("bundle", "ocds", "bods", "ftm")
"""What `cofi load --format` takes: a cofi bundle, OCDS, BODS, FollowTheMoney (`cofi.importers`)."""


class Kind(StrEnum):
    """Every kind of node in the graph."""

    PERSON = "person"
    AGENCY = "agency"
    COMPANY = "company"
    CONTRACT = "contract"
    ADDRESS = "address"
    PHONE = "phone"
    EMAIL = "email"

    @property
    def label(self) -> str:
        """The Neo4j label of this kind."""
        return _LABELS[self]


_LABELS = {
    Kind.PERSON: "Person",
    Kind.AGENCY: "Agency",
    Kind.COMPANY: "Company",
    Kind.CONTRACT: "Contract",
    Kind.ADDRESS: "Address",
    Kind.PHONE: "Phone",
    Kind.EMAIL: "Email",
}

IDENTIFIER_KINDS: tuple[Kind, ...] = (Kind.ADDRESS, Kind.PHONE, Kind.EMAIL)
"""Derived kinds: equal normalised contact values of persons and companies become one node."""

IDENTIFIER_HOLDERS: frozenset[Kind] = frozenset({Kind.PERSON, Kind.COMPANY})
"""Kinds whose contact details become identifier nodes (an agency's never do)."""

STRONG_ID_FIELD: dict[Kind, str] = {Kind.PERSON: "iin", Kind.AGENCY: "bin", Kind.COMPANY: "bin"}
"""The national identifier (IIN/BIN) per kind; equal valid values merge records of that kind."""

BUNDLE_FILES: dict[str, str] = {
    "people.csv": Kind.PERSON,
    "agencies.csv": Kind.AGENCY,
    "companies.csv": Kind.COMPANY,
    "contracts.csv": Kind.CONTRACT,
    "links.csv": "link",
    "declarations.csv": "declaration",
}
"""Bundle v1 file names and the row kind each holds."""


@dataclass(frozen=True)
class LinkType:
    """One relationship type.

    `traverse_into` lists the endpoint kinds through which the link is a related-party edge; a link
    whose far end is not in it is never walked (EMPLOYED into an agency: co-workers are not related
    parties).  `derived` links are made by cofi, never read from input.

    A traversable type also says how a finding weighs and words it: `weight` (in (0, 1]; FAMILY's
    roles and OWNS's share refine it in `cofi.findings.edge_weight`), `verbs` (from the source to
    `{there}` now and before, then from the target: `{role}` is " as <role>" or ''), `noun` (a
    relation between people, or an identifier's value: "the address"), `interest` (what a
    declaration would name of a link to a company: "the stake in"), and `pattern`, the one of
    `PATTERNS` a path through it shows (the earliest of a path's counts; '' for none).
    """

    name: str
    sources: frozenset[Kind]
    targets: frozenset[Kind]
    traverse_into: frozenset[Kind]
    roles: tuple[str, ...] | None = None
    derived: bool = False
    same_kind: bool = False
    declares: str = ""
    """For a declaration stored as a link (`declarations.csv`), its `type` there."""
    weight: float = 0.0
    verbs: tuple[str, str, str, str] = ("", "", "", "")
    noun: str = ""
    interest: str = ""
    pattern: str = ""

    @property
    def traversable(self) -> bool:
        return bool(self.traverse_into)

    @property
    def relation(self) -> bool:
        """A walked relation between people, named by its noun ("X's close associate Y")."""
        return self.traversable and not self.derived and bool(self.noun)

    def allows(self, source: Kind, target: Kind) -> bool:
        """Whether a link of this type may join a `source` kind to a `target` kind."""
        if self.same_kind and source != target:
            return False
        return source in self.sources and target in self.targets


_P, _A, _C, _K = Kind.PERSON, Kind.AGENCY, Kind.COMPANY, Kind.CONTRACT
_PC = frozenset({_P, _C})

FAMILY_ROLES: tuple[str, ...] = (
    "spouse",
    "parent",
    "child",
    "sibling",
    "grandparent",
    "grandchild",
    "parent_in_law",
    "child_in_law",
    "sibling_in_law",
    "other",
)

FAMILY_INVERSE: dict[str, str] = {
    "spouse": "spouse",
    "parent": "child",
    "child": "parent",
    "sibling": "sibling",
    "grandparent": "grandchild",
    "grandchild": "grandparent",
    "parent_in_law": "child_in_law",
    "child_in_law": "parent_in_law",
    "sibling_in_law": "sibling_in_law",
    "other": "other",
}
"""If B is A's `role`, then A is B's `FAMILY_INVERSE[role]`."""

INTEREST_ROLES: tuple[str, ...] = ("owns", "directs", "employed", "other")
"""The `role` of a declared interest (declarations.csv, type `interest`)."""

PATTERNS: tuple[str, ...] = (
    "SELF_DEALING",
    "REVOLVING_DOOR",
    "FAMILY",
    "ASSOCIATE",
    "SHARED_ADDRESS",
    "SHARED_CONTACT",
    "OWNERSHIP_CHAIN",
)
"""A finding's patterns in DESIGN.md's precedence: the first that applies is its pattern (one edge:
SELF_DEALING or REVOLVING_DOOR; else the earliest a link type of the path shows; else
OWNERSHIP_CHAIN)."""

HEAD_ROLE = "head"
"""The EMPLOYED role into an agency (any case, spaces around) that makes its holder a
decision-maker of the agency's contracts on the days in post."""

_INDIRECT = re.compile(r" \(indirect(?:, through (.+))?\)$")


def with_article(kind: str) -> str:
    """'a person', 'an agency': a kind (or kinds joined by 'or') with its article, for messages."""
    return ("an " if kind[0] in "aeiou" else "a ") + kind


def indirect_role(interest: str, through: list[str]) -> str:
    """The OWNS role of a holding that a chain of others summarises (a BODS `indirect` interest):
    `<interest> (indirect)`, or `<interest> (indirect, through A, B)` naming the chain's
    intermediaries from the owner's side."""
    return f"{interest} (indirect" + (f", through {', '.join(through)})" if through else ")")


def indirect_through(role: str) -> str | None:
    """The intermediaries an indirect holding's role names ('' when it names none), or None when
    the role is not an indirect holding's."""
    match = _INDIRECT.search(role)
    return None if match is None else (match.group(1) or "")


LINK_TYPES: dict[str, LinkType] = {
    t.name: t
    for t in (
        LinkType(
            "FAMILY",
            frozenset({_P}),
            frozenset({_P}),
            frozenset({_P}),
            roles=FAMILY_ROLES,
            # target is source's `role`
            weight=0.6,
            noun="relative",
            pattern="FAMILY",
        ),
        LinkType(
            "OWNS",
            _PC,
            frozenset({_C}),
            _PC,
            # source holds `share` percent of target
            weight=0.7,
            verbs=(
                "holds a stake in {there}",
                "held a stake in {there}",
                "is partly owned by {there}",
                "was partly owned by {there}",
            ),
            interest="the stake in",
        ),
        LinkType(
            "DIRECTS",
            frozenset({_P}),
            frozenset({_C}),
            _PC,
            # director / officer / founder
            weight=0.9,
            verbs=(
                "directs {there}",
                "directed {there}",
                "is directed by {there}",
                "was directed by {there}",
            ),
            interest="the directorship of",
        ),
        LinkType(
            "EMPLOYED",
            frozenset({_P}),
            frozenset({_A, _C}),
            _PC,
            # works there; only into a company is it a related-party edge
            weight=0.8,
            verbs=(
                "works at {there}{role}",
                "worked at {there}{role}",
                "employs {there}{role}",
                "employed {there}{role}",
            ),
            interest="the job at",
        ),
        LinkType(
            "DECIDED",
            frozenset({_P}),
            frozenset({_K}),
            frozenset(),
            # took part in the award decision
        ),
        LinkType(
            "ASSOCIATE",
            frozenset({_P}),
            frozenset({_P}),
            frozenset({_P}),
            # declared or known close associate
            weight=0.8,
            noun="close associate",
            pattern="ASSOCIATE",
        ),
        LinkType(
            "SAME_AS",
            frozenset({_P, _A, _C, _K}),
            frozenset({_P, _A, _C, _K}),
            frozenset(),
            same_kind=True,
            # the two records are one real entity (merged, no hop)
        ),
        LinkType(
            "DECLARED_RELATIVE",
            frozenset({_P}),
            frozenset({_P}),
            frozenset(),
            roles=FAMILY_ROLES,
            declares="relative",
            # source declared target as a relative (`since`: the filing's date)
        ),
        LinkType(
            "DECLARED_INTEREST",
            frozenset({_P}),
            frozenset({_C}),
            frozenset(),
            roles=INTEREST_ROLES,
            declares="interest",
            # source declared an interest in target (`since`: the filing's date)
        ),
        LinkType(
            "NOTIFIED_CONFLICT",
            frozenset({_P}),
            frozenset({_K}),
            frozenset(),
            declares="conflict_notice",
            # source notified a conflict of interest about target (`since`: when)
        ),
        LinkType(
            "RECUSED",
            frozenset({_P}),
            frozenset({_K}),
            frozenset(),
            declares="recusal",
            # source withdrew from deciding target (`since`: when)
        ),
        LinkType(
            "HAS_ADDRESS",
            _PC,
            frozenset({Kind.ADDRESS}),
            frozenset({_P, _C, Kind.ADDRESS}),
            derived=True,
            # shared address (derived from the `address` column)
            weight=0.6,
            noun="the address",
            pattern="SHARED_ADDRESS",
        ),
        LinkType(
            "HAS_PHONE",
            _PC,
            frozenset({Kind.PHONE}),
            frozenset({_P, _C, Kind.PHONE}),
            derived=True,
            # shared phone (derived from the `phone` column)
            weight=0.7,
            noun="the phone number",
            pattern="SHARED_CONTACT",
        ),
        LinkType(
            "HAS_EMAIL",
            _PC,
            frozenset({Kind.EMAIL}),
            frozenset({_P, _C, Kind.EMAIL}),
            derived=True,
            # shared email (derived from the `email` column)
            weight=0.7,
            noun="the email",
            pattern="SHARED_CONTACT",
        ),
        LinkType(
            "BUYER",
            frozenset({_K}),
            frozenset({_A}),
            frozenset(),
            derived=True,
            # the contract's buyer (from `buyer_id`)
        ),
        LinkType(
            "SUPPLIER",
            frozenset({_K}),
            frozenset({_C}),
            frozenset(),
            derived=True,
            # the contract's winner (from `supplier_id`)
        ),
    )
}

INPUT_LINK_TYPES: tuple[str, ...] = tuple(
    n for n, t in LINK_TYPES.items() if not t.derived and not t.declares
)
"""Link types a bundle's `links.csv` may use."""

DECLARATION_LINK: dict[str, str] = {t.declares: n for n, t in LINK_TYPES.items() if t.declares}
"""A declaration's `type` (declarations.csv) -> the link type it is stored as."""

STORED_LINK_TYPES: tuple[str, ...] = tuple(n for n, t in LINK_TYPES.items() if not t.derived)
"""Link types a load writes: those of `links.csv` and the declarations."""

IDENTIFIER_LINK: dict[Kind, str] = {
    Kind.ADDRESS: "HAS_ADDRESS",
    Kind.PHONE: "HAS_PHONE",
    Kind.EMAIL: "HAS_EMAIL",
}

STORE_LABELS: tuple[str, ...] = (
    "Entity", "Finding", "CofiMeta", "CofiTouched", "CofiLoad", "CofiSweep", "Resolved",
    "MatchDecision", "Restriction",
)  # fmt: skip
"""The Neo4j store's own labels: `Entity` on every person, agency, company and contract node;
`Finding` for the findings written back; `CofiMeta` (revision, sweep mark, the store's maker) and
`CofiTouched` (identifier values a load changed, for the incremental sweep); `CofiLoad` (a running
load: its revision and heartbeat, so that a sweep meanwhile does not mark its rows as seen);
`CofiSweep` (a sweep writing its findings: what it wrote counts once it is gone, see
`sweep/findings_write`); `Resolved` (the path projection: one node per real person or company,
see `RESOLVED_AS`); `MatchDecision` (a reviewer's decision on a `cofi match` candidate);
`Restriction` (relatives serving in direct subordination, as the last sweep found them)."""

RESOLVED_AS = "RESOLVED_AS"
"""From each person and company record to its `Resolved` node: the records of one real entity
(SAME_AS, equal valid IIN/BIN) share one.  Between `Resolved` nodes run the traversable links
(`PROJECTED_TYPES`, dates as Neo4j dates), and from them the identifier links, so that a path
search on the projection crosses merges at no hop and counts a hub's entities, not records."""

FINDING_LINKS: tuple[str, ...] = ("OF_CONTRACT", "DECISION_MAKER", "WINNER", "ON_PATH")
"""The relationships from a `Finding` node to its contract, decision-maker, winner and path."""

PROJECTED_TYPES: tuple[str, ...] = tuple(
    n for n, t in LINK_TYPES.items() if t.traversable and not t.derived
)
"""The input link types a path walks, projected between `Resolved` nodes."""

FILE_TYPES: tuple[str, ...] = (*PROJECTED_TYPES, "DECIDED")
"""The link types the embedded store keeps in its link file (`cofi.link_file`): the many, the
graph's, not SAME_AS nor a declaration's."""

WALKED_TYPES: tuple[str, ...] = (
    *PROJECTED_TYPES,
    *(IDENTIFIER_LINK[k] for k in IDENTIFIER_KINDS),
)
"""Every type a path walks: the input link types, then the identifier links."""

TYPE_SETS: dict[str, tuple[str, ...]] = {
    "walked_types": WALKED_TYPES,
    "projected_types": PROJECTED_TYPES,
    "identifier_types": WALKED_TYPES[len(PROJECTED_TYPES) :],
}
"""Sets of relationship types a Cypher query names by slot (`[r:{{walked_types}}]`): filled with
the vocabulary's own list (`A|B|C`) whenever the query is bound, so that a link type declared above
reaches every path search without an edit to `cypher/`."""
