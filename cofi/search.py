"""Name search ranking, the same for every store.

A store narrows the candidates to records whose search key holds every query token; `rank` then
orders them: exact name over same name in another script or spelling over all words over partial.
"""

from __future__ import annotations

from cofi.normalize import normalize_text, search_key

EXACT, SAME_KEY, ALL_WORDS, PARTIAL = 0, 1, 2, 3


def query_tokens(query: str) -> list[str]:
    """The tokens every candidate's search key must contain."""
    return search_key(query).split()


def rank(query: str, names: list[str], keys: list[str] | None = None) -> int | None:
    """How well `query` matches the best of `names` (a name and its aliases); None for no match.
    `keys`, when given, are the names' search keys as stored (saves computing them again)."""
    plain = normalize_text(query)
    key = search_key(query)
    tokens = key.split()
    if not tokens:
        return None
    best: int | None = None
    for i, name in enumerate(names):
        if normalize_text(name) == plain:
            return EXACT
        name_key = search_key(name) if keys is None else keys[i]
        if name_key == key:
            score = SAME_KEY
        elif set(tokens) <= set(name_key.split()):
            score = ALL_WORDS
        elif all(t in name_key for t in tokens):
            score = PARTIAL
        else:
            continue
        best = score if best is None else min(best, score)
    return best
