"""Small helpers to reply to an interaction the right way, acknowledged or not."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord

if TYPE_CHECKING:
    from bot.discord.client import KeyholderBot

NO_MENTIONS = discord.AllowedMentions.none()


async def defer(interaction: discord.Interaction[Any], ephemeral: bool) -> None:
    """Acknowledge now ("Keyholder is thinking…"); remember whether the placeholder is public."""
    if not interaction.response.is_done():
        await interaction.response.defer(thinking=True, ephemeral=ephemeral)
        interaction.extras["public_defer"] = not ephemeral


async def ready_or_defer(bot: KeyholderBot, interaction: discord.Interaction[Any], ephemeral: bool = False) -> None:
    """If the model and index are still loading, acknowledge first, then wait for them."""
    if not bot.service.ready:
        await defer(interaction, ephemeral)
        await bot.wait_engine()


async def respond(interaction: discord.Interaction[Any], *, content: str | None = None,
                  embed: discord.Embed | None = None, view: discord.ui.View | None = None,
                  ephemeral: bool = False) -> discord.InteractionMessage | discord.WebhookMessage | None:
    """Send the response, as the initial response or as a followup after a defer; returns the message sent."""
    kwargs: dict[str, Any] = {"allowed_mentions": NO_MENTIONS, "ephemeral": ephemeral}
    if content is not None:
        kwargs["content"] = content
    if embed is not None:
        kwargs["embed"] = embed
    if view is not None:
        kwargs["view"] = view
    if not interaction.response.is_done():
        await interaction.response.send_message(**kwargs)
        interaction.extras["replied"] = True
        return await interaction.original_response() if view is not None else None
    message = await interaction.followup.send(wait=True, **kwargs)
    interaction.extras["replied"] = True
    return message
