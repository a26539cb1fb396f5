"""Build the services, run the bot until SIGTERM/SIGINT, or sync the slash commands once."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from typing import Any

import discord

from bot.discord import status
from bot.discord.client import KeyholderBot
from bot.discord.endpoints import configure as configure_endpoints
from bot.discord.sync import sync_commands as sync_tree
from bot.feedback import FeedbackStore, UserHasher
from bot.health import HealthServer, Metrics
from bot.service import AskService
from bot.settings import Settings

log = logging.getLogger(__name__)

EXIT_OK, EXIT_ERROR = 0, 1


def build_bot(settings: Settings, service: AskService | None = None, metrics: Metrics | None = None,
              **options: Any) -> KeyholderBot:
    """Start-up: configure the endpoints, create the services and the bot that holds them."""
    protect_question_text()
    hasher = UserHasher.from_settings(
        settings.uid_salt.get_secret_value() if settings.uid_salt else None, settings.data_dir)
    feedback = FeedbackStore(settings.data_dir, hasher, store_questions=settings.store_feedback_questions)
    endpoints = configure_endpoints(settings)
    return KeyholderBot(settings, service or AskService(settings), feedback, metrics or Metrics(), endpoints, **options)


def _explain_login(exc: BaseException) -> str:
    if isinstance(exc, discord.LoginFailure):
        return ("Discord rejected the token (HTTP 401). Copy the bot token again from the developer portal "
                "(Bot → Reset Token) into DISCORD_TOKEN or DISCORD_TOKEN_FILE.")
    if isinstance(exc, discord.PrivilegedIntentsRequired):
        return "Discord refused a privileged intent; Keyholder needs none, so check for a modified intents setting."
    if isinstance(exc, discord.GatewayNotFound):
        return "Could not reach the Discord gateway; check the network or DISCORD_GATEWAY_URL."
    return f"{type(exc).__name__}: {exc}"


async def serve(bot: KeyholderBot, token: str, health_port: int | None = None, health_host: str = "0.0.0.0") -> int:
    """Run `bot` (and the health endpoint) until it is closed; SIGTERM and SIGINT close it cleanly."""
    loop = asyncio.get_running_loop()
    closing: list[asyncio.Task[None]] = []

    def stop(signame: str) -> None:
        if not closing:
            log.info("received %s; disconnecting", signame)
            closing.append(loop.create_task(bot.close()))

    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop, sig.name)
    health = HealthServer(lambda: status.health(bot), bot.metrics, health_host, health_port) if health_port is not None else None
    try:
        if health is not None:
            await health.start()
        async with bot:
            await bot.start(token)
    except (discord.LoginFailure, discord.PrivilegedIntentsRequired, discord.GatewayNotFound) as exc:
        log.error("%s", _explain_login(exc))
        return EXIT_ERROR
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.remove_signal_handler(sig)
        if health is not None:
            await health.stop()
    log.info("stopped")
    return EXIT_OK


# discord.py logs whole gateway events and request bodies at DEBUG: those carry question text.
_PAYLOAD_LOGGERS = ("discord.gateway", "discord.http", "discord.webhook.async_", "discord.state")


def protect_question_text() -> None:
    """Keep discord.py's payload-dumping loggers at INFO or above, always.

    Their DEBUG lines carry raw message text; KEYHOLDER_LOG_QUESTIONS turns on Keyholder's own question log
    line instead, which has contact details removed.
    """
    for name in _PAYLOAD_LOGGERS:
        logger = logging.getLogger(name)
        if logger.level < logging.INFO:  # NOTSET included: inheriting DEBUG from the root later must not enable it
            logger.setLevel(logging.INFO)


def run_bot(settings: Settings) -> int:
    """`keyholder run`: connect at once, load the model and index in the background, answer until SIGTERM."""
    token = settings.token()
    if not token:
        log.error("DISCORD_TOKEN is not set")
        return EXIT_ERROR
    try:
        bot = build_bot(settings)
    except ValueError as exc:
        log.error("%s", exc)
        return EXIT_ERROR
    try:
        return asyncio.run(serve(bot, token, settings.health_port, settings.health_host))
    except KeyboardInterrupt:
        return EXIT_OK


async def sync_now(settings: Settings, token: str) -> int:
    """Log in over REST only (no gateway, no model), sync the slash commands, log out."""
    bot = build_bot(settings, sync_on_start=False, start_service=False)
    try:
        async with bot:
            await bot.login(token)
            count = await sync_tree(bot, force=True)
    except discord.LoginFailure as exc:
        log.error("%s", _explain_login(exc))
        return EXIT_ERROR
    except discord.HTTPException as exc:
        log.error("Discord refused the command sync (HTTP %s): %s. Is the bot invited with the "
                  "applications.commands scope%s?", exc.status, exc.text,
                  f" to guild {settings.dev_guild}" if settings.dev_guild else "")
        return EXIT_ERROR
    where = f"guild {settings.dev_guild}" if settings.dev_guild else "all guilds (global commands can take a while to appear)"
    log.info("synced %s slash commands to %s", count, where)
    return EXIT_OK


def sync_commands(settings: Settings) -> int:
    """`keyholder commands sync`: sync the slash commands now, whatever the stored hash says."""
    token = settings.token()
    if not token:
        log.error("DISCORD_TOKEN is not set")
        return EXIT_ERROR
    return asyncio.run(sync_now(settings, token))
