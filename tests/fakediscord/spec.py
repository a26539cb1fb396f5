"""Validate request bodies against Discord's OpenAPI spec (../shared/discord-api-spec/openapi.json), when present."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
SPEC_PATH = REPO_ROOT.parent / "shared" / "discord-api-spec" / "openapi.json"


def _escape(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


class OpenAPISpec:
    """Route matching and request-body validation from the spec."""

    def __init__(self, path: Path = SPEC_PATH):
        import jsonschema

        self.path = path
        self.doc: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        self._jsonschema = jsonschema
        self._routes: list[tuple[re.Pattern[str], str]] = []
        for template in self.doc["paths"]:
            pattern = re.sub(r"\\\{[^}]+\\\}", r"[^/]+", re.escape(template))
            self._routes.append((re.compile(f"^{pattern}$"), template))
        # Literal segments win over parameters ('/messages/@original' over '/messages/{message_id}').
        self._routes.sort(key=lambda r: r[1].count("{"))

    def template(self, path: str) -> str | None:
        """The spec's path template that `path` (without the /api/v10 prefix) matches."""
        for pattern, template in self._routes:
            if pattern.match(path):
                return template
        return None

    @cache  # noqa: B019 - one spec per test session
    def _validator(self, template: str, method: str) -> Any:
        op = self.doc["paths"].get(template, {}).get(method.lower())
        if not op or "requestBody" not in op:
            return None
        content = op["requestBody"]["content"]
        if "application/json" not in content:
            return None
        pointer = "#/paths/" + _escape(template) + "/" + method.lower() + "/requestBody/content/application~1json/schema"
        root = {**self.doc, "$ref": pointer}
        cls = self._jsonschema.validators.validator_for({"$schema": "https://json-schema.org/draft/2020-12/schema"})
        return cls(root)

    def validate(self, method: str, template: str, body: Any) -> list[str]:
        """Problems with `body` for this operation (empty when valid or when the spec has no JSON body for it)."""
        validator = self._validator(template, method)
        if validator is None:
            return []
        problems = []
        for err in validator.iter_errors(_snowflakes_as_strings(body)):
            best = _deepest(err)
            where = "/".join(str(p) for p in best.absolute_path) or "(body)"
            problems.append(f"openapi: {method} {template}: {where}: {best.message[:300]}")
        return problems


def _snowflakes_as_strings(value: Any, key: str = "") -> Any:
    """Discord accepts integer snowflakes (discord.py sends them) though the spec types them as strings."""
    if isinstance(value, dict):
        return {k: _snowflakes_as_strings(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_snowflakes_as_strings(v, key) for v in value]
    if isinstance(value, int) and not isinstance(value, bool) and (key == "id" or key.endswith("_id")
                                                                   or key in ("users", "roles")):
        return str(value)
    return value


def _deepest(err: Any) -> Any:
    """The most specific error under an anyOf/oneOf (the branch that got furthest)."""
    best = err
    for sub in err.context or ():
        candidate = _deepest(sub)
        if len(candidate.absolute_path) > len(best.absolute_path):
            best = candidate
    return best


def load_spec() -> OpenAPISpec | None:
    """The spec, or None when the file is absent (validation is then skipped)."""
    return OpenAPISpec() if SPEC_PATH.is_file() else None
