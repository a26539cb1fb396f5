"""/ask, questions in messages that mention the bot, and follow-ups in replies to its answers."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.declines import rule
from bot.discord import errors, render, views
from bot.discord.replies import NO_MENTIONS, defer
from bot.models import Answer
from bot.policy import MAX_QUESTION_CHARS, contact_data, harm_category

if TYPE_CHECKING:
    from bot.discord.client import KeyholderBot

log = logging.getLogger(__name__)

MENTION_HINT = ("Ask me a question after the mention, for example: `@{name} can Apple read my iMessages?` "
                "Or use /ask. /help explains more.")


class Ask(commands.Cog):
    """Questions and answers."""

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
        self.bot.check_rate(interaction.user.id)
        # Harmful and personal-data requests are declined privately, so the refusal doesn't advertise the request.
        # The wording rules decide before the acknowledgement; the model's intent check may decide after it,
        # and then the public "thinking…" placeholder is deleted and the decline sent privately instead.
        ephemeral = private or harm_category(question) is not None or bool(contact_data(question))
        await defer(interaction, ephemeral)
        answer = await self.bot.answer_question(interaction.user.id, question)
        if answer.declined and answer.decline_reason is not None and rule(answer.decline_reason).private:
            await errors.send_private(interaction, embed=render.answer_messages(answer)[0][0])
            return
        await self.send_answer(interaction, answer, ephemeral)

    async def send_answer(self, interaction: discord.Interaction[Any], answer: Answer, ephemeral: bool) -> None:
        """Send an answer as followups: embeds, then the buttons on the first message."""
        messages = render.answer_messages(answer)
        answer_id = self.bot.remember(answer)
        first = await interaction.followup.send(embeds=messages[0], view=views.answer_view(self.bot, answer, answer_id),
                                                ephemeral=ephemeral, allowed_mentions=NO_MENTIONS, wait=True)
        interaction.extras["replied"] = True
        self.bot.asked.put(first.id, answer.question)
        for embeds in messages[1:]:
            await interaction.followup.send(embeds=embeds, ephemeral=ephemeral, allowed_mentions=NO_MENTIONS)

    # --- mentions and follow-ups ------------------------------------------------------------------

    def previous_question(self, replied: discord.Message) -> str | None:
        """The question a earlier answer of ours answered (from memory, else from its embed title)."""
        remembered = self.bot.asked.get(replied.id)
        if remembered:
            return remembered
        if replied.embeds and replied.embeds[0].title:
            return replied.embeds[0].title.replace("\\", "")
        return None

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        """Answer a message that mentions the bot (or a DM); a reply to one of our answers is a follow-up."""
        me = self.bot.user
        if me is None or message.author.bot or message.author.id == me.id:
            return
        mentioned = any(u.id == me.id for u in message.mentions)
        if not mentioned and message.guild is not None:
            return
        replied = message.reference.resolved if message.reference else None
        context = None
        if isinstance(replied, discord.Message) and replied.author.id == me.id:
            context = self.previous_question(replied)
        question = render.strip_bot_mention(message.content, me.id)
        try:
            if not question:
                await message.reply(MENTION_HINT.format(name=me.display_name), mention_author=False,
                                    allowed_mentions=NO_MENTIONS)
                return
            try:
                self.bot.check_rate(message.author.id)
            except errors.RateLimited as exc:
                await message.reply(exc.user_message(), mention_author=False, allowed_mentions=NO_MENTIONS)
                return
            async with message.channel.typing():
                answer = await self.bot.answer_question(message.author.id, question[:MAX_QUESTION_CHARS * 2], context)
            if answer.declined and answer.decline_reason is not None and rule(answer.decline_reason).private:
                # In a channel, a harmful or personal-data request gets the short decline only: no embed, no echo.
                await message.reply(rule(answer.decline_reason).message, mention_author=False,
                                    allowed_mentions=NO_MENTIONS)
                return
            messages = render.answer_messages(answer)
            answer_id = self.bot.remember(answer)
            sent = await message.reply(embeds=messages[0], view=views.answer_view(self.bot, answer, answer_id),
                                       mention_author=False, allowed_mentions=NO_MENTIONS)
            self.bot.asked.put(sent.id, answer.question)
            for embeds in messages[1:]:
                await message.channel.send(embeds=embeds, allowed_mentions=NO_MENTIONS)
        except Exception as exc:
            ref = errors.new_reference()
            explained = errors.explain(exc, ref)
            if explained.unexpected:
                self.bot.metrics.error()
                log.error("error %s answering a mention (message %s): %s", ref, message.id, type(exc).__name__,
                          exc_info=exc)
            try:
                await message.reply(explained.text, mention_author=False, allowed_mentions=NO_MENTIONS)
            except discord.HTTPException as send_exc:
                log.warning("could not reply to message %s (HTTP %s)", message.id, send_exc.status)


async def setup(bot: KeyholderBot) -> None:
    """Extension entry point: the cog and the answer buttons."""
    bot.add_dynamic_items(*views.DYNAMIC_ITEMS)
    await bot.add_cog(Ask(bot))
