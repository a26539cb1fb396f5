"""The Discord client: one AutoShardedBot holding the services, the error handler and the command sync rule."""

from __future__ import annotations

import hashlib
import json
import logging
import math
import re
import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Generic, TypeVar

import discord
import yarl
from discord import app_commands
from discord.ext import commands
from discord.gateway import DiscordWebSocket
from discord.http import Route

import bot as keyholder
from bot.discord import errors, render
from bot.discord.ratelimit import FairGate, RateLimiter
from bot.feedback import FeedbackStore
from bot.health import Health, Metrics
from bot.models import Answer
from bot.policy import redact_contact
from bot.service import AskService, NotReady
from bot.settings import Settings

log = logging.getLogger(__name__)

EXTENSIONS = ("bot.discord.cogs.ask", "bot.discord.cogs.cases", "bot.discord.cogs.info")
SYNC_STATE_FILE = "command-sync.json"
DEFAULT_API_BASE = "https://discord.com/api/v10"
# How long a question waits for the model and index to finish loading at start-up before giving up.
STARTUP_WAIT_S = 300.0

K = TypeVar("K")
V = TypeVar("V")


class LRU(Generic[K, V]):
    """A small bounded mapping that forgets the least recently used entry."""

    def __init__(self, size: int):
        self.size = size
        self._data: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        """The value for `key`, or None."""
        value = self._data.get(key)
        if value is not None:
            self._data.move_to_end(key)
        return value

    def put(self, key: K, value: V) -> None:
        """Store `value`, evicting the oldest entry when full."""
        self._data[key] = value
        self._data.move_to_end(key)
        while len(self._data) > self.size:
            self._data.popitem(last=False)

    def __len__(self) -> int:
        return len(self._data)


@dataclass(frozen=True)
class StoredAnswer:
    """An answer kept in memory so its buttons (Sources, feedback) can refer to it."""

    answer_id: str
    answer: Answer


def api_base(value: str | None) -> str:
    """The REST base URL with its API version: 'http://proxy:8080' becomes 'http://proxy:8080/api/v10'."""
    if not value:
        return DEFAULT_API_BASE
    base = value.rstrip("/")
    return base if re.search(r"/api/v\d+$", base) else base + "/api/v10"


def configure_endpoints(settings: Settings) -> None:
    """Point discord.py at DISCORD_API_BASE and DISCORD_GATEWAY_URL (process-wide: discord.py keeps these per class)."""
    Route.BASE = api_base(settings.discord_api_base)
    if settings.discord_gateway_url:
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.discord_gateway_url)
    else:
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL("wss://gateway.discord.gg/")


def intents() -> discord.Intents:
    """Only non-privileged intents: guilds (for slash commands) and messages (mentions and DMs carry content)."""
    value = discord.Intents.none()
    value.guilds = True
    value.guild_messages = True
    value.dm_messages = True
    return value


class KeyholderTree(app_commands.CommandTree["KeyholderBot"]):
    """The command tree with the one global error handler."""

    async def on_error(self, interaction: discord.Interaction[KeyholderBot], error: app_commands.AppCommandError) -> None:
        """Map every error to a private, specific message; log the unexpected ones with a reference id."""
        await errors.report(interaction, error, self.client.metrics)


class KeyholderBot(commands.AutoShardedBot):
    """Keyholder's client. Services are built by the runner and passed in; each command group is an extension."""

    tree: KeyholderTree

    def __init__(self, settings: Settings, service: AskService, feedback: FeedbackStore, metrics: Metrics | None = None,
                 *, sync_on_start: bool = True, start_service: bool = True, **options: Any):
        configure_endpoints(settings)
        super().__init__(
            command_prefix=commands.when_mentioned,
            help_command=None,
            intents=intents(),
            allowed_mentions=discord.AllowedMentions.none(),
            shard_count=settings.shard_count,
            shard_ids=settings.shard_ids,  # type: ignore[arg-type]  # None means all shards
            tree_cls=KeyholderTree,
            max_messages=500,
            **options,
        )
        self.settings = settings
        self.service = service
        self.feedback = feedback
        self.metrics = metrics or Metrics()
        self.limiter = RateLimiter(settings.rate_limit_count, settings.rate_limit_seconds)
        self.gate = FairGate()
        self.answers: LRU[str, StoredAnswer] = LRU(2000)
        self.asked: LRU[int, str] = LRU(5000)  # message id of an answer -> the question it answered
        self.sync_on_start = sync_on_start
        self.start_service = start_service
        self.started = time.monotonic()
        self._kb_version: str | None = None

    # --- start-up ---------------------------------------------------------------------------------

    async def setup_hook(self) -> None:
        """Start loading the model in the background, load the extensions, sync commands if they changed."""
        if self.start_service:
            await self.service.start()
        for ext in EXTENSIONS:
            await self.load_extension(ext)
        guild = self.command_guild()
        if guild is not None:
            self.tree.copy_global_to(guild=guild)
        if self.sync_on_start:
            try:
                await self.sync_commands(force=False)
            except discord.HTTPException as exc:
                log.error("could not sync slash commands (HTTP %s: %s); run `keyholder commands sync` later. "
                          "Is the bot invited with the applications.commands scope?", exc.status, exc.text)

    async def launch_shard(self, gateway: yarl.URL, shard_id: int, *, initial: bool = False) -> None:
        """Connect a shard, to DISCORD_GATEWAY_URL when it is set."""
        if self.settings.discord_gateway_url:
            gateway = yarl.URL(self.settings.discord_gateway_url)
        await super().launch_shard(gateway, shard_id, initial=initial)

    async def on_ready(self) -> None:
        """Log where we are connected."""
        log.info("connected to Discord as %s (id %s) in %d guild(s), shards %s of %s", self.user,
                 self.user.id if self.user else "?", len(self.guilds), sorted(self.shards), self.shard_count)

    async def on_message(self, message: discord.Message, /) -> None:
        """No prefix commands: mentions are handled by the ask extension's listener."""

    async def on_error(self, event_method: str, /, *args: Any, **kwargs: Any) -> None:
        """An event handler failed: log it and carry on."""
        self.metrics.error()
        log.exception("error in event %s", event_method)

    # --- command sync -----------------------------------------------------------------------------

    def command_guild(self) -> discord.Object | None:
        """The development guild commands sync to (KEYHOLDER_DEV_GUILD), or None for global commands."""
        return discord.Object(self.settings.dev_guild) if self.settings.dev_guild else None

    def command_hash(self) -> str:
        """A hash of the command tree as it would be sent to Discord, and where it goes."""
        guild = self.command_guild()
        payload = sorted((c.to_dict(self.tree) for c in self.tree.get_commands(guild=guild)),
                         key=lambda d: (str(d.get("name")), int(d.get("type", 1))))
        blob = json.dumps({"application_id": self.application_id, "guild": guild.id if guild else None,
                           "commands": payload}, sort_keys=True, default=str)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()

    @property
    def sync_state_path(self) -> Path:
        """Where the hash of the last synced command tree is kept."""
        return self.settings.data_dir / SYNC_STATE_FILE

    def _last_sync_hash(self) -> str | None:
        try:
            return str(json.loads(self.sync_state_path.read_text(encoding="utf-8"))["hash"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    async def sync_commands(self, force: bool = False) -> int | None:
        """Sync the slash commands when the tree changed since the last sync (or when forced); returns the count synced."""
        digest = self.command_hash()
        guild = self.command_guild()
        where = f"guild {guild.id}" if guild else "all guilds (global)"
        if not force and digest == self._last_sync_hash():
            log.info("slash commands unchanged since the last sync; not syncing")
            return None
        synced = await self.tree.sync(guild=guild)
        state = {"hash": digest, "guild": guild.id if guild else None, "application_id": self.application_id,
                 "commands": sorted(c.name for c in synced), "synced_at": datetime.now(UTC).isoformat(timespec="seconds")}
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        tmp = self.sync_state_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, indent=2) + "\n", encoding="utf-8")
        tmp.replace(self.sync_state_path)
        log.info("synced %d slash commands to %s", len(synced), where)
        return len(synced)

    # --- answering --------------------------------------------------------------------------------

    def check_rate(self, user_id: int) -> None:
        """Raise RateLimited when `user_id` is over the per-user limit."""
        retry = self.limiter.hit(user_id)
        if retry is not None:
            self.metrics.limited()
            raise errors.RateLimited(retry, self.settings.rate_limit_count, self.settings.rate_limit_seconds)

    async def wait_engine(self) -> None:
        """Wait for the model and index (questions that arrive during start-up wait here)."""
        if self.service.ready:
            return
        try:
            await self.service.wait_ready(timeout=STARTUP_WAIT_S)
        except TimeoutError as exc:
            raise errors.StillLoading() from exc

    async def answer_question(self, user_id: int, question: str, context: str | None = None) -> Answer:
        """Answer through the service, one question at a time per user; counts and times it for /metrics."""
        async with self.gate.slot(user_id):
            started = time.perf_counter()
            await self.wait_engine()
            answer = await self.service.ask(question, context)
            elapsed = time.perf_counter() - started
        self.metrics.question(answer.declined, elapsed)
        if self.settings.log_questions:  # operators opt in; contact details are removed even then
            log.info("question %r (context %r): declined=%s reason=%s in %.0f ms", redact_contact(question),
                     redact_contact(context) if context else None, answer.declined, answer.decline_reason,
                     elapsed * 1000)
        else:
            log.debug("question answered: declined=%s reason=%s in %.0f ms", answer.declined, answer.decline_reason,
                      elapsed * 1000)
        return answer

    def remember(self, answer: Answer) -> str:
        """Keep `answer` for its buttons; returns its id (used in the buttons' custom ids)."""
        answer_id = secrets.token_hex(6)
        self.answers.put(answer_id, StoredAnswer(answer_id, answer))
        return answer_id

    def doc_titles(self) -> dict[str, str]:
        """Document id → title, for rendering sources (empty while loading)."""
        try:
            return {d.id: d.meta.title for d in self.service.engine.docs.values()}
        except NotReady:
            return {}

    # --- status -----------------------------------------------------------------------------------

    def kb_version(self) -> str | None:
        """A short hash of every knowledge document's content: changes whenever the knowledge base does."""
        if self._kb_version is None and self.service.ready:
            hashes = sorted(d.content_hash for d in self.service.engine.docs.values())
            self._kb_version = hashlib.sha256("".join(hashes).encode()).hexdigest()[:12]
        return self._kb_version

    def latency_s(self) -> float | None:
        """Gateway heartbeat latency in seconds, or None before the first heartbeat."""
        try:
            value = self.latency
        except (AttributeError, ValueError):
            return None
        return value if math.isfinite(value) else None

    def health(self) -> Health:
        """What /healthz and /metrics report."""
        shards = {sid: not shard.is_closed() for sid, shard in self.shards.items()}
        connected = self.is_ready() and not self.is_closed() and bool(shards) and all(shards.values())
        passages = len(self.service.engine.index.passages) if self.service.ready else None
        error = self.service.load_error
        return Health(discord_connected=connected, engine_loaded=passages is not None, engine_error=error,
                      index_passages=passages, gateway_latency_s=self.latency_s(), shards=shards)

    def about(self) -> render.AboutInfo:
        """What /about shows."""
        stats = self.service.stats()
        health = self.health()
        return render.AboutInfo(
            version=keyholder.__version__,
            kb_version=self.kb_version(),
            documents=stats.documents if stats else None,
            cases=stats.cases if stats else None,
            passages=stats.passages if stats else None,
            knowledge_as_of=stats.knowledge_as_of if stats else None,
            index_built_at=stats.index_built_at if stats else None,
            model=stats.model if stats else None,
            uptime_s=time.monotonic() - self.started,
            latency_ms=health.gateway_latency_s * 1000 if health.gateway_latency_s is not None else None,
            answered=self.metrics.answered,
            declined=self.metrics.declined,
            shards=self.shard_count or 1,
            loading=stats is None,
            load_error=health.engine_error,
        )

    async def close(self) -> None:
        """Disconnect from Discord (the runner stops the health server and waits for nothing else)."""
        log.info("shutting down")
        await super().close()

