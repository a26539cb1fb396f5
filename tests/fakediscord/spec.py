"""Validate request bodies against Discord's OpenAPI spec.

The repository carries the part of the spec the fake serves (`openapi/openapi-subset.json`, MIT, licence beside
it); `scripts/vendor-discord-spec` regenerates it from the full spec. Routing does not depend on it (`routes.py`).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

SPEC_PATH = Path(__file__).resolve().parent / "openapi" / "openapi-subset.json"


def _escape(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


class OpenAPISpec:
    """Route matching and request-body validation from the spec."""

    def __init__(self, path: Path = SPEC_PATH):
        import jsonschema

        self.path = path
        self.doc: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        self._jsonschema = jsonschema

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


def load_spec() -> OpenAPISpec:
    """The vendored spec subset (always in the repository; a missing file is an error, not a skip)."""
    return OpenAPISpec()
