"""The buttons under an answer (Sources, 👍/👎, Related case) and a pager for long lists.

Answer buttons are DynamicItems: their custom ids carry what they need, so they keep working for as long as the
answer is remembered (Sources) or always (feedback, Related case), across views and without timeouts. Each one
only says which request arrived; the Ask feature (bot/discord/asking.py) does the work.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import discord

from bot.discord import errors, render
from bot.discord.replies import NO_MENTIONS, InteractionReply
from bot.models import Answer

if TYPE_CHECKING:
    from bot.discord.asking import AskFeature
    from bot.discord.client import KeyholderBot

log = logging.getLogger(__name__)

Interaction = discord.Interaction[Any]


def _bot(interaction: Interaction) -> KeyholderBot:
    return interaction.client


class AnswerButton:
    """Mixed into each answer button: runs its step through the Ask feature, errors through the one report path."""

    async def run(self, feature: AskFeature, reply: InteractionReply) -> None:
        """What the click does."""
        raise NotImplementedError

    async def callback(self, interaction: Interaction) -> None:
        """Run the step; any error is reported privately to the clicker."""
        feature = _bot(interaction).asking
        reply = InteractionReply(interaction)
        try:
            await self.run(feature, reply)
        except Exception as exc:
            await errors.report(reply, exc, feature.metrics)


class SourcesButton(AnswerButton, discord.ui.DynamicItem[discord.ui.Button[Any]],
                    template=r"kh:src:(?P<aid>[0-9a-f]{6,32})"):
    """Shows the clicker, privately, the passages the answer came from and their scores."""

    def __init__(self, answer_id: str):
        super().__init__(discord.ui.Button(label="Sources", emoji="📚", style=discord.ButtonStyle.secondary,
                                           custom_id=f"kh:src:{answer_id}", row=0))
        self.answer_id = answer_id

    @classmethod
    async def from_custom_id(cls, interaction: Interaction, item: discord.ui.Item[Any],
                             match: re.Match[str], /) -> SourcesButton:
        """Rebuild the button from its custom id."""
        return cls(match["aid"])

    async def run(self, feature: AskFeature, reply: InteractionReply) -> None:
        """Send the passages privately."""
        await feature.sources(reply, self.answer_id)


class FeedbackButton(AnswerButton, discord.ui.DynamicItem[discord.ui.Button[Any]],
                     template=r"kh:fb:(?P<aid>[0-9a-f]{6,32}):(?P<vote>up|down)"):
    """👍 / 👎: stored with a salted hash of the user id, never the id itself."""

    def __init__(self, answer_id: str, vote: str):
        up = vote == "up"
        super().__init__(discord.ui.Button(emoji="👍" if up else "👎", style=discord.ButtonStyle.secondary,
                                           custom_id=f"kh:fb:{answer_id}:{vote}", row=0))
        self.answer_id = answer_id
        self.vote = vote

    @classmethod
    async def from_custom_id(cls, interaction: Interaction, item: discord.ui.Item[Any],
                             match: re.Match[str], /) -> FeedbackButton:
        """Rebuild the button from its custom id."""
        return cls(match["aid"], match["vote"])

    async def run(self, feature: AskFeature, reply: InteractionReply) -> None:
        """Record the vote and thank the user privately."""
        await feature.vote(reply, self.answer_id, reply.interaction.user.id, self.vote == "up")


class RelatedCaseButton(AnswerButton, discord.ui.DynamicItem[discord.ui.Button[Any]],
                        template=r"kh:case:(?P<case>[a-z0-9-]{1,80})"):
    """Opens the card of a case related to the answer (privately, for the clicker)."""

    def __init__(self, case_id: str, label: str | None = None):
        super().__init__(discord.ui.Button(label=label or render.related_label(None, case_id), emoji="⚖️",
                                           style=discord.ButtonStyle.primary, custom_id=f"kh:case:{case_id}", row=1))
        self.case_id = case_id

    @classmethod
    async def from_custom_id(cls, interaction: Interaction, item: discord.ui.Item[Any],
                             match: re.Match[str], /) -> RelatedCaseButton:
        """Rebuild the button from its custom id."""
        return cls(match["case"], getattr(item, "label", None))

    async def run(self, feature: AskFeature, reply: InteractionReply) -> None:
        """Send the case card."""
        await feature.related_case(reply, self.case_id)


DYNAMIC_ITEMS = (SourcesButton, FeedbackButton, RelatedCaseButton)


def answer_view(answer: Answer, answer_id: str, titles: Mapping[str, str]) -> discord.ui.View:
    """The buttons under an answer: Sources (when passages were retrieved), 👍, 👎, and Related case (≤2)."""
    view = discord.ui.View(timeout=None)
    if answer.hits and not answer.declined:
        view.add_item(SourcesButton(answer_id))
    view.add_item(FeedbackButton(answer_id, "up"))
    view.add_item(FeedbackButton(answer_id, "down"))
    for case_id in answer.related_cases[:2]:
        if case_id in titles or not titles:
            view.add_item(RelatedCaseButton(case_id, render.clip(f"Related case: {titles.get(case_id, case_id)}",
                                                                 render.BUTTON_LABEL_LIMIT)))
    return view


class Pager(discord.ui.View):
    """◀ ▶ buttons over a list of embeds; only the person who asked can turn the pages."""

    def __init__(self, pages: list[discord.Embed], owner_id: int, timeout: float = 300):
        super().__init__(timeout=timeout)
        self.pages = pages
        self.owner_id = owner_id
        self.index = 0
        self.message: discord.InteractionMessage | discord.WebhookMessage | discord.Message | None = None
        self._update_buttons()

    def _update_buttons(self) -> None:
        self.previous.disabled = self.index == 0
        self.next.disabled = self.index >= len(self.pages) - 1

    async def interaction_check(self, interaction: Interaction, /) -> bool:
        """Only the person who ran the command turns the pages."""
        if interaction.user.id != self.owner_id:
            await InteractionReply(interaction).private("Run the command yourself to page through the list.")
            return False
        return True

    async def _show(self, interaction: Interaction, index: int) -> None:
        self.index = max(0, min(len(self.pages) - 1, index))
        self._update_buttons()
        await interaction.response.edit_message(embed=self.pages[self.index], view=self, allowed_mentions=NO_MENTIONS)

    @discord.ui.button(label="Previous", emoji="◀️", style=discord.ButtonStyle.secondary)
    async def previous(self, interaction: Interaction, button: discord.ui.Button[Pager]) -> None:
        """Show the previous page."""
        await self._show(interaction, self.index - 1)

    @discord.ui.button(label="Next", emoji="▶️", style=discord.ButtonStyle.secondary)
    async def next(self, interaction: Interaction, button: discord.ui.Button[Pager]) -> None:
        """Show the next page."""
        await self._show(interaction, self.index + 1)

    async def on_timeout(self) -> None:
        """Remove the buttons when they stop working."""
        if self.message is not None:
            with contextlib.suppress(discord.HTTPException):
                await self.message.edit(view=None)

    async def on_error(self, interaction: Interaction, error: Exception, item: discord.ui.Item[Any], /) -> None:
        """Errors in page turns go through the same reporting as commands."""
        await errors.report(InteractionReply(interaction), error, _bot(interaction).metrics)
