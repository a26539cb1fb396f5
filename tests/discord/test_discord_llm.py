"""The optional LLM step seen from Discord: a written answer says so, and a slow model never delays the
acknowledgement or breaks the per-user limits."""

from __future__ import annotations

from pathlib import Path

from bot.engine import Engine
from tests.discord.harness import make_settings, start_bot, text_of
from tests.fakediscord import FakeDiscord
from tests.llm.fakellm import FakeLLM
from tests.llm.test_generation import quoting

QUESTION = "Why did Apple refuse the San Bernardino order?"


async def test_a_written_answer_says_who_wrote_it(fake: FakeDiscord, discord_engine: Engine, tmp_path: Path) -> None:
    llm = await FakeLLM(reply=quoting(1, 2)).start()
    settings = make_settings(fake, tmp_path / "data", llm_url=llm.url, llm_model="fake-model")
    r = await start_bot(fake, settings, lambda: discord_engine)
    try:
        rec = await fake.slash("ask", r.user("alice"), question=QUESTION)
        await fake.wait_for(lambda: rec.followups, 20, "the answer")
        embed = rec.followups[0]["embeds"][0]
        assert embed["footer"]["text"].startswith("Written by fake-model from the cited sources; each sentence "
                                                  "checked against them.")
        assert "[1]" in embed["description"] and len(llm.requests) == 1
    finally:
        await r.stop()
        await llm.close()


async def test_a_slow_model_neither_delays_the_acknowledgement_nor_lifts_the_rate_limit(
        fake: FakeDiscord, discord_engine: Engine, tmp_path: Path) -> None:
    llm = await FakeLLM(reply=quoting(1, 2), delay_s=5.0).start()
    settings = make_settings(fake, tmp_path / "data", llm_url=llm.url, llm_model="fake-model", llm_timeout_s=1.0,
                             rate_limit_count=2)
    r = await start_bot(fake, settings, lambda: discord_engine)
    try:
        await r.bot.service.wait_ready(30)
        bob = r.user("bob")
        asked = [await fake.slash("ask", bob, question=q) for q in
                 (QUESTION, "What is the All Writs Act?", "How did the Brooklyn case end?")]
        for rec in asked:
            await fake.wait_for(lambda rec=rec: rec.callbacks, 5, "the acknowledgement")
            assert rec.ack_delay is not None and rec.ack_delay < 3.0
        await fake.wait_for(lambda: all(rec.followups for rec in asked[:2]), 20, "two answers")
        first = asked[0].followups[0]
        assert "Written by" not in text_of(first), "past the time budget, the extractive answer is sent"
        assert "Apple refused" in first["embeds"][0]["description"]
        limited = asked[2]
        assert "which is my limit per person" in str(limited.callbacks[0][1]["data"].get("content"))
    finally:
        await r.stop()
        await llm.close()
