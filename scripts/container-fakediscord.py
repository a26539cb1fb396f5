"""The fake Discord for scripts/container: lets the bot in the image connect, answers one /ask, reports.

Run from the repository root with the project's virtualenv (it imports tests.fakediscord):

    .venv/bin/python scripts/container-fakediscord.py --token T --ready-file F --result-file R

It listens on a free port of 127.0.0.1 and writes {"api_base", "gateway_url"} to the ready file. When a
bot has identified and registered its commands, it sends one /ask interaction and writes what the bot
answered (and any Discord-limit or spec violations) to the result file as JSON. It then keeps serving the
gateway, so the bot stays connected and idle, until SIGTERM/SIGINT or --timeout seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.fakediscord import FakeDiscord, snowflake, user


def _write(path: str, data: dict[str, Any]) -> None:
    tmp = f"{path}.tmp"
    Path(tmp).write_text(json.dumps(data), encoding="utf-8")
    os.replace(tmp, path)


def _text(message: dict[str, Any]) -> str:
    parts = [message.get("content") or ""]
    for e in message.get("embeds") or []:
        parts += [e.get("title") or "", e.get("description") or ""]
        parts += [f"{f.get('name', '')}\n{f.get('value', '')}" for f in e.get("fields") or []]
    return "\n".join(p for p in parts if p)


async def main(args: argparse.Namespace) -> int:
    """Serve the fake, drive one /ask, keep serving until told to stop."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    fake = await FakeDiscord(token=args.token).start()
    _write(args.ready_file, {"api_base": fake.api_base, "gateway_url": fake.gateway_url})
    result: dict[str, Any] = {"ok": False}
    started = time.monotonic()
    try:
        await fake.wait_for(lambda: fake.ready_connections and fake.commands, args.connect_timeout,
                            "the bot to connect and register its commands")
        result["connected_after_s"] = round(time.monotonic() - started, 1)
        result["commands"] = sorted({c["name"] for cmds in fake.commands.values() for c in cmds})
        rec = await fake.slash("ask", user(snowflake(), "ci-user"), question=args.question)
        await fake.wait_for(lambda: rec.followups, args.answer_timeout, "the answer to /ask")
        result.update(ok=True, ack_delay_s=rec.ack_delay, callback_types=rec.callback_types,
                      answer=_text(rec.followups[0]))
    except Exception as exc:  # report any failure to the script instead of dying silently
        result["error"] = f"{type(exc).__name__}: {exc}"
    result["violations"] = list(fake.violations)
    _write(args.result_file, result)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), args.timeout)
    await fake.close()
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--token", required=True)
    parser.add_argument("--ready-file", required=True)
    parser.add_argument("--result-file", required=True)
    parser.add_argument("--question", default="Why couldn't Apple give the DOJ real-time iMessages in 2015?")
    parser.add_argument("--connect-timeout", type=float, default=240.0)
    parser.add_argument("--answer-timeout", type=float, default=60.0)
    parser.add_argument("--timeout", type=float, default=900.0, help="stop serving after this many seconds")
    sys.exit(asyncio.run(main(parser.parse_args())))
