"""A fast, seeded generator of large valid bundles, for load benchmarks and crash tests.

It makes volume, not realism (that is `cofi synth`): every row is valid, ids are unique, every link
joins kinds the vocabulary allows, and a few contact values are shared.
"""

from __future__ import annotations

import csv
import json
import random
from collections.abc import Iterable, Iterator
from pathlib import Path

from cofi.model import V1_COLUMNS
from cofi.normalize import iin_bin_check_digit
from cofi.vocab import BUNDLE_FILES


def _national_id(rng: random.Random) -> str:
    while True:
        first = f"{rng.randrange(10**11):011d}"
        check = iin_bin_check_digit(first)
        if check is not None:
            return first + str(check)


def _write(out: Path, name: str, rows: Iterable[list[str]]) -> int:
    """Write `rows` under the header of bundle file `name`; return how many were written."""
    count = 0
    with (out / name).open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(V1_COLUMNS[BUNDLE_FILES[name]])
        for row in rows:
            writer.writerow(row)
            count += 1
    return count


def write_bulk_bundle(out: Path, rows: int, *, seed: int = 1) -> dict[str, int]:
    """Write a bundle of about `rows` rows (entities + links + contracts) to directory `out`.

    Returns the number of rows written per file.
    """
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    n_agencies = max(2, rows // 1000)
    n_people = max(4, rows * 30 // 100)
    n_companies = max(2, rows * 15 // 100)
    n_contracts = max(1, rows * 10 // 100)
    n_links = max(1, rows - n_agencies - n_people - n_companies - n_contracts)
    streets = [f"ул. Абая, {i}" for i in range(max(10, rows // 20))]

    def maybe(p: float, value: str) -> str:
        return value if rng.random() < p else ""

    agencies = ([f"a{i}", f"Агенттік {i}", _national_id(rng), "", "", ""]
                for i in range(n_agencies))  # fmt: skip
    people = (
        [f"p{i}", f"Person {i} Сейітов",
         f"19{rng.randrange(50, 99)}-0{rng.randrange(1, 9)}-1{rng.randrange(0, 9)}",
         maybe(0.5, _national_id(rng)), "", maybe(0.3, f"г. Алматы, {rng.choice(streets)}"),
         maybe(0.2, f"+7 701 {rng.randrange(10**7):07d}"), ""]
        for i in range(n_people)
    )  # fmt: skip
    companies = (
        [f"c{i}", f"ТОО «Компания {i}»", maybe(0.7, _national_id(rng)),
         f"20{rng.randrange(0, 24):02d}-01-15", "",
         maybe(0.3, f"г. Астана, {rng.choice(streets)}"), "", maybe(0.2, f"info{i}@example.kz")]
        for i in range(n_companies)
    )  # fmt: skip
    contracts = (
        [f"k{i}", f"a{rng.randrange(n_agencies)}", f"c{rng.randrange(n_companies)}",
         f"20{rng.randrange(18, 26)}-0{rng.randrange(1, 10)}-{rng.randrange(10, 29)}",
         f"Contract {i}", f"{rng.lognormvariate(15, 1.5):.2f}", "KZT", "open_tender"]
        for i in range(n_contracts)
    )  # fmt: skip

    def links() -> Iterator[list[str]]:
        roles = ("spouse", "child", "parent", "sibling")
        seen: set[tuple[str, ...]] = set()
        for i in range(n_links):
            person = f"p{rng.randrange(n_people)}"
            r = i % 10
            if r < 3:
                other = f"p{rng.randrange(n_people)}"
                if other == person:
                    continue
                row = [person, other, "FAMILY", rng.choice(roles), "", "", ""]
            elif r < 6:
                since = f"20{rng.randrange(0, 20):02d}-02-01"
                row = [person, f"c{rng.randrange(n_companies)}", "OWNS", "",
                       f"{rng.uniform(1, 100):.1f}", since, ""]  # fmt: skip
            elif r < 7:
                row = [person, f"c{rng.randrange(n_companies)}", "DIRECTS", "director", "",
                       "2015-01-01", ""]  # fmt: skip
            elif r < 8:
                role = "head" if rng.random() < 0.05 else "specialist"
                row = [person, f"a{rng.randrange(n_agencies)}", "EMPLOYED", role, "",
                       "2010-01-01", ""]  # fmt: skip
            else:
                row = [person, f"k{rng.randrange(n_contracts)}", "DECIDED", "commission_member",
                       "", "", ""]  # fmt: skip
            key = (row[0], row[1], row[2], row[3], row[5])
            if key not in seen:
                seen.add(key)
                yield [*row, f"bulk row {i}"]

    return {
        "agencies.csv": _write(out, "agencies.csv", agencies),
        "people.csv": _write(out, "people.csv", people),
        "companies.csv": _write(out, "companies.csv", companies),
        "contracts.csv": _write(out, "contracts.csv", contracts),
        "links.csv": _write(out, "links.csv", links()),
    }


def write_ocds_releases(path: Path, releases: int, *, seed: int = 1) -> int:
    """Write `releases` OCDS 1.1 releases as JSON lines (one tender each: buyer, supplier, award,
    contract), for the import benchmark; return how many were written.

    Buyers are drawn from `releases // 200` agencies and suppliers from `releases // 5`
    companies, each with a valid KZ-BIN, so the records of one organisation merge."""
    rng = random.Random(seed)
    agencies = [_national_id(rng) for _ in range(max(1, releases // 200))]
    companies = [_national_id(rng) for _ in range(max(1, releases // 5))]
    with path.open("w", encoding="utf-8") as fh:
        for i in range(releases):
            buyer, supplier = rng.choice(agencies), rng.choice(companies)
            day = f"20{rng.randrange(18, 26)}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}"
            release = {
                "ocid": f"ocds-bench-{i:07d}", "id": f"{i}-1", "date": f"{day}T10:00:00+05:00",
                "tag": ["award", "contract"], "initiationType": "tender",
                "parties": [
                    {"id": f"KZ-BIN-{buyer}", "name": f"Мемлекеттік мекеме {buyer[-4:]}",
                     "roles": ["buyer"], "identifier": {"scheme": "KZ-BIN", "id": buyer},
                     "address": {"streetAddress": "ул. Абая, 1", "locality": "Астана"}},
                    {"id": f"KZ-BIN-{supplier}", "name": f"ТОО «Компания {supplier[-5:]}»",
                     "roles": ["supplier"], "identifier": {"scheme": "KZ-BIN", "id": supplier},
                     "contactPoint": {"telephone": f"+7 701 {supplier[-7:]}",
                                      "email": f"info{supplier[-5:]}@example.kz"}},
                ],
                "buyer": {"id": f"KZ-BIN-{buyer}", "name": f"Мемлекеттік мекеме {buyer[-4:]}"},
                "tender": {"id": f"T{i}", "title": f"Сатып алу {i}", "procurementMethod": "open"},
                "awards": [{"id": f"A{i}", "date": day, "status": "active",
                            "suppliers": [{"id": f"KZ-BIN-{supplier}"}],
                            "value": {"amount": rng.randrange(10**5, 10**9), "currency": "KZT"}}],
                "contracts": [{"id": f"C{i}", "awardID": f"A{i}", "dateSigned": day,
                               "value": {"amount": rng.randrange(10**5, 10**9),
                                         "currency": "KZT"}}],
            }  # fmt: skip
            fh.write(json.dumps(release, ensure_ascii=False) + "\n")
    return releases
