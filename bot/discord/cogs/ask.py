"""/ask, questions in messages that mention the bot or in DMs, and follow-ups in replies to its answers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord import views
from bot.policy import MAX_QUESTION_CHARS

if TYPE_CHECKING:
    from bot.discord.client import KeyholderBot


class Ask(commands.Cog):
    """Questions and answers: each entry point hands the request to the Ask feature."""

    def __init__(self, bot: KeyholderBot):
        self.bot = bot

    @app_commands.command(name="ask")
    @app_commands.describe(
        question="Your question about encryption or government demands for data (up to 500 characters)",
        private="Only you see the answer (default: everyone in the channel sees it)",
    )
    async def ask(self, interaction: discord.Interaction[Any],
                  question: app_commands.Range[str, 1, MAX_QUESTION_CHARS], private: bool = False) -> None:
        """Ask about encryption and government demands for user data; answers cite their sources."""
        await self.bot.asking.slash(interaction, question, private)

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        """Answer a message that mentions the bot (or a DM); a reply to one of our answers is a follow-up."""
        if self.bot.user is not None:
            await self.bot.asking.message(message, self.bot.user)


async def setup(bot: KeyholderBot) -> None:
    """Extension entry point: the cog and the answer buttons."""
    bot.add_dynamic_items(*views.DYNAMIC_ITEMS)
    await bot.add_cog(Ask(bot))
