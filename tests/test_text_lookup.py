"""`TextLookup` finds each text's place among the ids exactly as Arrow's `index_in` does, whether
it probes its own hash table or calls `index_in`, whatever hashes the texts share."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cofi import text_lookup
from cofi.text_lookup import TextLookup, text_hashes

TEXTS = st.text(alphabet=st.sampled_from("ab€й\x00 9"), max_size=20)


def reference(ids: list[str], needles: list[str]) -> list[int]:
    return [ids.index(n) if n in ids else -1 for n in needles]


@settings(max_examples=150, deadline=None)
@given(
    ids=st.lists(TEXTS, unique=True, max_size=60),
    others=st.lists(TEXTS, max_size=60),
    table_ids=st.sampled_from([0, 10**9]),
)
def test_places_are_those_of_a_plain_search(ids: list[str], others: list[str], table_ids: int):
    needles = [*others, *ids[::2], *ids[::3]]
    found = TextLookup(pa.array(ids, pa.string()), table_ids=table_ids).places(
        pa.array(needles, pa.string())
    )
    assert found.tolist() == reference(ids, needles)


@settings(max_examples=100, deadline=None)
@given(
    ids=st.lists(TEXTS, unique=True, max_size=60),
    split=st.integers(0, 60),
    others=st.lists(TEXTS, max_size=30),
    table_ids=st.sampled_from([0, 10**9]),
)
def test_an_extended_lookup_finds_the_old_ids_and_the_new(
    ids: list[str], split: int, others: list[str], table_ids: int
):
    old, more = ids[:split], ids[split:]
    lookup = TextLookup(pa.array(old, pa.string()), table_ids=table_ids)
    extended = lookup.extended(pa.array(more, pa.string()))
    needles = [*others, *ids[::-1]]
    assert extended.places(pa.array(needles, pa.string())).tolist() == reference(ids, needles)
    assert extended.ids.to_pylist() == ids
    assert lookup.places(pa.array(needles, pa.string())).tolist() == reference(old, needles)


def test_a_hash_texts_share_never_gives_a_wrong_place(monkeypatch: pytest.MonkeyPatch):
    """A hash of the length alone: every text of one length shares it with the others."""

    def by_length(texts):
        texts = texts.combine_chunks() if isinstance(texts, pa.ChunkedArray) else texts
        return pc.binary_length(texts).to_numpy(zero_copy_only=False).astype(np.uint64)

    monkeypatch.setattr(text_lookup, "text_hashes", by_length)
    ids = [f"{i:04d}" for i in range(0, 2000, 3)] + ["", "x", "yy"]
    needles = [f"{i:04d}" for i in range(2000)] + ["", "z", "yy", "zzz"]
    found = TextLookup(pa.array(ids), table_ids=0).places(pa.array(needles))
    assert found.tolist() == reference(ids, needles)


def test_slices_chunks_and_large_texts_are_looked_up_alike():
    words = [f"id-{i}-{'é' * (i % 19)}" for i in range(500)]
    whole = pa.array(["before", *words, "after"], pa.large_string())
    ids = whole.slice(1, len(words))  # (an offset into the buffers)
    needles = pa.chunked_array([pa.array(words[::-7]), pa.array(["nope", words[3]])])
    expected = reference(words, needles.to_pylist())
    for table_ids in (0, 10**9):
        assert TextLookup(ids, table_ids=table_ids).places(needles).tolist() == expected
    assert TextLookup(pa.array([]), table_ids=0).places(needles).tolist() == [-1] * len(needles)
    assert TextLookup(ids, table_ids=0).places(pa.array([], pa.string())).tolist() == []


def test_a_text_hashes_alike_wherever_it_lies():
    texts = ["", "a", "abcdefgh", "abcdefghi", "ключ-1234567890", "a\x00"]
    plain = text_hashes(pa.array(texts, pa.string()))
    shifted = text_hashes(pa.array(["zz", *texts], pa.large_string()).slice(1))
    assert plain.tolist() == shifted.tolist()
    assert len(set(plain.tolist())) == len(texts)  # ("a" and "a\x00": the length tells)
