"""Where discord.py connects: the REST base and the gateway, set once at start-up from the settings."""

from __future__ import annotations

import re
from dataclasses import dataclass

import yarl
from discord.gateway import DiscordWebSocket
from discord.http import Route

from bot.settings import Settings

DEFAULT_API_BASE = "https://discord.com/api/v10"
DEFAULT_GATEWAY = yarl.URL("wss://gateway.discord.gg/")


def api_base(value: str | None) -> str:
    """The REST base URL with its API version: 'http://proxy:8080' becomes 'http://proxy:8080/api/v10'."""
    if not value:
        return DEFAULT_API_BASE
    base = value.rstrip("/")
    return base if re.search(r"/api/v\d+$", base) else base + "/api/v10"


@dataclass(frozen=True)
class Endpoints:
    """The REST base and, when the operator set one, the gateway every shard must use."""

    api: str
    gateway: yarl.URL | None

    @classmethod
    def from_settings(cls, settings: Settings) -> Endpoints:
        """DISCORD_API_BASE and DISCORD_GATEWAY_URL, normalised."""
        gateway = yarl.URL(settings.discord_gateway_url) if settings.discord_gateway_url else None
        return cls(api_base(settings.discord_api_base), gateway)


def configure(settings: Settings) -> Endpoints:
    """Point discord.py at the configured endpoints; call once, at start-up.

    discord.py keeps both as class attributes (process-wide). The gateway set here is the one shards fall back
    to; the bot also passes it to each shard it launches, because Discord's /gateway/bot reply would otherwise
    override it.
    """
    endpoints = Endpoints.from_settings(settings)
    Route.BASE = endpoints.api
    DiscordWebSocket.DEFAULT_GATEWAY = endpoints.gateway or DEFAULT_GATEWAY
    return endpoints
