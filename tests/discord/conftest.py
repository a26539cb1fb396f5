"""Fixtures for the Discord tests: the real engine over a small fixture knowledge base, a fake Discord, a real bot."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.embedding import Embedder
from bot.engine import Engine
from bot.settings import Settings
from tests.discord.harness import FIXTURE_KB, Running, make_settings, start_bot
from tests.fakediscord import FakeDiscord


@pytest.fixture(scope="session")
def discord_embedder(request: pytest.FixtureRequest) -> Embedder:
    """The real model, loaded once per session (shared with the rest of the suite when it provides one)."""
    try:
        shared = request.getfixturevalue("embedder")
    except pytest.FixtureLookupError:
        shared = Embedder()
        shared.load()
    assert isinstance(shared, Embedder)
    return shared


@pytest.fixture(scope="session")
def discord_engine(discord_embedder: Embedder, tmp_path_factory: pytest.TempPathFactory) -> Engine:
    """The real engine over tests/discord/fixtures/knowledge, with an index built in a per-session temp dir."""
    tmp = tmp_path_factory.mktemp("discord-kb")
    settings = Settings(knowledge_dir=FIXTURE_KB, index_dir=tmp / "index", data_dir=tmp / "data")
    return Engine.load(settings, discord_embedder)


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    """A fresh fake Discord; the test fails if the bot broke any Discord rule or limit on it."""
    server = await FakeDiscord().start()
    yield server
    await server.close()
    assert server.violations == [], "the bot broke Discord rules:\n" + "\n".join(server.violations)
    assert server.unknown_routes == [], f"the bot called routes the fake does not know: {server.unknown_routes}"


@pytest.fixture
async def running(fake: FakeDiscord, discord_engine: Engine, tmp_path: Path) -> AsyncIterator[Running]:
    """A ready bot with the engine already loaded."""
    settings = make_settings(fake, tmp_path / "data")
    r = await start_bot(fake, settings, lambda: discord_engine)
    await r.bot.service.wait_ready(30)
    yield r
    await r.stop()
