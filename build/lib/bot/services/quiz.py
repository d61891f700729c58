"""The scam-spotting quiz: items that trace back to knowledge entries, and the state of one game.

Two sources of items, both tied to an entry (`QuizItem.entry_id`):
- written items (`knowledge/quiz.yaml`: "Scam or not?", "What should you do first?", "Which is
  safe to share?"). Each names a `support` phrase that must appear word for word in its entry's
  answer, in both languages; an item its entry does not back is refused at load time.
- generated items from the report's cases: "Which of these really happened in <case>?", the right
  choice being that case's own `facts.what` and the others the facts of different cases.

A game is plain state (no Telegram here): the adapters (bot/adapters/telegram/quiz.py,
bot/adapters/terminal/quiz.py) show the questions and pass answers in. Players are keyed by
pseudonym; first names are kept only in the game object, for its leaderboard, and go when the
game does.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path

from bot.core.knowledge import Entry, KnowledgeBase
from bot.data.files import LANGS, bilingual, read_data_file
from bot.data.templates import PromptError, Templates, load_templates

KINDS = ("scam_or_not", "first_step", "safe_to_share", "case_facts")
WRITTEN_KINDS = KINDS[:3]
MIN_CHOICES, MAX_CHOICES = 2, 4
VERDICTS = ("scam", "genuine")  # the two choices of a "Scam or not?" item, in this order
DEFAULT_QUESTIONS = 5

QUIZ_VARIABLES: dict[str, set[str]] = {
    "title": {"total"},
    "title_group": {"total"},
    "question_header": {"number", "total"},
    "choice_scam": set(),
    "choice_genuine": set(),
    "case_question": {"title"},
    "case_explanation": {"who", "what", "how_much"},
    "right": set(),
    "wrong": {"answer"},
    "correct_is": {"answer"},
    "counts": set(),
    "nobody_answered": set(),
    "final_score": {"score", "total"},
    "final_group": set(),
    "leaderboard_line": {"rank", "name", "score"},
    "reveal_button": set(),
    "recorded": set(),
    "already_answered": set(),
    "question_over": set(),
    "only_starter": set(),
    "source": {"name", "date", "url"},
    "prompt": {"count"},
    "invalid_choice": {"count"},
}


class QuizError(ValueError):
    """The quiz file is missing, malformed, or an item is not backed by its entry."""


@dataclass(frozen=True)
class QuizItem:
    """One question with its choices; `correct` indexes `choices`."""

    id: str
    entry_id: str
    kind: str
    question: dict[str, str]
    choices: tuple[dict[str, str], ...]
    correct: int
    explanation: dict[str, str]
    message: dict[str, str] | None = None  # the text to judge ("Scam or not?")
    support: dict[str, str] | None = None  # the phrase of the entry's answer that backs `correct`

    def shuffled(self, rng: random.Random) -> QuizItem:
        """The same item with its choices in a random order (the right one tracked)."""
        order = list(range(len(self.choices)))
        rng.shuffle(order)
        return QuizItem(
            self.id,
            self.entry_id,
            self.kind,
            self.question,
            tuple(self.choices[i] for i in order),
            order.index(self.correct),
            self.explanation,
            self.message,
            self.support,
        )


def _squash(text: str) -> str:
    """Case and whitespace folded, so a support phrase may wrap differently than the entry."""
    return " ".join(text.lower().split())


def supports(entry: Entry, phrase: dict[str, str]) -> list[str]:
    """The languages in which `phrase` does NOT appear in `entry`'s answer (empty: it is backed)."""
    return [lang for lang in LANGS if _squash(phrase[lang]) not in _squash(entry.answer[lang])]


def load_written_items(path: Path, kb: KnowledgeBase, texts: Templates) -> list[QuizItem]:
    """The items of `knowledge/quiz.yaml`, each checked against the entry it names."""
    data = read_data_file(path, QuizError)
    if not isinstance(data, list) or not data:
        raise QuizError(f"{path}: must be a list of quiz items")
    items, seen = [], set()
    for number, raw in enumerate(data, start=1):
        item = _parse_item(path, number, raw, kb, texts)
        if item.id in seen:
            raise QuizError(f"{path}: item {item.id!r}: id is used twice")
        seen.add(item.id)
        items.append(item)
    return items


def _parse_item(path: Path, number: int, raw: object, kb: KnowledgeBase, texts: Templates) -> QuizItem:
    name = raw.get("id") if isinstance(raw, dict) else None
    where = f"{path}: item {name or number!r}"

    def bad(key: str, message: str) -> QuizError:
        return QuizError(f"{where}: field {key!r}: {message}")

    if not isinstance(raw, dict):
        raise QuizError(f"{where}: must be a mapping")
    for key in ("id", "entry_id", "kind", "question", "support", "explanation"):
        if key not in raw:
            raise bad(key, "is missing")
    if raw["kind"] not in WRITTEN_KINDS:
        raise bad("kind", f"must be one of {', '.join(WRITTEN_KINDS)}")
    entry = kb.entries.get(str(raw["entry_id"]))
    if entry is None:
        raise bad("entry_id", f"no knowledge entry {raw['entry_id']!r}")
    message = None
    if raw["kind"] == "scam_or_not":
        if "message" not in raw:
            raise bad("message", "is missing (a 'scam_or_not' item shows a message to judge)")
        message = _bilingual(raw["message"], "message", bad)
        if raw.get("verdict") not in VERDICTS:
            raise bad("verdict", f"must be one of {', '.join(VERDICTS)}")
        if "choices" in raw:
            raise bad(
                "choices", "a 'scam_or_not' item has no choices of its own (they come with the verdict)"
            )
        choices = tuple({lang: texts.render(f"choice_{v}", lang) for lang in LANGS} for v in VERDICTS)
        correct = VERDICTS.index(raw["verdict"])
    else:
        choices, correct = _choices(raw.get("choices"), bad)
    support = _bilingual(raw["support"], "support", bad)
    missing = supports(entry, support)
    if missing:
        raise bad(
            "support",
            f"the phrase is not in the answer of entry {entry.id!r} ({', '.join(missing)}): "
            "the right answer must be backed by the entry it names",
        )
    return QuizItem(
        id=str(raw["id"]),
        entry_id=entry.id,
        kind=raw["kind"],
        question=_bilingual(raw["question"], "question", bad),
        choices=choices,
        correct=correct,
        explanation=_bilingual(raw["explanation"], "explanation", bad),
        message=message,
        support=support,
    )


def _choices(value: object, bad) -> tuple[tuple[dict[str, str], ...], int]:
    """A written item's choices and the index of the right one."""
    if not isinstance(value, list) or not MIN_CHOICES <= len(value) <= MAX_CHOICES:
        raise bad("choices", f"must be a list of {MIN_CHOICES} to {MAX_CHOICES} choices")
    for number, choice in enumerate(value):
        unknown = set(choice) - {"zh", "en", "correct"} if isinstance(choice, dict) else set()
        if unknown:  # a stray comma in a flow mapping turns text into keys; say so
            raise bad(f"choices[{number}]", f"unknown key(s) {', '.join(map(str, unknown))}; quote the texts")
    texts = tuple(_bilingual(c, f"choices[{i}]", bad) for i, c in enumerate(value))
    right = [i for i, c in enumerate(value) if c.get("correct") is True]
    if len(right) != 1:
        raise bad("choices", f"exactly one choice must have 'correct: true' (found {len(right)})")
    return texts, right[0]


def _bilingual(value: object, key: str, bad) -> dict[str, str]:
    """The shared bilingual check, stopping at the first problem (a quiz error names its item)."""

    def fail(field_name: str, message: str) -> None:
        raise bad(field_name, message)

    return bilingual(value, key, fail)


def case_items(kb: KnowledgeBase, texts: Templates, choices: int = 3) -> list[QuizItem]:
    """One "which of these happened?" item per case, the others' facts as wrong choices.

    Correct by construction: the right choice is the case's own `facts.what`; the wrong ones are
    other cases' `facts.what`, taken in a fixed order so the items are the same on every load.
    """
    cases = [e for e in kb.entries.values() if e.kind == "case" and e.facts]
    if len(cases) < choices:
        return []
    items = []
    for number, entry in enumerate(cases):
        others = [cases[(number + step) % len(cases)] for step in range(1, choices)]
        options = [entry.facts["what"], *(o.facts["what"] for o in others)]
        items.append(
            QuizItem(
                id=f"case-{entry.id}",
                entry_id=entry.id,
                kind="case_facts",
                question={
                    lang: texts.render("case_question", lang, title=entry.title[lang]) for lang in LANGS
                },
                choices=tuple({lang: o[lang] for lang in LANGS} for o in options),
                correct=0,
                explanation={
                    lang: texts.render(
                        "case_explanation",
                        lang,
                        who=entry.facts["who"][lang],
                        what=entry.facts["what"][lang],
                        how_much=entry.facts["how_much"][lang].rstrip("。."),
                    )
                    for lang in LANGS
                },
            )
        )
    return items


@dataclass
class QuizBank:
    """All quiz items and the quiz texts."""

    items: list[QuizItem]
    texts: Templates
    kb: KnowledgeBase

    def pick(self, count: int, rng: random.Random) -> list[QuizItem]:
        """`count` items for one game: the kinds taken in turn, choices shuffled."""
        pools = {kind: [i for i in self.items if i.kind == kind] for kind in KINDS}
        for pool in pools.values():
            rng.shuffle(pool)
        picked: list[QuizItem] = []
        while len(picked) < count and any(pools.values()):
            for kind in KINDS:
                if pools[kind] and len(picked) < count:
                    picked.append(pools[kind].pop())
        return [item.shuffled(rng) for item in picked]

    def entry(self, item: QuizItem) -> Entry:
        """The knowledge entry an item comes from (its source is shown after the answer)."""
        return self.kb.entries[item.entry_id]


def load_quiz(knowledge_dir: Path, prompts_dir: Path, kb: KnowledgeBase) -> QuizBank:
    """The written items of `knowledge/quiz.yaml`, the generated case items, and `prompts/quiz.yaml`."""
    try:
        texts = load_templates(prompts_dir / "quiz.yaml", QUIZ_VARIABLES)
    except PromptError as exc:
        raise QuizError(str(exc)) from None
    items = load_written_items(knowledge_dir / "quiz.yaml", kb, texts) + case_items(kb, texts)
    return QuizBank(items, texts, kb)


@dataclass
class Player:
    """One player of one game: first name for the leaderboard, score, when they joined."""

    name: str
    score: int = 0
    order: int = 0


@dataclass
class QuizGame:
    """One game in one chat: the items, whose answer each player gave, and the scores."""

    items: list[QuizItem]
    lang: str
    number: int = 0  # index of the current item
    revealed: bool = False
    answers: dict[str, int] = field(default_factory=dict)  # player key -> choice, current item
    players: dict[str, Player] = field(default_factory=dict)

    @property
    def current(self) -> QuizItem:
        """The question being asked."""
        return self.items[self.number]

    @property
    def finished(self) -> bool:
        """Whether every question has been asked and revealed."""
        return self.number >= len(self.items)

    def answer(self, player: str, name: str, choice: int) -> bool:
        """Record `player`'s first answer to the current question; False if not accepted."""
        if self.finished or self.revealed or player in self.answers:
            return False
        if not 0 <= choice < len(self.current.choices):
            return False
        self.answers[player] = choice
        joined = self.players.setdefault(player, Player(name, order=len(self.players)))
        joined.name = name or joined.name
        if choice == self.current.correct:
            joined.score += 1
        return True

    def counts(self) -> list[int]:
        """How many players chose each option of the current question."""
        tally = [0] * len(self.current.choices)
        for choice in self.answers.values():
            tally[choice] += 1
        return tally

    def reveal(self) -> bool:
        """Close the current question; False if it was already closed (a second tap)."""
        if self.finished or self.revealed:
            return False
        self.revealed = True
        return True

    def advance(self) -> None:
        """Move on to the next question."""
        self.number += 1
        self.answers = {}
        self.revealed = False

    def leaderboard(self) -> list[Player]:
        """Players by score, ties in the order they joined."""
        return sorted(self.players.values(), key=lambda p: (-p.score, p.order))
