"""Helpers for the Discord tests: settings for the fake, starting a real bot, reading what it sent."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.discord.client import KeyholderBot
from bot.discord.runner import build_bot
from bot.engine import Engine
from bot.health import Metrics
from bot.service import AskService
from bot.settings import Settings
from tests.fakediscord import FakeDiscord, snowflake, user

FIXTURE_KB = Path(__file__).resolve().parent / "fixtures" / "knowledge"


def make_settings(fake: FakeDiscord, data_dir: Path, **overrides: Any) -> Settings:
    """Settings pointing at the fake Discord and the fixture knowledge base, isolated from the environment."""
    values: dict[str, Any] = {
        "knowledge_dir": FIXTURE_KB, "index_dir": data_dir / "index", "data_dir": data_dir,
        "DISCORD_TOKEN": fake.token, "DISCORD_API_BASE": fake.api_base, "DISCORD_GATEWAY_URL": fake.gateway_url,
        "rate_limit_count": 5, "rate_limit_seconds": 60.0, "max_concurrency": 4, "health_port": None,
        "dev_guild": None, "shard_count": None, "shard_ids": None, "uid_salt": None,
        "log_questions": False, "store_feedback_questions": False,
    }
    values.update(overrides)
    return Settings(**values)


class Gate:
    """A loader that blocks until released: simulates the model and index still loading at start-up."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self.release = threading.Event()

    def __call__(self) -> Engine:
        assert self.release.wait(60), "the test never released the loader"
        return self.engine


class SlowEngine:
    """The real engine, with each answer taking `delay` seconds longer (as a much larger knowledge base would)."""

    def __init__(self, engine: Engine, delay: float):
        self._engine = engine
        self.delay = delay

    def answer(self, question: str, context: str | None = None) -> Any:
        """Sleep in the worker thread, then answer for real."""
        time.sleep(self.delay)
        return self._engine.answer(question, context)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._engine, name)


@dataclass
class Running:
    """A bot connected to the fake, with handles the tests use."""

    bot: KeyholderBot
    fake: FakeDiscord
    settings: Settings
    task: asyncio.Task[None]
    users: dict[str, dict[str, Any]] = field(default_factory=dict)

    def user(self, name: str) -> dict[str, Any]:
        """A Discord user (created on first use)."""
        if name not in self.users:
            self.users[name] = user(snowflake(), name)
        return self.users[name]

    async def stop(self) -> None:
        """Close the bot and wait for its task."""
        await self.bot.close()
        await asyncio.wait_for(self.task, 15)


async def start_bot(fake: FakeDiscord, settings: Settings, loader: Callable[[], Engine],
                    wait_ready: bool = True, **options: Any) -> Running:
    """Build the bot as `keyholder run` does (real service, real feedback store) and connect it to the fake."""
    service = AskService(settings, loader=loader)
    bot = build_bot(settings, service=service, metrics=Metrics(), guild_ready_timeout=0.05, **options)
    token = settings.token()
    assert token

    async def run() -> None:
        async with bot:
            await bot.start(token)

    task = asyncio.create_task(run(), name="keyholder-test-bot")
    running = Running(bot, fake, settings, task)
    if wait_ready:
        ready = asyncio.create_task(bot.wait_until_ready())
        done, _ = await asyncio.wait({ready, task}, timeout=20, return_when=asyncio.FIRST_COMPLETED)
        if task in done:
            ready.cancel()
            task.result()  # raise the bot's error
        assert ready in done, "the bot did not become ready"
    return running


# --- helpers for reading what the bot sent ----------------------------------------------------------


def buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    """Every button on a message, row by row."""
    return [c for row in message.get("components") or [] for c in row.get("components") or []]


def button(message: dict[str, Any], starts: str) -> dict[str, Any]:
    """The button whose custom id starts with `starts`."""
    found = [b for b in buttons(message) if str(b.get("custom_id", "")).startswith(starts)]
    assert found, f"no button {starts!r} on the message: {[b.get('custom_id') for b in buttons(message)]}"
    return found[0]


def text_of(message: dict[str, Any]) -> str:
    """All the text a user reads in a message: content, embed titles, descriptions, fields, footers."""
    parts = [message.get("content") or ""]
    for e in message.get("embeds") or []:
        parts += [e.get("title") or "", (e.get("author") or {}).get("name") or "", e.get("description") or ""]
        for f in e.get("fields") or []:
            parts += [f["name"], f["value"]]
        parts.append((e.get("footer") or {}).get("text") or "")
    return "\n".join(p for p in parts if p)
