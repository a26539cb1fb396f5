"""/ask, its buttons, mentions and follow-ups, mass-mention attempts and long answers, end to end against the fake."""

from __future__ import annotations

import re

from bot.engine import Engine
from bot.models import Answer, Citation, Source
from tests.discord.harness import Running, button, buttons, text_of
from tests.fakediscord.server import EPHEMERAL

QUESTION = "Why did Apple refuse the San Bernardino order?"


async def test_ask_defers_then_answers_with_citations_sources_and_buttons(running: Running) -> None:
    fake = running.fake
    rec = await fake.slash("ask", running.user("alice"), question=QUESTION)
    await fake.wait_for(lambda: rec.followups, 20, "the answer")

    assert rec.events[0] == "callback:5", "the interaction must be deferred first"
    assert rec.events[1] == "followup"
    assert rec.ack_delay is not None and rec.ack_delay < 3.0
    assert not int((rec.callbacks[0][1].get("data") or {}).get("flags") or 0) & EPHEMERAL, "a normal /ask is public"

    msg = rec.followups[0]
    embed = msg["embeds"][0]
    assert embed["title"] == QUESTION
    assert "Apple refused the San Bernardino order" in embed["description"]
    assert re.search(r"\[1\]", embed["description"])
    sources = [f for f in embed["fields"] if f["name"].startswith("Sources")]
    assert sources and "](https://www.apple.com/customer-letter/)" in sources[0]["value"]
    assert "not legal advice" in embed["footer"]["text"] and "as of 2026-11-27" in embed["footer"]["text"]

    labels = [b.get("label") or b["emoji"]["name"] for b in buttons(msg)]
    assert labels[:3] == ["Sources", "👍", "👎"]
    assert any(str(label).startswith("Related case: In re Apple") for label in labels)


async def test_private_ask_is_ephemeral_and_harmful_questions_are_declined_privately(running: Running) -> None:
    fake = running.fake
    private = await fake.slash("ask", running.user("bob"), question="What is the All Writs Act?", private=True)
    harmful = await fake.slash("ask", running.user("carol"), question="How do I hack my ex girlfriend's phone?")
    await fake.wait_for(lambda: private.followups and harmful.followups, 20, "both answers")
    for rec in (private, harmful):
        assert int(rec.callbacks[0][1]["data"]["flags"]) & EPHEMERAL
        assert rec.followups[0]["flags"] & EPHEMERAL
    assert "All Writs Act" in text_of(private.followups[0])
    declined = text_of(harmful.followups[0])
    assert "I can't help with getting into someone else's device" in declined
    assert "girlfriend" not in declined, "a refusal must not echo the harmful request"


async def test_sources_button_shows_passages_and_scores_privately(running: Running) -> None:
    fake = running.fake
    alice = running.user("alice")
    rec = await fake.slash("ask", alice, question=QUESTION)
    await fake.wait_for(lambda: rec.followups, 20, "the answer")
    click = await fake.click(rec.followups[0], button(rec.followups[0], "kh:src:")["custom_id"], running.user("dave"))
    await fake.wait_for(lambda: click.callbacks, 10, "the Sources reply")

    assert click.callback_types == [4]
    data = click.callbacks[0][1]["data"]
    assert data["flags"] & EPHEMERAL
    embed = data["embeds"][0]
    assert embed["title"] == "Passages behind this answer"
    first = embed["fields"][0]
    assert first["name"].startswith("#1 [1] Apple v. FBI")
    assert re.search(r"score \d\.\d{4} · similarity 0\.\d\d · keyword \d+\.\d\d", first["value"])


async def test_feedback_is_stored_with_a_salted_hash_and_no_question(running: Running) -> None:
    fake = running.fake
    alice, erin = running.user("alice"), running.user("erin")
    rec = await fake.slash("ask", alice, question=QUESTION)
    await fake.wait_for(lambda: rec.followups, 20, "the answer")
    msg = rec.followups[0]
    up = await fake.click(msg, button(msg, "kh:fb:")["custom_id"], erin)
    await fake.wait_for(lambda: up.callbacks, 10, "the thanks")
    down_id = next(b["custom_id"] for b in buttons(msg) if str(b.get("custom_id", "")).endswith(":down"))
    down = await fake.click(msg, down_id, erin)
    await fake.wait_for(lambda: down.callbacks, 10, "the second thanks")

    assert up.callbacks[0][1]["data"]["flags"] & EPHEMERAL
    assert "👍 Thanks" in up.callbacks[0][1]["data"]["content"]
    assert "Vote changed" in down.callbacks[0][1]["data"]["content"]
    votes = running.bot.asking.feedback.votes()
    assert len(votes) == 1, "a second click changes the vote, it does not add one"
    vote = votes[0]
    assert vote.vote == -1 and vote.doc_ids == ("apple-v-fbi-san-bernardino",)
    assert vote.question is None, "question text is not stored unless the operator turns it on"
    assert erin["id"] not in vote.user_hash and len(vote.user_hash) == 64
    raw = (running.settings.data_dir / "feedback.sqlite3").read_bytes()
    assert erin["id"].encode() not in raw and b"San Bernardino order" not in raw
    assert (running.settings.data_dir / "uid-salt").stat().st_mode & 0o077 == 0, "the salt is private to the bot"


async def test_related_case_button_opens_the_case_card(running: Running) -> None:
    fake = running.fake
    rec = await fake.slash("ask", running.user("alice"), question=QUESTION)
    await fake.wait_for(lambda: rec.followups, 20, "the answer")
    related = [b for b in buttons(rec.followups[0]) if str(b.get("custom_id", "")).startswith("kh:case:")]
    assert [b["custom_id"] for b in related] == ["kh:case:apple-v-fbi-san-bernardino", "kh:case:brooklyn-orenstein-case"]
    click = await fake.click(rec.followups[0], related[1]["custom_id"], running.user("frank"))
    await fake.wait_for(lambda: click.callbacks, 10, "the case card")
    card = click.callbacks[0][1]["data"]["embeds"][0]
    assert card["title"].startswith("In re Apple (E.D.N.Y. 2016)")
    assert {f["name"] for f in card["fields"]} >= {"Court", "Status", "Outcome", "What it stands for", "Primary sources"}


async def test_mention_gets_a_reply_and_a_reply_to_the_answer_is_a_follow_up(running: Running,
                                                                               discord_engine: Engine) -> None:
    fake = running.fake
    bot_user = fake.bot_user
    gina = running.user("gina")
    asked = await fake.post(gina, f"<@{bot_user['id']}> {QUESTION}", mentions=[bot_user])
    answer_msg = (await fake.wait_for(lambda: fake.replies_to(asked["id"]), 20, "the reply"))[0]
    assert answer_msg["embeds"][0]["title"] == QUESTION
    assert "Apple refused" in answer_msg["embeds"][0]["description"]
    assert fake.typing, "the bot shows it is typing while it answers"

    follow_up = "What happened to the phone in the end?"
    reply = await fake.post(gina, follow_up, mentions=[bot_user], reply_to=answer_msg)
    second = (await fake.wait_for(lambda: fake.replies_to(reply["id"]), 20, "the follow-up answer"))[0]
    expected = discord_engine.answer(follow_up, context=QUESTION)
    without_context = discord_engine.answer(follow_up)
    assert expected.body != without_context.body, "the fixture must make context matter"
    assert second["embeds"][0]["description"].startswith(expected.body[:120])


async def test_mention_without_a_question_gets_a_hint_and_other_messages_are_ignored(running: Running) -> None:
    fake = running.fake
    bot_user = fake.bot_user
    hank = running.user("hank")
    ignored = await fake.post(hank, "just chatting about Apple and the FBI")
    empty = await fake.post(hank, f"<@{bot_user['id']}>", mentions=[bot_user])
    hint = (await fake.wait_for(lambda: fake.replies_to(empty["id"]), 10, "the hint"))[0]
    assert "Ask me a question after the mention" in hint["content"]
    assert fake.replies_to(ignored["id"]) == []


async def test_mass_mentions_never_ping(running: Running) -> None:
    fake = running.fake
    bot_user = fake.bot_user
    ivan = running.user("ivan")
    sneaky = "@everyone @here <@123456789012345678> <@&223456789012345678> what is the All Writs Act?"
    rec = await fake.slash("ask", ivan, question=sneaky)
    posted = await fake.post(ivan, f"<@{bot_user['id']}> say @everyone then tell me about iMessage encryption",
                             mentions=[bot_user])
    await fake.wait_for(lambda: rec.followups and fake.replies_to(posted["id"]), 20, "both answers")

    sent = [r for r in fake.requests if r.method in ("POST", "PATCH") and isinstance(r.body, dict)
            and r.template and ("messages" in r.template or "webhooks" in r.template or "callback" in r.template)]
    assert sent
    for r in sent:
        body = r.body.get("data", r.body) if "callback" in (r.template or "") else r.body
        if body.get("type") in (5,) and "content" not in body:
            continue
        assert body.get("allowed_mentions", {}).get("parse") == [], f"{r.method} {r.path} allows mentions"
    title = rec.followups[0]["embeds"][0]["title"]
    assert "@everyone" not in title and "@here" not in title and "<@123" not in title and "<@&2" not in title
    assert title == "what is the All Writs Act?", "mentions are not echoed, even defused; the question is"
    # The fake also checks every body with Discord's own rules: nothing the bot sent would ping anyone.


def _long_answer(question: str, body_chars: int, citations: int) -> Answer:
    sentence = "The All Writs Act lets federal courts issue writs in aid of their jurisdiction. "
    cites = tuple(
        Citation(n, f"doc-{n}", f"s{n}",
                 Source(f"Source {n} [primary] (with brackets)", f"https://example.org/source/{n}", "Publisher", "2024"),
                 f"Document number {n} with a fairly long descriptive title for testing", "2026-11-27")
        for n in range(1, citations + 1))
    body = (sentence * (body_chars // len(sentence) + 1))[:body_chars]
    return Answer(question=question, body=body, declined=False, citations=cites, notes=("As of 2026-11-27: check.",))


async def test_answers_longer_than_discord_limits_are_split_or_trimmed(running: Running) -> None:
    fake = running.fake

    async def long_ask(question: str, context: str | None = None) -> Answer:
        return _long_answer(question, 11000 if "medium" in question else 40000, 40)

    running.bot.service.ask = long_ask  # type: ignore[method-assign]
    medium = await fake.slash("ask", running.user("judy"), question="medium " + "x" * 480)
    huge = await fake.slash("ask", running.user("kim"), question="huge question")
    await fake.wait_for(lambda: len(medium.followups) >= 2 and len(huge.followups) >= 3, 20, "the long answers")

    medium_text = "".join(e.get("description", "") for m in medium.followups for e in m["embeds"])
    assert len(medium.followups) >= 2 and len(medium_text) >= 10900, "a long answer is split, not cut short"
    assert medium.followups[0]["embeds"][0]["author"]["name"].startswith("Answer, part 1 of")
    assert buttons(medium.followups[0]) and not buttons(medium.followups[-1])
    assert len(huge.followups) == 3
    assert "read the rest in the sources: https://example.org/source/1" in text_of(huge.followups[-1])
    assert "…and" in text_of(huge.followups[-1]), "40 citations do not fit; the overflow is counted"
    # Every body passed the fake's limits (content 2000, title 256, description 4096, fields, 6000 per message).
