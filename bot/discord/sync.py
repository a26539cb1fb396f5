"""The command sync rule: sync slash commands only when the tree (or where it goes) changed since the last sync."""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import discord

from bot.settings import Settings

if TYPE_CHECKING:
    from bot.discord.client import KeyholderBot

log = logging.getLogger(__name__)

SYNC_STATE_FILE = "command-sync.json"


def command_guild(settings: Settings) -> discord.Object | None:
    """The development guild commands sync to (KEYHOLDER_DEV_GUILD), or None for global commands."""
    return discord.Object(settings.dev_guild) if settings.dev_guild else None


def command_hash(bot: KeyholderBot) -> str:
    """A hash of the command tree as it would be sent to Discord, and where it goes."""
    guild = command_guild(bot.settings)
    payload = sorted((c.to_dict(bot.tree) for c in bot.tree.get_commands(guild=guild)),
                     key=lambda d: (str(d.get("name")), int(d.get("type", 1))))
    blob = json.dumps({"application_id": bot.application_id, "guild": guild.id if guild else None,
                       "commands": payload}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def state_path(settings: Settings) -> Path:
    """Where the hash of the last synced command tree is kept."""
    return settings.data_dir / SYNC_STATE_FILE


def last_sync_hash(settings: Settings) -> str | None:
    """The hash stored by the last sync, or None."""
    try:
        return str(json.loads(state_path(settings).read_text(encoding="utf-8"))["hash"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


async def sync_commands(bot: KeyholderBot, force: bool = False) -> int | None:
    """Sync the slash commands when the tree changed since the last sync (or when forced); returns the count synced."""
    settings = bot.settings
    digest = command_hash(bot)
    guild = command_guild(settings)
    where = f"guild {guild.id}" if guild else "all guilds (global)"
    if not force and digest == last_sync_hash(settings):
        log.info("slash commands unchanged since the last sync; not syncing")
        return None
    synced = await bot.tree.sync(guild=guild)
    state = {"hash": digest, "guild": guild.id if guild else None, "application_id": bot.application_id,
             "commands": sorted(c.name for c in synced), "synced_at": datetime.now(UTC).isoformat(timespec="seconds")}
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    path = state_path(settings)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)
    log.info("synced %d slash commands to %s", len(synced), where)
    return len(synced)
