"""Flood limits: questions per user per minute, and a steady pace of messages per chat."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable


class UserRateLimit:
    """At most `limit` questions per user in any `window_s` seconds (a sliding window)."""

    def __init__(self, limit: int = 10, window_s: float = 60.0, clock: Callable[[], float] = time.monotonic):
        self._limit, self._window, self._clock = limit, window_s, clock
        self._seen: dict[str, deque[float]] = {}
        self._told: dict[str, float] = {}  # when each user over the limit was last told to wait

    def allow(self, user: str) -> bool:
        """Record one question from `user`; False when it is over the limit."""
        now = self._clock()
        times = self._seen.setdefault(user, deque())
        while times and now - times[0] >= self._window:
            times.popleft()
        if len(times) >= self._limit:
            return False
        times.append(now)
        if len(self._seen) > 10_000:  # drop idle users so memory stays bounded
            for key in [k for k, v in self._seen.items() if not v or now - v[-1] >= self._window]:
                del self._seen[key]
        return True

    def tell_once(self, user: str) -> bool:
        """True the first time in a window that `user` is over the limit: say "please wait" once.

        A flood then costs one reply, not one per message, so it cannot
        occupy the bot (or Telegram's per-chat pace) at other users' expense.
        """
        now = self._clock()
        if now - self._told.get(user, -self._window) < self._window:
            return False
        self._told[user] = now
        if len(self._told) > 10_000:
            self._told = {k: t for k, t in self._told.items() if now - t < self._window}
        return True

    def forget(self, user: str) -> None:
        """Drop what is held about `user`."""
        self._seen.pop(user, None)
        self._told.pop(user, None)


class ChatPacer:
    """Spaces messages to one chat at least `interval_s` apart; other chats never wait."""

    def __init__(self, interval_s: float = 1.0, clock: Callable[[], float] = time.monotonic):
        self._interval, self._clock = interval_s, clock
        self._next: dict[int, float] = {}
        self._locks: dict[int, asyncio.Lock] = {}

    async def wait_turn(self, chat_id: int) -> None:
        """Return when a message may be sent to `chat_id`, and book the next slot."""
        lock = self._locks.setdefault(chat_id, asyncio.Lock())
        async with lock:
            delay = self._next.get(chat_id, 0.0) - self._clock()
            if delay > 0:
                await asyncio.sleep(delay)
            self._next[chat_id] = self._clock() + self._interval
        if len(self._next) > 10_000:
            now = self._clock()
            for key in [k for k, t in self._next.items() if t < now and not self._locks[k].locked()]:
                self._next.pop(key, None)
                self._locks.pop(key, None)
