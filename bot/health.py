"""The bot's health and metrics endpoint: `/healthz` (JSON) and `/metrics` (Prometheus text), on aiohttp."""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from aiohttp import web

log = logging.getLogger(__name__)

# Seconds; answers usually take tens of milliseconds, a cold start or a queue takes longer.
LATENCY_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


@dataclass(frozen=True)
class Health:
    """What the process knows about itself at one moment (built by the bot for each probe)."""

    discord_connected: bool
    engine_loaded: bool
    engine_error: str | None = None
    index_passages: int | None = None
    gateway_latency_s: float | None = None
    shards: dict[int, bool] = field(default_factory=dict)

    @property
    def healthy(self) -> bool:
        """Connected to Discord and able to answer."""
        return self.discord_connected and self.engine_loaded

    def reasons(self) -> list[str]:
        """Why the process is unhealthy (empty when healthy)."""
        out = []
        if not self.discord_connected:
            out.append("not connected to the Discord gateway")
        if not self.engine_loaded:
            out.append(f"knowledge index failed to load: {self.engine_error}" if self.engine_error
                       else "knowledge index still loading")
        return out


class Metrics:
    """Counters, one latency histogram and gauges, rendered in the Prometheus text format. Never holds question text."""

    def __init__(self, buckets: tuple[float, ...] = LATENCY_BUCKETS):
        self._lock = threading.Lock()
        self.started = time.monotonic()
        self.answered = 0
        self.declined = 0
        self.errors = 0
        self.rate_limited = 0
        self.buckets = buckets
        self._bucket_counts = [0] * len(buckets)
        self._latency_sum = 0.0
        self._latency_count = 0

    def uptime_s(self) -> float:
        """Seconds since the process started counting."""
        return time.monotonic() - self.started

    def question(self, declined: bool, seconds: float) -> None:
        """Count one answered or declined question and record how long it took."""
        with self._lock:
            if declined:
                self.declined += 1
            else:
                self.answered += 1
            self._latency_sum += seconds
            self._latency_count += 1
            for i, bound in enumerate(self.buckets):
                if seconds <= bound:
                    self._bucket_counts[i] += 1

    def error(self) -> None:
        """Count one failed interaction or message."""
        with self._lock:
            self.errors += 1

    def limited(self) -> None:
        """Count one rate-limited request."""
        with self._lock:
            self.rate_limited += 1

    def render(self, health: Health) -> str:
        """The metrics in Prometheus text exposition format 0.0.4."""
        with self._lock:
            lines = [
                "# HELP keyholder_questions_answered_total Questions answered with sources.",
                "# TYPE keyholder_questions_answered_total counter",
                f"keyholder_questions_answered_total {self.answered}",
                "# HELP keyholder_questions_declined_total Questions declined (out of scope, harmful, empty, too long).",
                "# TYPE keyholder_questions_declined_total counter",
                f"keyholder_questions_declined_total {self.declined}",
                "# HELP keyholder_errors_total Interactions or messages that failed with an error.",
                "# TYPE keyholder_errors_total counter",
                f"keyholder_errors_total {self.errors}",
                "# HELP keyholder_rate_limited_total Requests refused by the per-user rate limit.",
                "# TYPE keyholder_rate_limited_total counter",
                f"keyholder_rate_limited_total {self.rate_limited}",
                "# HELP keyholder_answer_latency_seconds Time from receiving a question to having its answer.",
                "# TYPE keyholder_answer_latency_seconds histogram",
            ]
            for bound, count in zip(self.buckets, self._bucket_counts, strict=True):
                lines.append(f'keyholder_answer_latency_seconds_bucket{{le="{_num(bound)}"}} {count}')
            lines += [
                f'keyholder_answer_latency_seconds_bucket{{le="+Inf"}} {self._latency_count}',
                f"keyholder_answer_latency_seconds_sum {_num(self._latency_sum)}",
                f"keyholder_answer_latency_seconds_count {self._latency_count}",
            ]
        lines += [
            "# HELP keyholder_index_passages Passages in the loaded search index (0 while loading).",
            "# TYPE keyholder_index_passages gauge",
            f"keyholder_index_passages {health.index_passages or 0}",
            "# HELP keyholder_gateway_latency_seconds Discord gateway heartbeat latency (NaN when unknown).",
            "# TYPE keyholder_gateway_latency_seconds gauge",
            f"keyholder_gateway_latency_seconds {_num(health.gateway_latency_s)}",
            "# HELP keyholder_up 1 when connected to Discord and the index is loaded.",
            "# TYPE keyholder_up gauge",
            f"keyholder_up {1 if health.healthy else 0}",
        ]
        return "\n".join(lines) + "\n"


def _num(value: float | None) -> str:
    if value is None or math.isnan(value) or math.isinf(value):
        return "NaN"
    return repr(float(value))


class HealthServer:
    """A small aiohttp server for container health checks and Prometheus scraping."""

    def __init__(self, probe: Callable[[], Health], metrics: Metrics, host: str = "0.0.0.0", port: int = 8080):
        self.probe = probe
        self.metrics = metrics
        self.host = host
        self.port = port
        self._runner: web.AppRunner | None = None

    def app(self) -> web.Application:
        """The aiohttp application (also used directly by tests)."""
        app = web.Application()
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/metrics", self._metrics)
        return app

    async def _healthz(self, request: web.Request) -> web.Response:
        health = self.probe()
        if health.healthy:
            return web.json_response({"status": "ok", "discord": True, "index": True})
        return web.json_response(
            {"status": "unavailable", "discord": health.discord_connected, "index": health.engine_loaded,
             "reasons": health.reasons()},
            status=503,
        )

    async def _metrics(self, request: web.Request) -> web.Response:
        body = self.metrics.render(self.probe())
        return web.Response(text=body, content_type="text/plain", charset="utf-8",
                            headers={"X-Content-Type-Options": "nosniff"})

    async def start(self) -> int:
        """Start listening; returns the bound port (useful with port 0)."""
        self._runner = web.AppRunner(self.app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        bound = self.port
        for addr in self._runner.addresses:
            if isinstance(addr, tuple) and len(addr) >= 2:
                bound = int(addr[1])
                break
        log.info("health endpoint listening on http://%s:%d/healthz", self.host, bound)
        return bound

    async def stop(self) -> None:
        """Stop listening."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
