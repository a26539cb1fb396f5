"""AskService: the async façade over the Engine (background loading, concurrency limit, cache)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from bot.answer import normalise_question
from bot.engine import Engine
from bot.knowledge import Document
from bot.models import Answer
from bot.settings import Settings

log = logging.getLogger(__name__)


class NotReady(Exception):
    """The engine failed to load; the message says why."""


@dataclass(frozen=True)
class Stats:
    """What /about shows."""

    documents: int
    cases: int
    passages: int
    model: str
    index_built_at: str
    knowledge_as_of: str
    uptime_s: float
    answered: int
    declined: int


class AskService:
    """One per process. Loads the engine off the event loop and answers without blocking it."""

    def __init__(self, settings: Settings, loader: Callable[[], Engine] | None = None, cache_size: int = 256):
        self.settings = settings
        self._loader = loader or (lambda: Engine.load(settings))
        self._engine: Engine | None = None
        self._error: BaseException | None = None
        self._ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._sem = asyncio.Semaphore(settings.max_concurrency)
        self._cache: OrderedDict[tuple[str, str], Answer] = OrderedDict()
        self._cache_size = cache_size
        self._started = time.monotonic()
        self.answered = 0
        self.declined = 0

    async def start(self) -> None:
        """Begin loading the model and index in a worker thread; returns at once."""
        if self._task is None:
            self._task = asyncio.create_task(self._load(), name="keyholder-engine-load")

    async def _load(self) -> None:
        try:
            self._engine = await asyncio.to_thread(self._loader)
            log.info("engine ready: %d documents, %d passages", len(self._engine.docs), len(self._engine.index.passages))
        except BaseException as exc:
            self._error = exc
            log.error("engine failed to load: %s", exc)
        finally:
            self._ready.set()

    @property
    def ready(self) -> bool:
        """Whether questions are answered at once."""
        return self._engine is not None

    @property
    def load_error(self) -> str | None:
        """Why the engine failed to load, or None while loading or once loaded."""
        return str(self._error) if self._error is not None else None

    @property
    def engine(self) -> Engine:
        """The loaded engine (raises NotReady before it is loaded)."""
        if self._engine is None:
            raise NotReady(str(self._error) if self._error else "still loading")
        return self._engine

    async def wait_ready(self, timeout: float | None = None) -> Engine:
        """Wait for the engine to finish loading (questions that arrive early wait here)."""
        await self.start()
        await asyncio.wait_for(self._ready.wait(), timeout)
        return self.engine

    async def ask(self, question: str, context: str | None = None) -> Answer:
        """Answer a question without blocking the event loop; identical questions hit a small cache."""
        engine = await self.wait_ready()
        key = (normalise_question(question).lower(), normalise_question(context or "").lower())
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            answer = cached
        else:
            async with self._sem:
                answer = await asyncio.to_thread(engine.answer, question, context)
            self._cache[key] = answer
            if len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        if answer.declined:
            self.declined += 1
        else:
            self.answered += 1
        return answer

    async def search_cases(self, query: str, limit: int = 25) -> list[Document]:
        """Autocomplete: case documents matching `query` (empty until the engine is ready)."""
        if self._engine is None:
            return []
        return self._engine.search_cases(query, limit)

    async def find_case(self, name: str) -> Document | None:
        """The case a user named, or None."""
        return (await self.wait_ready()).find_case(name)

    async def cases(self) -> list[Document]:
        """All case documents."""
        return (await self.wait_ready()).cases()

    async def topics(self) -> list[Document]:
        """All documents."""
        return (await self.wait_ready()).topics()

    def stats(self) -> Stats | None:
        """Counts for /about and /metrics, or None before the engine is loaded."""
        if self._engine is None:
            return None
        e = self._engine
        return Stats(
            documents=len(e.docs),
            cases=len(e.cases()),
            passages=len(e.index.passages),
            model=e.embedder.name,
            index_built_at=str(e.index.manifest.get("built_at", "")),
            knowledge_as_of=max(d.meta.as_of for d in e.docs.values()).isoformat(),
            uptime_s=time.monotonic() - self._started,
            answered=self.answered,
            declined=self.declined,
        )
