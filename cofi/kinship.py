"""Kinship words for explanations: a role, its inverse, two roles composed, and a guess at gender.

The bundle has no gender column.  Russian and Kazakh surnames and patronymics mark it (Sadykova,
Ospanov, Nurlanqyzy, Bolatuly), so a name with exactly one kind of marker gets the gendered word
("brother-in-law"); otherwise the neutral one ("sibling-in-law").  `spouse` is always "spouse".
"""

from __future__ import annotations

import re

from cofi.normalize import search_key
from cofi.vocab import FAMILY_INVERSE

# Two roles walked one after the other -> the one relationship they make.
_COMPOSED: dict[tuple[str, str], str] = {
    ("spouse", "sibling"): "sibling_in_law",
    ("sibling", "spouse"): "sibling_in_law",
    ("spouse", "parent"): "parent_in_law",
    ("child", "spouse"): "child_in_law",
    ("parent", "parent"): "grandparent",
    ("child", "child"): "grandchild",
    ("parent", "sibling"): "aunt_or_uncle",
    ("sibling", "child"): "niece_or_nephew",
    ("spouse", "parent_in_law"): "parent",
    ("child_in_law", "child"): "grandchild",
}

# role -> (male word, female word, neutral word)
_WORDS: dict[str, tuple[str, str, str]] = {
    "spouse": ("spouse", "spouse", "spouse"),
    "parent": ("father", "mother", "parent"),
    "child": ("son", "daughter", "child"),
    "sibling": ("brother", "sister", "sibling"),
    "grandparent": ("grandfather", "grandmother", "grandparent"),
    "grandchild": ("grandson", "granddaughter", "grandchild"),
    "parent_in_law": ("father-in-law", "mother-in-law", "parent-in-law"),
    "child_in_law": ("son-in-law", "daughter-in-law", "child-in-law"),
    "sibling_in_law": ("brother-in-law", "sister-in-law", "sibling-in-law"),
    "aunt_or_uncle": ("uncle", "aunt", "aunt or uncle"),
    "niece_or_nephew": ("nephew", "niece", "niece or nephew"),
    "other": ("relative", "relative", "relative"),
}

_FEMALE = re.compile(r"(ova|eva|ina|ına|kaia|skaia|kaya|kizi|kyzy|kizy|qyzy)$")
_MALE = re.compile(r"(ov|ev|in|iy|skii|skiy|ski|uly|uli|ulu)$")


def inverse(role: str) -> str:
    """If B is A's `role`, A is B's `inverse(role)`."""
    return FAMILY_INVERSE.get(role, "other")


def compose(first: str, second: str) -> str | None:
    """The relationship of `first`'s `second`, when it has a name of its own."""
    return _COMPOSED.get((first, second))


def gender(name: str) -> str | None:
    """'m', 'f' or None, from surname and patronymic endings in any script."""
    words = [w for w in search_key(name).split() if len(w) > 3]
    female = any(_FEMALE.search(w) for w in words)
    male = any(_MALE.search(w) and not _FEMALE.search(w) for w in words)
    if female != male:
        return "f" if female else "m"
    return None


def word(role: str, name: str = "") -> str:
    """The word for a relative in `role` whose name is `name`."""
    male, female, neutral = _WORDS.get(role, (role, role, role.replace("_", " ")))
    g = gender(name) if name else None
    return male if g == "m" else female if g == "f" else neutral
