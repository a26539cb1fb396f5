"""/topics, /about and /help."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord import render, status
from bot.discord.cogs.cases import send_pages
from bot.discord.replies import InteractionReply

if TYPE_CHECKING:
    from bot.discord.client import KeyholderBot


class Info(commands.Cog):
    """What Keyholder covers, its status and how to use it."""

    def __init__(self, bot: KeyholderBot):
        self.bot = bot

    @app_commands.command(name="topics")
    async def topics(self, interaction: discord.Interaction[Any]) -> None:
        """List everything Keyholder covers: topics, laws, cases, technology."""
        reply = InteractionReply(interaction)
        await reply.when_ready(self.bot.service)
        await send_pages(reply, render.topics_pages(await self.bot.service.topics()))

    @app_commands.command(name="about")
    async def about(self, interaction: discord.Interaction[Any]) -> None:
        """Show the knowledge base version, counts, model and uptime."""
        await InteractionReply(interaction).send([render.about_embed(status.about(self.bot))])

    @app_commands.command(name="help")
    async def help(self, interaction: discord.Interaction[Any]) -> None:
        """Explain how to ask Keyholder and what it can answer."""
        embed = render.help_embed(self.bot.settings.rate_limit_count, self.bot.settings.rate_limit_seconds)
        await InteractionReply(interaction).send([embed], private=True)


async def setup(bot: KeyholderBot) -> None:
    """Extension entry point."""
    await bot.add_cog(Info(bot))
