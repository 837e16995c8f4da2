"""`cofi synth --evaluate DIR`: sweep a synthetic bundle and measure it against its planted truth.

Per pattern: planted findings found (same contract, decision-maker, winner, pattern and hops) out
of planted; near misses flagged (any finding for a decoy's contract, decision-maker and winner);
and every other finding ("extra") checked by the brute-force reference (`cofi.reference`) on its
neighbourhood: *emergent-valid* when the reference finds the same hops and allows the pattern,
*wrong* otherwise.

(Just over 500 lines: findings, near misses, matches, disclosures and restrictions are scored
against one truth in one pass over one store.)
"""

from __future__ import annotations

import csv
import json
import tempfile
import time
from collections import Counter, defaultdict, deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cofi.detect import Rules
from cofi.findings import Finding
from cofi.loader import plan_load
from cofi.normalize import normalize_contact, valid_iin_bin
from cofi.reference import Bundle, canonical, reference
from cofi.store import open_store
from cofi.store.base import Store
from cofi.sweep import sweep
from cofi.vocab import BUNDLE_FILES, Kind

_IDENTS = ("address", "phone", "email")
_SHOWN = ("finding_id", "contract_id", "decision_maker_id", "winner_id", "pattern", "hops")
_STRONG = {"person": "iin", "company": "bin", "agency": "bin"}


@dataclass
class MatchScores:
    """`cofi match` on a synthetic bundle: its candidates against the pairs planted as one
    entity (`true`) and as must-stay-apart (`decoys`), then the findings planted behind a
    match, after joining every `same` pair (`--accept-above` at the accept threshold)."""

    candidates: int = 0
    same: int = 0
    true: int = 0
    true_same: int = 0
    true_listed: int = 0
    decoys: int = 0
    decoys_same: int = 0
    decoys_listed: int = 0
    behind: int = 0
    behind_found: int = 0
    decoys_flagged: int = 0
    """Near misses (`decoys.jsonl`) flagged once the `same` pairs are joined."""
    missed: list[dict[str, Any]] = field(default_factory=list)
    wrong: list[dict[str, Any]] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return self.true_same / self.same if self.same else 1.0

    def lines(self) -> Iterator[str]:
        def share(a: int, b: int) -> str:
            return f"{a} / {b}" + (f" = {a / b:.3f}" if b else "")

        yield (
            f"match: {self.candidates} candidates, {self.same} same; precision of same "
            f"{share(self.true_same, self.same)}"
        )
        yield f"match recall: same {share(self.true_same, self.true)}, same + review " + share(
            self.true_listed, self.true
        )
        yield (
            f"match decoys: same {self.decoys_same} / {self.decoys}, listed "
            f"{self.decoys_listed} / {self.decoys}"
        )
        behind = share(self.behind_found, self.behind)
        yield (
            f"after joining the same pairs: findings behind a match found {behind}, near misses "
            f"flagged {self.decoys_flagged}"
        )
        for m in self.missed:
            yield f"match missed: {json.dumps(m, ensure_ascii=False)}"
        for m in self.wrong:
            yield f"match wrong: {json.dumps(m, ensure_ascii=False)}"


@dataclass
class Evaluation:
    """What a sweep of a synthetic bundle found, against what was planted."""

    planted: Counter[str] = field(default_factory=Counter)
    found: Counter[str] = field(default_factory=Counter)
    missed: list[dict[str, Any]] = field(default_factory=list)
    decoys: Counter[str] = field(default_factory=Counter)
    flagged: list[dict[str, Any]] = field(default_factory=list)
    findings: int = 0
    emergent_valid: int = 0
    wrong: list[dict[str, Any]] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    every: set[tuple[str, str, str, str, int, float]] = field(default_factory=set)
    """Every finding of the sweep: contract, decision-maker, winner, pattern, hops, score."""
    matches: MatchScores | None = None
    """`cofi match` against the planted pairs (`matches.jsonl`), when the bundle has them."""
    disclosed: Counter[str] = field(default_factory=Counter)
    """Planted findings found with the disclosure the truth gives, by disclosure."""
    disclosure_wrong: list[dict[str, Any]] = field(default_factory=list)
    restrictions: RestrictionScores | None = None
    """`cofi restrictions --all` against `restrictions.jsonl`, when the bundle has it."""

    @property
    def perfect(self) -> bool:
        """100% of planted found, no decoy flagged, no wrong extra (and, with planted match
        pairs: no decoy pair `same`, every finding behind a match found)."""
        m = self.matches
        matched = m is None or (
            not m.decoys_same and m.behind_found == m.behind and not m.decoys_flagged
        )
        r = self.restrictions
        restricted = r is None or (r.found == r.planted and not r.flagged and not r.wrong)
        return (
            not self.missed and not self.flagged and not self.wrong and matched and restricted
            and not self.disclosure_wrong
        )  # fmt: skip

    def lines(self) -> Iterator[str]:
        for pattern in sorted(self.planted):
            yield f"{pattern:<16} planted found {self.found[pattern]} / {self.planted[pattern]}"
        flagged = Counter(d["near_miss"] for d in self.flagged)
        for near_miss in sorted(self.decoys):
            yield f"{near_miss:<26} decoys flagged {flagged[near_miss]} / {self.decoys[near_miss]}"
        extras = self.emergent_valid + len(self.wrong)
        yield (
            f"findings {self.findings}: planted {sum(self.found.values())}, extra {extras} "
            f"(emergent-valid {self.emergent_valid}, wrong {len(self.wrong)})"
        )
        for f in self.missed:
            yield f"missed: {json.dumps(f, ensure_ascii=False)}"
        for f in self.flagged:
            yield f"decoy flagged: {json.dumps(f, ensure_ascii=False)}"
        for f in self.wrong:
            yield f"wrong: {json.dumps(f, ensure_ascii=False)}"
        right = sum(self.disclosed.values())
        shown = ", ".join(f"{k} {v}" for k, v in sorted(self.disclosed.items()))
        yield f"disclosure right {right} / {right + len(self.disclosure_wrong)} ({shown})"
        for f in self.disclosure_wrong:
            yield f"wrong disclosure: {json.dumps(f, ensure_ascii=False)}"
        if self.restrictions is not None:
            yield from self.restrictions.lines()
        if self.matches is not None:
            yield from self.matches.lines()


def evaluate(
    bundle: Path,
    rules: Rules | None = None,
    workers: int | None = None,
    store_location: str | None = None,
) -> Evaluation:
    """Load `bundle` into a scratch embedded store (or the empty store at `store_location`, a
    Neo4j database say), sweep everything, compare with the truth."""
    rules = rules or Rules()
    out = Evaluation()
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="cofi-evaluate-") as tmp:
        store = open_store(store_location or str(Path(tmp) / "store"), create=True)
        try:
            with plan_load([bundle], store.kinds_of, links_into=store.link_target()) as plan:
                store.write(plan)
            out.seconds["load"] = time.perf_counter() - start
            start = time.perf_counter()
            findings = sweep(store, rules, everything=True, workers=workers).reported
            out.seconds["sweep"] = time.perf_counter() - start
            if (bundle / "restrictions.jsonl").exists():
                out.restrictions = _restrictions(store, bundle)
            if (bundle / "matches.jsonl").exists():
                start = time.perf_counter()
                out.matches = _matches(store, bundle, Path(tmp), rules, workers)
                out.seconds["match"] = time.perf_counter() - start
        finally:
            store.close()
    start = time.perf_counter()
    got = {(f.contract_id, f.decision_maker_id, f.winner_id): f for f in findings}
    out.findings = len(got)
    out.every = {(*key, f.pattern, f.hops, f.score) for key, f in got.items()}
    truth = list(_jsonl(bundle / "truth.jsonl"))
    for t in truth:
        key = (t["contract_id"], t["decision_maker_id"], t["winner_id"])
        out.planted[t["pattern"]] += 1
        f = got.get(key)
        if f is not None and f.pattern == t["pattern"] and f.hops == t["hops"]:
            out.found[t["pattern"]] += 1
            if "disclosure" in t and f.disclosure == t["disclosure"]:
                out.disclosed[f.disclosure] += 1
            elif "disclosure" in t:
                out.disclosure_wrong.append({**t, "found": f.disclosure})
        else:
            seen = {"pattern": f.pattern, "hops": f.hops} if f else None
            out.missed.append({**t, "found": seen})
    for d in _jsonl(bundle / "decoys.jsonl"):
        out.decoys[d["near_miss"]] += 1
        if (d["contract_id"], d["decision_maker_id"], d["winner_id"]) in got:
            out.flagged.append(d)
    planted = {(t["contract_id"], t["decision_maker_id"], t["winner_id"]) for t in truth}
    extras = [f for key, f in got.items() if key not in planted]
    if extras:
        world = _World(bundle)
        for f in extras:
            if world.confirms(f, rules):
                out.emergent_valid += 1
            else:
                out.wrong.append({k: getattr(f, k) for k in _SHOWN})
    out.seconds["compare"] = time.perf_counter() - start
    return out


@dataclass
class RestrictionScores:
    """Relatives in service: planted restrictions found, near misses listed, and every other
    restriction checked against the bundle's rows (`_serve_together`)."""

    planted: int = 0
    found: int = 0
    decoys: int = 0
    flagged: list[dict[str, Any]] = field(default_factory=list)
    extra_valid: int = 0
    wrong: list[dict[str, Any]] = field(default_factory=list)

    def lines(self) -> Iterator[str]:
        yield (
            f"restrictions planted found {self.found} / {self.planted}, near misses listed "
            f"{len(self.flagged)} / {self.decoys}, extra {self.extra_valid + len(self.wrong)} "
            f"(valid {self.extra_valid}, wrong {len(self.wrong)})"
        )
        for r in self.flagged:
            yield f"restriction near miss listed: {json.dumps(r, ensure_ascii=False)}"
        for r in self.wrong:
            yield f"wrong restriction: {json.dumps(r, ensure_ascii=False)}"


def _restrictions(store: Store, bundle: Path) -> RestrictionScores:
    from cofi.restrictions import restrictions

    out = RestrictionScores()
    got = {(r.agency_id, r.superior_id, r.relative_id): r for r in restrictions(store, None)}
    truth = list(_jsonl(bundle / "restrictions.jsonl"))
    for t in truth:
        key = (t["agency_id"], t["superior_id"], t["relative_id"])
        if t["planted"]:
            out.planted += 1
            out.found += key in got
        else:
            out.decoys += 1
            if key in got:
                out.flagged.append(t)
    known = {(t["agency_id"], t["superior_id"], t["relative_id"]) for t in truth}
    extras = [r for key, r in got.items() if key not in known]
    if extras:
        served = _serve_together(bundle)
        for r in extras:
            if (r.agency_id, r.superior_id, r.relative_id) in served:
                out.extra_valid += 1
            else:
                out.wrong.append({"restriction_id": r.restriction_id, "agency_id": r.agency_id,
                                  "superior_id": r.superior_id,
                                  "relative_id": r.relative_id})  # fmt: skip
    return out


def _serve_together(bundle: Path) -> set[tuple[str, str, str]]:
    """(agency, superior, relative) of every pair the bundle's rows show serving together: a
    direct FAMILY link of a close role, two EMPLOYED links into one agency that overlap, one of
    them as head or deputy head (a plain reading of the rule, without merges: a synthetic bundle
    has none)."""
    from cofi.restrictions import CLOSE_ROLES, SUPERIOR_ROLES

    jobs: dict[str, list[tuple[str, str, str, str]]] = defaultdict(list)
    kin: list[tuple[str, str, str, str]] = []
    agencies = set()
    with (bundle / "agencies.csv").open(encoding="utf-8", newline="") as fh:
        agencies = {row["id"] for row in csv.DictReader(fh)}
    with (bundle / "links.csv").open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            if row["type"] == "EMPLOYED" and row["target"] in agencies:
                jobs[row["source"]].append((row["target"], row["role"].strip().lower(),
                                            row["since"], row["until"]))  # fmt: skip
            elif row["type"] == "FAMILY" and row["role"] in CLOSE_ROLES:
                kin.append((row["source"], row["target"], row["since"], row["until"]))
    out = set()
    for a, b, k_since, k_until in kin:
        for agency, ra, sa, ua in jobs.get(a, ()):
            for other, rb, sb, ub in jobs.get(b, ()):
                if other != agency or (ra not in SUPERIOR_ROLES and rb not in SUPERIOR_ROLES):
                    continue
                since = max(sa, sb, k_since)
                ends = [u for u in (ua, ub, k_until) if u]
                if ends and min(ends) < since:
                    continue
                first = rb not in SUPERIOR_ROLES or (
                    ra in SUPERIOR_ROLES
                    and (SUPERIOR_ROLES.index(ra), a) < (SUPERIOR_ROLES.index(rb), b)
                )
                out.add((agency, a, b) if first else (agency, b, a))
    return out


def _matches(
    store: Store, bundle: Path, tmp: Path, rules: Rules, workers: int | None
) -> MatchScores:
    """`cofi match` on the loaded store against `matches.jsonl`; then every `same` pair joined
    and the contracts swept again for the findings planted behind a match."""
    from cofi.match import propose, same_as_link, write_links

    out = MatchScores()
    planted = list(_jsonl(bundle / "matches.jsonl"))
    found = propose(store, [Kind.PERSON, Kind.COMPANY])
    verdict = {frozenset((c.left_id, c.right_id)): c for c in found}
    out.candidates = len(found)
    out.same = sum(c.verdict == "same" for c in found)
    for p in planted:
        c = verdict.get(frozenset((p["left_id"], p["right_id"])))
        is_same = c is not None and c.verdict == "same"
        seen = {"score": c.score, "verdict": c.verdict, "reasons": c.reasons} if c else None
        if p["same"]:
            out.true += 1
            out.true_same += is_same
            out.true_listed += c is not None
            if not is_same:
                out.missed.append({**p, "candidate": seen})
        else:
            out.decoys += 1
            out.decoys_same += is_same
            out.decoys_listed += c is not None
            if is_same:
                out.wrong.append({**p, "candidate": seen})
    links = [same_as_link(c.match_id, c.left_id, c.right_id, c.score, c.reasons) for c in found
             if c.verdict == "same"]  # fmt: skip
    if links:
        with plan_load(
            [write_links(links, tmp / "accepted")], store.kinds_of, links_into=store.link_target()
        ) as plan:
            store.write(plan)
    got = {(f.contract_id, f.decision_maker_id, f.winner_id): f
           for f in sweep(store, rules, everything=True, workers=workers).reported}  # fmt: skip
    for p in planted:
        t = p.get("finding")
        if t is None:
            continue
        out.behind += 1
        f = got.get((t["contract_id"], t["decision_maker_id"], t["winner_id"]))
        if f is not None and f.pattern == t["pattern"] and f.hops == t["hops"]:
            out.behind_found += 1
        else:
            out.missed.append({**p, "found": f and {"pattern": f.pattern, "hops": f.hops}})
    for d in _jsonl(bundle / "decoys.jsonl"):
        if (d["contract_id"], d["decision_maker_id"], d["winner_id"]) in got:
            out.decoys_flagged += 1
            out.wrong.append({**d, "after": "joining the same pairs"})
    return out


def _jsonl(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)


class _World:
    """The whole bundle in memory, indexed for cutting out one finding's neighbourhood."""

    def __init__(self, bundle: Path) -> None:
        self.rows: dict[str, tuple[str, dict[str, str]]] = {}
        self.links: list[dict[str, str]] = []
        self.adjacent: dict[str, list[int]] = defaultdict(list)
        self.decided: dict[str, list[int]] = defaultdict(list)
        self.heads: dict[str, list[int]] = defaultdict(list)
        self.holders: dict[tuple[str, str], list[str]] = defaultdict(list)
        self.strong: dict[tuple[str, str], list[str]] = defaultdict(list)
        self.same: dict[str, list[str]] = defaultdict(list)
        self.idents: dict[str, list[tuple[str, str]]] = {}
        for name, kind in BUNDLE_FILES.items():
            path = bundle / name
            if not path.exists():
                continue
            with path.open(encoding="utf-8-sig", newline="") as fh:
                for row in csv.DictReader(fh):
                    row = {k: v for k, v in row.items() if v}
                    if kind == "link":
                        self._link(row)
                    elif kind != "declaration":  # (no part of a path)
                        self._entity(kind, row)
        self.twins: dict[str, list[str]] = defaultdict(list)  # one entity, no hop cost
        for eid, others in self.same.items():
            self.twins[eid] += others
        for group in self.strong.values():
            for eid in group if len(group) > 1 else ():
                self.twins[eid] += group

    def _entity(self, kind: str, row: dict[str, str]) -> None:
        self.rows[row["id"]] = (kind, row)
        keys = []
        for ident in _IDENTS:
            if row.get(ident) and kind != "agency":
                key = normalize_contact(Kind(ident), row[ident])
                if key:
                    keys.append((ident, key))
                    self.holders[(ident, key)].append(row["id"])
        if keys:
            self.idents[row["id"]] = keys
        strong = row.get(_STRONG.get(kind, ""), "")
        if strong and valid_iin_bin(strong):
            self.strong[(kind, strong)].append(row["id"])

    def _link(self, row: dict[str, str]) -> None:
        i = len(self.links)
        self.links.append(row)
        typ = row["type"]
        if typ == "DECIDED":
            self.decided[row["target"]].append(i)
        elif typ == "SAME_AS":
            self.same[row["source"]].append(row["target"])
            self.same[row["target"]].append(row["source"])
        elif typ == "EMPLOYED" and self.rows.get(row["target"], ("",))[0] == "agency":
            if row.get("role") == "head":
                self.heads[row["target"]].append(i)
        else:
            self.adjacent[row["source"]].append(i)
            self.adjacent[row["target"]].append(i)

    def ball(
        self, start: str, radius: int, hub_limit: int, toward: dict[str, int] | None = None
    ) -> dict[str, int]:
        """Entity id -> hops from `start`, within `radius` (twins free, identifiers 2 hops).

        A lower bound on any rule-abiding path: time and family rules are ignored here.  With
        `toward` (another ball's hops), only entities whose hops from both ends fit in `radius`
        are kept: every entity of a short enough path between the two starts, and no other.
        """

        def fits(eid: str, d: int) -> bool:
            bound = d if toward is None else d + toward.get(eid, radius + 1)
            return bound <= radius and d < dist.get(eid, radius + 1)

        dist = {start: 0}
        todo = deque([start])
        while todo:
            eid = todo.popleft()
            d = dist[eid]
            for twin in self.twins.get(eid, ()):
                if fits(twin, d):
                    dist[twin] = d
                    todo.appendleft(twin)
            if d == radius:
                continue
            for i in self.adjacent.get(eid, ()):
                link = self.links[i]
                other = link["target"] if link["source"] == eid else link["source"]
                if other in self.rows and fits(other, d + 1):
                    dist[other] = d + 1
                    todo.append(other)
            for key in self.idents.get(eid, ()) if d + 2 <= radius else ():
                holders = self.holders[key]
                for other in holders if len(holders) <= hub_limit else ():
                    if fits(other, d + 2):
                        dist[other] = d + 2
                        todo.append(other)
        return dist

    def confirms(self, f: Finding, rules: Rules) -> bool:
        """Whether the reference, on the finding's neighbourhood, finds it with the same hops.

        The neighbourhood is every entity on some path of at most `max_hops` between the
        decision-maker and the winner, with every holder of a hub value, so that hubs are hubs
        there as in the whole bundle.
        """
        _, contract = self.rows[f.contract_id]
        far = self.ball(f.winner_id, rules.max_hops, rules.hub_limit)
        ids = set(self.ball(f.decision_maker_id, rules.max_hops, rules.hub_limit, far))
        ids |= {contract["buyer_id"], contract["supplier_id"], f.decision_maker_id}
        heads = [self.links[i] for i in self.heads.get(contract["buyer_id"], ())]
        ids |= {h["source"] for h in heads}
        for eid in list(ids):
            for key in self.idents.get(eid, ()):
                if len(self.holders[key]) > rules.hub_limit:
                    ids.update(self.holders[key])
            ids.update(self.twins.get(eid, ()))
        sub: Bundle = {"person": [], "company": [], "agency": [], "contract": [dict(contract)]}
        for eid in ids:
            kind, row = self.rows[eid]
            sub[kind].append(row)
        links = {i for eid in ids for i in self.adjacent.get(eid, ())}
        sub["link"] = [
            self.links[i]
            for i in sorted(links)
            if self.links[i]["source"] in ids and self.links[i]["target"] in ids
        ]
        sub["link"] += [self.links[i] for i in self.decided[f.contract_id]]
        sub["link"] += heads
        for link in sub["link"]:
            for end in (link["source"], link["target"]):
                if end not in ids and end != f.contract_id:
                    kind, row = self.rows[end]
                    sub[kind].append(row)
                    ids.add(end)
        same = [
            {"source": a, "target": b, "type": "SAME_AS"}
            for a in ids
            for b in self.same.get(a, ())
            if b in ids
        ]
        sub["link"] += same
        want = reference(sub, rules, {f.contract_id})
        canon = canonical(sub)
        dm = canon.get(f.decision_maker_id, f.decision_maker_id)
        hit = want.get((f.contract_id, dm, f.winner_id))
        return hit is not None and hit[0] == f.hops and f.pattern in hit[1]
