"""Domain errors, their mapping to user messages, and the one path that reports an error to the user."""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from dataclasses import dataclass

import discord
from discord import app_commands

from bot.discord import render
from bot.discord.ratelimit import Busy
from bot.discord.replies import Reply
from bot.health import Metrics
from bot.service import NotReady

log = logging.getLogger(__name__)


class KeyholderError(Exception):
    """An error whose message is meant for the user as it is."""

    def user_message(self) -> str:
        """What the user reads."""
        return str(self)


class RateLimited(KeyholderError):
    """The user asked too often; `retry_after` seconds until the next question is accepted."""

    def __init__(self, retry_after: float, count: int, seconds: float):
        self.retry_after = retry_after
        self.count = count
        self.seconds = seconds
        self.at = time.time()
        super().__init__(f"rate limited for {retry_after:.1f} s")

    def user_message(self) -> str:
        """The limit and when to try again."""
        return render.rate_limited_text(self.retry_after, self.at, self.count, self.seconds)


# A request waited the whole start-up wait (AskService.startup_wait_s) for the model and index.
STILL_LOADING = "I'm still starting up and loading my knowledge base. Please try again in a minute."


@dataclass(frozen=True)
class Explained:
    """What to tell the user about an error, and whether it was unexpected (logged with its traceback)."""

    text: str
    unexpected: bool
    kind: str


def new_reference() -> str:
    """A short id the user can quote and the operator can find in the logs."""
    return secrets.token_hex(4)


def explain(error: BaseException, ref: str) -> Explained:
    """Map an error (unwrapped from CommandInvokeError) to a clear user message."""
    if isinstance(error, app_commands.CommandInvokeError):
        error = error.original
    if isinstance(error, KeyholderError):
        return Explained(error.user_message(), False, type(error).__name__)
    if isinstance(error, Busy):
        return Explained("I'm answering a lot of questions right now. Please try again in a minute.", False, "busy")
    if isinstance(error, asyncio.TimeoutError | TimeoutError):
        return Explained(STILL_LOADING, False, "timeout")
    if isinstance(error, NotReady):
        return Explained(
            "My knowledge base failed to load, so I can't answer right now. The operator has been told; "
            f"if you report this, quote reference `{ref}`.", True, "not_ready")
    if isinstance(error, app_commands.CommandOnCooldown):
        return Explained(f"Slow down a little: try again in {render.duration(error.retry_after + 1)}.", False, "cooldown")
    if isinstance(error, app_commands.BotMissingPermissions):
        missing = ", ".join(p.replace("_", " ") for p in error.missing_permissions)
        return Explained(f"I'm missing permissions in this channel: {missing}. Ask a server admin to add them.",
                         False, "bot_permissions")
    if isinstance(error, app_commands.NoPrivateMessage):
        return Explained("That command only works in a server.", False, "no_dm")
    if isinstance(error, app_commands.CheckFailure):
        return Explained("You can't use that command here.", False, "check")
    if isinstance(error, app_commands.CommandSignatureMismatch | app_commands.CommandNotFound):
        return Explained("This command changed since your Discord app loaded it. Reload Discord (Ctrl+R) and "
                         "try again in a minute.", False, "stale_command")
    if isinstance(error, app_commands.TransformerError):
        return Explained(f"I couldn't understand the value you gave: {render.clip(str(error), 200)}", False, "input")
    if isinstance(error, discord.Forbidden):
        return Explained("Discord didn't let me post here. Ask a server admin to let me send messages and embeds "
                         "in this channel.", False, "forbidden")
    return Explained(f"Something went wrong on my side. If it keeps happening, tell the operator reference `{ref}`.",
                     True, "unexpected")


async def report(reply: Reply, error: BaseException, metrics: Metrics) -> Explained:
    """The one error path for commands, buttons, mentions and DMs: tell the user, log the unexpected with a
    reference id, never raise."""
    ref = new_reference()
    explained = explain(error, ref)
    original = error.original if isinstance(error, app_commands.CommandInvokeError) else error
    if explained.unexpected:
        metrics.error()
        log.error("error %s in %s (%s): %s", ref, reply.where, reply.ref, type(original).__name__, exc_info=original)
    else:
        log.info("%s in %s (%s)", explained.kind, reply.where, reply.ref)
    try:
        await reply.private(explained.text)
    except discord.HTTPException as exc:
        log.warning("could not tell the user about error %s: %s", ref, exc.status)
    except Exception:  # the handler must never raise
        log.exception("could not tell the user about error %s", ref)
    return explained
