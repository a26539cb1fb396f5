"""Shared fixtures: the real model, loaded once, and real indexes built in temporary folders."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from bot.embedding import Embedder
from bot.engine import Engine
from bot.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
KNOWLEDGE = ROOT / "knowledge"
FIXTURE_KB = ROOT / "tests" / "fixtures" / "knowledge"


class CountingEmbedder(Embedder):
    """The real embedder, counting how many texts it was asked to embed."""

    def __init__(self, shared: Embedder):
        super().__init__()
        self._model = shared.load()
        self.calls: list[int] = []

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        self.calls.append(len(texts))
        return super().encode(texts, batch_size)

    @property
    def embedded(self) -> int:
        return sum(self.calls)


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The real all-MiniLM-L6-v2 model from the installed wheel, loaded once per test session."""
    e = Embedder()
    e.load()
    return e


def make_settings(tmp: Path, knowledge: Path = KNOWLEDGE, **extra: object) -> Settings:
    """Settings isolated from the environment and the repo's own index and data."""
    return Settings(knowledge_dir=knowledge, index_dir=tmp / "index", data_dir=tmp / "data", **extra)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def kb_engine(embedder: Embedder, tmp_path_factory: pytest.TempPathFactory) -> Engine:
    """An engine over the real, built-in knowledge base with a freshly built index."""
    return Engine.load(make_settings(tmp_path_factory.mktemp("kb")), embedder)
