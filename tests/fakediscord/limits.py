"""Discord's documented limits, checked on every body a bot sends; each problem is one readable string."""

from __future__ import annotations

import re
from typing import Any

CONTENT = 2000
EMBEDS = 10
EMBED_TITLE = 256
EMBED_DESCRIPTION = 4096
EMBED_FIELDS = 25
FIELD_NAME = 256
FIELD_VALUE = 1024
FOOTER = 2048
AUTHOR = 256
EMBED_TOTAL = 6000
ACTION_ROWS = 5
ROW_ITEMS = 5
BUTTON_LABEL = 80
CUSTOM_ID = 100
CHOICES = 25
CHOICE_NAME = 100
CHOICE_VALUE = 100
COMMAND_NAME = re.compile(r"^[-_\w]{1,32}$")
COMMAND_DESCRIPTION = 100
COMMAND_OPTIONS = 25
COMMAND_TOTAL = 4000

_MASS = re.compile(r"@(everyone|here)\b")
_USER = re.compile(r"<@!?(\d+)>")
_ROLE = re.compile(r"<@&(\d+)>")


def embed_length(embed: dict[str, Any]) -> int:
    """Characters that count toward the 6000 total: title, description, field names and values, footer, author."""
    n = len(embed.get("title") or "") + len(embed.get("description") or "")
    for f in embed.get("fields") or []:
        n += len(f.get("name") or "") + len(f.get("value") or "")
    n += len((embed.get("footer") or {}).get("text") or "")
    n += len((embed.get("author") or {}).get("name") or "")
    return n


def check_embeds(embeds: list[dict[str, Any]], where: str) -> list[str]:
    """Every embed limit, and the per-message total."""
    problems = []
    if len(embeds) > EMBEDS:
        problems.append(f"{where}: {len(embeds)} embeds (max {EMBEDS})")
    for i, e in enumerate(embeds):
        w = f"{where}: embed {i}"
        if len(e.get("title") or "") > EMBED_TITLE:
            problems.append(f"{w}: title {len(e['title'])} chars (max {EMBED_TITLE})")
        if len(e.get("description") or "") > EMBED_DESCRIPTION:
            problems.append(f"{w}: description {len(e['description'])} chars (max {EMBED_DESCRIPTION})")
        fields = e.get("fields") or []
        if len(fields) > EMBED_FIELDS:
            problems.append(f"{w}: {len(fields)} fields (max {EMBED_FIELDS})")
        for j, f in enumerate(fields):
            if not (f.get("name") or "").strip() or len(f["name"]) > FIELD_NAME:
                problems.append(f"{w}: field {j} name is empty or longer than {FIELD_NAME}")
            if not (f.get("value") or "").strip() or len(f["value"]) > FIELD_VALUE:
                problems.append(f"{w}: field {j} value is empty or longer than {FIELD_VALUE} ({len(f.get('value') or '')})")
        if len((e.get("footer") or {}).get("text") or "") > FOOTER:
            problems.append(f"{w}: footer longer than {FOOTER}")
        if len((e.get("author") or {}).get("name") or "") > AUTHOR:
            problems.append(f"{w}: author name longer than {AUTHOR}")
    total = sum(embed_length(e) for e in embeds)
    if total > EMBED_TOTAL:
        problems.append(f"{where}: embeds total {total} chars (max {EMBED_TOTAL})")
    return problems


def check_components(rows: list[dict[str, Any]], where: str) -> list[str]:
    """Action rows, buttons, labels and custom ids."""
    problems = []
    if len(rows) > ACTION_ROWS:
        problems.append(f"{where}: {len(rows)} action rows (max {ACTION_ROWS})")
    seen: set[str] = set()
    for i, row in enumerate(rows):
        items = row.get("components") or []
        if row.get("type") != 1:
            problems.append(f"{where}: top-level component {i} is not an action row")
        if not 1 <= len(items) <= ROW_ITEMS:
            problems.append(f"{where}: action row {i} has {len(items)} items (1..{ROW_ITEMS})")
        for item in items:
            if len(item.get("label") or "") > BUTTON_LABEL:
                problems.append(f"{where}: button label longer than {BUTTON_LABEL}")
            cid = item.get("custom_id")
            if cid is not None:
                if len(cid) > CUSTOM_ID:
                    problems.append(f"{where}: custom_id longer than {CUSTOM_ID}")
                if cid in seen:
                    problems.append(f"{where}: duplicate custom_id {cid!r}")
                seen.add(cid)
    return problems


def pings(body: dict[str, Any], is_reply: bool = False) -> list[str]:
    """Who this message would notify, given its content and allowed_mentions (Discord's rules)."""
    content = body.get("content") or ""
    allowed = body.get("allowed_mentions")
    parse = {"everyone", "users", "roles"} if allowed is None else set(allowed.get("parse") or [])
    users = set() if allowed is None else {str(u) for u in allowed.get("users") or []}
    roles = set() if allowed is None else {str(r) for r in allowed.get("roles") or []}
    out = []
    if _MASS.search(content) and "everyone" in parse:
        out.append("@everyone/@here")
    for uid in _USER.findall(content):
        if "users" in parse or uid in users:
            out.append(f"user {uid}")
    for rid in _ROLE.findall(content):
        if "roles" in parse or rid in roles:
            out.append(f"role {rid}")
    if is_reply and (allowed is None or allowed.get("replied_user")):
        out.append("the replied-to author")
    return out


def check_message(body: dict[str, Any], where: str, is_reply: bool = False) -> list[str]:
    """A message body: content, embeds, components, and that it pings nobody."""
    problems = []
    content = body.get("content")
    if content is not None and len(content) > CONTENT:
        problems.append(f"{where}: content {len(content)} chars (max {CONTENT})")
    problems += check_embeds(body.get("embeds") or [], where)
    problems += check_components(body.get("components") or [], where)
    who = pings(body, is_reply)
    if who:
        problems.append(f"{where}: would ping {', '.join(who)}")
    return problems


def check_choices(choices: list[dict[str, Any]], where: str) -> list[str]:
    """Autocomplete results."""
    problems = []
    if len(choices) > CHOICES:
        problems.append(f"{where}: {len(choices)} choices (max {CHOICES})")
    for c in choices:
        if not 1 <= len(c.get("name") or "") <= CHOICE_NAME:
            problems.append(f"{where}: choice name {c.get('name')!r} not 1..{CHOICE_NAME} chars")
        if isinstance(c.get("value"), str) and len(c["value"]) > CHOICE_VALUE:
            problems.append(f"{where}: choice value longer than {CHOICE_VALUE}")
    return problems


def check_commands(commands: list[dict[str, Any]], where: str) -> list[str]:
    """Slash command definitions: names, descriptions, options, total size."""
    problems = []
    for cmd in commands:
        name = cmd.get("name", "")
        w = f"{where}: /{name}"
        if not COMMAND_NAME.match(name) or name != name.lower():
            problems.append(f"{w}: invalid name")
        if cmd.get("type", 1) == 1 and not 1 <= len(cmd.get("description") or "") <= COMMAND_DESCRIPTION:
            problems.append(f"{w}: description must be 1..{COMMAND_DESCRIPTION} chars ({len(cmd.get('description') or '')})")
        options = cmd.get("options") or []
        if len(options) > COMMAND_OPTIONS:
            problems.append(f"{w}: {len(options)} options (max {COMMAND_OPTIONS})")
        total = len(name) + len(cmd.get("description") or "")
        for opt in options:
            total += len(opt.get("name", "")) + len(opt.get("description") or "")
            if not COMMAND_NAME.match(opt.get("name", "")):
                problems.append(f"{w}: option {opt.get('name')!r} has an invalid name")
            if not 1 <= len(opt.get("description") or "") <= COMMAND_DESCRIPTION:
                problems.append(f"{w}: option {opt.get('name')!r} description must be 1..{COMMAND_DESCRIPTION} chars")
        if total > COMMAND_TOTAL:
            problems.append(f"{w}: {total} characters in total (max {COMMAND_TOTAL})")
    return problems
