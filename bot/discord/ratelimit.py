"""Per-user rate limit and fair queueing, so one user's burst cannot starve everyone else."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager


class RateLimiter:
    """Sliding window: at most `count` questions per `seconds` per user."""

    def __init__(self, count: int, seconds: float, clock: Callable[[], float] = time.monotonic):
        self.count = count
        self.seconds = seconds
        self._clock = clock
        self._hits: dict[int, deque[float]] = {}
        self._checks = 0

    def hit(self, user_id: int) -> float | None:
        """Record a question by `user_id`; returns None if allowed, else the seconds until the next is allowed."""
        now = self._clock()
        window = self._hits.setdefault(user_id, deque())
        while window and window[0] <= now - self.seconds:
            window.popleft()
        if len(window) >= self.count:
            return max(0.0, window[0] + self.seconds - now)
        window.append(now)
        self._checks += 1
        if self._checks % 1000 == 0:
            self._prune(now)
        return None

    def _prune(self, now: float) -> None:
        stale = [u for u, w in self._hits.items() if not w or w[-1] <= now - self.seconds]
        for u in stale:
            del self._hits[u]


class Busy(Exception):
    """Too many questions are waiting; the caller should try again shortly."""


class FairGate:
    """Each user's questions run one at a time (in order); at most `max_waiting` questions wait in all.

    With the AskService's global concurrency limit behind it, a user who sends many questions holds at most one
    of the service's slots, so other users' questions keep flowing.
    """

    def __init__(self, max_waiting: int = 200):
        self.max_waiting = max_waiting
        self._locks: dict[int, asyncio.Lock] = {}
        self._users: dict[int, int] = {}
        self.waiting = 0

    @asynccontextmanager
    async def slot(self, user_id: int) -> AsyncIterator[None]:
        """Hold the user's turn while their question is answered; raises Busy when the queue is full."""
        if self.waiting >= self.max_waiting:
            raise Busy()
        self.waiting += 1
        self._users[user_id] = self._users.get(user_id, 0) + 1
        lock = self._locks.setdefault(user_id, asyncio.Lock())
        try:
            async with lock:
                yield
        finally:
            self.waiting -= 1
            self._users[user_id] -= 1
            if not self._users[user_id]:
                del self._users[user_id]
                self._locks.pop(user_id, None)
