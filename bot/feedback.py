"""👍/👎 feedback on answers, in SQLite under the data dir; users appear only as a salted hash."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import os
import secrets
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bot.policy import redact_contact

log = logging.getLogger(__name__)

SALT_FILE = "uid-salt"
DB_FILE = "feedback.sqlite3"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    answer_id  TEXT NOT NULL,
    user_hash  TEXT NOT NULL,
    vote       INTEGER NOT NULL CHECK (vote IN (-1, 1)),
    doc_ids    TEXT NOT NULL DEFAULT '',
    declined   INTEGER NOT NULL DEFAULT 0,
    question   TEXT,
    created_at TEXT NOT NULL,
    PRIMARY KEY (answer_id, user_hash)
)
"""


@dataclass(frozen=True)
class Vote:
    """One stored vote (what `FeedbackStore.votes` returns)."""

    answer_id: str
    user_hash: str
    vote: int
    doc_ids: tuple[str, ...]
    declined: bool
    question: str | None
    created_at: str


def load_or_create_salt(data_dir: Path) -> bytes:
    """The random salt kept in the data dir (created once, readable only by the bot's user)."""
    path = data_dir / SALT_FILE
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        value = path.read_text(encoding="ascii").strip()
        if value:
            return value.encode("ascii")
        path.unlink()
        return load_or_create_salt(data_dir)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(secrets.token_hex(32) + "\n")
    return path.read_text(encoding="ascii").strip().encode("ascii")


class UserHasher:
    """HMAC-SHA256 of a Discord user id with a secret salt: the only form in which a user is ever stored."""

    def __init__(self, salt: bytes):
        if not salt:
            raise ValueError("the user-id salt must not be empty")
        self._salt = salt

    @classmethod
    def from_settings(cls, uid_salt: str | None, data_dir: Path) -> UserHasher:
        """Use KEYHOLDER_UID_SALT when set, else a random salt generated once in the data dir."""
        return cls(uid_salt.encode("utf-8") if uid_salt else load_or_create_salt(data_dir))

    def __call__(self, user_id: int) -> str:
        """The salted hash of `user_id` (hex)."""
        return hmac.new(self._salt, str(int(user_id)).encode("ascii"), hashlib.sha256).hexdigest()


class FeedbackStore:
    """Stores one vote per (answer, user); a second click changes the vote. Thread-safe; async wrappers run off-loop."""

    def __init__(self, data_dir: Path, hasher: UserHasher, store_questions: bool = False):
        self.path = data_dir / DB_FILE
        self.hasher = hasher
        self.store_questions = store_questions
        self._lock = threading.Lock()
        data_dir.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(_SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=10)
        try:
            with db:  # commit on success, roll back on error
                yield db
        finally:
            db.close()

    def record(self, answer_id: str, user_id: int, vote: int, doc_ids: Sequence[str] = (),
               declined: bool = False, question: str | None = None) -> bool:
        """Store a vote (+1/-1); returns True when it replaced an earlier vote by the same user on the same answer."""
        if vote not in (-1, 1):
            raise ValueError("vote must be +1 or -1")
        stored_question = redact_contact(question) if (self.store_questions and question) else None
        row = (answer_id, self.hasher(user_id), vote, ",".join(doc_ids), int(declined), stored_question,
               datetime.now(UTC).isoformat(timespec="seconds"))
        with self._lock, self._connect() as db:
            existed = db.execute("SELECT 1 FROM feedback WHERE answer_id=? AND user_hash=?", row[:2]).fetchone()
            db.execute(
                "INSERT INTO feedback (answer_id, user_hash, vote, doc_ids, declined, question, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (answer_id, user_hash) DO UPDATE SET "
                "vote=excluded.vote, created_at=excluded.created_at",
                row,
            )
        return existed is not None

    async def arecord(self, answer_id: str, user_id: int, vote: int, doc_ids: Sequence[str] = (),
                      declined: bool = False, question: str | None = None) -> bool:
        """`record` in a worker thread, so disk I/O never blocks the event loop."""
        return await asyncio.to_thread(self.record, answer_id, user_id, vote, doc_ids, declined, question)

    def votes(self) -> list[Vote]:
        """Every stored vote, oldest first."""
        with self._lock, self._connect() as db:
            rows = db.execute(
                "SELECT answer_id, user_hash, vote, doc_ids, declined, question, created_at FROM feedback "
                "ORDER BY created_at, rowid"
            ).fetchall()
        return [Vote(r[0], r[1], r[2], tuple(x for x in r[3].split(",") if x), bool(r[4]), r[5], r[6]) for r in rows]

    def totals(self) -> dict[str, int]:
        """Counts of 👍 and 👎."""
        with self._lock, self._connect() as db:
            up, down = db.execute(
                "SELECT COALESCE(SUM(vote = 1), 0), COALESCE(SUM(vote = -1), 0) FROM feedback"
            ).fetchone()
        return {"up": int(up), "down": int(down)}
