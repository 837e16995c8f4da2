"""`cofi match`: the rules that make two records one entity or keep them apart, and the
decisions a reviewer makes (remembered by both stores, across reloads)."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from cofi.match import SAME_AT, candidates, compare, match_id, profile
from cofi.merge import confidence
from cofi.vocab import Kind
from tests.conftest import write_bundle

BORN = {"birth_date": "1985-03-12"}
# (left name, left fields, right name, right fields, expected: "same", "review" or None, and a
# reason the pair must give, or none)
PEOPLE: list[tuple[str, dict[str, Any], str, dict[str, Any], str | None, str]] = [
    # names across scripts (Kazakh Cyrillic, Latin), words in another order, patronymic missing
    ("Садықова Әйгерім Нұрланқызы", BORN, "Aigerim Sadykova", BORN, "same",
     "same name across scripts, words in another order"),
    ("Садықова Әйгерім Нұрланқызы", BORN, "Aigerim Sadykova", BORN, "same",
     "patronymic missing on one side"),
    # Kazakh and Russian spellings, and the patronymic in each language's form
    ("Садыкова Айгерим Нурлановна", BORN, "Садықова Әйгерім Нұрланқызы", BORN, "same",
     "same patronymic"),
    # passport and BGN transliterations
    ("Жаңабаев Ерлан", BORN, "Zhanabayev Yerlan", BORN, "same", "same birth date"),
    ("Жаңабаев Ерлан", BORN, "Janabaev Erlan", BORN, "same", "same name across scripts"),
    # initials
    ("Sadykova A. N.", BORN, "Садықова Әйгерім Нұрланқызы", BORN, "same", "initials agree"),
    ("Sadykova A. B.", BORN, "Садықова Әйгерім Нұрланқызы", BORN, None, ""),
    ("Alekseeva Zh. B.", BORN, "Алексеева Жанна Богдановна", BORN, "same", "initials agree"),
    ("Alekseeva Z. B.", BORN, "Алексеева Жанна Богдановна", BORN, "same", "initials agree"),
    # a different birth date makes a namesake
    ("Садықова Әйгерім", BORN, "Aigerim Sadykova", {"birth_date": "1985-03-13"}, None, ""),
    # a man and a woman with the same surname stem are not one person
    ("Садықов Әйгерім", BORN, "Садықова Әйгерім", BORN, None, ""),
    ("Sadykova Aigerim Nurlanovna", {}, "Sadykova Aigerim Nurlanovich", {}, None, ""),
    # a birth date missing on one side: a shared address still makes it `same`, alone `review`
    ("Жаңабаев Ерлан", {"address": "Астана, Абай 1"}, "Zhanabayev Yerlan",
     {**BORN, "address": "астана абай 1"}, "same", "shared address"),
    ("Жаңабаев Ерлан", {}, "Zhanabayev Yerlan", BORN, "review", "birth date missing on one side"),
    # a shared phone, and relatives at one address (same surname, another given name): apart
    ("Нұрлан Садықов", {"phone": "+7 701 111 22 33"}, "Sadykov Nurlan",
     {"phone": "87011112233"}, "same", "shared phone"),
    ("Садықов Нұрлан", {"address": "Астана, Абай 1"}, "Садықов Ерлан",
     {"address": "Астана, Абай 1"}, None, ""),
    # different patronymics: brothers' sons with one name are not one person
    ("Садыкова Айгерим Нурлановна", {}, "Садыкова Айгерим Ерлановна", {}, None, ""),
    # an IIN on one side that encodes the other side's birth date supports the match; a
    # different valid IIN rules it out; an IIN whose birth date differs makes a namesake
    ("Жаңабаев Ерлан", {"iin": "850312300012"}, "Zhanabayev Yerlan", BORN, "same",
     "IIN on one side encodes the other's birth date"),
    ("Жаңабаев Ерлан", {**BORN, "iin": "850312300012"}, "Zhanabayev Yerlan",
     {**BORN, "iin": "850312300101"}, None, ""),
    ("Жаңабаев Ерлан", {"iin": "850312300012"}, "Zhanabayev Yerlan",
     {"birth_date": "1985-03-13"}, None, ""),
    # short words one letter apart are other names; long ones may be a typo (to review)
    ("Рогова Ғалия", BORN, "Рогова Галина", BORN, None, ""),
    ("Крылова Айжан", BORN, "Крюкова Айжан", BORN, None, ""),
    ("Кенжебеков Ұлан", BORN, "Кенжебеков Нұрлан", BORN, None, ""),
    ("Кенжебеков Нұрлан", BORN, "Кенжебиков Нұрлан", BORN, "review", "similar name"),
    # a Kazakh surname in -ұлы is a surname, not a patronymic, in a name of two words
    ("Ернарұлы Ерлан", BORN, "Erlan Ernaruly", BORN, "same",
     "same name across scripts, words in another order"),
    ("Құдайбергенұлы Харитон", BORN, "Харитонов Құдайберген", BORN, None, ""),
    # the IIN's sex digit (4: a woman born in the 1900s) against a man's patronymic
    ("Садықова Әйгерім", {"iin": "850312400019"}, "Sadykova Aigerim Nurlanovich", BORN, None, ""),
]  # fmt: skip

COMPANIES: list[tuple[str, dict[str, Any], str, dict[str, Any], str | None, str]] = [
    # legal forms across languages, quotes and punctuation, transliteration
    ("ТОО «Дала Строй»", {"address": "Астана, Абай 1"}, "Dala Stroy LLP",
     {"address": "астана абай 1"}, "same", "same legal form"),
    ("ЖШС «Дала Строй»", {"phone": "+7 701 111 22 33"}, "TOO \"Dala Stroi\"",
     {"phone": "+77011112233"}, "same", "shared phone"),
    ("АО «Казтемир»", {"address": "Астана, Абай 1"}, "Kaztemir JSC", {"address": "астана абай 1"},
     "same", "same name across scripts"),
    ("АҚ «Казтемир»", {}, "АО Казтемир", {}, "review", "same legal form"),
    ("ИП Садыков", {"address": "Астана, Абай 1"}, "IE Sadykov", {"address": "астана абай 1"},
     "same", "same legal form"),
    ("ЖК Садыков", {}, "ИП «Садыков»", {}, "review", "same name"),
    # a name word that is also a legal form's abbreviation (ақ, "white"; АҚ): a name word
    ("ЖШС «Ақ Жол Самұрық-12»", {"address": "Астана, Абай 1"}, "Aq Zhol Samuryq-12 LLP",
     {"address": "астана абай 1"}, "same", "same legal form"),
    # another legal form: weaker, never `same` on the name alone
    ("ТОО «Дала Строй»", {}, "АО «Дала Строй»", {}, None, ""),
    # different numbers in the name, different BINs, different register ids: apart
    ("ТОО «Дала Строй-2»", {}, "ТОО «Дала Строй-3»", {}, None, ""),
    ("ЖШС «Дала Строй»", {"bin": "990840000002"}, "TOO Dala Stroi", {"bin": "180140000008"},
     None, ""),
    ("Dala Stroy LLP", {"registry_id": "GB-COH:1"}, "Dala Stroy LLP",
     {"registry_id": "GB-COH:2"}, None, ""),
]  # fmt: skip


def _verdict(kind: Kind, a: str, pa: dict[str, Any], b: str, pb: dict[str, Any]) -> Any:
    got = compare(kind, profile(kind, "a", a, pa), profile(kind, "b", b, pb))
    if got is None or got[0] < 0.5:
        return None, got
    return ("same" if got[0] >= SAME_AT else "review"), got


@pytest.mark.parametrize(
    ("kind", "a", "pa", "b", "pb", "want", "reason"),
    [(Kind.PERSON, *case) for case in PEOPLE] + [(Kind.COMPANY, *case) for case in COMPANIES],
)
def test_a_rule(
    kind: Kind, a: str, pa: dict[str, Any], b: str, pb: dict[str, Any], want: str | None,
    reason: str,
) -> None:  # fmt: skip
    verdict, got = _verdict(kind, a, pa, b, pb)
    assert verdict == want, got
    assert _verdict(kind, b, pb, a, pa)[0] == want, "the order of the pair changed it"
    if reason:
        assert any(reason in r for r in got[1]), got


def test_blocking_finds_the_pairs_and_leaves_out_what_is_joined_or_decided() -> None:
    rows = [
        ("p1", "Садықова Әйгерім Нұрланқызы", BORN),
        ("p2", "Aigerim Sadykova", BORN),
        ("p3", "Жаңабаев Ерлан", {}),
        ("p4", "Zhanabayev Yerlan", BORN),
        ("p5", "Садықов Нұрлан", BORN),  # another person of the same family and birth date
    ]
    found = candidates(Kind.PERSON, rows, {}, set())
    assert {(c.left_id, c.right_id): c.verdict for c in found} == {
        ("p1", "p2"): "same",
        ("p3", "p4"): "review",
    }
    assert found[0].match_id == match_id("p2", "p1") == match_id("p1", "p2")
    joined = candidates(Kind.PERSON, rows, {"p1": "p1", "p2": "p1"}, set())
    assert [(c.left_id, c.right_id) for c in joined] == [("p3", "p4")]
    decided = candidates(Kind.PERSON, rows, {}, {match_id("p3", "p4")})
    assert [(c.left_id, c.right_id) for c in decided] == [("p1", "p2")]


def test_a_name_many_bear_says_less_than_a_rare_one() -> None:
    """Born the same day with the same name: one person if few bear the name, only worth a
    review if thirty do (term frequencies: `Population`)."""
    common = [(f"x{i}", "Ахметов Ерлан", {"birth_date": f"19{60 + i}-01-01"}) for i in range(30)]
    rows = [
        *common,
        ("a1", "Ахметов Ерлан", BORN),
        ("a2", "Akhmetov Yerlan", BORN),
        ("b1", "Жақыпова Назым Ғабитқызы", BORN),
        ("b2", "Zhaqypova Nazym Ghabitqyzy", BORN),
    ]
    found = {(c.left_id, c.right_id): c for c in candidates(Kind.PERSON, rows, {}, set())}
    assert found[("a1", "a2")].verdict == "review"
    assert "a name 32 people bear" in found[("a1", "a2")].reasons
    assert found[("b1", "b2")].verdict == "same" and found[("b1", "b2")].score > 0.98
    assert set(found) == {("a1", "a2"), ("b1", "b2")}


def test_confidence_is_read_from_the_links_source_ref() -> None:
    assert confidence("match:m0123 score=0.9412") == pytest.approx(0.9412)
    assert confidence("match:m0123 decided") == 1.0
    assert confidence("registry 2024") is None


SOURCES = {
    "person": [
        {"id": "off-1", "name": "Садықова Әйгерім Нұрланқызы", "birth_date": "1985-03-12",
         "address": "Астана қ., Абай даңғылы, 1"},
        {"id": "reg-9", "name": "Aigerim Sadykova", "birth_date": "1985-03-12"},
        {"id": "off-2", "name": "Жаңабаев Ерлан"},
        {"id": "reg-7", "name": "Zhanabayev Yerlan", "birth_date": "1979-11-02"},
        {"id": "off-3", "name": "Садықов Нұрлан", "address": "Астана қ., Абай даңғылы, 1"},
    ],
    "company": [
        {"id": "c-kz", "name": "ТОО «Дала Строй»", "address": "Астана қ., Абай даңғылы, 1"},
        {"id": "c-en", "name": "Dala Stroy LLP", "address": "Astana, Abai avenue 1"},
    ],
}  # fmt: skip


def _pairs(crun: Callable[..., Result], *args: str) -> dict[tuple[str, str], dict[str, Any]]:
    result = crun("match", "--format", "jsonl", *args)
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    return {(r["left_id"], r["right_id"]): r for r in rows}


def test_match_lists_decides_and_remembers_across_reloads(
    crun: Callable[..., Result], tmp_path: Path
) -> None:
    bundle = write_bundle(tmp_path / "b", SOURCES)
    assert crun("load", str(bundle)).exit_code == 0
    pairs = _pairs(crun)
    assert set(pairs) == {("off-1", "reg-9"), ("off-2", "reg-7"), ("c-en", "c-kz")}, pairs
    same = pairs[("off-1", "reg-9")]
    assert same["verdict"] == "same" and same["kind"] == "person"
    assert "same name across scripts, words in another order" in same["reasons"]
    assert same["match_id"] == match_id("off-1", "reg-9")
    assert pairs[("off-2", "reg-7")]["verdict"] == "review"
    assert _pairs(crun, "--kind", "company").keys() == {("c-en", "c-kz")}

    review = pairs[("off-2", "reg-7")]["match_id"]
    result = crun("match", "decide", review, "different", "--note", "another man")
    assert result.exit_code == 0, result.output
    assert "is now different: another man" in result.stdout
    result = crun("match", "decide", same["match_id"], "same")
    assert result.exit_code == 0, result.output
    assert "1 links created" in result.stderr
    assert crun("load", str(bundle)).exit_code == 0  # a reload forgets nothing
    assert set(_pairs(crun)) == {("c-en", "c-kz")}
    links = json.loads(crun("stats", "--json").stdout)["links"]
    assert links == {"SAME_AS": 1}

    result = crun("match", "decide", "m0000000000000000", "same")
    assert result.exit_code == 1
    assert "no match 'm0000000000000000' was proposed" in result.stderr


def test_accept_above_joins_the_pairs_with_same_as_links(
    crun: Callable[..., Result], tmp_path: Path
) -> None:
    assert crun("load", str(write_bundle(tmp_path / "b", SOURCES))).exit_code == 0
    result = crun("match", "--accept-above", "0.95", "--format", "jsonl")
    assert result.exit_code == 0, result.output
    accepted = [json.loads(x) for x in result.stdout.splitlines()]
    accepted = [r for r in accepted if r["score"] >= 0.95]
    assert {(r["left_id"], r["right_id"]) for r in accepted} == {("off-1", "reg-9")}
    assert "joining 1 pair(s) scoring at least 0.95" in result.stderr
    assert "1 links created" in result.stderr
    assert json.loads(crun("stats", "--json").stdout)["links"] == {"SAME_AS": 1}
    assert ("off-1", "reg-9") not in _pairs(crun)  # one entity now: not proposed again
    # a link cofi cannot undo: `different` is refused, and nothing is recorded
    joined = accepted[0]["match_id"]
    result = crun("match", "decide", joined, "different")
    assert result.exit_code == 1
    assert f"{joined}: off-1 and reg-9 are one entity already" in result.stderr
    assert "nothing was recorded" in result.stderr
    result = crun("match", "decide", joined, "same", "--note", "checked")
    assert result.exit_code == 0 and "is now same: checked" in result.stdout


BEHIND = {
    **SOURCES,
    "agency": [{"id": "a-1", "name": "Астана қаласының құрылыс басқармасы"}],
    "contract": [{"id": "K-17", "buyer_id": "a-1", "supplier_id": "c-dala",
                  "signed_on": "2024-05-02", "value": "12400000", "currency": "KZT"}],
    "company": [*SOURCES["company"], {"id": "c-dala", "name": "ТОО «Дала Құрылыс»"}],
    "link": [
        {"source": "off-1", "target": "K-17", "type": "DECIDED", "role": "commission_member"},
        {"source": "reg-9", "target": "c-dala", "type": "DIRECTS", "role": "director",
         "since": "2020-01-01"},
    ],
}  # fmt: skip


def test_a_finding_through_a_match_carries_its_confidence_and_says_so(
    crun: Callable[..., Result], tmp_path: Path
) -> None:
    """The official off-1 decided K-17; reg-9, the director of its winner, is the same woman as
    the register writes her.  Nothing joins them until `cofi match` does."""
    assert crun("load", str(write_bundle(tmp_path / "b", BEHIND))).exit_code == 0
    assert json.loads(crun("check", "K-17", "--format", "jsonl").stdout or "null") is None
    pair = _pairs(crun)[("off-1", "reg-9")]
    result = crun("match", "--accept-above", str(pair["score"]), "--kind", "person")
    assert result.exit_code == 0, result.output
    for command in (["check", "K-17"], ["sweep", "--all"]):
        result = crun(*command, "--format", "jsonl")
        assert result.exit_code == 0, result.output
        (f,) = [json.loads(line) for line in result.stdout.splitlines()]
        assert f["decision_maker_id"] == "off-1" and f["pattern"] == "SELF_DEALING"
        assert f["match_confidence"] == pytest.approx(pair["score"], abs=1e-4)
        reasons = ", ".join(pair["reasons"])
        assert f["explanation"] == (
            f"Commission member Садықова Әйгерім Нұрланқызы, probably the same person as Aigerim "
            f"Sadykova ({reasons}), directs ТОО «Дала Құрылыс» (since 2020-01-01), which won "
            f"contract K-17 (12,400,000 KZT) signed on 2024-05-02"
        )
        # the score is the path's (one DIRECTS hop, 0.9, and the value's factor) times the match's
        value = 0.6 + 0.4 * min(1.0, math.log10(1 + 12_400_000) / 9.0)
        assert f["score"] == pytest.approx(round(0.9 * value, 4) * f["match_confidence"], abs=2e-4)
    text = crun("check", "K-17").stdout
    assert f"through a match: confidence {pair['score']:.4f}" in text
    # a reviewer's `same` makes the join certain: confidence 1, and the words say it was reviewed
    assert crun("match", "decide", pair["match_id"], "same").exit_code == 0
    (f,) = [json.loads(x) for x in crun("check", "K-17", "--format", "jsonl").stdout.splitlines()]
    assert f["match_confidence"] == 1.0 and "(reviewed)" in f["explanation"]


def test_match_writes_html_and_csv_that_run_nothing(
    run: Callable[..., Result], tmp_path: Path
) -> None:
    evil = {
        "company": [
            {"id": "c-1", "name": "ТОО «<img src=x onerror=alert(1)>»", "address": "Астана 1"},
            {"id": "c-2", "name": 'TOO "<img src=x onerror=alert(1)>"', "address": "Астана 1"},
            {"id": "c-3", "name": '=HYPERLINK("x") LLP', "address": "Астана 2"},
            {"id": "c-4", "name": 'ТОО «=HYPERLINK("x")»', "address": "Астана 2"},
        ]
    }
    assert run("load", str(write_bundle(tmp_path / "b", evil))).exit_code == 0
    page = run("match", "--format", "html").stdout
    assert "<table" in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "<img" not in page
    table = run("match", "--format", "csv").stdout
    assert "'=HYPERLINK" in table and ",=HYPERLINK" not in table
