"""A fake Discord on 127.0.0.1: REST under /api/v10 and a gateway websocket, recording everything a bot does.

The real discord.py client connects to it through DISCORD_API_BASE and DISCORD_GATEWAY_URL. It implements the
parts of Discord a bot touches (login, application info, gateway HELLO/IDENTIFY/READY/GUILD_CREATE/heartbeats,
interactions and their callbacks, followups, messages, command registration), enforces Discord's documented
limits and the 3-second acknowledgement window, and validates bodies against Discord's OpenAPI spec (the vendored subset in openapi/).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import WSMsgType, web

from tests.fakediscord import limits, routes
from tests.fakediscord.spec import OpenAPISpec, load_spec

log = logging.getLogger(__name__)

DISCORD_EPOCH_MS = 1420070400000
EPHEMERAL = 1 << 6
ACK_WINDOW_S = 3.0
PRIVILEGED_INTENTS = {1 << 1: "GUILD_MEMBERS", 1 << 8: "GUILD_PRESENCES", 1 << 15: "MESSAGE_CONTENT"}
ALL_PERMISSIONS = str((1 << 50) - 1)

_counter = itertools.count(1)


def snowflake() -> int:
    """A new, increasing Discord id."""
    return ((int(time.time() * 1000) - DISCORD_EPOCH_MS) << 22) | (next(_counter) % (1 << 22))


def now_iso() -> str:
    """The current time as Discord writes it."""
    return datetime.now(UTC).isoformat()


def user(uid: int, name: str, bot: bool = False) -> dict[str, Any]:
    """A user object."""
    return {"id": str(uid), "username": name, "global_name": name, "discriminator": "0", "avatar": None,
            "bot": bot, "public_flags": 0, "flags": 0}


@dataclass
class Request:
    """One REST request the bot made."""

    method: str
    path: str
    template: str | None
    query: dict[str, str]
    body: Any
    status: int
    at: float


@dataclass
class InteractionRecord:
    """An interaction the fake dispatched, and everything the bot did with it."""

    id: int
    token: str
    kind: int
    payload: dict[str, Any]
    dispatched_at: float
    callbacks: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    followups: list[dict[str, Any]] = field(default_factory=list)  # message objects created or edited, in order
    original_id: int | None = None
    original_pending: bool = False  # a deferred "thinking" message not yet replaced
    original_deleted: bool = False
    events: list[str] = field(default_factory=list)  # "callback:5", "followup", "edit_original", "delete_original"

    @property
    def acked_at(self) -> float | None:
        """When the first callback arrived (loop time)."""
        return self.callbacks[0][0] if self.callbacks else None

    @property
    def ack_delay(self) -> float | None:
        """Seconds from dispatch to the first callback."""
        return None if self.acked_at is None else self.acked_at - self.dispatched_at

    @property
    def callback_types(self) -> list[int]:
        """The callback types, in order (4 message, 5 deferred message, 6 deferred update, 7 update, 8 choices)."""
        return [int(body.get("type", 0)) for _, body in self.callbacks]

    @property
    def messages(self) -> list[dict[str, Any]]:
        """Every message this interaction produced that a user can see, in order."""
        return self.followups


@dataclass
class Connection:
    """One gateway session."""

    ws: web.WebSocketResponse
    seq: int = 0
    shard: tuple[int, int] = (0, 1)
    identified: bool = False
    intents: int = 0


class FakeDiscord:
    """The fake. Use `await start()`, point a bot at `api_base` and `gateway_url`, then drive it."""

    def __init__(self, token: str = "fake-token", heartbeat_interval_ms: int = 41250, validate_spec: bool = True):
        self.token = token
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.app_id = snowflake()
        self.bot_user = user(self.app_id, "Keyholder", bot=True)
        self.owner = user(snowflake(), "operator")
        self.guild_id = snowflake()
        self.channel_id = snowflake()
        self.spec: OpenAPISpec | None = load_spec() if validate_spec else None
        self.requests: list[Request] = []
        self.violations: list[str] = []
        self.unknown_routes: list[str] = []
        self.commands: dict[str, list[dict[str, Any]]] = {}  # "global" or guild id -> registered commands
        self.command_puts: list[tuple[str, list[dict[str, Any]]]] = []
        self.messages: dict[int, dict[str, Any]] = {}
        self.channel_messages: list[dict[str, Any]] = []  # messages sent with POST /channels/{id}/messages
        self.interactions: dict[int, InteractionRecord] = {}
        self._by_token: dict[str, InteractionRecord] = {}
        self.connections: list[Connection] = []
        self.identifies: list[dict[str, Any]] = []
        self.heartbeats: list[float] = []
        self.typing: list[int] = []
        self.fail_next: dict[str, tuple[int, dict[str, Any]]] = {}  # template -> (status, body), once
        self._runner: web.AppRunner | None = None
        self.port = 0
        self._changed = asyncio.Event()

    # --- lifecycle --------------------------------------------------------------------------------

    @property
    def api_base(self) -> str:
        """What DISCORD_API_BASE should be."""
        return f"http://127.0.0.1:{self.port}/api/v10"

    @property
    def gateway_url(self) -> str:
        """What DISCORD_GATEWAY_URL should be."""
        return f"ws://127.0.0.1:{self.port}/gateway"

    async def start(self) -> FakeDiscord:
        """Listen on a free port of 127.0.0.1."""
        app = web.Application(client_max_size=32 * 1024 * 1024)
        app.router.add_get("/gateway", self._gateway)
        app.router.add_route("*", "/api/v10/{tail:.*}", self._rest)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def close(self) -> None:
        """Close every gateway connection and stop listening."""
        for conn in list(self.connections):
            if not conn.ws.closed:
                await conn.ws.close(code=1001)
        if self._runner is not None:
            await self._runner.cleanup()

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 30.0, what: str = "condition") -> Any:
        """Wait until `predicate()` is truthy (re-checked on every recorded request); returns its value."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            value = predicate()
            if value:
                return value
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                raise AssertionError(f"timed out after {timeout} s waiting for {what}")
            event = self._changed
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), timeout=min(left, 0.25))

    # --- gateway ----------------------------------------------------------------------------------

    async def _send(self, conn: Connection, payload: dict[str, Any]) -> None:
        if not conn.ws.closed:
            await conn.ws.send_str(json.dumps(payload))

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True, max_msg_size=0)
        await ws.prepare(request)
        conn = Connection(ws)
        self.connections.append(conn)
        await self._send(conn, {"op": 10, "d": {"heartbeat_interval": self.heartbeat_interval_ms}, "s": None, "t": None})
        async for msg in ws:
            if msg.type != WSMsgType.TEXT:
                continue
            payload = json.loads(msg.data)
            op = payload.get("op")
            if op == 1:
                self.heartbeats.append(asyncio.get_running_loop().time())
                await self._send(conn, {"op": 11, "d": None, "s": None, "t": None})
            elif op == 2:
                await self._identify(conn, payload["d"])
            elif op == 6:
                await self._send(conn, {"op": 9, "d": False, "s": None, "t": None})
        if conn in self.connections:
            self.connections.remove(conn)
        self._notify()
        return ws

    async def _identify(self, conn: Connection, data: dict[str, Any]) -> None:
        self.identifies.append(data)
        if data.get("token") != self.token:
            await conn.ws.close(code=4004, message=b"Authentication failed.")
            return
        conn.intents = int(data.get("intents", 0))
        for bit, name in PRIVILEGED_INTENTS.items():
            if conn.intents & bit:
                self.violations.append(f"gateway: IDENTIFY asked for the privileged intent {name}")
        shard = data.get("shard") or [0, 1]
        conn.shard = (int(shard[0]), int(shard[1]))
        conn.identified = True
        mine = self.shard_of(self.guild_id, conn.shard[1]) == conn.shard[0]
        conn.seq += 1
        await self._send(conn, {"op": 0, "t": "READY", "s": conn.seq, "d": {
            "v": 10, "user": self.bot_user, "session_id": secrets.token_hex(16),
            "resume_gateway_url": self.gateway_url, "shard": list(conn.shard),
            "guilds": [{"id": str(self.guild_id), "unavailable": True}] if mine else [],
            "application": {"id": str(self.app_id), "flags": 0}, "private_channels": [], "relationships": [],
        }})
        if mine:
            conn.seq += 1
            await self._send(conn, {"op": 0, "t": "GUILD_CREATE", "s": conn.seq, "d": self.guild_payload()})
        self._notify()

    @staticmethod
    def shard_of(guild_id: int, shard_count: int) -> int:
        """Discord's shard formula."""
        return (guild_id >> 22) % shard_count

    def guild_payload(self) -> dict[str, Any]:
        """The test guild: one text channel, @everyone with all permissions."""
        gid = str(self.guild_id)
        return {
            "id": gid, "name": "Keyholder test server", "icon": None, "owner_id": self.owner["id"],
            "unavailable": False, "member_count": 3, "large": False, "features": [], "emojis": [], "stickers": [],
            "roles": [{"id": gid, "name": "@everyone", "permissions": ALL_PERMISSIONS, "position": 0, "color": 0,
                       "hoist": False, "managed": False, "mentionable": False, "flags": 0}],
            "channels": [{"id": str(self.channel_id), "type": 0, "name": "general", "position": 0,
                          "permission_overwrites": [], "nsfw": False, "parent_id": None, "topic": None,
                          "last_message_id": None, "rate_limit_per_user": 0, "flags": 0, "guild_id": gid}],
            "threads": [], "members": [], "voice_states": [], "presences": [], "stage_instances": [],
            "guild_scheduled_events": [], "soundboard_sounds": [], "preferred_locale": "en-US",
            "verification_level": 0, "default_message_notifications": 0, "explicit_content_filter": 0,
            "mfa_level": 0, "premium_tier": 0, "nsfw_level": 0, "system_channel_flags": 0, "afk_timeout": 300,
            "joined_at": now_iso(),
        }

    @property
    def ready_connections(self) -> list[Connection]:
        """Identified, open gateway sessions."""
        return [c for c in self.connections if c.identified and not c.ws.closed]

    async def dispatch(self, event: str, data: dict[str, Any], guild_id: int | None = None) -> None:
        """Send a DISPATCH event to the session that owns the guild (every session when guild_id is None)."""
        for conn in self.ready_connections:
            if guild_id is not None and self.shard_of(guild_id, conn.shard[1]) != conn.shard[0]:
                continue
            conn.seq += 1
            await self._send(conn, {"op": 0, "t": event, "s": conn.seq, "d": data})

    # --- users send things ------------------------------------------------------------------------

    def member(self, u: dict[str, Any]) -> dict[str, Any]:
        """A guild member wrapping user `u`."""
        return {"user": u, "roles": [], "joined_at": now_iso(), "deaf": False, "mute": False, "flags": 0,
                "nick": None, "avatar": None, "pending": False, "permissions": ALL_PERMISSIONS}

    def command_id(self, name: str) -> str:
        """The id Discord gave a registered command (guild commands first)."""
        for scope in (str(self.guild_id), "global"):
            for cmd in self.commands.get(scope, []):
                if cmd["name"] == name:
                    return str(cmd["id"])
        return str(snowflake())

    def _interaction(self, kind: int, data: dict[str, Any], u: dict[str, Any],
                     message: dict[str, Any] | None = None) -> dict[str, Any]:
        iid = snowflake()
        payload: dict[str, Any] = {
            "id": str(iid), "application_id": str(self.app_id), "type": kind, "data": data,
            "token": f"itok-{iid}-{secrets.token_hex(8)}", "version": 1,
            "guild_id": str(self.guild_id), "guild": {"id": str(self.guild_id), "locale": "en-US", "features": []},
            "channel_id": str(self.channel_id),
            "channel": {"id": str(self.channel_id), "type": 0, "guild_id": str(self.guild_id), "name": "general",
                        "position": 0, "permission_overwrites": [], "nsfw": False, "parent_id": None, "flags": 0},
            "member": self.member(u), "app_permissions": ALL_PERMISSIONS, "locale": "en-US", "guild_locale": "en-US",
            "entitlements": [], "authorizing_integration_owners": {"0": str(self.guild_id)}, "context": 0,
            "attachment_size_limit": 26214400,
        }
        if message is not None:
            payload["message"] = message
        return payload

    async def _dispatch_interaction(self, payload: dict[str, Any]) -> InteractionRecord:
        rec = InteractionRecord(int(payload["id"]), payload["token"], payload["type"], payload,
                                asyncio.get_running_loop().time())
        self.interactions[rec.id] = rec
        self._by_token[rec.token] = rec
        await self.dispatch("INTERACTION_CREATE", payload, self.guild_id)
        return rec

    async def slash(self, command: str, u: dict[str, Any], /, **options: Any) -> InteractionRecord:
        """A user runs /command with options (as Discord would send them)."""
        opts = [{"name": k, "type": 5 if isinstance(v, bool) else 3, "value": v} for k, v in options.items()]
        data = {"id": self.command_id(command), "name": command, "type": 1, "options": opts}
        return await self._dispatch_interaction(self._interaction(2, data, u))

    async def autocomplete(self, name: str, option: str, value: str, u: dict[str, Any]) -> InteractionRecord:
        """A user types `value` into `option` of /name."""
        data = {"id": self.command_id(name), "name": name, "type": 1,
                "options": [{"name": option, "type": 3, "value": value, "focused": True}]}
        return await self._dispatch_interaction(self._interaction(4, data, u))

    async def click(self, message: dict[str, Any], custom_id: str, u: dict[str, Any]) -> InteractionRecord:
        """A user clicks the button `custom_id` on `message`."""
        data = {"custom_id": custom_id, "component_type": 2}
        return await self._dispatch_interaction(self._interaction(3, data, u, message=message))

    async def post(self, u: dict[str, Any], content: str, mentions: list[dict[str, Any]] | None = None,
                   reply_to: dict[str, Any] | None = None) -> dict[str, Any]:
        """A user posts a message in the test channel (MESSAGE_CREATE)."""
        mid = snowflake()
        msg: dict[str, Any] = {
            "id": str(mid), "channel_id": str(self.channel_id), "guild_id": str(self.guild_id), "author": u,
            "member": {k: v for k, v in self.member(u).items() if k != "user"}, "content": content,
            "timestamp": now_iso(), "edited_timestamp": None, "tts": False, "mention_everyone": False,
            "mentions": [{**m, "member": {k: v for k, v in self.member(m).items() if k != "user"}} for m in mentions or []],
            "mention_roles": [], "attachments": [], "embeds": [], "pinned": False, "type": 0, "flags": 0,
            "components": [], "nonce": str(mid),
        }
        if reply_to is not None:
            msg["type"] = 19
            msg["message_reference"] = {"type": 0, "message_id": reply_to["id"], "channel_id": reply_to["channel_id"],
                                        "guild_id": str(self.guild_id)}
            msg["referenced_message"] = reply_to
        self.messages[mid] = msg
        await self.dispatch("MESSAGE_CREATE", msg, self.guild_id)
        return msg

    def replies_to(self, message_id: str | int) -> list[dict[str, Any]]:
        """Messages the bot sent as replies to `message_id`."""
        return [m for m in self.channel_messages
                if str((m.get("message_reference") or {}).get("message_id")) == str(message_id)]

    # --- REST -------------------------------------------------------------------------------------

    def _json(self, data: Any, status: int = 200) -> web.Response:
        # discord.py parses JSON only when the Content-Type is exactly application/json.
        return web.Response(status=status, body=json.dumps(data).encode(), headers={"Content-Type": "application/json"})

    def _error(self, status: int, code: int, message: str, errors: Any = None) -> web.Response:
        body: dict[str, Any] = {"code": code, "message": message}
        if errors is not None:
            body["errors"] = errors
        return self._json(body, status)

    async def _rest(self, request: web.Request) -> web.StreamResponse:
        path = "/" + request.match_info["tail"]
        template = routes.template(path)
        raw = await request.read()
        body: Any = None
        if raw:
            if request.content_type == "multipart/form-data" or raw.startswith(b"--"):
                self.violations.append(f"{request.method} {path}: unexpected multipart body")
            else:
                try:
                    body = json.loads(raw)
                except ValueError:
                    self.violations.append(f"{request.method} {path}: body is not JSON")
        req = Request(request.method, path, template, dict(request.query), body, 0, asyncio.get_running_loop().time())
        self.requests.append(req)
        try:
            response = await self._route(request, path, template, body)
        except Exception as exc:  # a bug in the fake must show, not hang the bot
            log.exception("fake discord failed on %s %s", request.method, path)
            self.violations.append(f"fake error on {request.method} {path}: {exc!r}")
            response = self._error(500, 0, "fake discord error")
        req.status = response.status
        self._notify()
        return response

    def _problems(self, method: str, template: str | None, body: Any, extra: list[str]) -> list[str]:
        problems = list(extra)
        if self.spec is not None and template is not None and body is not None:
            problems += self.spec.validate(method, template, body)
        return problems

    def _reject(self, problems: list[str]) -> web.Response | None:
        if not problems:
            return None
        self.violations.extend(problems)
        return self._error(400, 50035, "Invalid Form Body", {"_errors": [{"code": "BASE_TYPE_INVALID", "message": p}
                                                                          for p in problems]})

    def _authorised(self, request: web.Request) -> bool:
        return request.headers.get("Authorization") == f"Bot {self.token}"

    async def _route(self, request: web.Request, path: str, template: str | None, body: Any) -> web.Response:
        method = request.method
        parts = path.strip("/").split("/")
        if template in self.fail_next:
            status, err = self.fail_next.pop(template)
            return self._json(err, status)
        webhook = parts[0] in ("webhooks", "interactions")
        if not webhook and not self._authorised(request):
            return self._error(401, 0, "401: Unauthorized")
        if method == "GET" and path == "/users/@me":
            return self._json(self.bot_user)
        if method == "GET" and path == "/oauth2/applications/@me":
            return self._json(self.application())
        if method == "GET" and path in ("/gateway/bot", "/gateway"):
            return self._json({"url": self.gateway_url, "shards": 1,
                               "session_start_limit": {"total": 1000, "remaining": 999, "reset_after": 0,
                                                       "max_concurrency": 1}})
        if template in ("/applications/{application_id}/commands", "/applications/{application_id}/guilds/{guild_id}/commands"):
            scope = parts[3] if "guilds" in parts else "global"
            if method == "PUT":
                rejected = self._reject(self._problems(method, template, body, limits.check_commands(body or [], f"PUT {path}")))
                if rejected:
                    return rejected
                registered = [{**cmd, "id": str(snowflake()), "application_id": str(self.app_id), "version": str(snowflake()),
                               "default_member_permissions": cmd.get("default_member_permissions"), "type": cmd.get("type", 1),
                               **({"guild_id": scope} if scope != "global" else {})} for cmd in body or []]
                self.commands[scope] = registered
                self.command_puts.append((scope, registered))
                return self._json(registered)
            if method == "GET":
                return self._json(self.commands.get(scope, []))
        if template == "/interactions/{interaction_id}/{interaction_token}/callback" and method == "POST":
            return self._callback(int(parts[1]), parts[2], body, template)
        if template == "/webhooks/{webhook_id}/{webhook_token}" and method == "POST":
            return self._followup(parts[2], body, template)
        if template in ("/webhooks/{webhook_id}/{webhook_token}/messages/@original",
                        "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}"):
            return self._webhook_message(method, parts[2], parts[4], body, template)
        if template == "/channels/{channel_id}/messages" and method == "POST":
            where = f"POST {path}"
            is_reply = bool(body and body.get("message_reference"))
            rejected = self._reject(self._problems(method, template, body, limits.check_message(body or {}, where, is_reply)))
            if rejected:
                return rejected
            msg = self._message(body or {}, channel_id=int(parts[1]))
            self.channel_messages.append(msg)
            return self._json(msg)
        if template == "/channels/{channel_id}/messages/{message_id}" and method == "PATCH":
            edited = self.messages.get(int(parts[3]))
            if edited is None:
                return self._error(404, 10008, "Unknown Message")
            rejected = self._reject(self._problems(method, template, body, limits.check_message(body or {}, f"PATCH {path}")))
            if rejected:
                return rejected
            edited.update({k: v for k, v in (body or {}).items() if k in ("content", "embeds", "components", "flags")})
            return self._json(edited)
        if template == "/channels/{channel_id}/typing" and method == "POST":
            self.typing.append(int(parts[1]))
            return web.Response(status=204)
        self.unknown_routes.append(f"{method} {path}")
        return self._error(404, 0, f"404: Not Found ({method} {path})")

    def application(self) -> dict[str, Any]:
        """GET /oauth2/applications/@me."""
        return {"id": str(self.app_id), "name": "Keyholder", "description": "", "icon": None, "bot_public": True,
                "bot_require_code_grant": False, "owner": self.owner, "verify_key": "0" * 64, "flags": 0,
                "team": None, "summary": "", "rpc_origins": [], "tags": [], "redirect_uris": [],
                "interactions_endpoint_url": None, "approximate_guild_count": 1, "bot": self.bot_user}

    def _message(self, body: dict[str, Any], channel_id: int | None = None, webhook: bool = False,
                 flags: int = 0, interaction: InteractionRecord | None = None) -> dict[str, Any]:
        mid = snowflake()
        msg: dict[str, Any] = {
            "id": str(mid), "channel_id": str(channel_id or self.channel_id), "guild_id": str(self.guild_id),
            "author": self.bot_user, "content": body.get("content") or "", "timestamp": now_iso(),
            "edited_timestamp": None, "tts": False, "mention_everyone": False, "mentions": [], "mention_roles": [],
            "attachments": [], "embeds": [{"type": "rich", **e} for e in body.get("embeds") or []], "pinned": False,
            "type": 19 if body.get("message_reference") else (20 if interaction else 0),
            "flags": int(body.get("flags") or 0) | flags, "components": body.get("components") or [],
        }
        if body.get("message_reference"):
            msg["message_reference"] = body["message_reference"]
        if webhook:
            msg["webhook_id"] = str(self.app_id)
            msg["application_id"] = str(self.app_id)
        if interaction is not None:
            msg["interaction_metadata"] = {"id": str(interaction.id), "type": interaction.kind,
                                           "user": interaction.payload["member"]["user"],
                                           "authorizing_integration_owners": {}}
        self.messages[mid] = msg
        return msg

    def _callback(self, iid: int, token: str, body: Any, template: str) -> web.Response:
        rec = self.interactions.get(iid)
        if rec is None or rec.token != token:
            return self._error(404, 10062, "Unknown interaction")
        at = asyncio.get_running_loop().time()
        if rec.callbacks:
            self.violations.append(f"interaction {iid}: acknowledged twice")
            return self._error(400, 40060, "Interaction has already been acknowledged.")
        if at - rec.dispatched_at > ACK_WINDOW_S:
            self.violations.append(f"interaction {iid}: acknowledged after {at - rec.dispatched_at:.2f} s (> 3 s)")
            return self._error(404, 10062, "Unknown interaction")
        body = body or {}
        kind = int(body.get("type", 0))
        data = body.get("data") or {}
        where = f"callback {kind} for interaction {iid}"
        extra = limits.check_choices(data.get("choices") or [], where) if kind == 8 else limits.check_message(data, where)
        rejected = self._reject(self._problems("POST", template, body, extra))
        if rejected:
            return rejected
        rec.callbacks.append((at, body))
        rec.events.append(f"callback:{kind}")
        resource: dict[str, Any] = {"type": kind}
        response_message_id = None
        if kind in (4, 5):
            msg = self._message(data, webhook=True, interaction=rec,
                                flags=EPHEMERAL if int(data.get("flags") or 0) & EPHEMERAL else 0)
            if kind == 5:
                msg["flags"] |= 1 << 7  # LOADING
            rec.original_id = int(msg["id"])
            rec.original_pending = kind == 5
            if kind == 4:
                rec.followups.append(msg)
            resource["message"] = msg
            response_message_id = msg["id"]
        elif kind == 7 and "message" in rec.payload:
            target = self.messages.get(int(rec.payload["message"]["id"]))
            if target is not None:
                target.update({k: v for k, v in data.items() if k in ("content", "embeds", "components")})
                resource["message"] = target
        self._notify()
        interaction = {"id": str(iid), "type": rec.kind, "response_message_loading": kind == 5,
                       "response_message_ephemeral": bool(int(data.get("flags") or 0) & EPHEMERAL)}
        if response_message_id:
            interaction["response_message_id"] = response_message_id
        return self._json({"interaction": interaction, "resource": resource})

    def _followup(self, token: str, body: Any, template: str) -> web.Response:
        rec = self._by_token.get(token)
        if rec is None:
            return self._error(404, 10015, "Unknown Webhook")
        if not rec.callbacks:
            self.violations.append(f"interaction {rec.id}: followup before any acknowledgement")
            return self._error(404, 10015, "Unknown Webhook")
        body = body or {}
        rejected = self._reject(self._problems("POST", template, body,
                                               limits.check_message(body, f"followup for interaction {rec.id}")))
        if rejected:
            return rejected
        if rec.original_pending and not rec.original_deleted and rec.original_id is not None:
            # Discord: the first followup after a deferred response edits the "thinking" message, keeping its flags.
            msg = self.messages[rec.original_id]
            msg.update({k: v for k, v in body.items() if k in ("content", "embeds", "components")})
            msg["embeds"] = [{"type": "rich", **e} for e in body.get("embeds") or []]
            msg["flags"] &= ~(1 << 7)
            rec.original_pending = False
        else:
            msg = self._message(body, webhook=True, interaction=rec,
                                flags=EPHEMERAL if int(body.get("flags") or 0) & EPHEMERAL else 0)
        rec.followups.append(msg)
        rec.events.append("followup")
        return self._json(msg)

    def _webhook_message(self, method: str, token: str, which: str, body: Any, template: str) -> web.Response:
        rec = self._by_token.get(token)
        if rec is None:
            return self._error(404, 10015, "Unknown Webhook")
        mid = rec.original_id if which == "@original" else int(which)
        if mid is None or mid not in self.messages or (which == "@original" and rec.original_deleted):
            return self._error(404, 10008, "Unknown Message")
        msg = self.messages[mid]
        if method == "GET":
            return self._json(msg)
        if method == "DELETE":
            if which == "@original":
                rec.original_deleted = True
                rec.original_pending = False
            rec.events.append(f"delete:{which}")
            del self.messages[mid]
            return web.Response(status=204)
        if method == "PATCH":
            body = body or {}
            rejected = self._reject(self._problems(method, template, body,
                                                   limits.check_message(body, f"edit for interaction {rec.id}")))
            if rejected:
                return rejected
            msg.update({k: v for k, v in body.items() if k in ("content", "embeds", "components")})
            if which == "@original" and rec.original_pending:
                msg["flags"] &= ~(1 << 7)
                rec.original_pending = False
                rec.followups.append(msg)
            rec.events.append(f"edit:{which}")
            return self._json(msg)
        return self._error(405, 0, "405: Method Not Allowed")
