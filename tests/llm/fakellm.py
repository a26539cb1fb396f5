"""A scriptable OpenAI-compatible endpoint on 127.0.0.1, for the faults a real server is hard to make on cue:
slow, malformed, empty, or answering with a chosen completion. The real llama.cpp server is tested separately."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class FakeLLM:
    """Answers /v1/chat/completions with `reply(request_json)`; records every request."""

    reply: Callable[[dict[str, Any]], str] = lambda req: "Hello."
    delay_s: float = 0.0
    mode: str = "ok"  # "ok", "malformed", "no_choices", "http_500"
    requests: list[dict[str, Any]] = field(default_factory=list)
    in_flight: int = 0
    peak: int = 0  # the most requests it was answering at once
    port: int = 0
    _runner: web.AppRunner | None = None

    async def start(self) -> FakeLLM:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._complete)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _complete(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.requests.append(body)
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        try:
            return await self._respond(body)
        finally:
            self.in_flight -= 1

    async def _respond(self, body: dict[str, Any]) -> web.Response:
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        if self.mode == "http_500":
            return web.json_response({"error": {"message": "boom"}}, status=500)
        if self.mode == "malformed":
            return web.Response(text="{not json", content_type="application/json")
        choices = [] if self.mode == "no_choices" else [
            {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": self.reply(body)}}]
        return web.Response(text=json.dumps({
            "id": "cmpl-1", "object": "chat.completion", "created": 0, "model": body.get("model", "fake"),
            "choices": choices, "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}),
            content_type="application/json")
