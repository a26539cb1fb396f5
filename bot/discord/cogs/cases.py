"""/case (with autocomplete over case names and aliases) and /cases."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord import render
from bot.discord.replies import InteractionReply
from bot.discord.views import Pager

if TYPE_CHECKING:
    from bot.discord.client import KeyholderBot


class Cases(commands.Cog):
    """Court cases: cards and the list."""

    def __init__(self, bot: KeyholderBot):
        self.bot = bot

    @app_commands.command(name="case")
    @app_commands.describe(name="The case: start typing a name, e.g. San Bernardino, Riley, Microsoft Ireland")
    async def case(self, interaction: discord.Interaction[Any], name: app_commands.Range[str, 1, 100]) -> None:
        """Show a case card: court, dates, status, outcome, what it stands for and primary sources."""
        reply = InteractionReply(interaction)
        await reply.when_ready(self.bot.service)
        doc = await self.bot.service.find_case(name)
        if doc is None:
            near = await self.bot.service.search_cases(name, 3)
            hint = f" Did you mean {', '.join(f'**{render.clip(d.meta.title, 80)}**' for d in near)}?" if near else ""
            await reply.private(f"I don't have a case called “{render.user_text(name, 100)}”.{hint} "
                                "Start typing in /case to see suggestions, or use /cases for the list.")
            return
        await reply.send([render.case_embed(doc)])

    @case.autocomplete("name")
    async def case_names(self, interaction: discord.Interaction[Any], current: str) -> list[app_commands.Choice[str]]:
        """Up to 25 cases ranked by how well their name or aliases match what the user typed."""
        docs = await self.bot.service.search_cases(current, render.CHOICES_LIMIT)
        return [app_commands.Choice(name=render.choice_name(d), value=d.id) for d in docs][: render.CHOICES_LIMIT]

    @app_commands.command(name="cases")
    async def cases(self, interaction: discord.Interaction[Any]) -> None:
        """List the court cases Keyholder knows, oldest first."""
        reply = InteractionReply(interaction)
        await reply.when_ready(self.bot.service)
        await send_pages(reply, render.cases_pages(await self.bot.service.cases()))


async def send_pages(reply: InteractionReply, pages: list[discord.Embed]) -> None:
    """One page, or the first page with ◀ ▶ buttons."""
    if len(pages) == 1:
        await reply.send([pages[0]])
        return
    pager = Pager(pages, reply.interaction.user.id)
    pager.message = await reply.send([pages[0]], view=pager)


async def setup(bot: KeyholderBot) -> None:
    """Extension entry point."""
    await bot.add_cog(Cases(bot))
