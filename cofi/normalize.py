"""Normalisation of contact values, national identifiers and names.

Identifier nodes are made by equality after `normalize_contact`; records merge on a valid IIN/BIN
(`valid_iin_bin`); `search_key` folds case, diacritics and script so Cyrillic and Latin spellings of
one name meet.
"""

from __future__ import annotations

import operator
import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from cofi.vocab import Kind

_NON_ALNUM = re.compile(r"[\W_]+", re.UNICODE)
_NON_DIGIT = re.compile(r"\D+")


def normalize_text(value: str) -> str:
    """NFKC, case-fold, every run of non-letters/digits to one space, trimmed."""
    return _separated(unicodedata.normalize("NFKC", value).casefold())


_ASCII_SEPARATORS = {c: " " for c in range(128) if not chr(c).isalnum()}


def _separated(text: str) -> str:
    """`text` with every run of characters that are neither letters nor digits (`[\\W_]+`) made
    one space, trimmed: the same as `_NON_ALNUM.sub(" ", text).strip()`, twice as fast on
    an address (an ASCII text through one `translate`; another split at the punctuation of
    addresses and names, and taken when what is left between the spaces is letters and digits
    alone)."""
    if text.isascii():
        return " ".join(text.translate(_ASCII_SEPARATORS).split())
    words = text.replace(",", " ").replace(".", " ").replace("-", " ").split()
    if "".join(words).isalnum():
        return " ".join(words)
    return _NON_ALNUM.sub(" ", text).strip()


def normalize_phone(value: str) -> str:
    """Digits only; an 11-digit number starting with 8 (Kazakh trunk prefix) becomes 7…."""
    digits = _NON_DIGIT.sub("", unicodedata.normalize("NFKC", value))
    if len(digits) == 11 and digits.startswith("8"):
        digits = "7" + digits[1:]
    return digits


@lru_cache(maxsize=1 << 16)  # shared addresses and phones come back row after row
def normalize_contact(kind: Kind, value: str) -> str:
    """The key that makes equal contact values one identifier node ('' when nothing is left)."""
    if kind is Kind.PHONE:
        return normalize_phone(value)
    return normalize_text(value)


_WEIGHTS_1 = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11)
_WEIGHTS_2 = (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2)
assert sum(_WEIGHTS_1) == sum(_WEIGHTS_2) == 66


def valid_iin_bin(value: str) -> bool:
    """Whether `value` is 12 digits whose last digit is the Kazakh IIN/BIN check digit.

    The check digit is the weighted sum of the first 11 digits (weights 1..11) mod 11; when that is
    10 the second weight row (3..11, 1, 2) is used; when that is 10 too, no number is valid.
    """
    if len(value) != 12 or not value.isascii() or not value.isdigit():
        return False
    # (`iin_bin_check_digit` written out: 1.21 µs against 1.58 µs, for every person and company)
    d = value.encode()  # each digit's code is 48 more than its value
    check = (d[0] + 2 * d[1] + 3 * d[2] + 4 * d[3] + 5 * d[4] + 6 * d[5] + 7 * d[6] + 8 * d[7]
             + 9 * d[8] + 10 * d[9] + 11 * d[10] - 48 * 66) % 11  # fmt: skip
    if check == 10:
        check = (3 * d[0] + 4 * d[1] + 5 * d[2] + 6 * d[3] + 7 * d[4] + 8 * d[5] + 9 * d[6]
                 + 10 * d[7] + 11 * d[8] + d[9] + 2 * d[10] - 48 * 66) % 11  # fmt: skip
        if check == 10:
            return False
    return check == d[11] - 48


def iin_bin_check_digit(first11: str) -> int | None:
    """The check digit for 11 leading digits, or None when none exists."""
    codes = first11.encode("ascii")  # each digit's code is 48 more than its value
    for weights in (_WEIGHTS_1, _WEIGHTS_2):
        check: int = (sum(map(operator.mul, codes, weights)) - 48 * 66) % 11
        if check != 10:
            return check
    return None


# Folds that make common Latin transliterations of one Cyrillic/Kazakh name meet
# (Sadyqov/Sadykov, Aigerim/Aygerim, Zhanna/Janna, Khan/Han, Asel/Assel).  Applied after anyascii.
_DIGRAPHS = (("aye", "ae"), ("shch", "sh"), ("zh", "j"), ("kh", "h"), ("gh", "g"), ("ts", "c"))
_LETTERS = (("q", "k"), ("w", "v"), ("x", "ks"), ("y", "i"))
"""Letter for letter (none made is replaced again: one `str.translate`, written out as replaces,
which are faster on a word)."""
_DOUBLED = re.compile(r"(.)\1+")
_LEADING_YE = re.compile(r"\bie")


def _first(match: re.Match[str]) -> str:
    return match.group(1)


class _Translit(dict[int, str]):
    """anyascii's own mapping for the blocks names are written in (Latin-1 and Latin Extended-A/B,
    Cyrillic with Kazakh letters), each letter taken the first time it is met, so that most
    names transliterate in one `translate` call; characters outside these blocks still go
    through anyascii itself.  (Taking the whole blocks at once cost every command that folds a
    name 19 ms.)"""

    def __missing__(self, c: int) -> str:
        if 0x80 <= c < 0x500:
            from anyascii import anyascii

            value = anyascii(chr(c)).lower()
        else:
            value = chr(c)  # left as it is (and found at once the next time)
        self[c] = value
        return value


_TRANSLIT = _Translit()


def _to_ascii(text: str) -> str:
    text = text.translate(_TRANSLIT)
    if text.isascii():
        return text
    from anyascii import anyascii

    return anyascii(text).lower()


def search_key(name: str) -> str:
    """A case-, diacritic- and script-insensitive key for `name` (tokens joined by spaces).

    Computed word by word (a word's key never reaches across the space around it), so the
    given names and surnames a population shares are folded once each.
    """
    return " ".join(filter(None, map(_word_key, name.split())))


_PARTS = "[-«»]"
"""Where a word's key is its parts' keys joined by a space (the parts' folded to '' dropped):
each of these characters is a separator to `_separated`, through NFKC, case folding and
anyascii alike, and joins with no character next to it (a test holds `search_keys` to
`search_key` on names full of them)."""


def search_keys(names: Any) -> Any:
    """`search_key` of each name of the Arrow string array `names`, as an Arrow string array:
    Python folds each distinct word once (`by_words`), not each name, a word of ASCII digits
    not even once (`_digit_keys`).  (The large synthetic bundle's 675,469 people's names hold
    1,694 distinct words; its companies' and contracts' names hold a distinct word each, their
    number: 'Барыс-2»', taken apart at `_PARTS`, is 'Барыс' and '2'.  The companies' 339,100
    names took 1.73 s of CPU to key, the contracts' 504,400 titles 0.88 s.)"""
    return by_words(names, _word_key.__wrapped__, parts=_PARTS, digits=_digit_keys)


def _digit_keys(words: Any) -> Any:
    """`_word_key` of each word of the Arrow string array `words`, every one ASCII digits:
    each run of one digit made one (`_DOUBLED`), by numpy on the words' bytes."""
    import numpy as np
    import pyarrow as pa

    words = words.cast(pa.large_string())
    data = np.frombuffer(words.buffers()[2], np.uint8) if len(words) else np.zeros(0, np.uint8)
    first = words.offset
    offsets = np.frombuffer(words.buffers()[1], np.int64)[first : first + len(words) + 1]
    data = data[offsets[0] : offsets[-1]]
    starts = offsets[:-1] - offsets[0]
    keep = np.ones(len(data), bool)
    keep[1:] = data[1:] != data[:-1]
    keep[starts] = True  # (a word's first digit, whatever the last word's last)
    ends = np.zeros(len(words) + 1, np.int64)
    np.cumsum(np.add.reduceat(keep, starts) if len(words) else [], out=ends[1:])
    return pa.LargeStringArray.from_buffers(
        len(words), pa.py_buffer(ends), pa.py_buffer(data[keep].tobytes())
    )


def contact_keys(kind: Kind, values: Any) -> Any:
    """`normalize_contact(kind, v)` of each value of the Arrow string array `values`, as an
    Arrow string array: a phone's digits from each distinct value, a text's by words
    (`by_words`: the key of a text is its words' keys joined by spaces)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if kind is not Kind.PHONE:
        return by_words(values, normalize_text)
    distinct = pc.unique(values)
    keys = pa.array([normalize_phone(v) for v in distinct.to_pylist()], pa.string())
    return pc.take(keys, pc.index_in(values, value_set=distinct))


def by_words(
    texts: Any,
    fold: Callable[[str], str],
    parts: str | None = None,
    digits: Callable[[Any], Any] | None = None,
) -> Any:
    """Each text of the Arrow string array `texts` split into words at white space, each word
    folded by `fold` (a word folded to '' dropped), the words joined by one space: as an Arrow
    string array.  The words are split and joined by Arrow (its white space is exactly
    `str.isspace`'s, a test holds it to every code point), and each distinct word is folded
    once (`_folded`: taken apart at `parts`, its digits by `digits`, if given)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(texts, pa.ChunkedArray):
        texts = texts.combine_chunks()
    return _joined(
        pc.utf8_split_whitespace(texts), len(texts), lambda w: _folded(w, fold, parts, digits)
    )


def _joined(lists: Any, n: int, fold: Callable[[Any], Any]) -> Any:
    """Each of the `n` lists of words `lists` (an Arrow list array) as its words' keys joined
    by a space, those that are '' dropped: `fold` keys the distinct words (an Arrow string
    array) at once."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    coded = pc.dictionary_encode(pc.list_flatten(lists))
    folded = fold(coded.dictionary)
    which = coded.indices.to_numpy(zero_copy_only=False)
    kept = pc.not_equal(folded, "").to_numpy(zero_copy_only=False)[which]
    counts = np.bincount(pc.list_parent_indices(lists).to_numpy()[kept], minlength=n)
    offsets = np.zeros(n + 1, np.int64)
    np.cumsum(counts, out=offsets[1:])
    keys = folded.take(pa.array(which[kept]))
    return pc.binary_join(pa.LargeListArray.from_arrays(pa.array(offsets), keys), " ")


def _folded(
    words: Any, fold: Callable[[str], str], parts: str | None, digits: Callable[[Any], Any] | None
) -> Any:
    """`fold` of each of the distinct `words` (an Arrow string array), as an Arrow string array:
    with `parts`, a word's key is its parts' keys (each distinct part folded once) joined by a
    space, those folded to '' dropped; with `digits`, the words of ASCII digits are folded by
    it, all at once."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    if parts is not None:
        split = pc.split_pattern_regex(words, parts)
        return _joined(split, len(words), lambda p: _folded(p, fold, None, digits)).cast(
            pa.string()
        )
    if digits is None:
        return pa.array(list(map(fold, words.to_pylist())), pa.string())
    number = pc.ascii_is_decimal(words).to_numpy(zero_copy_only=False)
    by_fold = np.flatnonzero(~number)
    folded = pa.chunked_array([
        digits(words.filter(pa.array(number))).cast(pa.string()),
        pa.array(list(map(fold, words.take(pa.array(by_fold)).to_pylist())), pa.string()),
    ]).combine_chunks()  # fmt: skip
    place = np.empty(len(words), np.int64)  # (each word's place in `folded`)
    place[np.concatenate([np.flatnonzero(number), by_fold])] = np.arange(len(words))
    return folded.take(pa.array(place))


@lru_cache(maxsize=1 << 18)
def _word_key(word: str) -> str:
    if word.isascii():  # NFKC leaves ASCII as it is, and case-folds it to lower case
        text = word.lower()
        if not text.isalnum():
            text = _separated(text)
    else:
        text = unicodedata.normalize("NFKC", word).casefold()
        if not text.isascii():
            text = _to_ascii(text)
        text = _separated(text)
    if text.isdigit():  # a number: no letters to fold
        return _DOUBLED.sub(_first, text) if _DOUBLED.search(text) else text
    for old, new in _DIGRAPHS:
        if old in text:
            text = text.replace(old, new)
    for old, new in _LETTERS:
        if old in text:
            text = text.replace(old, new)
    if _DOUBLED.search(text):  # (a search alone, where no letter is doubled: most words)
        text = _DOUBLED.sub(_first, text)
    # A leading Cyrillic "Е" is "Ye" in one transliteration and "E" in another.
    return _LEADING_YE.sub("e", text) if "ie" in text else text


_REGISTRY = re.compile(r"^([A-Za-z]{2}-[A-Za-z0-9]+)\s*:\s*(\S.*)$")


def registry_key(value: str) -> str | None:
    """The matching key of a register identifier written `SCHEME:value` (org-id.guide schemes
    such as `GB-COH:06436883`, `UA-EDR:20201870`, `RU-INN:1841015504`, `XI-LEI:…`), or None
    when `value` is not of that form.

    The scheme is upper-cased; the value loses spaces, dots and dashes and is upper-cased; an
    all-digit value loses its leading zeros (registers print `06436883` and `6436883` alike).
    """
    match = _REGISTRY.match(value.strip())
    if match is None:
        return None
    scheme, number = match.group(1).upper(), re.sub(r"[\s.\-]", "", match.group(2)).upper()
    if number.isdigit():
        number = number.lstrip("0") or "0"
    return f"{scheme}:{number}" if number else None
