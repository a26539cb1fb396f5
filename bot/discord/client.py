"""The Discord client: wiring only. It holds the services, loads one extension per command group, and routes
errors to the one report path; each feature owns its own state (the Ask feature: bot/discord/asking.py)."""

from __future__ import annotations

import logging
from typing import Any

import discord
import yarl
from discord import app_commands
from discord.ext import commands

from bot.discord import errors, sync
from bot.discord.asking import AskFeature
from bot.discord.endpoints import Endpoints
from bot.discord.replies import InteractionReply
from bot.feedback import FeedbackStore
from bot.health import Metrics
from bot.service import AskService
from bot.settings import Settings

log = logging.getLogger(__name__)

EXTENSIONS = ("bot.discord.cogs.ask", "bot.discord.cogs.cases", "bot.discord.cogs.info")


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
        await errors.report(InteractionReply(interaction), error, self.client.metrics)


class KeyholderBot(commands.AutoShardedBot):
    """Keyholder's client. The runner builds the services and configures the endpoints; this only wires them."""

    tree: KeyholderTree

    def __init__(self, settings: Settings, service: AskService, feedback: FeedbackStore, metrics: Metrics,
                 endpoints: Endpoints, *, sync_on_start: bool = True, start_service: bool = True, **options: Any):
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
        self.metrics = metrics
        self.endpoints = endpoints
        self.asking = AskFeature(settings, service, feedback, metrics)
        self.sync_on_start = sync_on_start
        self.start_service = start_service

    async def setup_hook(self) -> None:
        """Start loading the model in the background, load the extensions, sync commands if they changed."""
        if self.start_service:
            await self.service.start()
        for ext in EXTENSIONS:
            await self.load_extension(ext)
        guild = sync.command_guild(self.settings)
        if guild is not None:
            self.tree.copy_global_to(guild=guild)
        if self.sync_on_start:
            try:
                await sync.sync_commands(self, force=False)
            except discord.HTTPException as exc:
                log.error("could not sync slash commands (HTTP %s: %s); run `keyholder commands sync` later. "
                          "Is the bot invited with the applications.commands scope?", exc.status, exc.text)

    async def launch_shard(self, gateway: yarl.URL, shard_id: int, *, initial: bool = False) -> None:
        """Connect a shard to the configured gateway, when one is set (Discord's /gateway/bot reply names its own)."""
        await super().launch_shard(self.endpoints.gateway or gateway, shard_id, initial=initial)

    async def on_ready(self) -> None:
        """Log where we are connected."""
        log.info("connected to Discord as %s (id %s) in %d guild(s), shards %s of %s", self.user,
                 self.user.id if self.user else "?", len(self.guilds), sorted(self.shards), self.shard_count)

    async def on_message(self, message: discord.Message, /) -> None:
        """No prefix commands: mentions and DMs are handled by the ask extension's listener."""

    async def on_error(self, event_method: str, /, *args: Any, **kwargs: Any) -> None:
        """An event handler failed: log it and carry on."""
        self.metrics.error()
        log.exception("error in event %s", event_method)

    async def close(self) -> None:
        """Disconnect from Discord (the runner stops the health server and waits for nothing else)."""
        log.info("shutting down")
        await super().close()
