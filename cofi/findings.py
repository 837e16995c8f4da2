"""From paths to findings: decision-makers, the best path, pattern, score, severity, explanation.

One finding per (contract, decision-maker, winner) with a related-party path; of the paths with the
fewest hops the one with the highest score is kept (ties broken by the path's ids, so the choice is
deterministic).

(Over 500 lines: the one way from a path to a finding — decision-makers, disclosure, score,
pattern, explanation — each part small; kept together so that a finding's semantics are read in
one place.)
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from cofi import kinship
from cofi.declarations import DISCLOSURE_FACTOR, Declaration, in_force, named_between
from cofi.detect import PathSearch, RelatedPath, Rules
from cofi.graph import EDGE_CODE, EDGE_TYPES, FAMILY, IDENTIFIER_EDGE, ContractRow, Graph
from cofi.vocab import LINK_TYPES, PATTERNS, Kind, indirect_through

STATUSES: tuple[str, ...] = ("new", "confirmed", "dismissed")

_OWNS, _DIRECTS = EDGE_CODE["OWNS"], EDGE_CODE["DIRECTS"]
_TYPE = [LINK_TYPES[name] for name in EDGE_TYPES]
"""The link type of each edge code."""
_RELATION = frozenset(code for code, link in enumerate(_TYPE) if link.relation)
"""Edge codes of relations between people (FAMILY, ASSOCIATE, …), named by a noun."""

# A path's strength is the product of a factor per hop count and one per edge; the contract's value
# then moves it between 60% and 100% of that.  Each factor is in (0, 1], so the score is too.

HOP_FACTOR = 0.85
"""Each hop beyond the first keeps 85% of the strength."""
FAMILY_WEIGHT = {
    "spouse": 1.0,
    "parent": 1.0,
    "child": 1.0,
    "sibling": 0.9,
    "grandparent": 0.8,
    "grandchild": 0.8,
    "parent_in_law": 0.75,
    "child_in_law": 0.75,
    "sibling_in_law": 0.75,
    "other": 0.6,
}
"""A FAMILY edge's weight by its role (another role: the type's own weight, 0.6)."""
OWNS_SHARE_WEIGHT = (0.6, 0.4)
"""An OWNS edge with a share weighs 0.6 + 0.4 × share/100 (without one, the type's weight, 0.7).
Every other edge weighs its type's `weight` (`cofi.vocab.LINK_TYPES`)."""
ENDED_WEIGHT = 0.8
"""An edge that ended before the signing date (inside the lookback) counts 80%."""
VALUE_SPAN = 9.0
"""log10 of the contract value at which the value factor is full (10^9, in contract currency)."""
SEVERITY = (("high", 0.6), ("medium", 0.35), ("low", 0.0))


def severity(score: float) -> str:
    return next(name for name, floor in SEVERITY if score >= floor)


def edge_weight(g: Graph, half: int, at: str | None) -> float:
    e = half >> 1
    code = g.e_type[e]
    weight = _TYPE[code].weight
    if code == FAMILY:
        weight = FAMILY_WEIGHT.get(g.e_role[e], weight)
    elif code == _OWNS and g.e_share[e] >= 0:
        base, per_share = OWNS_SHARE_WEIGHT
        weight = base + per_share * g.e_share[e] / 100
    elif code in IDENTIFIER_EDGE and half & 1:
        weight = 1.0  # counted once per identifier node: on the edge that enters it
    until = g.e_until[e]
    if at is not None and until and until < at:
        weight *= ENDED_WEIGHT
    return weight


def strength(g: Graph, path: RelatedPath, at: str | None) -> float:
    out = HOP_FACTOR ** (path.hops - 1)
    for half in path.halves:
        out *= edge_weight(g, half, at)
    return out


def value_factor(value: float | None) -> float:
    if not value or value <= 0:
        return 0.0
    return min(1.0, math.log10(1 + value) / VALUE_SPAN)


def score(g: Graph, path: RelatedPath, at: str | None, value: float | None) -> float:
    return round(strength(g, path, at) * (0.6 + 0.4 * value_factor(value)), 4)


def pattern(g: Graph, path: RelatedPath, at: str) -> str:
    """The first pattern of DESIGN.md's precedence that the path shows."""
    edges = [h >> 1 for h in path.halves]
    if len(edges) == 1:
        until = g.e_until[edges[0]]
        return "SELF_DEALING" if not until or until >= at else "REVOLVING_DOOR"
    shown = {_TYPE[g.e_type[e]].pattern for e in edges} - {""}
    return min(shown, key=PATTERNS.index, default="OWNERSHIP_CHAIN")


def finding_id(contract_id: str, decision_maker_id: str, winner_id: str) -> str:
    """Deterministic: the same contract, decision-maker and winner always give the same id."""
    text = f"{contract_id}\x1f{decision_maker_id}\x1f{winner_id}"
    return "F-" + hashlib.sha256(text.encode()).hexdigest()[:16]


def edge_key(g: Graph, half: int) -> tuple[str, ...]:
    """The link an edge comes from: (source, target, type, role, since) as the store keys it."""
    e = half >> 1
    source = g.rec_id[g.e_ra[e]]
    rb = g.e_rb[e]
    target = g.rec_id[rb] if rb >= 0 else g.node_id(g.e_b[e])
    return (source, target, EDGE_TYPES[g.e_type[e]], g.e_role[e], g.e_since[e])


def path_signature(g: Graph, path: RelatedPath) -> str:
    """A hash of the path's nodes and links: it changes when the best path does."""
    parts = [g.node_id(n) for n in path.nodes]
    parts += ["/".join(edge_key(g, h)) for h in path.halves]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:16]


def rank_key(
    g: Graph, path: RelatedPath, at: str | None, value: float | None,
    ends: tuple[str, str] | None = None, disclosures: Disclosures | None = None,
) -> tuple[Any, ...]:  # fmt: skip
    """Order of paths of equal length: highest score first (with a match's confidence when the
    path's end records `ends` are given, and the disclosure's factor with `disclosures`), then by
    their links (deterministic)."""
    s = score(g, path, at, value)
    if ends is not None and g.joins:
        s *= match_confidence(crossings(g, path, *ends))
    if disclosures is not None:
        s *= disclosures.of(path).factor
    return (-s, [edge_key(g, h) for h in path.halves])


def best_path(
    g: Graph, paths: list[RelatedPath], at: str | None, value: float | None,
    ends: tuple[str, str] | None = None, disclosures: Disclosures | None = None,
) -> RelatedPath:  # fmt: skip
    return min(paths, key=lambda p: rank_key(g, p, at, value, ends, disclosures))


class Crossing(NamedTuple):
    """Where a path enters an entity by one record and leaves it by another that only a
    `cofi match` link joins to it (`Graph.join`)."""

    position: int
    entry: str
    exit: str
    confidence: float
    reasons: list[str]


def crossings(g: Graph, path: RelatedPath, first: str, last: str) -> list[Crossing]:
    """The crossings of `path` from record `first` (the decision-maker) to record `last`."""
    if not g.joins:
        return []
    out = []
    nodes, halves = path.nodes, path.halves
    for i in range(len(nodes)):
        entry = first if i == 0 else _record_at(g, halves[i - 1], near=False)
        leave = last if i == len(nodes) - 1 else _record_at(g, halves[i], near=True)
        if entry is None or leave is None or entry == leave:
            continue
        joined = g.join(entry, leave)
        if joined is not None:
            out.append(Crossing(i, entry, leave, *joined))
    return out


def _record_at(g: Graph, half: int, near: bool) -> str | None:
    """The record by which an edge touches the node it leaves (`near`) or the one it enters."""
    e = half >> 1
    rec = g.e_ra[e] if (half & 1 == 0) == near else g.e_rb[e]
    return g.rec_id[rec] if rec >= 0 else None


def match_confidence(found: list[Crossing]) -> float:
    return math.prod(c.confidence for c in found)


@dataclass(frozen=True)
class Finding:
    """One related-party finding, with the fields of DESIGN.md "Output: findings"."""

    finding_id: str
    contract_id: str
    signed_on: str
    value: float | None
    currency: str
    decision_maker_id: str
    decision_role: str
    winner_id: str
    pattern: str
    hops: int
    score: float
    severity: str
    path: list[dict[str, Any]]
    explanation: str
    signature: str
    status: str = "new"
    note: str = ""
    match_confidence: float = 1.0
    """The product of the confidences of the `cofi match` links the path crosses (1: none)."""
    disclosure: str = ""
    """What the decision-maker disclosed (`cofi.declarations.DISCLOSURES`; '' in a finding kept
    from before declarations were read)."""
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    FIELDS = (
        "finding_id",
        "contract_id",
        "signed_on",
        "value",
        "currency",
        "decision_maker_id",
        "decision_role",
        "winner_id",
        "pattern",
        "hops",
        "score",
        "match_confidence",
        "disclosure",
        "severity",
        "status",
        "note",
        "explanation",
        "path",
    )

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.FIELDS}

    @classmethod
    def from_dict(cls, data: dict[str, Any], signature: str) -> Finding:
        # (kept by a cofi from before `cofi match`, or before declarations)
        data = {"match_confidence": 1.0, "disclosure": "", **data}
        return cls(**{k: data[k] for k in cls.FIELDS}, signature=signature)


def decision_makers(g: Graph, contract: ContractRow) -> list[tuple[str, str, int]]:
    """(record id, role, node) of everyone who decided `contract`, one per entity.

    The `DECIDED` persons, then the buyer's `head` in post on the signing date itself.  A person
    named twice (two roles, or two merged records) is listed once: under the smallest record id
    among the DECIDED links, else among the head links.
    """
    out: dict[int, tuple[str, str, int]] = {}
    at = contract.signed_on
    recused = {g.canonical_of(r.person_id) for r in recusals(g, contract)}
    for record, role in sorted(g.deciders_of(contract.id)):
        node = g.node_of(record)
        if node is not None and node not in out and g.canonical_of(record) not in recused:
            out[node] = (record, role or "decision-maker", node)
    for head in sorted(g.heads.get(g.canonical_of(contract.buyer_id), ())):
        if (head.since and head.since > at) or (head.until and head.until < at):
            continue
        node = g.node_of(head.record)
        if node is not None and node not in out and g.canonical_of(head.record) not in recused:
            out[node] = (head.record, "head", node)
    return list(out.values())


def recusals(g: Graph, contract: ContractRow) -> list[Declaration]:
    """The recusals from `contract` dated on or before its signing: each removes its person (any
    record of that entity) from the contract's decision-makers, whatever the links say."""
    return sorted(
        (d for d in g.declared.notes(contract.id)
         if d.type == "recusal" and d.declared_on <= contract.signed_on),
        key=lambda d: (d.declared_on, d.person_id),
    )  # fmt: skip


def recusal_lines(g: Graph, contract: ContractRow) -> list[str]:
    """What `cofi check` says of the recusals from `contract`: who withdrew and when, and
    which recusals came after the signing and so changed nothing."""
    out = []
    for d in sorted(g.declared.notes(contract.id), key=lambda d: (d.declared_on, d.person_id)):
        if d.type != "recusal":
            continue
        rec = g.rec_index.get(d.person_id)
        who = f"{g.rec_name[rec]} [{d.person_id}]" if rec is not None else d.person_id
        ref = f" ({d.source_ref})" if d.source_ref else ""
        if d.declared_on <= contract.signed_on:
            out.append(f"recused: {who} withdrew from deciding on {d.declared_on}{ref}: "
                       "not a decision-maker")  # fmt: skip
        else:
            out.append(f"recusal not counted: {who} withdrew on {d.declared_on}{ref}, after "
                       f"the signing on {contract.signed_on}")  # fmt: skip
    return out


@dataclass
class Disclosure:
    """What a decision-maker disclosed about a path to a contract's winner (DESIGN.md
    "Declarations and restrictions"): `kind` is one of `cofi.declarations.DISCLOSURES`, `on` the
    date of the notice or of the filing that declared (or, undeclared, of the filing in force:
    '' when none)."""

    kind: str
    on: str = ""

    @property
    def factor(self) -> float:
        return DISCLOSURE_FACTOR[self.kind]


class Disclosures:
    """The disclosures of one decision-maker's paths to one contract's winner."""

    def __init__(self, g: Graph, contract: ContractRow, decider: str) -> None:
        self.g, self.at = g, contract.signed_on
        self.records = g.records_of(decider)
        mine = set(self.records)
        notices = [d.declared_on for d in g.declared.notes(contract.id)
                   if d.type == "conflict_notice" and d.person_id in mine
                   and d.declared_on <= self.at]  # fmt: skip
        self.notice = min(notices, default="")
        self._filings: list[Declaration] | None = None

    @property
    def filings(self) -> list[Declaration]:
        if self._filings is None:
            self._filings = self.g.declared.filings(self.records)
        return self._filings

    def of(self, path: RelatedPath) -> Disclosure:
        g, at = self.g, self.at
        if self.notice:
            return Disclosure("notified", self.notice)
        e = path.halves[0] >> 1
        if g.e_type[e] in IDENTIFIER_EDGE:
            return Disclosure("not_declarable")
        subject = path.nodes[1]
        latest, named = in_force(self.filings, at)
        if any(g.node_of(s) == subject for s in named):
            return Disclosure("declared", latest)
        until = g.e_until[e]
        if until and until < at:  # ended by the signing: declared while it lasted is enough
            for s, day in named_between(self.filings, g.e_since[e], until).items():
                if g.node_of(s) == subject:
                    return Disclosure("declared", day)
        return Disclosure("undeclared", latest)


def check_contract(search: PathSearch, contract_id: str) -> list[Finding]:
    """Every finding of one contract (decision-makers in the order `decision_makers` gives)."""
    g = search.g
    contract = g.contracts[contract_id]
    winner = g.node_of(contract.supplier_id)
    deciders = decision_makers(g, contract)
    if winner is None or not deciders:
        return []
    # most commission members cannot reach the winner on any date: their undated balls (kept
    # from contract to contract) rule them out before the winner's ball on the date is walked
    near = search.may_reach([node for _, _, node in deciders], winner)
    deciders = [d for d, ok in zip(deciders, near, strict=True) if ok]
    if not deciders:
        return []
    at = contract.signed_on
    ok = search.in_force(at)
    ball = search.target_ball(winner, ok)
    out = []
    for record, role, node in deciders:
        if search.apart(node, ball):
            continue
        paths = search.shortest(node, winner, ok, ball)
        if paths:
            told = Disclosures(g, contract, record)
            best = best_path(g, paths, at, contract.value, (record, contract.supplier_id), told)
            out.append(make_finding(g, contract, record, role, best, told))
    return out


def make_finding(
    g: Graph, contract: ContractRow, decider: str, role: str, path: RelatedPath,
    disclosures: Disclosures | None = None,
) -> Finding:  # fmt: skip
    at = contract.signed_on
    crossed = crossings(g, path, decider, contract.supplier_id)
    confidence = round(match_confidence(crossed), 4)
    told = (disclosures or Disclosures(g, contract, decider)).of(path)
    s = round(score(g, path, at, contract.value) * confidence * told.factor, 4)
    return Finding(
        finding_id=finding_id(contract.id, decider, contract.supplier_id),
        contract_id=contract.id,
        signed_on=at,
        value=contract.value,
        currency=contract.currency,
        decision_maker_id=decider,
        decision_role=role,
        winner_id=contract.supplier_id,
        pattern=pattern(g, path, at),
        hops=path.hops,
        score=s,
        severity=severity(s),
        path=path_json(g, path, decider, contract.supplier_id),
        explanation=explain(g, path, at, subject_label(g, contract, role), contract, crossed)
        + disclosed(g, path, decider, told),
        signature=path_signature(g, path),
        match_confidence=confidence,
        disclosure=told.kind,
    )


def path_json(g: Graph, path: RelatedPath, first: str, last: str) -> list[dict[str, Any]]:
    """Node and edge objects alternating, from the decision-maker to the winner."""
    out: list[dict[str, Any]] = []
    for i, node in enumerate(path.nodes):
        if i == 0 or i == len(path.nodes) - 1:
            record = first if i == 0 else last
            rec = g.rec_index[record]
            out.append({"id": record, "kind": g.rec_kind[rec].value, "name": g.rec_name[rec]})
        else:
            out.append({"id": g.node_id(node), "kind": g.node_kind[node].value,
                        "name": g.node_name(node)})  # fmt: skip
        if i < len(path.halves):
            out.append(edge_json(g, path.halves[i]))
    return out


def edge_json(g: Graph, half: int) -> dict[str, Any]:
    e = half >> 1
    source, target, type_, role, since = edge_key(g, half)
    share = g.e_share[e]
    return {
        "type": type_,
        "role": role or None,
        "share": None if share < 0 else share,
        "since": since or None,
        "until": g.e_until[e] or None,
        "source": source,
        "target": target,
    }


def subject_label(g: Graph, contract: ContractRow, role: str) -> str:
    if role == "head":
        buyer = g.rec_index.get(contract.buyer_id)
        agency = g.rec_name[buyer] if buyer is not None else contract.buyer_id
        return f"Head of {agency}"
    words = role.replace("_", " ").strip()
    return (words[:1].upper() + words[1:]) if words else "Decision-maker"


def money(value: float | None, currency: str) -> str:
    if value is None:
        return ""
    text = f"{value:,.0f}" if value == int(value) else f"{value:,.2f}"
    return f"{text} {currency}".strip()


def explain(
    g: Graph, path: RelatedPath, at: str | None, label: str, contract: ContractRow | None = None,
    crossed: Sequence[Crossing] = (),
) -> str:  # fmt: skip
    """One sentence, read aloud from the first node of `path` to the last; a node the path
    crosses by a `cofi match` link is named "X, probably the same person as Y (reasons)"."""
    nodes, halves = path.nodes, path.halves
    said = {c.position: _probably(g, c) for c in crossed}

    def name(i: int) -> str:
        return said.get(i) or g.node_name(nodes[i])

    text = f"{label} {name(0)}".strip()
    after_object = 0 in said  # True when the last name was the object of a verb (or said more)
    i = 0
    while i < len(halves):
        here, there = nodes[i], nodes[i + 1]
        e = halves[i] >> 1
        code = g.e_type[e]
        if code in _RELATION:
            rel, target, used = _relation(g, path, i, name)
            text += (", whose " if after_object else "'s ") + f"{rel} {target}"
            after_object = i + used in said
            i += used
            continue
        # (the subject said twice goes on with its verb: "X, probably the same person as Y
        # (…), directs")
        lead = "," if i == 0 and 0 in said else _lead(g, here) if after_object else ""
        if code in IDENTIFIER_EDGE:
            what = _TYPE[code].noun
            text += f"{lead} shares {what} “{g.node_name(there)}” with {name(i + 2)}"
            i += 2
        else:
            text += f"{lead} {_verb(g, halves[i], at, name(i + 1))}"
            i += 1
        after_object = True
    if contract is not None:
        amount = money(contract.value, contract.currency)
        amount = f" ({amount})" if amount else ""
        text += (", which" if after_object else "") + f" won contract {contract.id}{amount}"
        text += f" signed on {contract.signed_on}"
    return text


def disclosed(g: Graph, path: RelatedPath, decider: str, told: Disclosure) -> str:
    """The clause the explanation ends with: what the decision-maker declared or notified."""
    if told.kind == "not_declarable" or (
        told.kind == "undeclared" and not g.declared.has_filings()
    ):
        return ""  # (a store without declarations: nothing to say of them)
    who = g.rec_name[g.rec_index[decider]]
    if told.kind == "notified":
        return f"; {who} notified the conflict on {told.on} and still took part in the decision"
    half = path.halves[0]
    code = g.e_type[half >> 1]
    there = g.node_name(path.nodes[1])
    if code == FAMILY:
        pronoun = {"m": "his ", "f": "her "}.get(kinship.gender(who) or "", "the ")
        what = f"{pronoun}{kinship.word(_family_role(g, half), there)} {there}"
    elif code in _RELATION:
        what = f"the {_TYPE[code].noun} {there}"
    else:
        what = f"{_TYPE[code].interest} {there}"
    if told.kind == "declared":
        return f"; {who} declared {what} on {told.on}"
    why = f"not in the declaration of {told.on}, in force then" if told.on else "none filed"
    return f"; {who} did not declare {what} ({why})"


def _lead(g: Graph, node: int) -> str:
    return ", who" if g.node_kind[node] is Kind.PERSON else ", which"


def _family_role(g: Graph, half: int) -> str:
    """The far person's role relative to the near one."""
    role = g.e_role[half >> 1]
    return role if half & 1 == 0 else kinship.inverse(role)


def _probably(g: Graph, c: Crossing) -> str:
    """ "X, probably the same person as Y (reasons)" for a node crossed by a match."""
    entry, leave = g.rec_index[c.entry], g.rec_index[c.exit]
    kind = g.rec_kind[entry].value
    why = "; ".join(c.reasons)
    return f"{g.rec_name[entry]}, probably the same {kind} as {g.rec_name[leave]} ({why})"


def _relation(
    g: Graph, path: RelatedPath, i: int, named: Callable[[int], str]
) -> tuple[str, str, int]:
    """(relationship words, the relative's name, edges used) for the person-person edge at i."""
    half = path.halves[i]
    name, plain = named(i + 1), g.node_name(path.nodes[i + 1])  # (kinship words read `plain`)
    if g.e_type[half >> 1] != FAMILY:  # (another relation: the type's own noun)
        return _TYPE[g.e_type[half >> 1]].noun, name, 1
    first = _family_role(g, half)
    if i + 1 < len(path.halves) and g.e_type[path.halves[i + 1] >> 1] == FAMILY:
        second = _family_role(g, path.halves[i + 1])
        composed = kinship.compose(first, second)
        if composed:
            final = g.node_name(path.nodes[i + 2])
            middle = f"{kinship.word(first, plain)} {name}'s {kinship.word(second, final)}"
            return kinship.word(composed, final), f"{named(i + 2)} ({middle})", 2
    return kinship.word(first, plain), name, 1


def _dates(since: str, until: str, ended: bool) -> str:
    if ended:
        return f" from {since} until {until}" if since else f" until {until}"
    if since and until:
        return f" (since {since}, until {until})"
    if since:
        return f" (since {since})"
    return f" (until {until})" if until else ""


def _verb(g: Graph, half: int, at: str | None, there: str) -> str:
    e = half >> 1
    code = g.e_type[e]
    forward = half & 1 == 0
    until = g.e_until[e]
    ended = bool(at and until and until < at)
    role = g.e_role[e].replace("_", " ").strip()
    share = g.e_share[e]
    pct = f"{share:g}%" if share >= 0 else ""
    said = (
        _TYPE[code]
        .verbs[(0 if forward else 2) + ended]
        .format(there=there, role=f" as {role}" if role else "")
    )  # the type's own words; OWNS with a share and DIRECTS with a title say more
    if code == _OWNS:
        through = indirect_through(g.e_role[e])
        adverb = "" if through is None else "indirectly "
        if not pct and not adverb:
            phrase = said
        elif forward:
            phrase = adverb + (
                (f"owned {pct} of {there}" if pct else f"held a stake in {there}")
                if ended
                else (f"owns {pct} of {there}" if pct else f"holds a stake in {there}")
            )
        else:
            how = f"{pct} owned" if pct else "partly owned"
            phrase = f"{'was' if ended else 'is'} {adverb}{how} by {there}"
        if through:
            dates = _dates(g.e_since[e], until, ended)
            inside = f"; {dates[2:]}" if dates.startswith(" (") else f"){dates}"
            return f"{phrase} (through {through}" + (inside if dates else ")")
    elif code == _DIRECTS:
        if role.casefold() in ("", "director"):
            phrase = said
        elif forward:
            phrase = f"{'was' if ended else 'is'} {role} of {there}"
        else:
            phrase = f"{'had' if ended else 'has'} {there} as {role}"
    else:  # EMPLOYED into a company, or any other type
        phrase = said
    return phrase + _dates(g.e_since[e], until, ended)


def winners_near(
    g: Graph, source: int, rules: Rules, at: str | None
) -> list[tuple[int, str, int, RelatedPath | None]]:
    """What `cofi links` lists: (hops, winner id, node, best path) for every contract winner
    with a valid path of at most max_hops from `source` (the source itself first when it won,
    with no path), nearest first."""
    search = PathSearch(g, rules)
    ok = search.in_force(at)
    reach = search.ball((source,), rules.max_hops, ok)
    rows: list[tuple[int, str, int, RelatedPath | None]] = []
    for node in sorted(n for n in reach if n in g.contracts_of):
        paths = [] if node == source else search.shortest(source, node, ok)
        if node != source and not paths:
            continue
        best = best_path(g, paths, at, None) if paths else None
        rows.append((best.hops if best else 0, g.node_id(node), node, best))
    return sorted(rows, key=lambda r: r[:2])
