"""Cleaning what people type before any other work sees it.

NFKC folds full-width digits and letters; control, zero-width and
bidirectional-override characters are dropped; the length is capped first so
that a 100,000-character paste costs nothing.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_HAN_RE = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_LATIN_WORD_RE = re.compile(r"[A-Za-z]{2,}")
_SPACE_RE = re.compile(r"\s+")
# Categories Cc (control), Cf (format: zero-width, bidi overrides), Cs
# (lone surrogates), Co (private use) and Cn (unassigned) carry no meaning
# for a question and can hide text from a human reader.
_DROP_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn"}
# Read this many characters at most before cleaning; cleaning only shrinks.
_RAW_FACTOR = 4


def clean(text: str, max_chars: int = 2000) -> str:
    """Return `text` NFKC-normalised, without invisible characters, spaces folded, capped."""
    if not isinstance(text, str):
        text = str(text)
    text = text[: max_chars * _RAW_FACTOR]
    text = text.encode("utf-8", "replace").decode("utf-8")
    text = unicodedata.normalize("NFKC", text)
    kept = []
    for ch in text:
        if ch in "\n\t\r":
            kept.append(" ")
        elif unicodedata.category(ch) not in _DROP_CATEGORIES:
            kept.append(ch)
    return _SPACE_RE.sub(" ", "".join(kept)).strip()[:max_chars]


def shorten(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, the cut marked with "…"."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def detect_language(text: str) -> str:
    """'zh' when the text is mainly Chinese (simplified or traditional), else 'en'."""
    han = len(_HAN_RE.findall(text))
    latin_words = len(_LATIN_WORD_RE.findall(text))
    if han == 0:
        return "en"
    # A Chinese character carries about as much as an English word; a couple
    # of English words in a Chinese sentence ("我的ID number泄露了") stay zh.
    return "zh" if han >= latin_words else "en"


@lru_cache(maxsize=1)
def _converter():
    from opencc import OpenCC

    return OpenCC("t2s")


def to_simplified(text: str) -> str:
    """Traditional characters converted to simplified; everything else unchanged."""
    if not _HAN_RE.search(text):
        return text
    return _converter().convert(text)


def is_traditional(text: str) -> bool:
    """Whether the text has Chinese characters written in the traditional script."""
    return bool(_HAN_RE.search(text)) and to_simplified(text) != text


# Words that show where traditional Chinese comes from, to answer in that variant.
_HONG_KONG_RE = re.compile(r"[嘅係咗唔冇喺啲佢嘢乜咁]")
_TAIWAN_RE = re.compile(r"簡訊|軟體|網路|帳號|資訊|詐騙集團|臉書|手機號碼|LINE|健保|悠遊卡|身分證")


@lru_cache(maxsize=3)
def _to_traditional_converter(config: str):
    from opencc import OpenCC

    return OpenCC(config)


def traditional_variant(text: str) -> str:
    """The OpenCC conversion that fits a traditional-script text: Hong Kong, Taiwan, or plain traditional."""
    if _HONG_KONG_RE.search(text):
        return "s2hk"
    if _TAIWAN_RE.search(text):
        return "s2twp"
    return "s2t"


def to_traditional(text: str, variant: str = "s2t") -> str:
    """Simplified characters converted to traditional (`variant`: s2t, s2twp or s2hk)."""
    if not text or not _HAN_RE.search(text):
        return text
    return _to_traditional_converter(variant).convert(text)


# Pinyin without tones: every syllable an initial and a final (a superset of real syllables,
# narrowed by the distinctive-token rule in `looks_like_pinyin`).
_INITIALS = (
    "",
    "b",
    "p",
    "m",
    "f",
    "d",
    "t",
    "n",
    "l",
    "g",
    "k",
    "h",
    "j",
    "q",
    "x",
    "zh",
    "ch",
    "sh",
    "r",
    "z",
    "c",
    "s",
    "y",
    "w",
)
_FINALS = (
    "a",
    "o",
    "e",
    "i",
    "u",
    "v",
    "ai",
    "ei",
    "ao",
    "ou",
    "an",
    "en",
    "ang",
    "eng",
    "ong",
    "er",
    "ia",
    "ie",
    "iao",
    "iu",
    "ian",
    "in",
    "iang",
    "ing",
    "iong",
    "ua",
    "uo",
    "uai",
    "ui",
    "uan",
    "un",
    "uang",
    "ue",
    "ve",
)
_SYLLABLES = frozenset(i + f for i in _INITIALS for f in _FINALS)
# Syllables that are everyday Chinese function words and rarely English words.
_DISTINCTIVE = frozenset(
    [
        "de",
        "le",
        "ma",
        "ne",
        "ba",
        "wo",
        "ni",
        "ta",
        "men",
        "shi",
        "zhe",
        "zen",
        "zenme",
        "hao",
        "bu",
        "mei",
        "xie",
        "qing",
        "shen",
        "zheng",
        "diu",
        "ban",
        "xin",
        "xi",
        "qian",
        "shou",
        "ji",
        "duan",
        "dian",
        "hua",
        "gai",
        "zhang",
        "hu",
        "mima",
        "yanzhengma",
    ]
)
_LATIN_TOKEN_RE = re.compile(r"[a-z]+")
# Letter shapes of pinyin that English words rarely have.
_PINYIN_SHAPE_RE = re.compile(r"(zh|x|q)[aeiouv]|[^aeiou]iao|[^aeiou]ian|[^aeiou]uo|ui$|ang$|eng$|ong$")


def _pinyin_word(token: str) -> bool:
    """Whether a token splits into pinyin syllables ("shenfenzheng" -> shen fen zheng)."""
    if token in _SYLLABLES:
        return True
    ends = {0}
    for end in range(1, len(token) + 1):
        if any(start in ends and token[start:end] in _SYLLABLES for start in range(max(0, end - 6), end)):
            ends.add(end)
    return len(token) in ends


def looks_like_pinyin(text: str) -> bool:
    """Whether a message is Chinese typed in toneless pinyin ("wo de shen fen zheng diu le")."""
    if _HAN_RE.search(text):
        return False
    tokens = _LATIN_TOKEN_RE.findall(text.lower())
    if len(tokens) < 3:
        return False
    pinyin = sum(_pinyin_word(t) for t in tokens)
    distinctive = sum(
        t in _DISTINCTIVE or (bool(_PINYIN_SHAPE_RE.search(t)) and _pinyin_word(t)) for t in tokens
    )
    return pinyin >= 0.85 * len(tokens) and distinctive >= 2
