"""Settings from the environment (and `.env`), built in `main()`, never at import time."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent


def _default_dir(name: str) -> Path:
    return REPO_ROOT / name


class Settings(BaseSettings):
    """Every setting Keyholder reads; see README "Configuration" and `.env.example`."""

    model_config = SettingsConfigDict(env_prefix="KEYHOLDER_", env_file=".env", extra="ignore")

    knowledge_dir: Path = Field(default_factory=lambda: _default_dir("knowledge"))
    index_dir: Path = Field(default_factory=lambda: _default_dir("index"))
    data_dir: Path = Field(default_factory=lambda: _default_dir("data"))
    log_level: str = "INFO"
    # Privacy: question text is never logged or stored unless the operator turns this on.
    log_questions: bool = False
    store_feedback_questions: bool = False

    # Retrieval and answers.
    top_k: int = Field(default=6, ge=1, le=20)
    max_sentences: int = Field(default=5, ge=1, le=10)

    # Discord.
    discord_token: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("DISCORD_TOKEN", "KEYHOLDER_DISCORD_TOKEN")
    )
    discord_token_file: Path | None = Field(
        default=None, validation_alias=AliasChoices("DISCORD_TOKEN_FILE", "KEYHOLDER_DISCORD_TOKEN_FILE")
    )
    discord_api_base: str | None = Field(
        default=None, validation_alias=AliasChoices("DISCORD_API_BASE", "KEYHOLDER_DISCORD_API_BASE")
    )
    discord_gateway_url: str | None = Field(
        default=None, validation_alias=AliasChoices("DISCORD_GATEWAY_URL", "KEYHOLDER_DISCORD_GATEWAY_URL")
    )
    dev_guild: int | None = None
    shard_count: int | None = Field(default=None, ge=1)
    shard_ids: list[int] | None = None
    health_port: int | None = Field(default=None, ge=0, le=65535)
    health_host: str = "0.0.0.0"
    rate_limit_count: int = Field(default=5, ge=1)
    rate_limit_seconds: float = Field(default=60.0, gt=0)
    max_concurrency: int = Field(default=4, ge=1)
    uid_salt: SecretStr | None = None

    # Optional: answers written by an LLM from the retrieved sentences, each sentence checked (off by default).
    llm_url: str | None = None  # an OpenAI-compatible server, e.g. http://ollama:11434/v1
    llm_model: str | None = None
    llm_api_key: SecretStr | None = None
    llm_api_key_file: Path | None = None
    llm_timeout_s: float = Field(default=20.0, gt=0, le=600)
    llm_concurrency: int = Field(default=1, ge=1, le=64)  # requests in flight to the LLM, apart from max_concurrency

    @model_validator(mode="after")
    def _llm(self) -> Settings:
        if self.llm_url and not self.llm_model:
            raise ValueError("KEYHOLDER_LLM_URL needs KEYHOLDER_LLM_MODEL (the model name the server knows)")
        if self.llm_url and not re.match(r"https?://[^/\s]+", self.llm_url):
            raise ValueError(f"KEYHOLDER_LLM_URL must be an http(s) URL, got {self.llm_url!r}")
        return self

    def llm_key(self) -> str | None:
        """The LLM server's API key from KEYHOLDER_LLM_API_KEY, or read from KEYHOLDER_LLM_API_KEY_FILE."""
        try:
            return read_secret(self.llm_api_key, self.llm_api_key_file)
        except OSError as exc:
            raise ValueError(f"cannot read KEYHOLDER_LLM_API_KEY_FILE {self.llm_api_key_file}: {exc}") from exc

    @model_validator(mode="after")
    def _shards(self) -> Settings:
        if self.shard_ids is not None:
            if self.shard_count is None:
                raise ValueError("KEYHOLDER_SHARD_IDS needs KEYHOLDER_SHARD_COUNT")
            bad = [i for i in self.shard_ids if not 0 <= i < self.shard_count]
            if bad:
                raise ValueError(f"shard ids {bad} are outside 0..{self.shard_count - 1}")
        return self

    @field_validator("log_level")
    @classmethod
    def _level(cls, v: str) -> str:
        v = v.upper()
        if v not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
        return v

    def token(self) -> str | None:
        """The Discord token from DISCORD_TOKEN, or read from DISCORD_TOKEN_FILE."""
        try:
            return read_secret(self.discord_token, self.discord_token_file)
        except OSError:
            return None


def read_secret(value: SecretStr | None, path: Path | None) -> str | None:
    """A secret given directly, else read from a file (stripped); None when neither is set or both are empty."""
    if value is not None and value.get_secret_value().strip():
        return value.get_secret_value().strip()
    if path is not None:
        return path.read_text(encoding="utf-8").strip() or None
    return None
