"""What the bot reports about itself: /healthz and /metrics (Health) and /about (AboutInfo)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import bot as keyholder
from bot.discord.render import AboutInfo
from bot.health import Health

if TYPE_CHECKING:
    from bot.discord.client import KeyholderBot


def latency_s(client: KeyholderBot) -> float | None:
    """Gateway heartbeat latency in seconds, or None before the first heartbeat."""
    try:
        value = client.latency
    except (AttributeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def health(client: KeyholderBot) -> Health:
    """What /healthz and /metrics report."""
    shards = {sid: not shard.is_closed() for sid, shard in client.shards.items()}
    connected = client.is_ready() and not client.is_closed() and bool(shards) and all(shards.values())
    stats = client.service.stats()
    return Health(discord_connected=connected, engine_loaded=stats is not None, engine_error=client.service.load_error,
                  index_passages=stats.passages if stats else None, gateway_latency_s=latency_s(client), shards=shards)


def about(client: KeyholderBot) -> AboutInfo:
    """What /about shows."""
    stats = client.service.stats()
    latency = latency_s(client)
    metrics = client.metrics
    return AboutInfo(
        version=keyholder.__version__,
        kb_version=stats.kb_version if stats else None,
        documents=stats.documents if stats else None,
        cases=stats.cases if stats else None,
        passages=stats.passages if stats else None,
        knowledge_as_of=stats.knowledge_as_of if stats else None,
        index_built_at=stats.index_built_at if stats else None,
        model=stats.model if stats else None,
        uptime_s=metrics.uptime_s(),
        latency_ms=latency * 1000 if latency is not None else None,
        answered=metrics.answered,
        declined=metrics.declined,
        shards=client.shard_count or 1,
        loading=stats is None,
        load_error=client.service.load_error,
    )
