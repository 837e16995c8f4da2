"""A fast, seeded generator of large valid bundles, for load benchmarks and crash tests.

It makes volume, not realism (that is `cofi synth`): every row is valid, ids are unique, every link
joins kinds the vocabulary allows, and a few contact values are shared.
"""

from __future__ import annotations

import csv
import random
from pathlib import Path
from typing import Any, TextIO

from cofi.model import COLUMNS
from cofi.normalize import iin_bin_check_digit


def _national_id(rng: random.Random) -> str:
    while True:
        first = f"{rng.randrange(10**11):011d}"
        check = iin_bin_check_digit(first)
        if check is not None:
            return first + str(check)


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
    counts: dict[str, int] = {}

    def writer(name: str, kind: str) -> tuple[Any, TextIO]:
        fh = (out / name).open("w", encoding="utf-8", newline="")
        w = csv.writer(fh)
        w.writerow(COLUMNS[kind])
        return w, fh

    w, fh = writer("agencies.csv", "agency")
    for i in range(n_agencies):
        w.writerow([f"a{i}", f"Агенттік {i}", _national_id(rng), "", "", ""])
    fh.close()
    counts["agencies.csv"] = n_agencies

    w, fh = writer("people.csv", "person")
    for i in range(n_people):
        w.writerow(
            [
                f"p{i}",
                f"Person {i} Сейітов",
                f"19{rng.randrange(50, 99)}-0{rng.randrange(1, 9)}-1{rng.randrange(0, 9)}",
                _national_id(rng) if rng.random() < 0.5 else "",
                "",
                f"г. Алматы, {rng.choice(streets)}" if rng.random() < 0.3 else "",
                f"+7 701 {rng.randrange(10**7):07d}" if rng.random() < 0.2 else "",
                "",
            ]
        )
    fh.close()
    counts["people.csv"] = n_people

    w, fh = writer("companies.csv", "company")
    for i in range(n_companies):
        w.writerow(
            [
                f"c{i}",
                f"ТОО «Компания {i}»",
                _national_id(rng) if rng.random() < 0.7 else "",
                f"20{rng.randrange(0, 24):02d}-01-15",
                "",
                f"г. Астана, {rng.choice(streets)}" if rng.random() < 0.3 else "",
                "",
                f"info{i}@example.kz" if rng.random() < 0.2 else "",
            ]
        )
    fh.close()
    counts["companies.csv"] = n_companies

    w, fh = writer("contracts.csv", "contract")
    for i in range(n_contracts):
        w.writerow(
            [
                f"k{i}",
                f"a{rng.randrange(n_agencies)}",
                f"c{rng.randrange(n_companies)}",
                f"20{rng.randrange(18, 26)}-0{rng.randrange(1, 10)}-{rng.randrange(10, 29)}",
                f"Contract {i}",
                f"{rng.lognormvariate(15, 1.5):.2f}",
                "KZT",
                "open_tender",
            ]
        )
    fh.close()
    counts["contracts.csv"] = n_contracts

    w, fh = writer("links.csv", "link")
    roles = ("spouse", "child", "parent", "sibling")
    seen: set[tuple[str, ...]] = set()
    written = 0
    for i in range(n_links):
        r = i % 10
        if r < 3:
            a, b = rng.randrange(n_people), rng.randrange(n_people)
            if a == b:
                b = (a + 1) % n_people
            row = [f"p{a}", f"p{b}", "FAMILY", rng.choice(roles), "", "", "", ""]
        elif r < 6:
            share = f"{rng.uniform(1, 100):.1f}"
            row = [f"p{rng.randrange(n_people)}", f"c{rng.randrange(n_companies)}", "OWNS", "",
                   share, f"20{rng.randrange(0, 20):02d}-02-01", "", ""]  # fmt: skip
        elif r < 7:
            row = [f"p{rng.randrange(n_people)}", f"c{rng.randrange(n_companies)}", "DIRECTS",
                   "director", "", "2015-01-01", "", ""]  # fmt: skip
        elif r < 8:
            role = "head" if rng.random() < 0.05 else "specialist"
            row = [f"p{rng.randrange(n_people)}", f"a{rng.randrange(n_agencies)}", "EMPLOYED",
                   role, "", "2010-01-01", "", ""]  # fmt: skip
        else:
            row = [f"p{rng.randrange(n_people)}", f"k{rng.randrange(n_contracts)}", "DECIDED",
                   "commission_member", "", "", "", ""]  # fmt: skip
        key = (row[0], row[1], row[2], row[3], row[5])
        if key in seen:
            continue
        seen.add(key)
        row[7] = f"bulk row {i}"
        w.writerow(row)
        written += 1
    fh.close()
    counts["links.csv"] = written
    return counts
