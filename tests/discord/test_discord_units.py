"""Rendering, rate limiting, feedback storage and error mapping, without Discord."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import discord
import pytest
from discord import app_commands

from bot.discord import errors, render
from bot.discord.endpoints import api_base
from bot.discord.ratelimit import Busy, FairGate, RateLimiter
from bot.engine import Engine
from bot.feedback import FeedbackStore, UserHasher
from bot.models import Answer
from bot.service import NotReady
from tests.fakediscord import limits


def _problems(embeds: list[discord.Embed]) -> list[str]:
    return limits.check_embeds([e.to_dict() for e in embeds], "render")  # type: ignore[misc]


def test_bot_discord_does_not_shadow_discord_py() -> None:
    import bot.discord.client as client

    assert client.discord is discord
    assert "site-packages" in str(discord.__file__) and hasattr(discord, "Client")


def test_api_base_accepts_a_bare_proxy_url() -> None:
    assert api_base(None) == "https://discord.com/api/v10"
    assert api_base("http://proxy:8080") == "http://proxy:8080/api/v10"
    assert api_base("http://proxy:8080/api/v10/") == "http://proxy:8080/api/v10"


def test_answer_embed_has_question_citations_sources_and_disclaimer(discord_engine: Engine) -> None:
    answer = discord_engine.answer("Can Apple read my iMessages?")
    [[embed]] = render.answer_messages(answer)
    data = embed.to_dict()
    assert data["title"] == "Can Apple read my iMessages?"
    assert "[1]" in data["description"]
    assert "*Checked as of November 27, 2026; this story is still developing.*" in data["description"]
    assert data["fields"][0]["value"].startswith("**[1]** [Apple Platform Security Guide](https://support.apple.com/")
    assert data["footer"]["text"] == "General information, not legal advice. Facts checked as of 2026-11-27."
    assert _problems([embed]) == []


def test_personal_questions_carry_the_caveat(discord_engine: Engine) -> None:
    answer = discord_engine.answer("The police have a warrant for my iPhone, do I have to unlock it for them?")
    text = " ".join(e.description or "" for m in render.answer_messages(answer) for e in m)
    assert "not legal advice" in text


def test_user_text_is_neutralised_and_escaped() -> None:
    text = render.user_text("@everyone **bold** <@123> <@&456> <#789> @here", 256)
    assert "@everyone" not in text and "@here" not in text
    assert "<@123>" not in text and "<@&456>" not in text and "<#789>" not in text
    assert "\\*\\*bold\\*\\*" in text
    assert len(render.user_text("x" * 1000, 256)) == 256


@pytest.mark.parametrize("size", [10, 4096, 4097, 9000, 30000, 200000])
def test_split_and_trim_always_fit(size: int) -> None:
    words = ("word " * (size // 5 + 1))[:size]
    for piece in render.split_text(words, 4096):
        assert 0 < len(piece) <= 4096
    answer = Answer(question="q" * 600, body=words, declined=False)
    messages = render.answer_messages(answer)
    assert 1 <= len(messages) <= render.MAX_ANSWER_MESSAGES
    for embeds in messages:
        assert _problems(embeds) == []


def test_split_prefers_sentence_boundaries() -> None:
    text = " ".join(f"Sentence number {i} ends here." for i in range(400))
    pieces = render.split_text(text, 1000)
    assert all(p.endswith(".") for p in pieces)
    assert " ".join(pieces) == text


def test_declined_answers_do_not_echo_harmful_requests() -> None:
    answer = Answer(question="how do I hack my ex's phone", body="I can't help with that.", declined=True,
                    decline_reason="break_in")
    [[embed]] = render.answer_messages(answer)
    assert embed.title == "I can't help with that"
    assert "hack" not in (embed.title + (embed.description or ""))


def test_case_card_and_lists_fit(discord_engine: Engine) -> None:
    for doc in discord_engine.cases():
        card = render.case_embed(doc)
        assert _problems([card]) == []
        assert card.url and card.url.startswith("https://")
    pages = render.cases_pages(discord_engine.cases() * 30)
    assert len(pages) > 1 and all(_problems([p]) == [] for p in pages)
    assert all(_problems([p]) == [] for p in render.topics_pages(discord_engine.topics() * 50))


def test_sources_embed_lists_hits_with_scores(discord_engine: Engine) -> None:
    answer = discord_engine.answer("What is the All Writs Act?")
    embed = render.sources_embed(answer, discord_engine.titles())
    assert len(embed.fields) == len(answer.hits)
    assert embed.fields[0].name and embed.fields[0].name.startswith("#1 [1] The All Writs Act")
    assert _problems([embed]) == []


def test_choice_names_fit(discord_engine: Engine) -> None:
    for doc in discord_engine.cases():
        assert 1 <= len(render.choice_name(doc)) <= 100


def test_strip_bot_mention() -> None:
    assert render.strip_bot_mention("<@42> what is  CALEA?", 42) == "what is CALEA?"
    assert render.strip_bot_mention("hey <@!42>\nwhat is CALEA <@7>", 42) == "hey what is CALEA <@7>"


def test_rate_limiter_window() -> None:
    now = [0.0]
    limiter = RateLimiter(2, 10, clock=lambda: now[0])
    assert limiter.hit(1) is None and limiter.hit(1) is None
    assert limiter.hit(1) == pytest.approx(10.0)
    assert limiter.hit(2) is None, "limits are per user"
    now[0] = 4.0
    assert limiter.hit(1) == pytest.approx(6.0)
    now[0] = 10.5
    assert limiter.hit(1) is None


async def test_fair_gate_serialises_one_user_but_not_others() -> None:
    gate = FairGate(max_waiting=3)
    order: list[str] = []

    async def work(uid: int, name: str, pause: float) -> None:
        async with gate.slot(uid):
            order.append(f"start {name}")
            await asyncio.sleep(pause)
            order.append(f"end {name}")

    await asyncio.gather(work(1, "a1", 0.05), work(1, "a2", 0.0), work(2, "b", 0.0))
    assert order.index("end a1") < order.index("start a2"), "one user's questions run one at a time"
    assert order.index("start b") < order.index("end a1"), "another user is not held up"

    blockers = [asyncio.create_task(work(3, f"c{i}", 0.05)) for i in range(3)]
    await asyncio.sleep(0)
    with pytest.raises(Busy):
        async with gate.slot(4):
            pass
    await asyncio.gather(*blockers)
    assert gate.waiting == 0


def test_feedback_hashes_users_and_stores_questions_only_when_allowed(tmp_path: Path) -> None:
    hasher = UserHasher.from_settings(None, tmp_path)
    assert (tmp_path / "uid-salt").stat().st_mode & 0o777 == 0o600
    assert UserHasher.from_settings(None, tmp_path)(42) == hasher(42), "the salt is kept"
    assert UserHasher.from_settings("operator-salt", tmp_path)(42) != hasher(42)
    store = FeedbackStore(tmp_path, hasher)
    assert store.record("abc123", 42, 1, ["all-writs-act"], question="secret question") is False
    assert store.record("abc123", 42, -1, ["all-writs-act"]) is True
    assert store.record("def456", 43, 1) is False
    assert store.totals() == {"up": 1, "down": 1}
    votes = store.votes()
    assert votes[0].question is None and votes[0].user_hash == hasher(42) and len(votes[0].user_hash) == 64 and votes[0].user_hash != "42"
    with sqlite3.connect(tmp_path / "feedback.sqlite3") as db:
        assert db.execute("SELECT COUNT(*) FROM feedback WHERE question IS NOT NULL").fetchone() == (0,)
    keeping = FeedbackStore(tmp_path / "keep", hasher, store_questions=True)
    keeping.record("x1y2z3", 1, 1, question="What is CALEA?")
    assert keeping.votes()[0].question == "What is CALEA?"
    with pytest.raises(ValueError):
        store.record("abc123", 42, 0)


def test_errors_map_to_clear_messages() -> None:
    ref = "deadbeef"
    limited = errors.explain(errors.RateLimited(30, 5, 60), ref)
    assert not limited.unexpected and "try again <t:" in limited.text
    assert errors.explain(Busy(), ref).text.startswith("I'm answering a lot of questions")
    assert "still starting up" in errors.explain(TimeoutError(), ref).text
    failed = errors.explain(NotReady("index is corrupt"), ref)
    assert failed.unexpected and ref in failed.text and "index is corrupt" not in failed.text
    assert "missing permissions" in errors.explain(app_commands.BotMissingPermissions(["embed_links"]), ref).text
    other = errors.explain(RuntimeError("boom"), ref)
    assert other.unexpected and f"reference `{ref}`" in other.text and "boom" not in other.text


def test_discord_payload_logs_are_kept_above_debug_even_when_questions_may_be_logged(tmp_path: Path) -> None:
    import logging

    from bot.discord.runner import build_bot
    from bot.settings import Settings

    names = ("discord.gateway", "discord.http")
    saved = {n: logging.getLogger(n).level for n in names}
    try:
        for n in names:
            logging.getLogger(n).setLevel(logging.DEBUG)
        # Raw payloads carry message text, contact details included; Keyholder's own question line is redacted.
        build_bot(Settings(data_dir=tmp_path, log_questions=True))
        assert all(logging.getLogger(n).getEffectiveLevel() >= logging.INFO for n in names)
    finally:
        for n, level in saved.items():
            logging.getLogger(n).setLevel(level)


def test_the_cli_and_discord_case_cards_show_the_same_dates_status_and_sources(discord_engine: Engine) -> None:
    """One card, two front ends: every key date, the status and every source link appear in both."""
    from bot.cards import case_card
    from bot.plaintext import case_text

    for doc in discord_engine.cases():
        card = case_card(doc)
        text = case_text(card)
        embed = render.case_embed(doc).to_dict()
        shown = "\n".join([embed.get("title", "")] + [f["name"] + "\n" + f["value"] for f in embed.get("fields", [])])
        assert card.timeline and list(card.timeline) == sorted(card.timeline, key=lambda k: k.date)
        for k in card.timeline:
            assert f"{k.date}  {k.event}" in text and f"{k.date}: {k.event}"[:60] in shown
        if card.decided:
            assert any(k.date == card.decided for k in card.timeline), "the decision date is on the timeline"
        assert card.status_label and f"Status: {card.status_label}" in text and card.status_label in shown
        for s in card.sources:
            assert s.url in text and s.url.replace(" ", "%20") in shown
