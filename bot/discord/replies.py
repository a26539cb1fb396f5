"""Where a reply goes: an interaction (slash command or button) or a message (mention, DM).

Every front-end path sends through one of these two, so acknowledging, sending an answer over several
messages, and telling the user something privately each happen in exactly one place.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager, suppress
from typing import Any

import discord

from bot.declines import Reason, rule
from bot.discord import render
from bot.models import Answer
from bot.service import AskService

NO_MENTIONS = discord.AllowedMentions.none()
Sent = discord.InteractionMessage | discord.WebhookMessage | discord.Message


class Reply(ABC):
    """The place one request came from, and the ways to answer it there."""

    where: str  # for log lines: the command, button or "mention"
    ref: int  # the interaction or message id, for log lines

    @abstractmethod
    def working(self, private: bool) -> Any:
        """An async context manager shown while the answer is computed ("thinking…" or "typing…")."""

    @abstractmethod
    async def send(self, embeds: Sequence[discord.Embed], view: discord.ui.View | None = None,
                   private: bool = False, first: bool = True) -> Sent | None:
        """Send one message of an answer; `first` is the one that replies to the request and carries the buttons."""

    @abstractmethod
    async def private(self, content: str | None = None, embed: discord.Embed | None = None) -> None:
        """Tell the user something only they see where Discord allows it (errors, limits, refusals)."""

    @abstractmethod
    async def private_decline(self, answer: Answer) -> None:
        """Decline a harmful or personal-data request without advertising it to the channel."""

    async def post(self, messages: Sequence[Sequence[discord.Embed]], view: discord.ui.View | None,
                   private: bool = False) -> Sent | None:
        """An answer's messages in order, the buttons on the first; returns the first message."""
        first = await self.send(messages[0], view, private, first=True)
        for embeds in messages[1:]:
            await self.send(embeds, None, private, first=False)
        return first


class InteractionReply(Reply):
    """Replies to a slash command or a button click: the initial response, or followups after a defer."""

    def __init__(self, interaction: discord.Interaction[Any]):
        self.interaction = interaction
        data: dict[str, Any] = dict(interaction.data or {})
        self.where = interaction.command.qualified_name if interaction.command else str(data.get("custom_id", "?"))
        self.ref = interaction.id

    async def acknowledge(self, private: bool) -> None:
        """Acknowledge now ("Keyholder is thinking…"); remember whether the placeholder is public."""
        if not self.interaction.response.is_done():
            await self.interaction.response.defer(thinking=True, ephemeral=private)
            self.interaction.extras["public_defer"] = not private

    @asynccontextmanager
    async def working(self, private: bool) -> AsyncIterator[None]:
        """Acknowledge within Discord's three seconds, then let the caller work."""
        await self.acknowledge(private)
        yield

    async def when_ready(self, service: AskService, private: bool = False) -> None:
        """If the model and index are still loading, acknowledge first, then wait for them."""
        if not service.ready:
            await self.acknowledge(private)
            await service.wait_ready()

    async def send(self, embeds: Sequence[discord.Embed], view: discord.ui.View | None = None,
                   private: bool = False, first: bool = True) -> Sent | None:
        """The initial response when nothing was sent yet, else a followup."""
        kwargs: dict[str, Any] = {"allowed_mentions": NO_MENTIONS, "ephemeral": private, "embeds": list(embeds)}
        if view is not None:
            kwargs["view"] = view
        response = self.interaction.response
        if not response.is_done():
            await response.send_message(**kwargs)
            self.interaction.extras["replied"] = True
            return await self.interaction.original_response() if view is not None else None
        message = await self.interaction.followup.send(wait=True, **kwargs)
        self.interaction.extras["replied"] = True
        return message

    async def private(self, content: str | None = None, embed: discord.Embed | None = None) -> None:
        """An ephemeral message, whether or not the interaction was already acknowledged."""
        kwargs: dict[str, Any] = {"ephemeral": True, "allowed_mentions": NO_MENTIONS}
        if content is not None:
            kwargs["content"] = render.clip(content, render.CONTENT_LIMIT)
        if embed is not None:
            kwargs["embed"] = embed
        interaction = self.interaction
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

    async def private_decline(self, answer: Answer) -> None:
        """The decline card, only for the asker."""
        await self.private(embed=render.answer_messages(answer)[0][0])


class MessageReply(Reply):
    """Replies to a message that mentions the bot, or a DM: a reply, then plain messages in the channel."""

    def __init__(self, message: discord.Message):
        self.message = message
        self.where = "mention" if message.guild is not None else "dm"
        self.ref = message.id

    @asynccontextmanager
    async def working(self, private: bool) -> AsyncIterator[None]:
        """Show "typing…" in the channel while the answer is computed."""
        async with self.message.channel.typing():
            yield

    async def send(self, embeds: Sequence[discord.Embed], view: discord.ui.View | None = None,
                   private: bool = False, first: bool = True) -> Sent | None:
        """The first message replies to the question; the rest follow in the channel."""
        if first:
            extra: dict[str, Any] = {"view": view} if view is not None else {}
            return await self.message.reply(embeds=list(embeds), mention_author=False, allowed_mentions=NO_MENTIONS,
                                            **extra)
        return await self.message.channel.send(embeds=list(embeds), allowed_mentions=NO_MENTIONS)

    async def private(self, content: str | None = None, embed: discord.Embed | None = None) -> None:
        """A message cannot be answered privately: reply with the text (never an embed echoing the request)."""
        await self.message.reply(render.clip(content or "", render.CONTENT_LIMIT), mention_author=False,
                                 allowed_mentions=NO_MENTIONS)

    async def private_decline(self, answer: Answer) -> None:
        """In a channel, a harmful or personal-data request gets the short decline only: no embed, no echo."""
        await self.private(rule(answer.decline_reason or Reason.out_of_scope).message)
