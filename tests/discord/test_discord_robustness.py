"""Rate limits, a burst of 40 questions, start-up before the model is ready, failures, shutdown, sharding, health."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import aiohttp
import pytest

from bot.discord import status
from bot.discord.runner import build_bot, serve
from bot.engine import Engine
from bot.health import HealthServer, Metrics
from bot.service import AskService
from tests.discord.harness import Gate, Running, SlowEngine, make_settings, start_bot, text_of
from tests.fakediscord import FakeDiscord, InteractionRecord, snowflake, user
from tests.fakediscord.server import EPHEMERAL

QUESTIONS = [
    "Why did Apple refuse the San Bernardino order?",
    "What is the All Writs Act?",
    "Can Apple read my iMessages?",
    "What did Judge Orenstein decide in the Brooklyn iPhone case?",
    "How did the San Bernardino case end?",
    "Are iCloud backups of iMessages encrypted end to end?",
    "What limits does the All Writs Act have?",
    "Who got into the San Bernardino iPhone?",
]


async def test_rate_limit_says_when_to_try_again(fake: FakeDiscord, discord_engine: Engine, tmp_path: Path) -> None:
    settings = make_settings(fake, tmp_path / "data", rate_limit_count=2, rate_limit_seconds=120)
    r = await start_bot(fake, settings, lambda: discord_engine)
    try:
        await r.bot.service.wait_ready(30)
        alice, bob = r.user("alice"), r.user("bob")
        recs = [await fake.slash("ask", alice, question=q) for q in QUESTIONS[:3]]
        other = await fake.slash("ask", bob, question=QUESTIONS[0])
        await fake.wait_for(lambda: recs[0].followups and recs[1].followups and recs[2].callbacks and other.followups,
                            20, "answers and the refusal")
        limited = recs[2]
        assert limited.callback_types == [4], "a rate-limited user is told at once, without a defer"
        data = limited.callbacks[0][1]["data"]
        assert data["flags"] & EPHEMERAL
        match = re.search(r"try again <t:(\d+):R> \(in about (\d+)m", data["content"])
        assert match, data["content"]
        assert 100 <= int(match.group(1)) - time.time() <= 121
        assert "2 questions in the last 2m 0s" in data["content"]
        assert other.followups, "another user is not affected"
        # Mentions share the same limit.
        posted = await fake.post(alice, f"<@{fake.bot_user['id']}> {QUESTIONS[3]}", mentions=[fake.bot_user])
        reply = (await fake.wait_for(lambda: fake.replies_to(posted["id"]), 10, "the mention refusal"))[0]
        assert "Please try again <t:" in reply["content"]
        assert r.bot.metrics.rate_limited == 2
    finally:
        await r.stop()


async def test_a_burst_of_40_questions_is_acknowledged_in_time_and_all_answered(
        fake: FakeDiscord, discord_engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    settings = make_settings(fake, tmp_path / "data", max_concurrency=2)
    # Each answer takes 0.1 s longer than the fixture needs, so 40 questions queue for about 2 s behind 2 workers.
    r = await start_bot(fake, settings, lambda: SlowEngine(discord_engine, 0.1))  # type: ignore[arg-type,return-value]
    try:
        await r.bot.service.wait_ready(30)
        started = asyncio.get_running_loop().time()
        users = [user(snowflake(), f"user{i}") for i in range(40)]
        # Distinct questions (the service caches repeats), sent as fast as the gateway takes them.
        recs: list[InteractionRecord] = [
            await fake.slash("ask", u, question=f"{QUESTIONS[i % len(QUESTIONS)]} (case {i})") for i, u in enumerate(users)]
        await fake.wait_for(lambda: all(rec.followups for rec in recs), 120, "40 answers")
        elapsed = asyncio.get_running_loop().time() - started
        delays = sorted(rec.ack_delay or 99.0 for rec in recs)
        assert all(rec.callback_types[:1] == [5] for rec in recs)
        assert delays[-1] < 3.0, f"slowest acknowledgement {delays[-1]:.2f} s"
        assert all("[1]" in (rec.followups[0]["embeds"][0].get("description") or "") for rec in recs)
        assert r.bot.metrics.answered + r.bot.metrics.declined == 40
        with capsys.disabled():
            print(f"\n[burst] 40 /ask: acknowledgement median {delays[20] * 1000:.1f} ms, max {delays[-1] * 1000:.1f} ms; "
                  f"all 40 answered in {elapsed:.2f} s")
    finally:
        await r.stop()


async def test_one_users_flood_does_not_starve_others(fake: FakeDiscord, discord_engine: Engine,
                                                       tmp_path: Path) -> None:
    settings = make_settings(fake, tmp_path / "data", max_concurrency=2, rate_limit_count=6)
    r = await start_bot(fake, settings, lambda: SlowEngine(discord_engine, 0.15))  # type: ignore[arg-type,return-value]
    try:
        await r.bot.service.wait_ready(30)
        flooder, quiet = r.user("flooder"), r.user("quiet")
        flood = [await fake.slash("ask", flooder, question=f"{q} (flood)") for q in QUESTIONS[:6]]
        other = await fake.slash("ask", quiet, question=QUESTIONS[6])
        await fake.wait_for(lambda: all(rec.followups for rec in [*flood, other]), 30, "all answers")
        assert all(rec.ack_delay is not None and rec.ack_delay < 3.0 for rec in [*flood, other])
        answered_at = {id(rec): fake.requests.index(next(q for q in fake.requests if q.method == "POST"
                                                         and q.path.startswith(f"/webhooks/{fake.app_id}/{rec.token}")))
                       for rec in [*flood, other]}
        before = sum(answered_at[id(rec)] < answered_at[id(other)] for rec in flood)
        assert before <= 2, f"the quiet user waited behind {before} of the flooder's questions"
    finally:
        await r.stop()


async def test_questions_before_the_model_is_ready_wait_instead_of_failing(
        fake: FakeDiscord, discord_engine: Engine, tmp_path: Path) -> None:
    gate = Gate(discord_engine)
    settings = make_settings(fake, tmp_path / "data")
    r = await start_bot(fake, settings, gate)
    health = HealthServer(lambda: status.health(r.bot), r.bot.metrics, "127.0.0.1", 0)
    port = await health.start()
    try:
        assert not r.bot.service.ready, "the bot connects before the model and index are loaded"
        async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}/healthz") as resp:
            assert resp.status == 503
            assert (await resp.json())["reasons"] == ["knowledge index still loading"]
        ask = await fake.slash("ask", r.user("alice"), question="What is the All Writs Act?")
        case = await fake.slash("case", r.user("bob"), name="San Bernardino case")
        about = await fake.slash("about", r.user("carol"))
        await fake.wait_for(lambda: ask.callbacks and case.callbacks and about.callbacks, 5, "acknowledgements")
        assert ask.callback_types == [5] and case.callback_types == [5]
        print(f"\n[loading] acknowledged while loading: /ask {ask.ack_delay * 1000:.1f} ms, "  # type: ignore[operator]
              f"/case {case.ack_delay * 1000:.1f} ms")  # type: ignore[operator]
        assert "Loading the model and index" in text_of(about.callbacks[0][1]["data"])
        await asyncio.sleep(0.5)
        assert not ask.followups, "still waiting for the model"
        gate.release.set()
        await fake.wait_for(lambda: ask.followups and case.followups, 30, "the answers after loading")
        assert "All Writs Act" in ask.followups[0]["embeds"][0]["description"]
        assert case.followups[0]["embeds"][0]["title"].startswith("Apple v. FBI")
        async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}/healthz") as resp:
            assert resp.status == 200 and (await resp.json())["status"] == "ok"
    finally:
        gate.release.set()
        await health.stop()
        await r.stop()


@pytest.fixture
def broken_ask(running: Running) -> Iterator[Callable[[], None]]:
    """The service's ask raises, as a corrupt index would, until the test calls the function yielded (or ends)."""
    real_ask = running.bot.service.ask

    async def broken(question: str, context: str | None = None) -> object:
        raise RuntimeError("index exploded")

    def repair() -> None:
        running.bot.service.ask = real_ask  # type: ignore[method-assign]

    running.bot.service.ask = broken  # type: ignore[method-assign,assignment]
    yield repair
    repair()


def assert_reported_without_question(caplog: pytest.LogCaptureFixture, text: str, where: str = "") -> None:
    """The user got a reference; the log has it with a traceback, and no question text."""
    ref = re.search(r"reference `([0-9a-f]{8})`", text)
    assert ref and "Something went wrong on my side" in text
    assert any(ref.group(1) in rec.getMessage() and where in rec.getMessage() and rec.exc_info
               for rec in caplog.records)
    assert all("All Writs Act" not in rec.getMessage() for rec in caplog.records), "no question text in logs"


async def test_an_exception_in_a_command_gets_a_reference_and_the_bot_keeps_going(
        running: Running, broken_ask: Callable[[], None], caplog: pytest.LogCaptureFixture) -> None:
    fake = running.fake
    with caplog.at_level(logging.ERROR, logger="bot.discord"):
        failed = await fake.slash("ask", running.user("alice"), question="What is the All Writs Act?")
        await fake.wait_for(lambda: failed.followups, 10, "the error message")
    msg = failed.followups[0]
    assert failed.events == ["callback:5", "delete:@original", "followup"], "the public placeholder is removed"
    assert msg["flags"] & EPHEMERAL
    assert_reported_without_question(caplog, msg["content"])
    assert running.bot.metrics.errors == 1

    broken_ask()
    again = await fake.slash("ask", running.user("alice"), question="What is the All Writs Act?")
    await fake.wait_for(lambda: again.followups, 20, "the next answer")
    assert "All Writs Act" in again.followups[0]["embeds"][0]["description"]


async def test_a_failed_mention_is_reported_like_a_failed_command(running: Running, broken_ask: Callable[[], None],
                                                                  caplog: pytest.LogCaptureFixture) -> None:
    """Mentions and commands share one error path: the same reference reply, log line and error count."""
    fake = running.fake
    with caplog.at_level(logging.ERROR, logger="bot.discord"):
        asked = await fake.post(running.user("ivy"), f"<@{fake.bot_user['id']}> What is the All Writs Act?",
                                mentions=[fake.bot_user])
        reply = (await fake.wait_for(lambda: fake.replies_to(asked["id"]), 10, "the error reply"))[0]
    assert not reply.get("embeds")
    assert_reported_without_question(caplog, reply["content"], "mention")
    assert running.bot.metrics.errors == 1


async def test_health_and_metrics_endpoints(running: Running) -> None:
    fake = running.fake
    rec = await fake.slash("ask", running.user("alice"), question="What is the All Writs Act?")
    bad = await fake.slash("ask", running.user("bob"), question="what is the best pizza topping")
    await fake.wait_for(lambda: rec.followups and bad.followups, 20, "answers")
    server = HealthServer(lambda: status.health(running.bot), running.bot.metrics, "127.0.0.1", 0)
    port = await server.start()
    try:
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{port}/healthz") as resp:
                assert resp.status == 200
                assert await resp.json() == {"status": "ok", "discord": True, "index": True}
            async with http.get(f"http://127.0.0.1:{port}/metrics") as resp:
                assert resp.status == 200 and resp.content_type == "text/plain"
                text = await resp.text()
    finally:
        await server.stop()
    assert "keyholder_questions_answered_total 1" in text
    assert "keyholder_questions_declined_total 1" in text
    assert 'keyholder_answer_latency_seconds_bucket{le="+Inf"} 2' in text
    passages = running.bot.service.stats().passages  # type: ignore[union-attr]
    assert f"keyholder_index_passages {passages}" in text
    assert re.search(r"keyholder_gateway_latency_seconds (NaN|\d)", text)
    assert "pizza" not in text and "Writs" not in text


async def test_sigterm_shuts_down_gracefully(fake: FakeDiscord, discord_engine: Engine, tmp_path: Path) -> None:
    settings = make_settings(fake, tmp_path / "data")
    bot = build_bot(settings, service=AskService(settings, loader=lambda: discord_engine), guild_ready_timeout=0.05)
    task = asyncio.create_task(serve(bot, fake.token))
    await asyncio.wait_for(bot.wait_until_ready(), 20)
    assert fake.ready_connections
    os.kill(os.getpid(), signal.SIGTERM)
    assert await asyncio.wait_for(task, 15) == 0
    assert bot.is_closed()
    await fake.wait_for(lambda: not fake.ready_connections, 5, "the gateway to close")


async def test_a_wrong_token_fails_clearly(fake: FakeDiscord, discord_engine: Engine, tmp_path: Path,
                                           caplog: pytest.LogCaptureFixture) -> None:
    settings = make_settings(fake, tmp_path / "data", DISCORD_TOKEN="not-the-token")
    bot = build_bot(settings, service=AskService(settings, loader=lambda: discord_engine))
    with caplog.at_level(logging.ERROR):
        assert await asyncio.wait_for(serve(bot, "not-the-token"), 20) == 1
    assert any("Discord rejected the token (HTTP 401)" in rec.getMessage() for rec in caplog.records)


@pytest.mark.slow
async def test_sharding_uses_the_configured_shard_count(fake: FakeDiscord, discord_engine: Engine,
                                                        tmp_path: Path) -> None:
    settings = make_settings(fake, tmp_path / "data", shard_count=2)
    r = await start_bot(fake, settings, lambda: discord_engine, wait_ready=False)
    try:
        await fake.wait_for(lambda: len(fake.ready_connections) == 2, 30, "two shards")
        await asyncio.wait_for(r.bot.wait_until_ready(), 30)
        assert sorted(tuple(i["shard"]) for i in fake.identifies) == [(0, 2), (1, 2)]
        assert r.bot.shard_count == 2
        await r.bot.service.wait_ready(30)
        rec = await fake.slash("ask", r.user("alice"), question="What is the All Writs Act?")
        await fake.wait_for(lambda: rec.followups, 20, "the answer through the guild's shard")
        health = status.health(r.bot)
        assert health.healthy and health.shards == {0: True, 1: True}
    finally:
        await r.stop()


def test_no_privileged_intents(fake: FakeDiscord) -> None:
    from bot.discord.client import intents

    value = intents()
    assert not (value.members or value.presences or value.message_content)
    assert value.guilds and value.guild_messages and value.dm_messages


def test_metrics_render_without_a_bot() -> None:
    from bot.health import Health

    m = Metrics()
    m.question(False, 0.03)
    m.question(True, 2.0)
    m.limited()
    m.error()
    text = m.render(Health(discord_connected=False, engine_loaded=False))
    assert 'keyholder_answer_latency_seconds_bucket{le="0.05"} 1' in text
    assert 'keyholder_answer_latency_seconds_bucket{le="2.5"} 2' in text
    assert "keyholder_rate_limited_total 1" in text and "keyholder_errors_total 1" in text
    assert "keyholder_gateway_latency_seconds NaN" in text and "keyholder_up 0" in text


@pytest.mark.slow
async def test_keyholder_run_end_to_end_in_a_subprocess(fake: FakeDiscord, tmp_path: Path) -> None:
    """The real entry point, configured only through the environment; SIGTERM stops it with status 0."""
    import socket
    import sys

    from tests.discord.harness import FIXTURE_KB

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KEYHOLDER_", "DISCORD_"))}
    env.update({
        "DISCORD_TOKEN": fake.token, "DISCORD_API_BASE": fake.api_base, "DISCORD_GATEWAY_URL": fake.gateway_url,
        "KEYHOLDER_KNOWLEDGE_DIR": str(FIXTURE_KB), "KEYHOLDER_INDEX_DIR": str(tmp_path / "index"),
        "KEYHOLDER_DATA_DIR": str(tmp_path / "data"), "KEYHOLDER_HEALTH_PORT": str(port),
        "KEYHOLDER_HEALTH_HOST": "127.0.0.1", "KEYHOLDER_LOG_LEVEL": "DEBUG",
    })
    log_path = tmp_path / "bot.log"
    with log_path.open("wb") as log_file:  # a file, not a pipe: a full pipe would stall the bot
        proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot.cli", "run", env=env, cwd=tmp_path,
                                                    stdout=log_file, stderr=log_file)
    try:
        await fake.wait_for(lambda: fake.ready_connections, 60, "the bot to connect")
        question = "What is the All Writs Act exactly?"
        rec = await fake.slash("ask", user(snowflake(), "zoe"), question=question)
        await fake.wait_for(lambda: rec.followups, 90, "the answer (the model loads in the background)")
        assert rec.ack_delay is not None and rec.ack_delay < 3.0
        assert "All Writs Act" in rec.followups[0]["embeds"][0]["description"]
        print(f"\n[subprocess] /ask right after connecting: acknowledged in {rec.ack_delay * 1000:.1f} ms, answered "
              f"{fake.requests[-1].at - rec.dispatched_at:.1f} s after it was sent (model loading in the background)")
        async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}/healthz") as resp:
            assert resp.status == 200
        proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(proc.wait(), 60)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    log_text = log_path.read_text(errors="replace")
    assert proc.returncode == 0, log_text[-3000:]
    assert "received SIGTERM; disconnecting" in log_text
    assert question not in log_text, "question text must not reach the logs, even at DEBUG"
    assert fake.command_puts and (tmp_path / "data" / "command-sync.json").is_file()
