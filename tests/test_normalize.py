import re
import unicodedata

import pyarrow as pa
import pyarrow.compute as pc
from anyascii import anyascii
from hypothesis import given, settings
from hypothesis import strategies as st

from cofi.normalize import (
    _digit_keys,
    _word_key,
    contact_keys,
    iin_bin_check_digit,
    normalize_contact,
    normalize_phone,
    normalize_text,
    search_key,
    search_keys,
    valid_iin_bin,
)
from cofi.vocab import Kind


def test_address_punctuation_and_case_do_not_matter() -> None:
    assert normalize_text("г. Алматы, д.40") == normalize_text("Г. АЛМАТЫ,  д. 40")
    assert normalize_text("  ул.Абая—10 ") == "ул абая 10"


def test_nfkc_folds_compatibility_forms() -> None:
    assert normalize_text("ｕｌ． Ａｂａｙａ") == "ul abaya"


def test_phone_keeps_digits_and_turns_8_into_7() -> None:
    assert normalize_phone("8 (701) 555-12-34") == "77015551234"
    assert normalize_phone("+7 701 555 12 34") == "77015551234"
    assert normalize_phone("8 123") == "8123"  # not 11 digits: left alone


def test_email_uses_text_rule_and_empty_is_empty() -> None:
    assert normalize_contact(Kind.EMAIL, "Info@Dala.KZ") == "info dala kz"
    assert normalize_contact(Kind.ADDRESS, " ,.- ") == ""


def test_iin_checksum_both_weight_rows() -> None:
    assert valid_iin_bin("800312400002")
    assert not valid_iin_bin("800312400003")
    assert not valid_iin_bin("80031240000")
    assert not valid_iin_bin("8003124000０2")  # a non-ASCII digit
    # find an 11-digit prefix whose first-row sum is 10, so the second row decides
    prefix = next(
        f"{n:011d}"
        for n in range(10**6)
        if sum(int(d) * w for d, w in zip(f"{n:011d}", range(1, 12), strict=True)) % 11 == 10
    )
    digit = iin_bin_check_digit(prefix)
    if digit is not None:
        assert valid_iin_bin(prefix + str(digit))
        assert not valid_iin_bin(prefix + str((digit + 1) % 10))


def test_search_key_meets_cyrillic_and_latin_spellings() -> None:
    assert search_key("Әйгерім Садықова") == search_key("Aigerim Sadykova")
    assert search_key("Ерлан Омаров") == search_key("Yerlan Omarov")
    assert search_key("Сергей") == search_key("Sergei")
    assert search_key("Жұмабаев") == search_key("Zhumabayev")
    assert search_key("Садықов") != search_key("Садықова")


@given(st.text(alphabet=st.characters(max_codepoint=127), max_size=20))
@settings(max_examples=500, deadline=None)
def test_search_key_of_ascii_words_takes_a_short_cut_to_the_same_key(name: str) -> None:
    """A word of ASCII skips NFKC and transliteration; a zero-width space (which folds to
    nothing) sends the same word down the long way."""
    slow = " ".join(word + "\u200b" for word in name.split())
    assert search_key(name) == search_key(slow)


# The quick forms of the load's folds against the plain ones they replace (written out here).

NAME_TEXT = st.text(
    alphabet=st.one_of(
        st.sampled_from("абвгдеёжзийклмнопрстуфхцчшщъыьэюяӘәҒғҚқҢңӨөҰұҮүҺһІіЕАЯ"),
        st.sampled_from("abcdefghijklmnopqrstuvwxyzQWXYZ0123456789 ,.-_/«»\"'№()ﬁ①\u200b\u0301"),
        st.characters(),
    ),
    max_size=40,
)


def _separated_plainly(text: str) -> str:
    return re.sub(r"[\W_]+", " ", text).strip()


def _word_key_plainly(word: str) -> str:
    text = unicodedata.normalize("NFKC", word).casefold()
    text = anyascii(text).lower() if not text.isascii() else text
    text = _separated_plainly(text)
    if text.isdigit():
        return re.sub(r"(.)\1+", r"\1", text)
    for old, new in (("aye", "ae"), ("shch", "sh"), ("zh", "j"), ("kh", "h"), ("gh", "g"),
                     ("ts", "c")):  # fmt: skip
        text = text.replace(old, new)
    text = re.sub(r"(.)\1+", r"\1", text.translate(str.maketrans({"q": "k", "w": "v", "x": "ks",
                                                                  "y": "i"})))  # fmt: skip
    return re.sub(r"\bie", "e", text)


@given(NAME_TEXT)
@settings(max_examples=3000, deadline=None)
def test_the_quick_folds_are_the_plain_ones(text: str) -> None:
    assert normalize_text(text) == _separated_plainly(
        unicodedata.normalize("NFKC", text).casefold()
    )
    assert search_key(text) == " ".join(filter(None, map(_word_key_plainly, text.split())))


@given(st.lists(NAME_TEXT.filter(lambda name: name.isascii() or _utf8(name)), max_size=30))
@settings(max_examples=1000, deadline=None)
def test_the_search_keys_of_a_column_are_each_names_search_key(names: list[str]) -> None:
    """The load's way (`search_keys`: words split by Arrow, each distinct word folded once,
    joined by Arrow) against `search_key` name by name; words of no letters or digits (`«`,
    `-`) drop out of both.  (A name read from a file is UTF-8: no lone surrogate.)"""
    column = pa.array(names, pa.string())
    assert search_keys(column).to_pylist() == [search_key(name) for name in names]
    assert search_keys(pa.chunked_array([column, column])).to_pylist() == [
        search_key(name) for name in names * 2
    ]


@given(
    st.lists(
        st.text(alphabet=st.sampled_from("-«» 0112ab\u0301ﬁ①Барыс№"), max_size=12), max_size=30
    )
)
@settings(max_examples=1000, deadline=None)
def test_words_taken_apart_and_numbers_keyed_at_once_key_as_search_key_does(
    names: list[str],
) -> None:
    """`search_keys` takes a word apart at `-`, `«` and `»` and keys the words of ASCII digits
    by numpy: the same keys as `search_key`'s, on names made of little else."""
    assert search_keys(pa.array(names, pa.string())).to_pylist() == list(map(search_key, names))


@given(st.lists(st.from_regex(r"\A[0-9]{1,12}\Z"), min_size=1, max_size=30), st.integers(0, 3))
def test_numbers_are_keyed_at_once_as_word_by_word(words: list[str], skip: int) -> None:
    """`_digit_keys` on an array sliced as Arrow slices a block's words (its offsets not at 0)."""
    column = pa.array(["9", *words], pa.string()).slice(min(skip, len(words)))
    assert _digit_keys(column).to_pylist() == [_word_key(w) for w in column.to_pylist()]


@given(
    st.sampled_from(sorted(Kind, key=lambda k: k.value)),
    st.lists(
        st.one_of(NAME_TEXT, st.from_regex(r"\A[+8]?[0-9 ()\-]{0,14}\Z"), st.just("")).filter(
            lambda text: text.isascii() or _utf8(text)
        ),
        max_size=30,
    ),
)
@settings(max_examples=1000, deadline=None)
def test_the_contact_keys_of_a_column_are_each_values_key(kind: Kind, values: list[str]) -> None:
    """The load's way (`contact_keys`: a text's key by its words, each distinct word folded
    once) against `normalize_contact` value by value."""
    column = pa.array(values, pa.string())
    assert contact_keys(kind, column).to_pylist() == [normalize_contact(kind, v) for v in values]


def _utf8(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def test_arrow_splits_words_where_str_split_does() -> None:
    """`search_keys` rests on this for every code point."""
    chars = [chr(i) for i in range(0x110000) if not 0xD800 <= i < 0xE000]
    words = pc.utf8_split_whitespace(pa.array([f"a{c}b" for c in chars]))
    assert words.to_pylist() == [f"a{c}b".split() for c in chars]


@given(st.one_of(st.from_regex(r"\A[0-9]{12}\Z"), st.text(max_size=13)))
@settings(max_examples=3000, deadline=None)
def test_the_written_out_iin_bin_check_is_the_check_digits(value: str) -> None:
    plain = len(value) == 12 and value.isascii() and value.isdigit()
    assert valid_iin_bin(value) == (plain and iin_bin_check_digit(value[:11]) == int(value[11]))
