"""The places of texts among many distinct texts, looked up again and again against one table.

Arrow's `index_in` hashes its whole value set at each call: against the xlarge scale's 10M
records' ids, 3.5 s a call, for each batch of links, contacts or DECIDED pairs the graph file
looks up (about twenty calls).  `TextLookup` hashes the ids once, each to 64 bits by numpy over
the Arrow buffers (eight bytes at a time), and finds a text's place by
probing a hash table of them (`hash_table`, as the graph file's own); the text found there is
compared with the one looked for, so a hash two texts share never gives a wrong place.
"""

from __future__ import annotations

from typing import Any

import numpy as np

Array = np.ndarray[Any, Any]

_MASKS = np.array([(1 << (8 * n)) - 1 for n in range(8)] + [(1 << 64) - 1], np.uint64)
"""The bytes of a word that belong to a text `n` bytes from its end (little-endian)."""
_MUL = np.uint64(0x9E3779B97F4A7C15)
_SHIFT = np.uint64(29)


def text_hashes(texts: Any) -> Array:
    """A 64-bit hash of each text of the Arrow array `texts` (none null): its length mixed with
    each of its eight-byte words in turn."""
    import pyarrow as pa

    texts = texts.combine_chunks() if isinstance(texts, pa.ChunkedArray) else texts
    n = len(texts)
    if not n:
        return np.zeros(0, np.uint64)
    wide: type[np.signedinteger[Any]]
    if pa.types.is_string(texts.type) or pa.types.is_binary(texts.type):
        wide = np.int32
    elif pa.types.is_large_string(texts.type) or pa.types.is_large_binary(texts.type):
        wide = np.int64
    else:
        raise TypeError(f"texts expected, not {texts.type}")
    _, offsets, data = texts.buffers()
    ends = np.frombuffer(offsets, wide)[texts.offset : texts.offset + n + 1].astype(np.int64)
    raw = np.frombuffer(data, np.uint8) if data is not None else np.zeros(0, np.uint8)
    return hashes_of(ends, raw)


def hashes_of(ends: Array, raw: Array) -> Array:
    """`text_hashes` of the texts whose UTF-8 bytes are `raw[ends[i]:ends[i + 1]]` (numpy
    arrays: no Arrow needed)."""
    n = len(ends) - 1
    if n <= 0:
        return np.zeros(0, np.uint64)
    start, length = ends[:-1].copy(), np.diff(ends)
    first, last = int(ends[0]), int(ends[-1])
    padded = np.zeros(last - first + 8, np.uint8)  # (a word may be read from a text's last byte)
    padded[: last - first] = raw[first:last]
    start -= first
    words = np.ndarray((len(padded) - 7,), np.dtype("<u8"), padded, 0, (1,))  # at every byte
    hashes = length.astype(np.uint64) * _MUL
    todo = np.arange(n)
    for at in range(0, int(length.max()), 8):
        if at:
            todo = todo[length[todo] > at]
        word = words[start[todo] + at] & _MASKS[np.minimum(length[todo] - at, 8)]
        mixed = (hashes[todo] ^ word) * _MUL
        hashes[todo] = mixed ^ (mixed >> _SHIFT)
    return hashes


def hash_table(hashes: Array) -> Array:
    """The hash table of keys (`graph_file.hash_table`) from their hashes (CRC-32s there), made
    on the whole column: sorted by home slot (the hash's low bits), each takes the next free
    slot from its home; a slot holds its key's place + 1, 0 when free.  Every slot from a key's
    home to its own holds a key: linear probing from the home finds it."""
    n = len(hashes)
    mask = (1 << max(4, (2 * n).bit_length())) - 1
    table = np.zeros(mask + 1, np.int32)
    if not n:
        return table
    home = hashes & mask
    order = np.argsort(home, kind="stable")
    steps = np.arange(n, dtype=np.int64)
    slot = np.maximum.accumulate(home[order] - steps) + steps  # the next free slot from home
    inside = slot <= mask
    table[slot[inside]] = order[inside] + 1
    free = 0
    for position in order[~inside]:  # past the end: round to the first free slots
        while table[free]:
            free += 1
        table[free] = position + 1
    return table


TABLE_IDS = 3_000_000
"""From this many ids, `TextLookup` makes its table; below, Arrow's `index_in` hashes them at each
lookup as fast (4M texts among 1.5M ids: 0.87 s against 1.1 s; among 10M: 5.6 s against 1.8 s)."""


class TextLookup:
    """The places of texts among `ids` (an Arrow array of distinct texts, none null, fewer than
    2^31): a hash table of their `text_hashes`, probed for many texts at once (or, for fewer
    than `table_ids` ids, Arrow's `index_in`)."""

    def __init__(self, ids: Any, table_ids: int | None = None) -> None:
        import pyarrow as pa

        self.ids = ids.combine_chunks() if isinstance(ids, pa.ChunkedArray) else ids
        self._table: Array | None = None
        if len(self.ids) >= (TABLE_IDS if table_ids is None else table_ids):
            self._hashes = text_hashes(self.ids).view(np.int64)
            self._table = hash_table(self._hashes)
            self._mask = len(self._table) - 1

    @classmethod
    def of_parts(cls, ids: Any, hashes: Array, table: Array) -> TextLookup:
        """The lookup whose `parts` were kept (a file's): nothing hashed again."""
        lookup = cls.__new__(cls)
        lookup.ids, lookup._hashes, lookup._table = ids, hashes, table
        lookup._mask = len(table) - 1
        return lookup

    @property
    def parts(self) -> tuple[Array, Array]:
        """Each id's hash and the hash table (made whatever the number of ids)."""
        if self._table is None:
            self._hashes = text_hashes(self.ids).view(np.int64)
            self._table = hash_table(self._hashes)
            self._mask = len(self._table) - 1
        return self._hashes, self._table

    def extended(self, more: Any) -> TextLookup:
        """The lookup of these ids and then `more` (an Arrow array of texts, none of them
        here): only `more` hashed, the table made again (with every id's table)."""
        import pyarrow as pa

        if not len(more):
            return self
        hashes, _ = self.parts
        ids = pa.concat_arrays([self.ids.cast(pa.large_string()), more.cast(pa.large_string())])
        every = np.concatenate([hashes, text_hashes(more).view(np.int64)])
        return TextLookup.of_parts(ids, every, hash_table(every))

    def __len__(self) -> int:
        return len(self.ids)

    def places(self, texts: Any) -> Array:
        """The place among the ids of each of `texts` (an Arrow array or chunked array of
        texts), -1 where it is none of them."""
        import pyarrow as pa
        import pyarrow.compute as pc

        if self._table is None:
            found_in = pc.index_in(texts, value_set=self.ids)
            if isinstance(found_in, pa.ChunkedArray):
                found_in = found_in.combine_chunks()
            places: Array = pc.fill_null(found_in, -1).to_numpy(zero_copy_only=False)
            return places.astype(np.int64)
        texts = texts.combine_chunks() if isinstance(texts, pa.ChunkedArray) else texts
        n = len(texts)
        found = np.full(n, -1, np.int64)
        if not n:
            return found
        hashes = text_hashes(texts).view(np.int64)
        slot = hashes & self._mask
        todo = np.arange(n)
        while len(todo):  # (each round: the texts not yet found or known absent, a slot on)
            held = self._table[slot[todo]].astype(np.int64) - 1
            candidate = held >= 0
            same = candidate.copy()
            same[candidate] = self._hashes[held[candidate]] == hashes[todo[candidate]]
            if same.any():  # the same hash: the same text, unless two texts share it
                at, place = todo[same], held[same]
                equal = pc.equal(texts.take(pa.array(at)), self.ids.take(pa.array(place)))
                equal = equal.to_numpy(zero_copy_only=False)
                found[at[equal]] = place[equal]
                candidate[np.flatnonzero(same)[equal]] = False  # (found: no further)
            todo = todo[candidate]
            slot[todo] = (slot[todo] + 1) & self._mask
        return found
