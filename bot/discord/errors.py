"""Domain errors, the one global error handler's mapping to user messages, and private replies."""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

import discord
from discord import app_commands

from bot.discord import render
from bot.discord.ratelimit import Busy
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


class StillLoading(KeyholderError):
    """The model and index took too long to load for this request."""

    def user_message(self) -> str:
        """Ask to come back in a minute."""
        return "I'm still starting up and loading my knowledge base. Please try again in a minute."


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
        return Explained(StillLoading().user_message(), False, "timeout")
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


async def send_private(interaction: discord.Interaction[Any], content: str | None = None,
                       embed: discord.Embed | None = None) -> None:
    """Send a message only the user sees, whether or not the interaction was already acknowledged."""
    kwargs: dict[str, Any] = {"ephemeral": True, "allowed_mentions": discord.AllowedMentions.none()}
    if content is not None:
        kwargs["content"] = render.clip(content, render.CONTENT_LIMIT)
    if embed is not None:
        kwargs["embed"] = embed
    if not interaction.response.is_done():
        await interaction.response.send_message(**kwargs)
        return
    if interaction.extras.get("public_defer") and not interaction.extras.get("replied"):
        # The first followup after a public defer would replace the public "thinking…" message with this
        # (and make it public); delete the placeholder so the followup is a new, ephemeral message.
        with suppress(discord.HTTPException):
            await interaction.delete_original_response()
    await interaction.followup.send(**kwargs)
    interaction.extras["replied"] = True


async def report(interaction: discord.Interaction[Any], error: BaseException, metrics: Any = None) -> Explained:
    """The global handler's body: tell the user, log the unexpected with a reference id, never raise."""
    ref = new_reference()
    explained = explain(error, ref)
    original = error.original if isinstance(error, app_commands.CommandInvokeError) else error
    data: dict[str, Any] = dict(interaction.data or {})
    where = interaction.command.qualified_name if interaction.command else str(data.get("custom_id", "?"))
    if explained.unexpected:
        if metrics is not None:
            metrics.error()
        log.error("error %s in %s (interaction %s): %s", ref, where, interaction.id, type(original).__name__,
                  exc_info=original)
    else:
        log.info("%s in %s (interaction %s)", explained.kind, where, interaction.id)
    try:
        await send_private(interaction, explained.text)
    except discord.HTTPException as exc:
        log.warning("could not tell the user about error %s: %s", ref, exc.status)
    except Exception:  # the handler must never raise
        log.exception("could not tell the user about error %s", ref)
    return explained

