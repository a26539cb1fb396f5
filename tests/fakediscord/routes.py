"""The REST routes the fake Discord serves, as Discord's OpenAPI path templates; matching needs no spec file."""

from __future__ import annotations

import re

# Every template the fake answers (and the vendored spec subset keeps). Literal segments win over
# parameters, so '/messages/@original' is tried before '/messages/{message_id}'.
TEMPLATES: tuple[str, ...] = (
    "/users/@me",
    "/oauth2/applications/@me",
    "/gateway",
    "/gateway/bot",
    "/applications/{application_id}/commands",
    "/applications/{application_id}/guilds/{guild_id}/commands",
    "/interactions/{interaction_id}/{interaction_token}/callback",
    "/webhooks/{webhook_id}/{webhook_token}",
    "/webhooks/{webhook_id}/{webhook_token}/messages/@original",
    "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}",
    "/channels/{channel_id}/messages",
    "/channels/{channel_id}/messages/{message_id}",
    "/channels/{channel_id}/typing",
)

_ROUTES = sorted(
    ((re.compile("^" + re.sub(r"\\\{[^}]+\\\}", r"[^/]+", re.escape(t)) + "$"), t) for t in TEMPLATES),
    key=lambda r: r[1].count("{"),
)


def template(path: str) -> str | None:
    """The template that `path` (without the /api/v10 prefix) matches, or None for a route the fake lacks."""
    return next((t for pattern, t in _ROUTES if pattern.match(path)), None)
