"""Lexical retrieval: BM25 over jieba tokens, one document per entry.

It catches what embeddings blur: hotline numbers (12321, 96110), law names,
rare terms (社工库, 伪基站). Traditional characters are folded to simplified
first, so 偽基站 and 伪基站 are the same word.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import re
import threading
from collections import Counter
from pathlib import Path

import jieba

from bot.core.knowledge import Entry, KnowledgeBase
from bot.core.text import to_simplified

_WORD_RE = re.compile(r"[a-z0-9]+|[\u3400-\u9fff]+")
_HAN_RUN_RE = re.compile(r"[\u3400-\u9fff]{2,}")
# Words too common to tell entries apart (Chinese particles and pronouns, English function words).
_STOPWORDS = frozenset(
    " ".join(
        (
            "的 了 吗 呢 吧 啊 呀 么 嘛 哦 我 你 他 她 它 我们 你们 他们 是 在 有",
            "和 与 或 就 都 也 还 要 会 能 可以 这 那 这个 那个 一个 什么 怎么 怎样",
            "如何 为什么 请问 一下 个 被 把 给 让 说 对 到 从 又 很 不 没 没有 吗 啥",
            "咋 嗯 哈 着 过 自己 现在 知道 觉得",
            "a an the is are was were be been am i you he she it we they my your me our do does did to",
            "of in on at for and or but if so what how why when where who which can could should would",
            "will this that these those there here with about from by as not no yes please just get got",
            "have has had any some",
        )
    ).split()
)

# Words kept from jieba's 349,000-word dictionary, most frequent first. Loading
# the whole dictionary costs 2.5 s at every start on a small machine; the most
# frequent 60,000 load in 0.4 s and segment questions the same way in
# practice, and the character bigrams below cover the rare words they lose.
COMPACT_WORDS = 60_000
_build_lock = threading.Lock()


class Tokenizer:
    """Search tokens for BM25: jieba words, Chinese bigrams, English words, numbers."""

    def __init__(self, work_dir: Path, lexicon: Path | None = None):
        jieba.setLogLevel(logging.WARNING)
        dictionary = _compact_dictionary(work_dir, lexicon)
        self._work_dir = work_dir
        self._signature = dictionary.name
        self._jieba = jieba.Tokenizer(dictionary=str(dictionary))
        self._jieba.tmp_dir = str(work_dir)
        self._jieba.initialize()

    def cached_bags(self, kb: KnowledgeBase, text_of) -> dict[str, list[str]]:
        """The tokens of every entry's text, cached on disk by content.

        Folding the whole knowledge base to simplified characters and
        segmenting it takes most of a second; a cold `ask` should not pay it.
        """
        key = hashlib.sha256(
            "\n".join([self._signature, *(e.content_hash() for e in kb.entries.values())]).encode()
        ).hexdigest()[:16]
        cache = self._work_dir / f"bags-{key}.json"
        try:
            bags = json.loads(cache.read_text(encoding="utf-8"))
            if isinstance(bags, dict) and list(bags) == list(kb.entries):
                return bags
        except (OSError, ValueError):
            pass
        bags = {entry.id: self.tokens(text_of(entry)) for entry in kb.entries.values()}
        partial = cache.with_suffix(".tmp")
        try:
            partial.write_text(json.dumps(bags, ensure_ascii=False), encoding="utf-8")
            partial.replace(cache)
        except OSError:
            pass  # a read-only data directory only costs the cache
        return bags

    def tokens(self, text: str) -> list[str]:
        """The tokens of `text`, traditional characters folded to simplified, stopwords dropped."""
        text = to_simplified(text).lower()
        tokens: list[str] = []
        for piece in _WORD_RE.findall(text):
            if piece[0].isascii():
                word = piece[:-1] if len(piece) > 3 and piece.endswith("s") else piece
                if word not in _STOPWORDS:
                    tokens.append(word)
                continue
            tokens += [w for w in self._jieba.lcut_for_search(piece) if w.strip() and w not in _STOPWORDS]
            # Character bigrams keep partial matches alive when jieba segments
            # a misspelt or unusual phrase differently from the entry's wording.
            for run in _HAN_RUN_RE.findall(piece):
                tokens += [run[i : i + 2] for i in range(len(run) - 1)]
        return tokens


def _entry_text(entry: Entry) -> str:
    """What BM25 reads of an entry: titles (twice, they are the gist), questions, answers."""
    return " ".join(
        [entry.title["zh"], entry.title["en"]] * 2
        + list(entry.questions)
        + [entry.answer["zh"], entry.answer["en"]]
    )


def _compact_dictionary(work_dir: Path, lexicon: Path | None) -> Path:
    """Write (once) jieba's most frequent words plus our domain words to `work_dir`."""
    extra = lexicon_words(lexicon)
    digest = hashlib.sha256("\n".join([str(COMPACT_WORDS), *extra]).encode()).hexdigest()[:12]
    target = work_dir / f"dict-{digest}.txt"
    with _build_lock:
        if target.exists():
            return target
        work_dir.mkdir(parents=True, exist_ok=True)
        source = Path(jieba.__file__).with_name("dict.txt")
        rows = [line.split() for line in source.read_text(encoding="utf-8").splitlines() if line.strip()]
        rows.sort(key=lambda row: -int(row[1]))
        lines = [" ".join(row) for row in rows[:COMPACT_WORDS]] + [f"{word} 2000" for word in extra]
        partial = target.with_suffix(".tmp")
        partial.write_text("\n".join(lines) + "\n", encoding="utf-8")
        partial.replace(target)
    return target


def lexicon_words(lexicon: Path | None) -> list[str]:
    """The domain words of `knowledge/lexicon.txt` (one per line, # comments), for jieba."""
    if lexicon is None or not lexicon.exists():
        return []
    words = (line.split("#", 1)[0].strip() for line in lexicon.read_text(encoding="utf-8").splitlines())
    return [w for w in words if w and " " not in w]


class LexicalIndex:
    """Okapi BM25 over one bag of tokens per entry (title, questions and answer)."""

    def __init__(self, kb: KnowledgeBase, tokenizer: Tokenizer, k1: float = 1.2, b: float = 0.75):
        self._tokenize = tokenizer.tokens
        self._k1, self._b = k1, b
        bags = tokenizer.cached_bags(kb, _entry_text)
        self._ids = list(bags)
        self._tf = [Counter(tokens) for tokens in bags.values()]
        self._len = [len(tokens) for tokens in bags.values()]
        n = len(self._ids)
        self._avg = sum(self._len) / max(n, 1)
        df = Counter(t for tf in self._tf for t in tf)
        self._idf = {t: math.log(1 + (n - d + 0.5) / (d + 0.5)) for t, d in df.items()}
        self._rarest = max(self._idf.values(), default=1.0)

    def relative_scores(self, question: str) -> dict[str, float]:
        """BM25 score of every entry sharing a token with `question`, over the best possible, 0..1.

        The question is tokenised once for both the scores and their ceiling.
        """
        terms = Counter(self._tokenize(question))
        ceiling = self._max_possible(terms) or 1.0
        return {entry_id: min(score / ceiling, 1.0) for entry_id, score in self._scores(terms).items()}

    def _scores(self, terms: Counter) -> dict[str, float]:
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

    def _max_possible(self, terms: Counter) -> float:
        """The score a perfect match on every query term would get (for normalising).

        A term no entry contains counts as the rarest kind of term: a question
        full of words the knowledge base never uses ("红烧肉怎么做") must not
        look like a strong match because its one common word matched.
        """
        return sum(self._idf.get(t, self._rarest) * (self._k1 + 1) * min(q, 2) for t, q in terms.items())
