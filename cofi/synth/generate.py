"""The synthetic population and its plants.

Noise, shaped like real registers: agencies with a head (and a predecessor), deputies and staff;
households of one to five people (spouses, children, siblings, some in-laws) sharing an address;
companies founded by people (shares, a director), holding chains one to four deep, nominee
directors who direct dozens of companies, mass-registration addresses shared by hundreds of
companies, jobs with start and end dates, associates; contracts over 2019-2025 with log-normal
values, each decided by a commission of 3-7 of the buyer's staff.

Plants, on fresh people and companies that no noise link touches (so nothing but the plant can
join a planted decision-maker to a planted winner): every pattern of DESIGN.md, each written to
`truth.jsonl` with its hops; and every near miss, written to `decoys.jsonl` with why it must not be
flagged.  Noise may still make real findings of its own ("emergent"); `evaluate` checks those
against the brute-force reference.

(Over 500 lines: one `_Population` draws the noise and every plant from one random stream, so
that a seed always gives the same bundle; cutting it in parts would cut that stream.)
"""

from __future__ import annotations

import csv
import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any, TextIO

from anyascii import anyascii
from faker import Faker

from cofi.model import V1_COLUMNS
from cofi.synth import kazakh
from cofi.synth.kazakh import CITIES, KazakhProvider, bin_, female_surname, iin
from cofi.vocab import BUNDLE_FILES, Kind


@dataclass(frozen=True)
class Scale:
    """How much to generate; `plants` is how many of each pattern and of each near miss."""

    agencies: int
    people: int
    companies: int
    contracts: int
    plants: int


SCALES: dict[str, Scale] = {
    "small": Scale(agencies=8, people=3_000, companies=1_200, contracts=1_500, plants=3),
    "medium": Scale(agencies=60, people=60_000, companies=30_000, contracts=30_000, plants=20),
    "large": Scale(agencies=1_000, people=666_000, companies=333_000, contracts=500_000,
                   plants=200),
    "xlarge": Scale(agencies=10_000, people=6_660_000, companies=3_330_000, contracts=5_000_000,
                    plants=2_000),
}  # fmt: skip

DECLARATION_CASES = (
    "declared_spouse", "incomplete_filing", "notice_without_recusal", "recusal_after_signing",
    "recused",
)  # fmt: skip
"""The plants of declarations, notices and recusals (each with its disclosure in the truth)."""
DECLARATION_NEAR_MISSES: dict[str, str] = {
    "recused": "the decision-maker directs the winner but recused before the signing",
}
RESTRICTION_CASES = ("head_and_child", "no_overlap", "other_agency")
"""Relatives in service: one restriction and two near misses (`restrictions.jsonl`)."""

PLANTED = (
    "SELF_DEALING", "REVOLVING_DOOR", "FAMILY", "ASSOCIATE", "SHARED_ADDRESS", "SHARED_CONTACT",
    "OWNERSHIP_CHAIN",
)  # fmt: skip
NEAR_MISSES: dict[str, str] = {
    "stake_sold_years_before": "the decision-maker sold the stake three years before signing, "
    "beyond the lookback",
    "link_starts_after_signing": "the spouse became director of the winner after the contract "
    "was signed",
    "relative_of_non_decider": "the winner is owned by the spouse of a colleague who was not on "
    "the commission",
    "co_worker": "the winner's director works at the buyer but was not on the commission; "
    "co-workers are not related parties",
    "one_hop_too_long": "the only path has five hops (max 4)",
    "three_family_hops": "the only path has three FAMILY links (max 2)",
    "hub_address": "the decision-maker and the winner share only a mass-registration address",
    "namesake": "the winner's owner has the decision-maker's name but is another person",
    "invalid_iin": "the winner's owner has the decision-maker's IIN, but it fails the checksum, so "
    "the two are not merged",
}

MATCH_PLANTS: dict[str, str] = {
    "official_as_director": "an official (Cyrillic name, IIN) directs the winner of a contract "
    "they decided, as a register writes the director: another spelling, no IIN, the same birth "
    "date",
    "company_two_spellings": "a company in the register and the same company in procurement "
    "data: its name transliterated, its legal form in English, no BIN, the same address",
}
"""Pairs of records that are one entity though nothing joins them (`matches.jsonl`, same=true);
the first also hides a conflict that only `cofi match` can reveal."""
MATCH_DECOYS: dict[str, str] = {
    "namesake_other_birth_date": "the same name, another birth date: another person",
    "spouse_same_stem": "the wife at the same address, born the same day (the hardest case): "
    "the surname's female form, another given name",
    "company_other_number": "the same words and legal form, another number in the name",
}
"""Pairs that must never be `same` (`matches.jsonl`, same=false)."""

_RUSSIAN = str.maketrans("әғқңөұүһіӘҒҚҢӨҰҮҺІ", "агкноуухиАГКНОУУХИ")
_FORMS_EN = {"ТОО": "LLP", "ЖШС": "LLP", "АО": "JSC", "ИП": "IE"}

START, END = date(2019, 1, 1), date(2025, 12, 31)
ADULT_BY = date(2007, 1, 1)
"""Every child of a household is born before this (an adult by the end of the contracts)."""
DEPARTMENTS = (
    "денсаулық сақтау басқармасы", "білім басқармасы", "құрылыс басқармасы",
    "жолаушылар көлігі және автомобиль жолдары басқармасы", "энергетика және тұрғын үй-коммуналдық "
    "шаруашылық басқармасы", "мәдениет басқармасы", "дене шынықтыру және спорт басқармасы",
    "ауыл шаруашылығы басқармасы", "жұмыспен қамту басқармасы", "қаржы басқармасы",
)  # fmt: skip
MINISTRIES = (
    "Денсаулық сақтау министрлігі", "Оқу-ағарту министрлігі", "Қаржы министрлігі",
    "Көлік министрлігі", "Энергетика министрлігі", "Ауыл шаруашылығы министрлігі",
    "Цифрлық даму, инновациялар және аэроғарыш өнеркәсібі министрлігі", "Ішкі істер министрлігі",
    "Төтенше жағдайлар министрлігі", "Мәдениет және ақпарат министрлігі",
)  # fmt: skip
COMPANY_WORDS = (
    "Құрылыс", "Сервис", "Трейд", "Инвест", "Строй", "Азия", "Дала", "Жол", "Медицина", "Техно",
    "Снаб", "Логистик", "Агро", "Энерго", "Проект", "Консалт", "Барыс", "Сұңқар", "Алтын", "Нұр",
    "Бірлік", "Береке", "Самұрық", "Тұлпар", "Ақ Жол", "Шаңырақ", "Көктем", "Астық", "Кен",
)  # fmt: skip
FORMS = ("ТОО", "ТОО", "ТОО", "АО", "ЖШС", "ИП")
PROCEDURES = ("open_tender", "request_for_quotations", "single_source", "auction")
JOBS = ("specialist", "manager", "accountant", "engineer", "lawyer", "driver", "economist")


def generate(out: Path, scale: Scale, seed: int = 1) -> dict[str, int]:
    """Write a bundle, `truth.jsonl` and `decoys.jsonl` to directory `out`; the row counts."""
    out.mkdir(parents=True, exist_ok=True)
    with _Writer(out) as w:
        _Population(w, scale, seed).make()
        return dict(w.counts)


class _Writer:
    """The bundle's CSV files and the two ground-truth files, written as rows are made."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.counts: dict[str, int] = {}
        self._files: list[TextIO] = []
        self._rows: dict[str, Callable[[list[Any]], Any]] = {}
        self._truths: dict[str, Callable[[str], int]] = {}
        self._names = {kind: name for name, kind in BUNDLE_FILES.items()}

    def __enter__(self) -> _Writer:
        for name, kind in BUNDLE_FILES.items():
            fh = (self.out / name).open("w", encoding="utf-8", newline="")
            self._files.append(fh)
            writer = csv.writer(fh)
            writer.writerow(V1_COLUMNS[kind])
            self._rows[kind] = writer.writerow
            self.counts[name] = 0
        for name in ("truth.jsonl", "decoys.jsonl", "matches.jsonl", "restrictions.jsonl"):
            fh = (self.out / name).open("w", encoding="utf-8")
            self._files.append(fh)
            self._truths[name] = fh.write
        return self

    def __exit__(self, *exc: object) -> None:
        for fh in self._files:
            fh.close()

    def row(self, kind: str, *cells: Any) -> None:
        self._rows[kind](list(cells))
        self.counts[self._names[kind]] += 1

    def truth(self, name: str, record: dict[str, Any]) -> None:
        self._truths[name](json.dumps(record, ensure_ascii=False) + "\n")
        self.counts[name] = self.counts.get(name, 0) + 1


def _day(d: date) -> str:
    return d.isoformat()


class _Population:
    def __init__(self, w: _Writer, scale: Scale, seed: int) -> None:
        self.w, self.scale = w, scale
        self.rng = random.Random(seed)
        fake = Faker("ru_RU")
        fake.seed_instance(seed)
        fake.add_provider(KazakhProvider)
        self.fake = fake
        # Name pools: most people get a pooled name (so real namesakes occur, as in a country).
        self.names = {
            female: [fake.kk_name(female) for _ in range(2_000)]
            + [
                f"{fake.last_name_female()} {fake.first_name_female()} {fake.middle_name_female()}"
                if female
                else f"{fake.last_name_male()} {fake.first_name_male()} {fake.middle_name_male()}"
                for _ in range(1_000)
            ]
            for female in (False, True)
        }
        self.n_people = self.n_companies = self.n_contracts = 0
        self.serials: dict[Any, int] = {}
        self.adults: list[str] = []
        self.staff: dict[str, list[str]] = {}
        self.heads: dict[str, tuple[str, date]] = {}
        self.addresses = [self._new_address() for _ in range(max(50, scale.companies // 2))]
        self.mass = [self._new_address() for _ in range(max(3, scale.companies // 2_000))]
        self.fresh_values = 0

    def _new_address(self) -> str:
        return kazakh.address(self.rng)

    def _fresh_address(self) -> str:
        self.fresh_values += 1
        return f"{self.rng.choice(CITIES)} қ., Жаңа шағын ауданы, {self.fresh_values}-үй"

    def _fresh_phone(self) -> str:
        self.fresh_values += 1
        n = f"{self.fresh_values:07d}"
        return f"+7 700 {n[:3]} {n[3:5]} {n[5:]}"

    def _phone(self) -> str:
        return kazakh.phone(self.rng)

    def _iin(self, born: date, female: bool) -> str:
        """A valid IIN no one else has: serials are counted per birth date and sex."""
        value = iin(born, female, self.serials.get((born, female), 0))
        self.serials[(born, female)] = int(value[7:11]) + 1
        return value

    def _bin(self, registered: date) -> str:
        """A valid BIN no one else has: serials are counted per registration month."""
        month = (registered.year, registered.month)
        value = bin_(registered, self.serials.get(month, 0))
        self.serials[month] = int(value[6:11]) + 1
        return value

    def _date(self, lo: date, hi: date) -> date:
        return lo + timedelta(days=self.rng.randrange(max(1, (hi - lo).days)))

    def person(
        self,
        female: bool | None = None,
        name: str | None = None,
        born: date | None = None,
        address: str = "",
        phone: str = "",
        iin_value: str | None = None,
    ) -> str:
        rng = self.rng
        pid = f"p{self.n_people}"
        self.n_people += 1
        if female is None:
            female = rng.random() < 0.5
        if name is None:
            name = rng.choice(self.names[female])
        born = born or self._date(date(1955, 1, 1), date(2000, 12, 31))
        if iin_value is None:
            iin_value = self._iin(born, female) if rng.random() < 0.97 else ""
        aliases = self.fake.kk_latin(name) if rng.random() < 0.05 else ""
        self.w.row(Kind.PERSON, pid, name, _day(born), iin_value, aliases, address, phone, "")
        return pid

    def company(
        self, founded: date | None = None, address: str = "", phone: str = "", name: str = "",
        bin_value: str | None = None,
    ) -> str:  # fmt: skip
        rng = self.rng
        cid = f"c{self.n_companies}"
        self.n_companies += 1
        founded = founded or self._date(date(1998, 1, 1), date(2018, 12, 31))
        name = name or f"{rng.choice(FORMS)} «{rng.choice(COMPANY_WORDS)} " \
            f"{rng.choice(COMPANY_WORDS)}-{self.n_companies}»"  # fmt: skip
        bin_value = self._bin(founded) if bin_value is None else bin_value
        self.w.row(Kind.COMPANY, cid, name, bin_value, _day(founded), "",
                   address, phone, "")  # fmt: skip
        return cid

    def link(
        self,
        source: str,
        target: str,
        type_: str,
        role: str = "",
        share: Any = "",
        since: date | None = None,
        until: date | None = None,
    ) -> None:
        self.w.row("link", source, target, type_, role, share, _day(since) if since else "",
                   _day(until) if until else "", "")  # fmt: skip

    def contract(self, agency: str, winner: str, signed: date, deciders: list[str]) -> str:
        rng = self.rng
        kid = f"k{self.n_contracts}"
        self.n_contracts += 1
        value = round(min(rng.lognormvariate(16, 1.6), 5e11), 2)
        self.w.row(Kind.CONTRACT, kid, agency, winner, _day(signed),
                   f"Сатып алу шарты № {self.n_contracts}", f"{value:.2f}", "KZT",
                   rng.choice(PROCEDURES))  # fmt: skip
        for i, person in enumerate(deciders):
            self.link(person, kid, "DECIDED", "chair" if i == 0 else "commission_member")
        return kid

    def make(self) -> None:
        self.make_agencies()
        self.make_households()
        self.make_staff()
        companies = self.make_companies()
        self.make_jobs(companies)
        self.make_contracts(companies)
        self.make_plants()
        self.make_match_plants()
        self.make_declaration_plants()

    def make_agencies(self) -> None:
        rng = self.rng
        self.agencies = [f"a{i}" for i in range(self.scale.agencies)]
        for i, aid in enumerate(self.agencies):
            if i < len(MINISTRIES):
                name = f"Қазақстан Республикасы {MINISTRIES[i]}"
            else:
                city = CITIES[i % len(CITIES)]
                name = f"{city} қаласының {DEPARTMENTS[(i // len(CITIES)) % len(DEPARTMENTS)]}"
                if i >= len(CITIES) * len(DEPARTMENTS):
                    name += f" № {i}"
            self.w.row(Kind.AGENCY, aid, name, self._bin(date(1997, 1 + i % 12, 1)),
                       rng.choice(self.addresses), "", "")  # fmt: skip

    def make_households(self) -> None:
        rng = self.rng
        target = self.scale.people
        while self.n_people < target:
            size = rng.choice((1, 2, 2, 3, 3, 3, 4, 4, 5))
            address = self._new_address()
            phone = self._phone if rng.random() < 0.4 else None
            husband_born = self._date(date(1950, 1, 1), date(1990, 12, 31))
            husband_name = rng.choice(self.names[False])
            surname = husband_name.partition(" ")[0]
            husband = self.person(False, husband_name, husband_born, address,
                                  phone() if phone else "")  # fmt: skip
            self.adults.append(husband)
            if size == 1:
                continue
            wife_name = rng.choice(self.names[True])
            if rng.random() < 0.6:  # she took his surname
                wife_name = f"{female_form(surname)} {wife_name.partition(' ')[2]}"
            wife_born = husband_born + timedelta(days=rng.randrange(-1500, 2500))
            wife = self.person(True, wife_name, wife_born, address)
            self.adults.append(wife)
            married = husband_born + timedelta(days=365 * rng.randrange(20, 32))
            self.link(husband, wife, "FAMILY", "spouse", since=married)
            children: list[str] = []
            for _ in range(size - 2):
                born = married + timedelta(days=rng.randrange(300, 365 * 15))
                if born >= ADULT_BY:  # (folded back over the years before: not one shared day)
                    born = ADULT_BY - timedelta(days=1 + (born - ADULT_BY).days % 2_556)
                female = rng.random() < 0.5
                given = rng.choice(self.names[female]).partition(" ")[2]
                name = f"{female_form(surname) if female else surname} {given}"
                home = address if rng.random() < 0.5 else self._new_address()
                child = self.person(female, name, born, home)
                self.link(husband, child, "FAMILY", "child")
                self.link(wife, child, "FAMILY", "child")
                for older in children:
                    self.link(older, child, "FAMILY", "sibling")
                children.append(child)
                if born < date(2000, 1, 1):
                    self.adults.append(child)
            if rng.random() < 0.05 and len(self.adults) > 10:  # an in-law across households
                # (the draw `rng.choice(self.adults[:-size])` makes, without copying the list:
                # a copy per in-law made the xlarge scale quadratic)
                in_law = self.adults[rng.randrange(len(self.adults) - size)]
                self.link(husband, in_law, "FAMILY", "sibling_in_law")

    def make_staff(self) -> None:
        rng = self.rng
        per_agency = max(8, self.scale.people * 3 // 100 // self.scale.agencies)
        pool = rng.sample(self.adults, min(len(self.adults), per_agency * self.scale.agencies))
        self.staffed: set[str] = set(pool)
        for i, aid in enumerate(self.agencies):
            people = pool[i * per_agency : (i + 1) * per_agency]
            handover = self._date(date(2020, 1, 1), date(2024, 1, 1))
            old_head, head = people[0], people[1]
            self.link(old_head, aid, "EMPLOYED", "head", since=date(2012, 3, 1),
                      until=handover - timedelta(days=1))  # fmt: skip
            self.link(head, aid, "EMPLOYED", "head", since=handover)
            self.heads[aid] = (head, handover)
            for deputy in people[2:4]:
                self.link(deputy, aid, "EMPLOYED", "deputy_head", since=date(2015, 1, 1))
            for person in people[4:]:
                self.link(person, aid, "EMPLOYED", "specialist",
                          since=self._date(date(2008, 1, 1), date(2018, 12, 31)))  # fmt: skip
            self.staff[aid] = people[1:]

    def make_companies(self) -> list[str]:
        rng = self.rng
        n = self.scale.companies
        nominees = rng.sample(self.adults, max(2, n // 1_500))
        # founders are a minority of the adults, several of whom own more than one company
        founders = rng.sample(self.adults, max(10, len(self.adults) // 3))
        companies: list[str] = []
        for _ in range(n):
            mass = rng.random() < 0.08
            address = rng.choice(self.mass) if mass else rng.choice(self.addresses)
            founded = self._date(date(1998, 1, 1), date(2018, 12, 31))
            cid = self.company(founded, address, self._phone() if rng.random() < 0.3 else "")
            owners = rng.sample(founders, rng.choice((1, 1, 1, 2, 3)))
            share = round(100 / len(owners), 2)
            for owner in owners:
                self.link(owner, cid, "OWNS", share=share, since=founded)
            if companies and rng.random() < 0.15:  # held by an earlier company: chains grow
                parent = companies[rng.randrange(max(0, len(companies) - 5_000), len(companies))]
                self.link(parent, cid, "OWNS", share=rng.choice((51, 75, 100)), since=founded)
            director = rng.choice(nominees) if mass or rng.random() < 0.05 else owners[0]
            self.link(director, cid, "DIRECTS", "director", since=founded)
            companies.append(cid)
        return companies

    def make_jobs(self, companies: list[str]) -> None:
        rng = self.rng
        for person in self.adults:
            if person in self.staffed:
                continue
            # a career: earlier jobs, all ended before 2017 (out of force for every contract)
            for _ in range(rng.choice((0, 1, 2, 3, 4))):
                began = self._date(date(1995, 1, 1), date(2014, 1, 1))
                ended = min(began + timedelta(days=rng.randrange(200, 2500)), date(2016, 12, 31))
                self.link(person, rng.choice(companies), "EMPLOYED", rng.choice(JOBS),
                          since=began, until=ended)  # fmt: skip
            if rng.random() < 0.6:
                continue
            for _ in range(rng.choice((1, 1, 1, 2))):
                since = self._date(date(2005, 1, 1), date(2024, 6, 1))
                until = (
                    since + timedelta(days=rng.randrange(200, 4000)) if rng.random() < 0.4 else None
                )
                self.link(person, rng.choice(companies), "EMPLOYED", rng.choice(JOBS), since=since,
                          until=until)  # fmt: skip
        for _ in range(self.scale.people // 40):
            a, b = rng.sample(self.adults, 2)
            self.link(a, b, "ASSOCIATE", since=self._date(date(2005, 1, 1), date(2022, 1, 1)))

    def make_contracts(self, companies: list[str]) -> None:
        rng = self.rng
        frequent = companies[: max(10, len(companies) // 20)]
        for _ in range(self.scale.contracts):
            aid = rng.choice(self.agencies)
            winner = rng.choice(frequent if rng.random() < 0.2 else companies)
            signed = self._date(START, END)
            commission = rng.sample(self.staff[aid], min(len(self.staff[aid]), rng.randrange(3, 8)))
            self.contract(aid, winner, signed, commission)

    def _setting(self, **who: Any) -> tuple[str, date, str, list[str]]:
        """An agency, a signing date after its head took office, a fresh decider on staff, and
        the commission (the decider first, then 2-4 of the agency's staff)."""
        rng = self.rng
        aid = rng.choice(self.agencies)
        signed = self._date(max(self.heads[aid][1], date(2021, 1, 1)) + timedelta(days=30), END)
        who.setdefault("born", self._date(date(1965, 1, 1), date(1992, 1, 1)))
        decider = self.person(**who)
        self.link(decider, aid, "EMPLOYED", "specialist", since=signed - timedelta(days=900))
        others = rng.sample(self.staff[aid], rng.randrange(2, 5))
        return aid, signed, decider, [decider, *others]

    def _truth(
        self, kid: str, dm: str, winner: str, pattern: str, hops: int, how: str,
        disclosure: str | None = None,
    ) -> None:  # fmt: skip
        if disclosure is None:  # nobody filed anything: what the path's first edge allows
            disclosure = "not_declarable" if pattern.startswith("SHARED_") else "undeclared"
        self.w.truth("truth.jsonl", {"contract_id": kid, "decision_maker_id": dm,
                                     "winner_id": winner, "pattern": pattern, "hops": hops,
                                     "how": how, "disclosure": disclosure})  # fmt: skip

    def _decoy(self, kid: str, dm: str, winner: str, near_miss: str) -> None:
        self.w.truth("decoys.jsonl", {"contract_id": kid, "decision_maker_id": dm,
                                      "winner_id": winner, "near_miss": near_miss,
                                      "why": NEAR_MISSES[near_miss]})  # fmt: skip

    def make_plants(self) -> None:
        for i in range(self.scale.plants):
            for pattern in PLANTED:
                getattr(self, f"plant_{pattern.lower()}")(i)
            for near_miss in NEAR_MISSES:
                getattr(self, f"decoy_{near_miss}")()

    def plant_self_dealing(self, i: int) -> None:
        aid, signed, d, commission = self._setting()
        w = self.company(signed - timedelta(days=2_000), self._fresh_address())
        if i % 2:
            self.link(d, w, "OWNS", share=51, since=signed - timedelta(days=700))
            how = "owns 51% of the winner"
        else:
            self.link(d, w, "DIRECTS", "director", since=signed - timedelta(days=700))
            how = "directs the winner"
        self._truth(self.contract(aid, w, signed, commission), d, w, "SELF_DEALING", 1, how)

    def plant_revolving_door(self, i: int) -> None:
        aid, signed, d, commission = self._setting()
        w = self.company(signed - timedelta(days=3_000), self._fresh_address())
        left = signed - timedelta(days=self.rng.randrange(30, 300))
        self.link(d, w, "EMPLOYED", "manager", since=left - timedelta(days=1_500), until=left)
        kid = self.contract(aid, w, signed, commission)
        self._truth(kid, d, w, "REVOLVING_DOOR", 1, "left the winner months before signing")

    def plant_family(self, i: int) -> None:
        aid, signed, d, commission = self._setting()
        w = self.company(signed - timedelta(days=1_500), self._fresh_address())
        if i % 3 == 0:
            spouse = self.person()
            self.link(d, spouse, "FAMILY", "spouse", since=signed - timedelta(days=5_000))
            self.link(spouse, w, "OWNS", share=100, since=signed - timedelta(days=1_000))
            how, hops, dm = "the spouse owns the winner", 2, d
        elif i % 3 == 1:
            spouse, brother = self.person(True), self.person(False)
            self.link(d, spouse, "FAMILY", "spouse")
            self.link(spouse, brother, "FAMILY", "sibling")
            self.link(brother, w, "DIRECTS", "director", since=signed - timedelta(days=800))
            how, hops, dm = "the spouse's brother directs the winner", 3, d
        else:
            dm = self.heads[aid][0]
            child = self.person(born=date(1995, 5, 5))
            self.link(dm, child, "FAMILY", "child")
            self.link(child, w, "OWNS", share=60, since=signed - timedelta(days=600))
            how, hops = "the agency head's child owns the winner", 2
        self._truth(self.contract(aid, w, signed, commission), dm, w, "FAMILY", hops, how)

    def plant_associate(self, i: int) -> None:
        aid, signed, d, commission = self._setting()
        w = self.company(signed - timedelta(days=1_500), self._fresh_address())
        friend = self.person()
        self.link(d, friend, "ASSOCIATE", since=signed - timedelta(days=3_000))
        self.link(friend, w, "DIRECTS", "director", since=signed - timedelta(days=900))
        kid = self.contract(aid, w, signed, commission)
        self._truth(kid, d, w, "ASSOCIATE", 2, "a close associate directs the winner")

    def plant_shared_address(self, i: int) -> None:
        address = self._fresh_address()
        aid, signed, d, commission = self._setting(address=address)
        w = self.company(signed - timedelta(days=1_500), address)
        kid = self.contract(aid, w, signed, commission)
        self._truth(
            kid, d, w, "SHARED_ADDRESS", 2, "the winner is registered at the decider's home"
        )

    def plant_shared_contact(self, i: int) -> None:
        phone = self._fresh_phone()
        aid, signed, d, commission = self._setting(phone=phone)
        w = self.company(signed - timedelta(days=1_500), self._fresh_address(), phone)
        kid = self.contract(aid, w, signed, commission)
        self._truth(kid, d, w, "SHARED_CONTACT", 2, "the winner gives the decider's phone")

    def plant_ownership_chain(self, i: int) -> None:
        aid, signed, d, commission = self._setting()
        w = self.company(signed - timedelta(days=1_500), self._fresh_address())
        holding = self.company(signed - timedelta(days=3_000), self._fresh_address())
        if i % 2:
            self.link(d, holding, "OWNS", share=60, since=signed - timedelta(days=2_000))
            self.link(holding, w, "OWNS", share=100, since=signed - timedelta(days=1_400))
            how, hops = "owns the winner's parent company", 2
        else:
            middle = self.company(signed - timedelta(days=2_500), self._fresh_address())
            self.link(d, holding, "DIRECTS", "director", since=signed - timedelta(days=2_000))
            self.link(holding, middle, "OWNS", share=80, since=signed - timedelta(days=1_800))
            self.link(middle, w, "OWNS", share=100, since=signed - timedelta(days=1_400))
            how, hops = "directs the company that owns the winner's owner", 3
        kid = self.contract(aid, w, signed, commission)
        self._truth(kid, d, w, "OWNERSHIP_CHAIN", hops, how)

    def _decoy_setting(self) -> tuple[str, date, str, list[str], str]:
        aid, signed, d, commission = self._setting()
        return aid, signed, d, commission, self.company(date(2010, 1, 1), self._fresh_address())

    def decoy_stake_sold_years_before(self) -> None:
        aid, signed, d, commission, w = self._decoy_setting()
        self.link(d, w, "OWNS", share=50, since=date(2011, 1, 1),
                  until=signed - timedelta(days=365 * 3))  # fmt: skip
        self._decoy(self.contract(aid, w, signed, commission), d, w, "stake_sold_years_before")

    def decoy_link_starts_after_signing(self) -> None:
        aid, signed, d, commission, w = self._decoy_setting()
        spouse = self.person()
        self.link(d, spouse, "FAMILY", "spouse")
        self.link(spouse, w, "DIRECTS", "director", since=signed + timedelta(days=120))
        self._decoy(self.contract(aid, w, signed, commission), d, w, "link_starts_after_signing")

    def decoy_relative_of_non_decider(self) -> None:
        aid, signed, _, commission, w = self._decoy_setting()
        colleague, spouse = self.person(), self.person()
        self.link(colleague, aid, "EMPLOYED", "specialist", since=date(2016, 1, 1))
        self.link(colleague, spouse, "FAMILY", "spouse")
        self.link(spouse, w, "OWNS", share=100, since=date(2015, 1, 1))
        kid = self.contract(aid, w, signed, commission)
        self._decoy(kid, colleague, w, "relative_of_non_decider")

    def decoy_co_worker(self) -> None:
        aid, signed, d, commission, w = self._decoy_setting()
        colleague = self.person()
        self.link(colleague, aid, "EMPLOYED", "specialist", since=date(2016, 1, 1))
        self.link(colleague, w, "DIRECTS", "director", since=date(2017, 1, 1))
        self._decoy(self.contract(aid, w, signed, commission), d, w, "co_worker")

    def decoy_one_hop_too_long(self) -> None:
        aid, signed, d, commission, w = self._decoy_setting()
        sibling, friend = self.person(), self.person()
        h1, h2 = self.company(date(2012, 1, 1)), self.company(date(2012, 1, 1))
        self.link(d, sibling, "FAMILY", "sibling")
        self.link(sibling, friend, "ASSOCIATE")
        self.link(friend, h1, "OWNS", share=100)
        self.link(h1, h2, "OWNS", share=100)
        self.link(h2, w, "OWNS", share=100)
        self._decoy(self.contract(aid, w, signed, commission), d, w, "one_hop_too_long")

    def decoy_three_family_hops(self) -> None:
        aid, signed, d, commission, w = self._decoy_setting()
        brother, his_wife, her_father = self.person(False), self.person(True), self.person(False)
        self.link(d, brother, "FAMILY", "sibling")
        self.link(brother, his_wife, "FAMILY", "spouse")
        self.link(his_wife, her_father, "FAMILY", "parent")
        self.link(her_father, w, "OWNS", share=100)
        self._decoy(self.contract(aid, w, signed, commission), d, w, "three_family_hops")

    def decoy_hub_address(self) -> None:
        hub = self.rng.choice(self.mass)
        aid, signed, d, commission = self._setting(address=hub)
        w = self.company(date(2010, 1, 1), hub)
        self._decoy(self.contract(aid, w, signed, commission), d, w, "hub_address")

    def decoy_namesake(self) -> None:
        name = self.rng.choice(self.names[False])
        aid, signed, d, commission = self._setting(female=False, name=name)
        w = self.company(date(2010, 1, 1), self._fresh_address())
        self.link(self.person(False, name=name), w, "OWNS", share=100)
        self._decoy(self.contract(aid, w, signed, commission), d, w, "namesake")

    def decoy_invalid_iin(self) -> None:
        born = date(1980, 3, 12)
        good = self._iin(born, False)
        bad = good[:11] + str((int(good[11]) + 1) % 10)
        aid, signed, d, commission = self._setting(female=False, born=born, iin_value=bad)
        w = self.company(date(2010, 1, 1), self._fresh_address())
        self.link(self.person(False, born=born, iin_value=bad), w, "OWNS", share=100)
        self._decoy(self.contract(aid, w, signed, commission), d, w, "invalid_iin")

    def declare(
        self, person: str, on: date, type_: str, subject: str = "", role: str = "",
        share: Any = "", contract: str = "",
    ) -> None:  # fmt: skip
        self.w.row("declaration", person, _day(on), type_, subject, role, share, contract,
                   f"declaration/{person}/{_day(on)}")  # fmt: skip

    def make_declaration_plants(self) -> None:
        for i in range(self.scale.plants):
            for case in DECLARATION_CASES:
                getattr(self, f"declaration_{case}")(i)
            for case in RESTRICTION_CASES:
                getattr(self, f"restriction_{case}")(i)

    def _spouse_owns_winner(self) -> tuple[str, date, str, str, str]:
        """A decider whose spouse owns the winner of a contract: (contract, signed, decider,
        spouse, winner)."""
        aid, signed, d, commission = self._setting()
        w = self.company(signed - timedelta(days=1_500), self._fresh_address())
        spouse = self.person()
        self.link(d, spouse, "FAMILY", "spouse", since=signed - timedelta(days=5_000))
        self.link(spouse, w, "OWNS", share=100, since=signed - timedelta(days=1_000))
        return self.contract(aid, w, signed, commission), signed, d, spouse, w

    def _directs_winner(self) -> tuple[str, date, str, str]:
        aid, signed, d, commission = self._setting()
        w = self.company(signed - timedelta(days=2_000), self._fresh_address())
        self.link(d, w, "DIRECTS", "director", since=signed - timedelta(days=700))
        return self.contract(aid, w, signed, commission), signed, d, w

    def declaration_declared_spouse(self, i: int) -> None:
        kid, signed, d, spouse, w = self._spouse_owns_winner()
        self.declare(d, signed - timedelta(days=60), "relative", spouse, "spouse")
        self._truth(kid, d, w, "FAMILY", 2, "the spouse owns the winner; declared", "declared")

    def declaration_incomplete_filing(self, i: int) -> None:
        kid, signed, d, spouse, w = self._spouse_owns_winner()
        other = self.company(date(2012, 1, 1), self._fresh_address())
        if i % 2:  # declared once, left out of the next filing
            self.declare(d, signed - timedelta(days=400), "relative", spouse, "spouse")
        self.declare(d, signed - timedelta(days=35), "interest", other, "owns", 10)
        how = "the spouse owns the winner; the filing in force omits the spouse"
        self._truth(kid, d, w, "FAMILY", 2, how, "undeclared")

    def declaration_notice_without_recusal(self, i: int) -> None:
        kid, signed, d, w = self._directs_winner()
        self.declare(d, signed - timedelta(days=10), "conflict_notice", contract=kid)
        how = "directs the winner; notified the conflict and still decided"
        self._truth(kid, d, w, "SELF_DEALING", 1, how, "notified")

    def declaration_recusal_after_signing(self, i: int) -> None:
        kid, signed, d, w = self._directs_winner()
        self.declare(d, signed + timedelta(days=5), "recusal", contract=kid)
        how = "directs the winner; the recusal came after the signing"
        self._truth(kid, d, w, "SELF_DEALING", 1, how, "undeclared")

    def declaration_recused(self, i: int) -> None:
        kid, signed, d, w = self._directs_winner()
        self.declare(d, signed - timedelta(days=3), "recusal", contract=kid)
        self.w.truth("decoys.jsonl", {"contract_id": kid, "decision_maker_id": d, "winner_id": w,
                                      "near_miss": "recused",
                                      "why": DECLARATION_NEAR_MISSES["recused"]})  # fmt: skip

    def _restriction(self, agency: str, superior: str, relative: str, planted: bool,
                     case: str) -> None:  # fmt: skip
        self.w.truth("restrictions.jsonl", {"agency_id": agency, "superior_id": superior,
                                            "relative_id": relative, "planted": planted,
                                            "case": case})  # fmt: skip

    def restriction_head_and_child(self, i: int) -> None:
        aid = self.rng.choice(self.agencies)
        head, took_office = self.heads[aid]
        child = self.person(born=date(1996, 2, 2))
        self.link(head, child, "FAMILY", "child")
        self.link(child, aid, "EMPLOYED", "specialist", since=took_office + timedelta(days=100))
        self._restriction(aid, head, child, True, "the head's child works in the agency")

    def restriction_no_overlap(self, i: int) -> None:
        aid = self.rng.choice(self.agencies)
        deputy, sister = self.person(), self.person(True)
        self.link(deputy, sister, "FAMILY", "sibling")
        self.link(deputy, aid, "EMPLOYED", "deputy_head", since=date(2004, 1, 1),
                  until=date(2009, 12, 31))  # fmt: skip
        self.link(sister, aid, "EMPLOYED", "specialist", since=date(2011, 3, 1))
        self._restriction(aid, deputy, sister, False, "the sister came after the deputy left")

    def restriction_other_agency(self, i: int) -> None:
        aid, other = self.rng.sample(self.agencies, 2)
        deputy, wife = self.person(False), self.person(True)
        self.link(deputy, wife, "FAMILY", "spouse")
        self.link(deputy, aid, "EMPLOYED", "deputy_head", since=date(2015, 1, 1))
        self.link(wife, other, "EMPLOYED", "specialist", since=date(2016, 1, 1))
        self._restriction(aid, deputy, wife, False, "the wife works in another agency")

    def make_match_plants(self) -> None:
        for i in range(self.scale.plants):
            for plant in MATCH_PLANTS:
                getattr(self, f"match_{plant}")(i)
            for decoy in MATCH_DECOYS:
                getattr(self, f"match_decoy_{decoy}")(i)

    def _pair(self, left: str, right: str, kind: Kind, same: bool, why: str, **extra: Any) -> None:
        self.w.truth("matches.jsonl", {"left_id": left, "right_id": right, "of": kind.value,
                                       "same": same, "why": why, **extra})  # fmt: skip

    def _spelling(self, name: str, i: int) -> str:
        """The same name as another source writes it: Latin in the other order, Russian
        Cyrillic, or the Latin surname with initials."""
        words = name.split()
        if i % 3 == 0:
            return anyascii(" ".join([*words[1:2], words[0], *words[2:]]))
        if i % 3 == 1:
            return name.translate(_RUSSIAN)
        return f"{anyascii(words[0])} " + " ".join(f"{anyascii(w)[0]}." for w in words[1:])

    def match_official_as_director(self, i: int) -> None:
        female = i % 2 == 1
        fake = self.fake  # (a full name with the patronymic, as an official's register has it)
        father = fake.kk_first_name(False) + ("қызы" if female else "ұлы")
        name = f"{fake.kk_last_name(female)} {fake.kk_first_name(female)} {father}"
        born = self._date(date(1965, 1, 1), date(1992, 1, 1))
        aid, signed, d, commission = self._setting(female=female, name=name, born=born)
        twin = self.person(female, name=self._spelling(name, i), born=born, iin_value="",
                           address=self._fresh_address())  # fmt: skip
        w = self.company(signed - timedelta(days=2_000), self._fresh_address())
        self.link(twin, w, "DIRECTS", "director", since=signed - timedelta(days=700))
        kid = self.contract(aid, w, signed, commission)
        finding = {"contract_id": kid, "decision_maker_id": d, "winner_id": w,
                   "pattern": "SELF_DEALING", "hops": 1}  # fmt: skip
        self._pair(d, twin, Kind.PERSON, True, MATCH_PLANTS["official_as_director"],
                   finding=finding)  # fmt: skip

    def match_company_two_spellings(self, i: int) -> None:
        rng = self.rng
        form, a, b = rng.choice(FORMS), rng.choice(COMPANY_WORDS), rng.choice(COMPANY_WORDS)
        address = self._fresh_address()
        founded = self._date(date(2005, 1, 1), date(2018, 12, 31))
        number = self.n_companies + 1
        left = self.company(founded, address, name=f"{form} «{a} {b}-{number}»")
        latin = f"{anyascii(a)} {anyascii(b)}-{number} {_FORMS_EN[form]}"
        right = self.company(founded, address, name=latin, bin_value="")
        self._pair(left, right, Kind.COMPANY, True, MATCH_PLANTS["company_two_spellings"])

    def match_decoy_namesake_other_birth_date(self, i: int) -> None:
        female = i % 2 == 0
        name = self.rng.choice(self.names[female])
        born = self._date(date(1965, 1, 1), date(1992, 1, 1))
        left = self.person(female, name=name, born=born)
        right = self.person(female, name=self._spelling(name, i), iin_value="",
                            born=born + timedelta(days=self.rng.randrange(400, 4_000)))  # fmt: skip
        self._pair(left, right, Kind.PERSON, False, MATCH_DECOYS["namesake_other_birth_date"])

    def match_decoy_spouse_same_stem(self, i: int) -> None:
        husband_name = self.fake.kk_name(False)
        surname = husband_name.split()[0]
        address = self._fresh_address()
        born = self._date(date(1965, 1, 1), date(1992, 1, 1))
        left = self.person(False, name=husband_name, born=born, address=address)
        wife = f"{female_form(surname)} {self.fake.kk_first_name(True)}"
        right = self.person(True, name=wife, born=born, address=address, iin_value="")
        self.link(left, right, "FAMILY", "spouse", since=born + timedelta(days=9_000))
        self._pair(left, right, Kind.PERSON, False, MATCH_DECOYS["spouse_same_stem"])

    def match_decoy_company_other_number(self, i: int) -> None:
        rng = self.rng
        form, a, b = rng.choice(FORMS), rng.choice(COMPANY_WORDS), rng.choice(COMPANY_WORDS)
        address = self._fresh_address()
        number = self.n_companies + 1
        left = self.company(None, address, name=f"{form} «{a} {b}-{number}»")
        right = self.company(None, address, name=f"{form} «{a} {b}-{number + 1}»", bin_value="")
        self._pair(left, right, Kind.COMPANY, False, MATCH_DECOYS["company_other_number"])


def female_form(surname: str) -> str:
    """A man's surname as his wife or daughter bears it: Нұрланов → Нұрланова, Асқарұлы →
    Асқарқызы."""
    if surname.endswith("ұлы"):
        return surname[: -len("ұлы")] + "қызы"
    if surname.endswith(("ов", "ев", "ин")):
        return female_surname(surname)
    return surname
