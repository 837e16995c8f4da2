"""The one vocabulary: every link type says everything that depends on it."""

from __future__ import annotations

from cofi.graph import EDGE_TYPES
from cofi.vocab import DECLARATION_LINK, INPUT_LINK_TYPES, LINK_TYPES, PATTERNS, Kind


def test_every_traversable_type_has_a_weight_words_and_a_pattern_from_the_list() -> None:
    for name, link in LINK_TYPES.items():
        if not link.traversable:
            assert not link.weight and not link.noun and not link.pattern, name
            continue
        assert 0 < link.weight <= 1, name
        # people and identifier values are named by a noun, companies reached by verbs, and a
        # declaration names the interest in a company
        assert link.noun or all("{there}" in verb for verb in link.verbs), name
        assert link.noun or link.interest.startswith("the "), name
        assert link.pattern in ("", *PATTERNS), name
        assert name in EDGE_TYPES, name


def test_declarations_are_links_a_bundle_cannot_write_in_links_csv() -> None:
    assert set(DECLARATION_LINK) == {"relative", "interest", "conflict_notice", "recusal"}
    for kind, name in DECLARATION_LINK.items():
        link = LINK_TYPES[name]
        assert link.declares == kind and not link.traversable
        assert name not in INPUT_LINK_TYPES and link.sources == {Kind.PERSON}
