"""Command registration and the sync-on-change rule, /case with autocomplete, /cases, /topics, /about, /help."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from bot.discord.runner import sync_commands
from bot.engine import Engine
from tests.discord.harness import Running, make_settings, start_bot, text_of
from tests.fakediscord import FakeDiscord
from tests.fakediscord.server import EPHEMERAL

COMMANDS = {"about", "ask", "case", "cases", "help", "topics"}


async def test_commands_register_once_and_resync_only_when_the_tree_or_target_changes(
        fake: FakeDiscord, discord_engine: Engine, tmp_path: Path) -> None:
    data = tmp_path / "data"
    settings = make_settings(fake, data)
    first = await start_bot(fake, settings, lambda: discord_engine)
    await fake.wait_for(lambda: fake.command_puts, 10, "the first sync")
    await first.stop()

    assert [scope for scope, _ in fake.command_puts] == ["global"]
    registered = {c["name"]: c for c in fake.commands["global"]}
    assert set(registered) == COMMANDS
    ask = registered["ask"]
    assert ask["description"] == "Ask about encryption and government demands for user data; answers cite their sources."
    question = next(o for o in ask["options"] if o["name"] == "question")
    assert question["required"] and question["min_length"] == 1 and question["max_length"] == 500
    assert next(o for o in ask["options"] if o["name"] == "private")["type"] == 5
    assert next(o for o in registered["case"]["options"] if o["name"] == "name")["autocomplete"] is True
    state = json.loads((data / "command-sync.json").read_text())
    assert state["commands"] == sorted(COMMANDS) and len(state["hash"]) == 64

    # Same tree, same target: a restart does not sync again.
    second = await start_bot(fake, settings, lambda: discord_engine)
    await second.stop()
    assert len(fake.command_puts) == 1

    # A development guild is a different target: sync there (and only there).
    dev = make_settings(fake, data, dev_guild=fake.guild_id)
    third = await start_bot(fake, dev, lambda: discord_engine)
    await fake.wait_for(lambda: len(fake.command_puts) == 2, 10, "the guild sync")
    await third.stop()
    assert fake.command_puts[1][0] == str(fake.guild_id)
    assert {c["name"] for c in fake.commands[str(fake.guild_id)]} == COMMANDS

    # `keyholder commands sync` syncs even though nothing changed, without the gateway or the model.
    connections = len(fake.identifies)
    assert await asyncio.to_thread(sync_commands, dev) == 0
    assert len(fake.command_puts) == 3 and fake.command_puts[2][0] == str(fake.guild_id)
    assert len(fake.identifies) == connections


async def test_case_autocomplete_ranks_names_and_aliases(running: Running) -> None:
    fake = running.fake
    u = running.user("alice")
    by_alias = await fake.autocomplete("case", "name", "brooklyn", u)
    fuzzy = await fake.autocomplete("case", "name", "san bern", u)
    empty = await fake.autocomplete("case", "name", "", u)
    await fake.wait_for(lambda: by_alias.callbacks and fuzzy.callbacks and empty.callbacks, 10, "the choices")
    for rec in (by_alias, fuzzy, empty):
        assert rec.callback_types == [8]
        assert rec.ack_delay is not None and rec.ack_delay < 3.0
    first = by_alias.callbacks[0][1]["data"]["choices"][0]
    assert first == {"name": "In re Apple (E.D.N.Y. 2016): the Brooklyn iPhone case (Brooklyn iPhone case)",
                     "value": "brooklyn-orenstein-case"}
    assert fuzzy.callbacks[0][1]["data"]["choices"][0]["value"] == "apple-v-fbi-san-bernardino"
    assert len(empty.callbacks[0][1]["data"]["choices"]) == 2  # every case, at most 25


async def test_case_card_shows_court_dates_status_outcome_and_sources(running: Running) -> None:
    fake = running.fake
    rec = await fake.slash("case", running.user("alice"), name="apple-v-fbi-san-bernardino")
    by_alias = await fake.slash("case", running.user("bob"), name="Jun Feng case")
    missing = await fake.slash("case", running.user("carol"), name="Marbury v. Madison")
    await fake.wait_for(lambda: rec.callbacks and by_alias.callbacks and missing.callbacks, 10, "the replies")

    assert rec.callback_types == [4], "with the engine loaded, /case answers at once"
    card = rec.callbacks[0][1]["data"]["embeds"][0]
    assert card["title"] == "Apple v. FBI: the San Bernardino iPhone case (2016)"
    fields = {f["name"]: f["value"] for f in card["fields"]}
    assert fields["Court"] == "U.S. District Court for the Central District of California"
    assert fields["Status"] == "Vacated"
    assert "2016-02-16: The magistrate judge issues the All Writs Act order" in fields["Key dates"]
    assert "vacated without a ruling" in fields["Outcome"]
    assert "set no precedent" in fields["What it stands for"]
    assert "(https://www.apple.com/customer-letter/)" in fields["Primary sources"]
    assert "as of 2026-11-27" in card["footer"]["text"]
    assert by_alias.callbacks[0][1]["data"]["embeds"][0]["title"].startswith("In re Apple")

    data = missing.callbacks[0][1]["data"]
    assert data["flags"] & EPHEMERAL
    assert "I don't have a case called “Marbury v. Madison”" in data["content"]


async def test_cases_topics_about_and_help(running: Running) -> None:
    fake = running.fake
    u = running.user("alice")
    cases = await fake.slash("cases", u)
    topics = await fake.slash("topics", u)
    about = await fake.slash("about", u)
    helped = await fake.slash("help", u)
    await fake.wait_for(lambda: all(r.callbacks for r in (cases, topics, about, helped)), 10, "the replies")

    cases_text = text_of(cases.callbacks[0][1]["data"])
    assert cases_text.index("In re Apple") < cases_text.index("Apple v. FBI"), "oldest first"
    assert "`apple-v-fbi-san-bernardino`" in cases_text
    topics_text = text_of(topics.callbacks[0][1]["data"])
    for heading in ("Court cases (2)", "Laws (1)", "Technology (1)"):
        assert heading in topics_text
    about_text = text_of(about.callbacks[0][1]["data"])
    assert "4 documents, 2 cases" in about_text and "sentence-transformers/all-MiniLM-L6-v2" in about_text
    assert "facts as of 2026-11-27" in about_text and "Uptime" in about_text
    help_data = helped.callbacks[0][1]["data"]
    assert help_data["flags"] & EPHEMERAL
    assert "/ask question:" in text_of(help_data) and "Up to 5 questions per 1m 0s" in text_of(help_data)


async def test_long_lists_are_paginated(running: Running, monkeypatch: object) -> None:
    from bot.discord import render

    fake = running.fake
    docs = await running.bot.service.cases()
    many = (docs * 20)[:40]

    async def forty_cases() -> list[object]:
        return many  # type: ignore[return-value]

    running.bot.service.cases = forty_cases  # type: ignore[method-assign,assignment]
    owner, other = running.user("alice"), running.user("mallory")
    rec = await fake.slash("cases", owner)
    await fake.wait_for(lambda: rec.callbacks, 10, "the first page")
    page1 = rec.callbacks[0][1]["data"]
    assert page1["embeds"][0]["footer"]["text"].endswith("Page 1 of 2.")
    assert len(render.cases_pages(many)) == 2
    message = await fake.wait_for(lambda: rec.original_id and fake.messages.get(rec.original_id), 5, "the message")
    next_id = page1["components"][0]["components"][1]["custom_id"]
    stranger = await fake.click(message, next_id, other)
    turn = await fake.click(message, next_id, owner)
    await fake.wait_for(lambda: stranger.callbacks and turn.callbacks, 10, "the page turns")
    assert stranger.callbacks[0][1]["data"]["flags"] & EPHEMERAL, "only the person who asked turns pages"
    assert turn.callback_types == [7]
    assert turn.callbacks[0][1]["data"]["embeds"][0]["footer"]["text"].endswith("Page 2 of 2.")
