"""AskService: the async façade over the Engine (background loading, concurrency limit, answer cache).

The Discord layer talks to the knowledge base only through this class: it asks for what it needs by name
(`ask`, `case`, `doc_titles`, `stats`…) and never reaches into the engine.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.answer import normalise_question
from bot.cache import LRU
from bot.engine import Engine
from bot.knowledge import Document, Kind
from bot.models import Answer
from bot.settings import Settings

if TYPE_CHECKING:
    from bot.generation import Writer

log = logging.getLogger(__name__)

# How long a request waits for the model and index to finish loading at start-up before giving up.
STARTUP_WAIT_S = 300.0


class NotReady(Exception):
    """The engine failed to load; the message says why."""


@dataclass(frozen=True)
class Stats:
    """What the knowledge base holds, for /about and the health endpoint."""

    documents: int
    cases: int
    passages: int
    model: str
    index_built_at: str
    knowledge_as_of: str
    kb_version: str


class AskService:
    """One per process. Loads the engine off the event loop and answers without blocking it."""

    def __init__(self, settings: Settings, loader: Callable[[], Engine] | None = None, cache_size: int = 256,
                 startup_wait_s: float = STARTUP_WAIT_S):
        self.settings = settings
        self.startup_wait_s = startup_wait_s
        self._loader = loader or (lambda: Engine.load(settings))
        self._engine: Engine | None = None
        self._error: BaseException | None = None
        self._ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._sem = asyncio.Semaphore(settings.max_concurrency)
        self._cache: LRU[tuple[str, str], Answer] = LRU(cache_size)
        self._writer: Writer | None = None

    # --- loading ----------------------------------------------------------------------------------

    async def start(self) -> None:
        """Begin loading the model and index in a worker thread; returns at once."""
        if self._task is None:
            self._task = asyncio.create_task(self._load(), name="keyholder-engine-load")

    async def _load(self) -> None:
        try:
            engine = await asyncio.to_thread(self._loader)
            self._writer = make_writer(self.settings, engine)
            self._engine = engine
            log.info("engine ready: %d documents, %d passages", self._engine.document_count,
                     self._engine.passage_count)
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

    async def wait_ready(self, timeout: float | None = None) -> Engine:
        """Wait for the engine (at most `timeout`, default the start-up wait); raises TimeoutError or NotReady."""
        await self.start()
        await asyncio.wait_for(self._ready.wait(), self.startup_wait_s if timeout is None else timeout)
        if self._engine is None:
            raise NotReady(str(self._error) if self._error else "still loading")
        return self._engine

    # --- answering --------------------------------------------------------------------------------

    async def ask(self, question: str, context: str | None = None) -> Answer:
        """Answer a question without blocking the event loop; identical questions hit a small cache."""
        engine = await self.wait_ready()
        key = (normalise_question(question).lower(), normalise_question(context or "").lower())
        answer = self._cache.get(key)
        if answer is None:
            async with self._sem:
                answer = await asyncio.to_thread(engine.answer, question, context)
            if self._writer is not None and not answer.declined:  # its own concurrency limit and time budget
                answer = (await self._writer.improve(question, answer)).answer
            self._cache.put(key, answer)
        return answer

    # --- the catalogue ----------------------------------------------------------------------------

    async def search_cases(self, query: str, limit: int = 25) -> list[Document]:
        """Autocomplete: case documents matching `query` (empty until the engine is ready)."""
        if self._engine is None:
            return []
        return self._engine.search_cases(query, limit)

    async def find_case(self, name: str) -> Document | None:
        """The case a user named, or None."""
        return (await self.wait_ready()).find_case(name)

    async def case(self, doc_id: str) -> Document | None:
        """The case document with this id, or None (a Related case button names one by id)."""
        doc = (await self.wait_ready()).document(doc_id)
        return doc if doc is not None and doc.meta.kind is Kind.case else None

    async def cases(self) -> list[Document]:
        """All case documents."""
        return (await self.wait_ready()).cases()

    async def topics(self) -> list[Document]:
        """All documents."""
        return (await self.wait_ready()).topics()

    def doc_titles(self) -> Mapping[str, str]:
        """Document id → title, for rendering sources and buttons (empty while loading)."""
        return self._engine.titles() if self._engine is not None else {}

    def stats(self) -> Stats | None:
        """What the knowledge base holds, or None before the engine is loaded."""
        e = self._engine
        if e is None:
            return None
        return Stats(documents=e.document_count, cases=len(e.cases()), passages=e.passage_count,
                     model=e.embedder.name, index_built_at=e.index_built_at, knowledge_as_of=e.knowledge_as_of(),
                     kb_version=e.kb_version)


def make_writer(settings: Settings, engine: Engine) -> Writer | None:
    """The LLM step when KEYHOLDER_LLM_URL is set, else None (and then nothing of it is imported)."""
    if not settings.llm_url:
        return None
    from bot.checker import Checker
    from bot.generation import Writer

    log.info("answers will be written by %s at %s, each sentence checked", settings.llm_model, settings.llm_url)
    return Writer(settings, Checker(engine.embedder.encode), engine.cite_written)
