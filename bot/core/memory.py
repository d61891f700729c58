"""Short-lived chat context, in memory only, so that "那怎么办？" is read after the last question."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable

from bot.core.text import detect_language

# Words that open or make up a follow-up rather than a question of its own.
_FOLLOW_UP_RE = re.compile(
    r"^(那|那么|那如果|还有|然后|另外|如果|要是|可是|但是|所以|那我|那他|那她)|它"
    r"|怎么办|咋办|怎么弄|怎么处理|该怎么做|能举报吗|违法吗"
    r"|\b(what about|how about|and if|what if|then what|what else|what now|and my|what should i do|it)\b",
    re.IGNORECASE,
)


def is_follow_up(question: str) -> bool:
    """Whether a question is short or worded like a follow-up to the previous one."""
    if _FOLLOW_UP_RE.search(question):
        return True
    if detect_language(question) == "zh":
        return len(question) <= 8
    return len(question.split()) <= 4


class ChatMemory:
    """The thread of each chat, forgotten after `ttl_s` seconds or on request.

    A thread is the last question that stood on its own and the latest follow-ups read
    after it (at most `max_turns` in all, the first always kept): after "身份证丢了怎么办"
    and "有人用它办了电话卡", "能报警吗" is read with both, not with the second alone.
    """

    def __init__(self, ttl_s: float = 900, max_turns: int = 3, clock: Callable[[], float] = time.monotonic):
        self._ttl = ttl_s
        self._max_turns = max_turns
        self._clock = clock
        self._turns: dict[str, list[tuple[float, str]]] = {}
        self._lock = threading.Lock()

    def remember(self, chat: str, question: str, follow_up: bool = False) -> None:
        """Keep `question` as the chat's latest turn; unless read as a follow-up, it starts a new thread."""
        with self._lock:
            self._prune()
            turns = self._turns.get(chat)
            if turns is None or not follow_up:
                turns = self._turns[chat] = []
            elif len(turns) >= self._max_turns:
                del turns[min(1, len(turns) - 1)]  # the oldest follow-up; the question they follow stays
            turns.append((self._clock(), question))

    def previous(self, chat: str) -> str | None:
        """The chat's thread, its questions joined oldest first, while its latest turn is still alive."""
        with self._lock:
            self._prune()
            turns = self._turns.get(chat)
            return " ".join(question for _, question in turns) if turns else None

    def forget(self, chat: str) -> bool:
        """Drop everything held about `chat`; True if there was anything."""
        with self._lock:
            return self._turns.pop(chat, None) is not None

    def __len__(self) -> int:
        with self._lock:
            self._prune()
            return len(self._turns)

    def _prune(self) -> None:
        cutoff = self._clock() - self._ttl
        for chat in [c for c, turns in self._turns.items() if turns[-1][0] < cutoff]:
            del self._turns[chat]
