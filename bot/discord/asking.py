"""The Ask feature: its state (rate limit, per-user gate, remembered answers) and the whole path of a question.

`/ask`, mentions, DMs and the buttons under an answer all come here: rate check, gate, ask the service,
remember the answer, deliver it, and report any error, each in one place. The cog and the buttons only say
which request arrived; `bot/discord/replies.py` knows how to answer where it came from.
"""

from __future__ import annotations

import logging
import secrets
import time
from typing import Any

import discord

from bot.cache import LRU
from bot.declines import rule
from bot.discord import errors, render, views
from bot.discord.ratelimit import FairGate, RateLimiter
from bot.discord.replies import InteractionReply, MessageReply, Reply
from bot.feedback import FeedbackStore
from bot.health import Metrics
from bot.models import Answer
from bot.policy import MAX_QUESTION_CHARS, declined_privately_by_wording, redact_contact
from bot.service import AskService
from bot.settings import Settings

log = logging.getLogger(__name__)

MENTION_HINT = ("Ask me a question after the mention, for example: `@{name} can Apple read my iMessages?` "
                "Or use /ask. /help explains more.")
FORGOTTEN = ("I no longer have the passages for this answer (I keep recent answers only, and forget them when I "
             "restart). Ask again to see them.")


class AskFeature:
    """Owns everything a question needs between Discord and the AskService."""

    def __init__(self, settings: Settings, service: AskService, feedback: FeedbackStore, metrics: Metrics):
        self.settings = settings
        self.service = service
        self.feedback = feedback
        self.metrics = metrics
        self.limiter = RateLimiter(settings.rate_limit_count, settings.rate_limit_seconds)
        self.gate = FairGate()
        self.answers: LRU[str, Answer] = LRU(2000)  # answer id (in the buttons' custom ids) -> the answer
        self.asked: LRU[int, str] = LRU(5000)  # message id of an answer -> the question it answered

    # --- entry points -----------------------------------------------------------------------------

    async def slash(self, interaction: discord.Interaction[Any], question: str, private: bool) -> None:
        """/ask."""
        await self.run(InteractionReply(interaction), interaction.user.id, question, private=private)

    async def message(self, message: discord.Message, me: discord.ClientUser) -> None:
        """A message that mentions the bot, or a DM; a reply to one of our answers is a follow-up."""
        if message.author.bot or message.author.id == me.id:
            return
        if message.guild is not None and not any(u.id == me.id for u in message.mentions):
            return
        reply = MessageReply(message)
        question = render.strip_bot_mention(message.content, me.id)
        if not question:
            try:
                await reply.private(MENTION_HINT.format(name=me.display_name))
            except Exception as exc:
                await errors.report(reply, exc, self.metrics)
            return
        replied = message.reference.resolved if message.reference else None
        context = self.previous_question(replied) if isinstance(replied, discord.Message) and \
            replied.author.id == me.id else None
        await self.run(reply, message.author.id, question[:MAX_QUESTION_CHARS * 2], context)

    # --- the path ---------------------------------------------------------------------------------

    async def run(self, reply: Reply, user_id: int, question: str, context: str | None = None,
                  private: bool = False) -> None:
        """Rate check, gate, ask, remember, deliver; any error is reported to the asker."""
        try:
            self.check_rate(user_id)
            # Harmful and personal-data requests are declined privately, so the refusal doesn't advertise the
            # request. The wording rules decide before the acknowledgement; the intent model may decide after
            # it, and then the public placeholder is replaced by a private decline.
            private = private or declined_privately_by_wording(question)
            async with reply.working(private):
                answer = await self.answer(user_id, question, context)
            await self.deliver(reply, answer, private)
        except Exception as exc:
            await errors.report(reply, exc, self.metrics)

    def check_rate(self, user_id: int) -> None:
        """Raise RateLimited when `user_id` is over the per-user limit."""
        retry = self.limiter.hit(user_id)
        if retry is not None:
            self.metrics.limited()
            raise errors.RateLimited(retry, self.settings.rate_limit_count, self.settings.rate_limit_seconds)

    async def answer(self, user_id: int, question: str, context: str | None = None) -> Answer:
        """Answer through the service, one question at a time per user; counts and times it for /metrics."""
        async with self.gate.slot(user_id):
            started = time.perf_counter()
            answer = await self.service.ask(question, context)
            elapsed = time.perf_counter() - started
        self.metrics.question(answer.declined, elapsed)
        if self.settings.log_questions:  # operators opt in; contact details are removed even then
            log.info("question %r (context %r): declined=%s reason=%s in %.0f ms", redact_contact(question),
                     redact_contact(context) if context else None, answer.declined, answer.decline_reason,
                     elapsed * 1000)
        else:
            log.debug("question answered: declined=%s reason=%s in %.0f ms", answer.declined, answer.decline_reason,
                      elapsed * 1000)
        return answer

    async def deliver(self, reply: Reply, answer: Answer, private: bool) -> None:
        """A private decline, or the answer's messages with its buttons; remembered for buttons and follow-ups."""
        if answer.declined and answer.decline_reason is not None and rule(answer.decline_reason).private:
            await reply.private_decline(answer)
            return
        answer_id = self.remember(answer)
        view = views.answer_view(answer, answer_id, self.service.doc_titles())
        first = await reply.post(render.answer_messages(answer), view, private)
        if first is not None:
            self.asked.put(first.id, answer.question)

    def remember(self, answer: Answer) -> str:
        """Keep `answer` for its buttons; returns its id (used in the buttons' custom ids)."""
        answer_id = secrets.token_hex(6)
        self.answers.put(answer_id, answer)
        return answer_id

    def previous_question(self, replied: discord.Message) -> str | None:
        """The question an earlier answer of ours answered (from memory, else from its embed title)."""
        remembered = self.asked.get(replied.id)
        if remembered:
            return remembered
        if replied.embeds and replied.embeds[0].title:
            return replied.embeds[0].title.replace("\\", "")
        return None

    # --- the buttons under an answer --------------------------------------------------------------

    async def sources(self, reply: InteractionReply, answer_id: str) -> None:
        """The passages an answer came from, privately."""
        answer = self.answers.get(answer_id)
        if answer is None:
            await reply.private(FORGOTTEN)
            return
        await reply.private(embed=render.sources_embed(answer, self.service.doc_titles()))

    async def vote(self, reply: InteractionReply, answer_id: str, user_id: int, up: bool) -> None:
        """Record 👍 / 👎 (with a salted hash of the user id) and thank the user privately."""
        answer = self.answers.get(answer_id)
        changed = await self.feedback.arecord(
            answer_id, user_id, 1 if up else -1,
            doc_ids=[c.doc_id for c in answer.citations] if answer else (),
            declined=bool(answer and answer.declined),
            question=answer.question if answer else None,
        )
        thanks = "Thanks, glad it helped." if up else \
            "Thanks for telling me; the maintainers review answers marked unhelpful."
        if changed:
            thanks = "Vote changed. " + thanks
        await reply.private(f"{'👍' if up else '👎'} {thanks}")

    async def related_case(self, reply: InteractionReply, case_id: str) -> None:
        """A related case's card, privately."""
        await reply.when_ready(self.service, private=True)
        doc = await self.service.case(case_id)
        if doc is None:
            await reply.private("That case is no longer in my knowledge base. See /cases.")
            return
        await reply.private(embed=render.case_embed(doc))
