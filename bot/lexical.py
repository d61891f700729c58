"""Lexical retrieval: BM25 over jieba tokens, one document per entry.

It catches what embeddings blur: hotline numbers (12321, 96110), law names,
rare terms (社工库, 伪基站). Traditional characters are folded to simplified
first, so 偽基站 and 伪基站 are the same word.
"""

from __future__ import annotations

import logging
import math
import re
import threading
from collections import Counter
from pathlib import Path

import jieba

from bot.knowledge import KnowledgeBase
from bot.normalize import to_simplified

_WORD_RE = re.compile(r"[a-z0-9]+|[\u3400-\u9fff]+")
_HAN_RUN_RE = re.compile(r"[\u3400-\u9fff]{2,}")
_STOPWORDS = frozenset(
    "的 了 吗 呢 吧 啊 呀 么 嘛 哦 我 你 他 她 它 我们 你们 他们 是 在 有 和 与 或 就 都 也 还 "
    "要 会 能 可以 这 那 这个 那个 一个 什么 怎么 怎样 如何 为什么 请问 一下 个 被 把 给 让 "
    "说 对 到 从 又 很 不 没 没有 吗 啥 咋 嗯 哈 着 过 自己 现在 知道 觉得 "
    "a an the is are was were be been am i you he she it we they my your me our "
    "do does did to of in on at for and or but if so what how why when where who which "
    "can could should would will this that these those there here with about from by as "
    "not no yes please just get got have has had any some".split()
)

_jieba_lock = threading.Lock()
_jieba_ready: set[str] = set()


def prepare_jieba(lexicon: Path | None) -> None:
    """Load jieba's dictionary once, plus our domain words (one per line) if given."""
    key = str(lexicon)
    with _jieba_lock:
        if key in _jieba_ready:
            return
        jieba.setLogLevel(logging.WARNING)
        jieba.initialize()
        if lexicon is not None and lexicon.exists():
            for line in lexicon.read_text(encoding="utf-8").splitlines():
                word = line.split("#", 1)[0].strip()
                if word:
                    jieba.add_word(word, freq=2000)
        _jieba_ready.add(key)


def tokenize(text: str) -> list[str]:
    """Search tokens of `text`: jieba words, Chinese bigrams, English words, numbers."""
    text = to_simplified(text).lower()
    tokens: list[str] = []
    for piece in _WORD_RE.findall(text):
        if piece[0].isascii():
            word = piece[:-1] if len(piece) > 3 and piece.endswith("s") else piece
            if word not in _STOPWORDS:
                tokens.append(word)
            continue
        tokens += [w for w in jieba.lcut_for_search(piece) if w.strip() and w not in _STOPWORDS]
        # Character bigrams keep partial matches alive when jieba segments
        # a misspelt or unusual phrase differently from the entry's wording.
        for run in _HAN_RUN_RE.findall(piece):
            tokens += [run[i : i + 2] for i in range(len(run) - 1)]
    return tokens


class LexicalIndex:
    """Okapi BM25 over one bag of tokens per entry (title, questions and answer)."""

    def __init__(self, kb: KnowledgeBase, k1: float = 1.2, b: float = 0.75):
        self._k1, self._b = k1, b
        self._ids: list[str] = []
        self._tf: list[Counter] = []
        self._len: list[int] = []
        for entry in kb.entries.values():
            text = " ".join(
                [entry.title["zh"], entry.title["en"]] * 2
                + list(entry.questions)
                + [entry.answer["zh"], entry.answer["en"]]
            )
            tokens = tokenize(text)
            self._ids.append(entry.id)
            self._tf.append(Counter(tokens))
            self._len.append(len(tokens))
        n = len(self._ids)
        self._avg = sum(self._len) / max(n, 1)
        df = Counter(t for tf in self._tf for t in tf)
        self._idf = {t: math.log(1 + (n - d + 0.5) / (d + 0.5)) for t, d in df.items()}

    def scores(self, question: str) -> dict[str, float]:
        """BM25 score of every entry that shares a token with `question`."""
        terms = Counter(tokenize(question))
        out: dict[str, float] = {}
        for i, tf in enumerate(self._tf):
            score = 0.0
            norm = self._k1 * (1 - self._b + self._b * self._len[i] / self._avg)
            for term, qtf in terms.items():
                f = tf.get(term)
                if f:
                    score += self._idf[term] * f * (self._k1 + 1) / (f + norm) * min(qtf, 2)
            if score > 0:
                out[self._ids[i]] = score
        return out

    def max_possible(self, question: str) -> float:
        """The score a perfect match on every known query term would get (for normalising)."""
        terms = Counter(tokenize(question))
        return sum(self._idf.get(t, 0.0) * (self._k1 + 1) * min(q, 2) for t, q in terms.items())
