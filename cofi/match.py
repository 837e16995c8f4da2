"""Entity resolution (`cofi match`): pairs of person or company records that nothing joins yet
and that are likely one real entity, each with a score and the reasons for it.  (Over 500
lines: profiles, comparisons, blocking and decisions are one model, tuned together.)

Names are compared as `normalize.search_key` folds them (case, diacritics, Cyrillic and Latin
scripts, the common transliteration variants), word by word in any order: equal words, or long
words one edit apart (rapidfuzz's Levenshtein; Jaro-Winkler only ranks which words to pair).  A
person's patronymic (Russian -ovna/-ovich, Kazakh -qyzy/-uly) and initials are set aside and
compared on their own.  The evidence is added up as log-odds
(Fellegi-Sunter with fixed weights, `WEIGHTS`) from a low prior, so that a score is the
probability the pair is one entity under those weights, and every weight that counted is one
reason in words.

Some evidence rules a pair out whatever else agrees: a different birth date (from the field or
from an IIN), a different patronymic (another father), a different valid IIN/BIN or register
id, the other sex (a surname's or
patronymic's form, or an IIN's sex digit: Садықов is not Садықова), different numbers in a
company's name.

Blocking keeps the pairs few: two records are compared only when they share a block key, made
from their rarest name words (and, for people, the birth date); a key held by more than
`MAX_BLOCK` records says nothing and is dropped.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import combinations
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rapidfuzz.distance import JaroWinkler, Levenshtein

from cofi.normalize import normalize_contact, normalize_text, search_key, valid_iin_bin
from cofi.vocab import Kind

if TYPE_CHECKING:
    from cofi.store.base import MatchDecision, Store

SAME_AT = 0.9
"""Default accept threshold: a candidate scoring at least this is `same`."""
MIN_SCORE = 0.5
"""Default review threshold: candidates below it are not listed."""
MAX_BLOCK = 400
"""A block key shared by more records than this (a common name on a common birth date) is
dropped: every pair in it would be compared."""

PRIOR = -4.0
"""The log-odds of two records compared being one entity before any evidence (about 1.8%)."""
COUNTERPART_SHARE = 0.01
"""With the population known (`Population`): the share of people with a record of themselves in
another source.  Two people born the same day with the same full name, borne by k people of N,
are then one person with log-odds ln(share × 0.9 × 0.95 × BIRTH_DATES / k) (Fellegi–Sunter with
term frequencies: m = 0.9 and u = k/N for the name, m = 0.95 and u = 1/BIRTH_DATES for the date,
prior share/N)."""
BIRTH_DATES = 25_000
"""The days a population's birth dates spread over (about seventy years)."""
WEIGHTS = {
    "same name": 5.0,
    "similar name": 1.0,
    "same birth date": 5.0,
    "IIN encodes the birth date": 2.0,
    "same patronymic": 1.0,
    "initials agree": 0.5,
    "shared address": 2.0,
    "shared phone": 3.0,
    "shared email": 4.0,
    "same legal form": 1.0,
    "different legal form": -2.0,
}
"""The log-odds each piece of evidence adds (README: 'cofi match')."""

CLOSE_LENGTH = 6
"""Two name words this long or longer one edit apart (Levenshtein) are close spellings of one
word (a typo, a transliteration `search_key` does not fold); shorter ones must be equal
(Галия is not Галина)."""

_PATRONYMIC = re.compile(r"^(\w{2,}?)(ovna|evna|ichna|ovich|evich|ovic|evic|ich|kizi|uli)$")
_PATRONYMIC_WORD = {"kizi": "f", "uli": "m"}  # Kazakh written apart: "Нұрлан қызы"
_FEMALE_SURNAME = re.compile(r"(ov|ev|in|sk)(a|aia)$")
_MALE_SURNAME = re.compile(r"(ov|ev|in|skii|ski)$")
_LEGAL_FORMS = {
    "llp": ("to", "too", "jshs", "lp", "lc", "o", "tov", "gmbh", "ltd"),
    "jsc": ("ao", "ak", "jsc", "ajk", "pao", "oao", "zao", "plc"),
    "ie": ("ip", "jk", "ie", "chp", "ип", "жк"),
}
_FORM_OF = {word: form for form, words in _LEGAL_FORMS.items() for word in words}
_QUOTED = re.compile('[«"“„](.*?)[»"”“]')
_SIGNS = re.compile("[ьЬъЪ'\u2019\u02bc`]")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")


def match_id(a: str, b: str) -> str:
    """The stable id of the pair (a, b): the same whichever side is named first."""
    left, right = sorted((a, b))
    return "m" + hashlib.sha256(f"{left}\x1f{right}".encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Candidate:
    """A candidate pair as `cofi match` lists it (DESIGN.md, "Entity resolution")."""

    match_id: str
    left_id: str
    right_id: str
    kind: str
    score: float
    verdict: str
    reasons: tuple[str, ...]
    left_name: str = ""
    right_name: str = ""

    FIELDS = ("match_id", "left_id", "right_id", "kind", "score", "verdict", "reasons",
              "left_name", "right_name")  # fmt: skip

    def as_dict(self) -> dict[str, Any]:
        out = {name: getattr(self, name) for name in self.FIELDS}
        out["reasons"] = list(self.reasons)
        return out


@dataclass(slots=True)
class _Name:
    """One written name of a record, folded: its words, patronymic stem, initials, sex."""

    words: list[str]
    patronymic: str = ""
    initials: str = ""
    sex: str = ""
    cyrillic: bool = False


@dataclass(slots=True)
class _Record:
    id: str
    name: str
    names: list[_Name]
    birth: str = ""
    iin: str = ""
    iin_birth: str = ""
    iin_sex: str = ""
    registry: str = ""
    contacts: frozenset[str] = field(default_factory=frozenset)
    numbers: frozenset[str] = field(default_factory=frozenset)
    form: str = ""


def _words(text: str) -> list[str]:
    """A name's words as `search_key` folds them, without soft and hard signs and apostrophes
    (Ильина, Il'ina, Ilina: one word, not two), and Kazakh ң written "ng" or "n" alike."""
    return [w for word in text.split() for w in _fold(word)]


@lru_cache(maxsize=1 << 18)  # (a population shares its names' words)
def _fold(word: str) -> tuple[str, ...]:
    return tuple(w.replace("ng", "n") for w in search_key(_SIGNS.sub("", word)).split())


def _person_name(text: str) -> _Name:
    words = _words(text)
    name = _Name([], cyrillic=bool(_CYRILLIC.search(text)))
    # a patronymic's form is a surname's too (Ернарұлы Ерлан, Petrovich): one of three words
    three = sum(len(w) > 1 for w in words) >= 3
    for i, w in enumerate(words):
        m = _PATRONYMIC.match(w) if three else None
        if m and i > 0:
            name.patronymic = m.group(1)
            name.sex = "f" if m.group(2) in ("ovna", "evna", "ichna", "kizi") else "m"
        elif w in _PATRONYMIC_WORD and name.words:
            name.patronymic = name.words.pop()
            name.sex = _PATRONYMIC_WORD[w]
        elif len(w) == 1 and w.isalpha():
            name.initials += w
        else:
            name.words.append(w)
    return name


def _company_name(text: str) -> tuple[_Name, str, frozenset[str]]:
    """A company's name words without its legal form, the form's class, and the numbers in the
    name.  The form is the last word outside the quoted name, else the first (LLP and JSC are
    written after the name, ТОО and АО before it); a word inside quotes is always a name word
    (the Kazakh word ақ, "white", is also the legal form АҚ)."""
    quoted = _QUOTED.search(text)
    if quoted:
        parts = [text[: quoted.start()], quoted.group(1), text[quoted.end() :]]
    else:
        parts = [text, "", ""]
    before, inside, after = (normalize_text(p).split() for p in parts)
    form = ""
    for words, at in ((after, -1), (before, -1), (before, 0)):
        if words and (found := _form(words[at])):
            form = found
            del words[at]
            break
    kept = [w for word in (*before, *inside, *after) for w in _fold(word)]
    numbers = frozenset(w for w in kept if w.isdigit())
    return _Name(kept, cyrillic=bool(_CYRILLIC.search(text))), form, numbers


def _form(word: str) -> str:
    """The class of a legal form's abbreviation, or ''."""
    return _FORM_OF.get(word) or _FORM_OF.get(" ".join(_fold(word)), "")  # ("ie" folds as a name)


def _iin_birth(iin: str) -> tuple[str, str]:
    """The birth date and sex a valid IIN encodes (YYMMDD, then the century-and-sex digit)."""
    century = {"1": 1800, "2": 1800, "3": 1900, "4": 1900, "5": 2000, "6": 2000}.get(iin[6])
    if century is None:
        return "", ""
    return (
        f"{century + int(iin[:2]):04d}-{iin[2:4]}-{iin[4:6]}",
        "m" if iin[6] in "135" else "f",
    )


def profile(kind: Kind, rec_id: str, name: str, props: dict[str, Any]) -> _Record:
    """A record as the comparison reads it."""
    contacts = frozenset(
        f"{k.value}\x1e{key}"
        for k in (Kind.ADDRESS, Kind.PHONE, Kind.EMAIL)
        if props.get(k.value) and (key := normalize_contact(k, str(props[k.value])))
    )
    if kind is Kind.PERSON:
        names = [_person_name(n) for n in [name, *props.get("aliases", [])]]
        rec = _Record(rec_id, name, names, birth=props.get("birth_date", ""), contacts=contacts)
        iin = str(props.get("iin", ""))
        if valid_iin_bin(iin):
            rec.iin = iin
            rec.iin_birth, rec.iin_sex = _iin_birth(iin)
        return rec
    folded, form, numbers = _company_name(name)
    others = [_company_name(a)[0] for a in props.get("aliases", [])]
    rec = _Record(rec_id, name, [folded, *others], contacts=contacts, numbers=numbers, form=form)
    bin_ = str(props.get("bin", ""))
    rec.iin = bin_ if valid_iin_bin(bin_) else ""
    rec.registry = str(props.get("registry_id", ""))
    return rec


def _surname_sex(word: str) -> str:
    if _FEMALE_SURNAME.search(word):
        return "f"
    if _MALE_SURNAME.search(word):
        return "m"
    return ""


def _word_level(x: str, y: str) -> int:
    """2: one word (equal once folded); 1: close spellings (`CLOSE_LENGTH`); 0: other words."""
    if x == y:
        return 2
    if min(len(x), len(y)) >= CLOSE_LENGTH and Levenshtein.distance(x, y, score_cutoff=1) <= 1:
        return 1
    return 0


def _align(a: list[str], b: list[str]) -> tuple[list[tuple[str, str, int]], bool]:
    """Each word of the shorter name with the unused word of the other that is most like it,
    best pairs first (names in any order), with its `_word_level`; and whether the pairs keep
    both names' word order."""
    short, long_ = (b, a) if len(a) > len(b) else (a, b)
    scored = sorted(
        (
            (_word_level(x, y), JaroWinkler.similarity(x, y), i, j)
            for i, x in enumerate(short)
            for j, y in enumerate(long_)
        ),
        reverse=True,
    )
    used_i: set[int] = set()
    used_j: set[int] = set()
    pairs = []
    for level, _, i, j in scored:
        if i not in used_i and j not in used_j:
            used_i.add(i)
            used_j.add(j)
            pairs.append((i, j, level))
    pairs.sort()
    in_order = [j for _, j, _ in pairs] == sorted(j for _, j, _ in pairs)
    return [(short[i], long_[j], level) for i, j, level in pairs], in_order


def _sex_apart(pairs: list[tuple[str, str, int]]) -> bool:
    """Whether two aligned words are one surname in its male and its female form."""
    for x, y, _ in pairs:
        sx, sy = _surname_sex(x), _surname_sex(y)
        if sx and sy and sx != sy:
            short, long_ = sorted((x, y), key=len)
            if long_.startswith(short[:-1]):
                return True
    return False


def _compare_names(a: _Name, b: _Name, person: bool) -> tuple[float, list[str]] | None:
    """The name evidence of two written names (log-odds and reasons), or None when they
    cannot be one entity's."""
    if not a.words or not b.words:
        return None
    if not person and len(a.words) != len(b.words):
        return None
    pairs, in_order = _align(a.words, b.words)
    if person and _sex_apart(pairs):
        return None
    worst = min(level for _, _, level in pairs)
    if worst == 0:
        return None
    unmatched = abs(len(a.words) - len(b.words))
    fewer = a if len(a.words) <= len(b.words) else b
    if person and len(pairs) < 2 and unmatched and not fewer.initials:
        return None  # one word against two or more, and no initials for the rest
    across = " across scripts" if a.cyrillic != b.cyrillic else ""
    key = "same name" if worst == 2 and not unmatched else "similar name"
    weight, reasons = WEIGHTS[key], [key + across]
    if not in_order:
        reasons[-1] += ", words in another order"
    if person:
        if a.patronymic and b.patronymic:
            if not _word_level(a.patronymic, b.patronymic):
                return None  # another father
            weight += WEIGHTS["same patronymic"]
            reasons.append("same patronymic")
        elif a.patronymic or b.patronymic:
            reasons.append("patronymic missing on one side")
        if a.initials or b.initials:
            if not _initials_agree(a, b):
                return None
            weight += WEIGHTS["initials agree"]
            reasons.append("initials agree")
    return weight, reasons


_ALIKE = {"z": "j", "j": "z", "k": "h", "h": "k", "t": "c", "c": "t", "y": "ei", "e": "iy",
          "i": "ey"}  # fmt: skip
"""An initial as one transliteration writes it and the folded word's first letter (Zh. / Жанна
folded `jana`, Kh. / `hasen`, Ts. / `coi`, Ye. / `erlan`)."""


def _initials_agree(a: _Name, b: _Name) -> bool:
    """Every initial of one name is the first letter of a word (or the patronymic) of the
    other, each used once."""
    for mine, other in ((a, b), (b, a)):
        firsts = [w[0] for w in other.words] + ([other.patronymic[0]] if other.patronymic else [])
        firsts += list(other.initials)
        for letter in mine.initials:
            alike = next((f for f in firsts if f == letter or f in _ALIKE.get(letter, "")), None)
            if alike is None:
                return False
            firsts.remove(alike)
    return True


@dataclass(frozen=True)
class Population:
    """How many of the people compared bear each full name (`name_key`)."""

    names: Counter[str]


def name_key(name: _Name) -> str:
    """A full name as `Population` counts it: its words in any order, and the patronymic."""
    return " ".join(sorted(name.words)) + "|" + name.patronymic


def compare(
    kind: Kind, a: _Record, b: _Record, population: Population | None = None
) -> tuple[float, list[str]] | None:
    """The score and reasons of the pair (a, b), or None when the evidence rules it out.  With
    the `population`, one name and one birth date weigh what they say among its people
    (`COUNTERPART_SHARE`): a name many bear says less."""
    if a.iin and b.iin and a.iin != b.iin:
        return None  # different valid IIN/BIN
    if a.registry and b.registry and a.registry != b.registry:
        return None
    best: tuple[float, list[str]] | None = None
    for x in a.names:
        for y in b.names:
            got = _compare_names(x, y, kind is Kind.PERSON)
            if got is not None and (best is None or got[0] > best[0]):
                best = got
    if best is None:
        return None
    weight, reasons = best[0], list(best[1])
    if kind is Kind.PERSON:
        birth_a, birth_b = a.birth or a.iin_birth, b.birth or b.iin_birth
        if birth_a and birth_b:
            if birth_a != birth_b:
                return None  # a namesake
            weight += WEIGHTS["same birth date"]
            reasons.append("same birth date")
            if population is not None and reasons[0].startswith("same name"):
                bearers = max(population.names[name_key(a.names[0])],
                              population.names[name_key(b.names[0])], 1)  # fmt: skip
                told = math.log(COUNTERPART_SHARE * 0.9 * 0.95 * BIRTH_DATES / bearers)
                weight += told - (PRIOR + WEIGHTS["same name"] + WEIGHTS["same birth date"])
                if "same patronymic" in reasons:  # (counted in the name already)
                    weight -= WEIGHTS["same patronymic"]
                if bearers > 2:
                    reasons.append(f"a name {bearers} people bear")
            if (a.iin_birth and not a.birth and b.birth) or (
                b.iin_birth and not b.birth and a.birth
            ):
                weight += WEIGHTS["IIN encodes the birth date"]
                reasons.append("IIN on one side encodes the other's birth date")
        elif birth_a or birth_b:
            reasons.append("birth date missing on one side")
        if _sex_conflict(a, b):
            return None
    else:
        if a.numbers != b.numbers:
            return None
        if a.form and b.form:
            key = "same legal form" if a.form == b.form else "different legal form"
            weight += WEIGHTS[key]
            reasons.append(key)
    for contact in sorted(a.contacts & b.contacts):
        key = f"shared {contact.split(chr(30))[0]}"
        weight += WEIGHTS[key]
        reasons.append(key)
    return 1.0 / (1.0 + math.exp(-(PRIOR + weight))), reasons


def _sex_conflict(a: _Record, b: _Record) -> bool:
    """Whether the two records are of different sexes by what each says of itself: the IIN's
    sex digit, else the patronymic's form (a surname's form is compared word by word, in
    `_sex_apart`)."""

    def sex(r: _Record) -> str:
        return r.iin_sex or r.names[0].sex

    sa, sb = sex(a), sex(b)
    return bool(sa and sb and sa != sb)


def _block_keys(kind: Kind, rec: _Record, rare: Counter[str]) -> Iterator[tuple[str, ...]]:
    """The block keys of a record: its rarest name words (their first three letters), with
    the birth date for people."""
    for name in rec.names:
        words = sorted({w[:3] for w in name.words if len(w) > 1}, key=lambda w: (rare[w], w))
        if kind is Kind.PERSON:
            birth = rec.birth or rec.iin_birth
            if birth:
                for w in words[:2]:
                    yield ("d", birth, w)
            if len(words) >= 2:
                yield ("n", *sorted(words[:2]))
        else:
            full = sorted({w for w in name.words}, key=lambda w: (rare[w[:3]], w))
            if full:
                yield ("w", full[0])
            if len(words) >= 2:
                yield ("n", *sorted(words[:2]))


def _pairs(
    kind: Kind, records: list[_Record], blocks: dict[tuple[str, ...], list[int]]
) -> Iterator[tuple[int, int]]:
    """Each pair of records that share a block key, once.  In a name block of people only
    pairs with an undated side: two dated people meet in their birth date's blocks."""
    seen: set[int] = set()
    n = len(records)
    dated = [bool(r.birth or r.iin_birth) for r in records] if kind is Kind.PERSON else None
    for key, members in blocks.items():
        if len(members) < 2 or len(members) > MAX_BLOCK:
            continue
        if key[0] == "n" and dated is not None:
            loose = [m for m in members if not dated[m]]
            pairs: Iterable[tuple[int, int]] = (
                (min(u, m), max(u, m)) for u in loose for m in members if m != u
            )
        else:
            pairs = combinations(members, 2)  # (members are in record order: i < j)
        for i, j in pairs:
            code = i * n + j
            if code not in seen:
                seen.add(code)
                yield i, j


def candidates(
    kind: Kind,
    rows: Iterable[tuple[str, str, dict[str, Any]]],
    joined: dict[str, str],
    decided: set[str],
    min_score: float = MIN_SCORE,
    same_at: float = SAME_AT,
) -> list[Candidate]:
    """The candidate pairs among `rows` ((id, name, props) of records of `kind`) at or above
    `min_score`, best first.  `joined`: record id -> its entity's canonical id (records already
    one entity are never proposed); `decided`: match ids a reviewer has decided."""
    records = [profile(kind, i, n, p) for i, n, p in rows]
    population = None
    if kind is Kind.PERSON:
        population = Population(Counter(name_key(r.names[0]) for r in records))
    rare: Counter[str] = Counter()
    for rec in records:
        for name in rec.names:
            rare.update({w[:3] for w in name.words})
    blocks: dict[tuple[str, ...], list[int]] = {}
    for at, rec in enumerate(records):
        for key in dict.fromkeys(_block_keys(kind, rec, rare)):
            blocks.setdefault(key, []).append(at)
    out: list[Candidate] = []
    for i, j in _pairs(kind, records, blocks):
        a, b = records[i], records[j]
        if a.iin and b.iin and a.iin != b.iin:
            continue  # (the first rule of `compare`, here for speed: most pairs end at it)
        if joined.get(a.id, a.id) == joined.get(b.id, b.id):
            continue
        got = compare(kind, a, b, population)
        if got is None or got[0] < min_score:
            continue
        mid = match_id(a.id, b.id)
        if mid in decided:
            continue
        score, reasons = got
        left, right = (a, b) if a.id < b.id else (b, a)
        verdict = "same" if score >= same_at else "review"
        out.append(Candidate(mid, left.id, right.id, kind.value, round(score, 4), verdict,
                             tuple(reasons), left.name, right.name))  # fmt: skip
    out.sort(key=lambda c: (-c.score, c.match_id))
    return out


def propose(
    store: Store, kinds: Iterable[Kind], min_score: float = MIN_SCORE, same_at: float = SAME_AT
) -> list[Candidate]:
    """The candidate pairs of the store's records of `kinds`, best first; the store keeps them
    (`Store.remember_matches`) so that `decide` can name them by match id.  Pairs already one
    entity and pairs a reviewer decided are left out."""
    joined = store.canonical_ids()
    decided = set(store.match_decisions())
    out: list[Candidate] = []
    for kind in kinds:
        out += candidates(kind, store.match_rows(kind), joined, decided, min_score, same_at)
    out.sort(key=lambda c: (-c.score, c.match_id))
    store.remember_matches([(c.match_id, c.left_id, c.right_id) for c in out])
    return out


def decide(store: Store, match_id: str, verdict: str, note: str) -> MatchDecision:
    """Record a reviewer's `same` or `different` on a pair `propose` made.  `different` on two
    records that are one entity already is refused: cofi does not undo a link, so the decision
    would not keep them apart."""
    from cofi.errors import InvalidInput, NotFound

    pair = store.match_pair(match_id)
    if pair is None:
        raise NotFound(f"no match {match_id!r} was proposed (run `cofi match` first?)")
    if verdict == "different":
        joined = store.canonical_ids()
        if joined.get(pair.left_id, pair.left_id) == joined.get(pair.right_id, pair.right_id):
            raise InvalidInput(
                f"{match_id}: {pair.left_id} and {pair.right_id} are one entity already (a "
                "SAME_AS link or one IIN/BIN joins them), and cofi cannot undo a link; nothing "
                "was recorded"
            )
    return store.decide_match(match_id, verdict, note)


def same_as_link(
    match: str, left_id: str, right_id: str, score: float | None, reasons: Iterable[str] = ()
) -> dict[str, str]:
    """The SAME_AS link (a bundle's links.csv row) that joins a pair: `source_ref` says which
    match made it, with what score and why (`cofi.merge.confidence` and `match_reasons` read it
    back);
    `score` None for a reviewer's `same`."""
    ref = f"match:{match} " + (f"score={score:.4f}" if score is not None else "decided")
    words = ", ".join(reasons)
    if words:
        ref += f" ({words})"
    return {"source": left_id, "target": right_id, "type": "SAME_AS", "source_ref": ref}


def write_links(links: list[dict[str, str]], directory: Path) -> Path:
    """`links` (`same_as_link` rows) as a bundle in `directory`, to load as any bundle is."""
    import csv

    directory.mkdir(parents=True, exist_ok=True)
    with (directory / "links.csv").open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, ["source", "target", "type", "source_ref"])
        writer.writeheader()
        writer.writerows(links)
    return directory
