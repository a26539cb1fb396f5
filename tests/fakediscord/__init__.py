"""A fake Discord (REST + gateway) for end-to-end tests of the real discord.py client."""

from tests.fakediscord.server import FakeDiscord, InteractionRecord, snowflake, user

__all__ = ["FakeDiscord", "InteractionRecord", "snowflake", "user"]
