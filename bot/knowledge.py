"""Load and validate the knowledge base: Markdown files with YAML front matter."""

from __future__ import annotations

import hashlib
import logging
import re
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import yaml
from pydantic import (
    AnyHttpUrl,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)

from bot.claims import ParsedBody, parse_body
from bot.models import Source as PublicSource

log = logging.getLogger(__name__)

Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$", max_length=80)]
NonEmpty = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
# A source date may be a year, a year-month or a full ISO date: old reports rarely carry a day.
PartialDate = Annotated[str, StringConstraints(pattern=r"^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?$")]


class Kind(StrEnum):
    """What a document is about."""

    topic = "topic"
    case = "case"
    statute = "statute"
    report = "report"
    technology = "technology"
    policy = "policy"


class Status(StrEnum):
    """Where a case or proceeding stands."""

    decided = "decided"
    vacated = "vacated"
    moot = "moot"
    dropped = "dropped"
    pending = "pending"
    withdrawn = "withdrawn"


class Source(BaseModel):
    """A public source that a document's facts can be traced to."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Slug  # what `[^id]` markers in the body refer to; unique within the file
    title: NonEmpty
    url: AnyHttpUrl
    publisher: NonEmpty
    date: PartialDate | None = None


class KeyDate(BaseModel):
    """One dated event in a case."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    date: date
    event: NonEmpty


class FrontMatter(BaseModel):
    """The validated YAML header of a knowledge file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Slug
    title: NonEmpty
    kind: Kind
    jurisdiction: NonEmpty
    as_of: date
    sources: list[Source] = Field(min_length=1)
    tags: list[NonEmpty] = Field(default_factory=list)
    summary: NonEmpty
    fast_moving: bool = False
    related: list[Slug] = Field(default_factory=list)
    aliases: list[NonEmpty] = Field(default_factory=list)
    # Case fields: required when kind is "case".
    court: NonEmpty | None = None
    citation: NonEmpty | None = None
    docket: NonEmpty | None = None
    decided: date | None = None
    key_dates: list[KeyDate] = Field(default_factory=list)
    status: Status | None = None
    parties: list[NonEmpty] = Field(default_factory=list)
    outcome: NonEmpty | None = None
    significance: NonEmpty | None = None

    def first_date(self) -> date | None:
        """The earliest key date or decision date (when a case began), or None."""
        dates = [k.date for k in self.key_dates] + ([self.decided] if self.decided else [])
        return min(dates) if dates else None

    def public_sources(self) -> tuple[PublicSource, ...]:
        """The sources as every presentation layer shows them."""
        return tuple(PublicSource(s.title, str(s.url), s.publisher, s.date) for s in self.sources)

    def public_source(self, source_id: str) -> PublicSource:
        """One source, by its id, as every presentation layer shows it."""
        s = next(x for x in self.sources if x.id == source_id)
        return PublicSource(s.title, str(s.url), s.publisher, s.date)

    @model_validator(mode="after")
    def _unique_source_ids(self) -> FrontMatter:
        seen: set[str] = set()
        dupes = [s.id for s in self.sources if s.id in seen or seen.add(s.id)]  # type: ignore[func-returns-value]
        if dupes:
            raise ValueError(f"source id '{dupes[0]}' is used by more than one source")
        return self

    @model_validator(mode="after")
    def _case_fields(self) -> FrontMatter:
        if self.kind is Kind.case:
            missing = [
                name
                for name in ("court", "status", "outcome", "significance")
                if getattr(self, name) is None
            ]
            if not (self.citation or self.docket):
                missing.append("citation or docket")
            if not (self.decided or self.key_dates):
                missing.append("decided or key_dates")
            if not self.parties:
                missing.append("parties")
            if missing:
                raise ValueError("a case needs " + ", ".join(missing))
        return self


class Document(BaseModel):
    """One knowledge file: its front matter, its Markdown body and a hash of both."""

    model_config = ConfigDict(frozen=True)

    meta: FrontMatter
    body: str
    path: str
    content_hash: str
    body_line: int = 1  # the file line the body starts on (for messages about markers)

    def claims(self) -> ParsedBody:
        """The body as sourced sentences and quick answers (markers resolved)."""
        return parse_body(self.body, [s.id for s in self.meta.sources], self.body_line)

    @property
    def id(self) -> str:
        """The document's slug."""
        return self.meta.id


class KnowledgeError(Exception):
    """One or more knowledge files are invalid; `problems` lists every one."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__(
            f"{len(problems)} problem(s) in the knowledge base:\n" + "\n".join(f"  - {p}" for p in problems)
        )


class _Loader(yaml.SafeLoader):
    """SafeLoader that leaves dates as strings, so pydantic reports a bad date by field name."""


_Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:timestamp"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}

_FRONT = re.compile(r"\A---\s*\n(.*?)\n---\s*\n(.*)\Z", re.S)


def _field_path(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(x) for x in loc) or "(front matter)"


def parse_file(path: Path) -> tuple[Document | None, list[str]]:
    """Parse one knowledge file; return the document or the problems found in it."""
    name = path.name
    try:
        raw = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, [f"{name}: cannot be read ({exc})"]
    m = _FRONT.match(raw)
    if not m:
        return None, [f"{name}: no YAML front matter (the file must start with a line '---')"]
    try:
        data = yaml.load(m.group(1), Loader=_Loader)
    except yaml.YAMLError as exc:
        return None, [f"{name}: front matter is not valid YAML ({str(exc).splitlines()[0]})"]
    if not isinstance(data, dict):
        return None, [f"{name}: front matter must be a mapping of fields"]
    problems: list[str] = []
    meta: FrontMatter | None = None
    try:
        meta = FrontMatter.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            problems.append(f"{name}: field '{_field_path(err['loc'])}': {err['msg']}")
    raw_body = m.group(2)
    body_line = raw[: m.start(2)].count("\n") + 1 + (len(raw_body) - len(raw_body.lstrip("\n")))
    body = raw_body.strip()
    if len(re.sub(r"[#\s]", "", body)) < 40:
        problems.append(f"{name}: field 'body': the document has no text below its front matter")
    if meta is not None and path.stem != meta.id:
        problems.append(f"{name}: field 'id': '{meta.id}' must match the file name '{path.stem}'")
    if meta is not None:
        problems += _sourcing_problems(name, body, meta, body_line)
    if problems or meta is None:
        return None, problems
    digest = hashlib.sha256(raw.encode("utf-8")).hexdigest()
    return Document(meta=meta, body=body, path=str(path), content_hash=digest, body_line=body_line), []


def _sourcing_problems(name: str, body: str, meta: FrontMatter, body_line: int) -> list[str]:
    """Unsourced sentences, unknown marker ids and listed sources no marker uses, with file and line."""
    parsed = parse_body(body, [s.id for s in meta.sources], body_line)
    problems = [f"{name}: {p}" for p in parsed.problems]
    for i, src in enumerate(meta.sources):
        if src.id not in parsed.used:
            problems.append(f"{name}: field 'sources.{i}.id': source '{src.id}' is listed but no [^{src.id}] marker uses it")
    return problems


def load_knowledge(directory: Path) -> list[Document]:
    """Load every `*.md` file under `directory` (README.md excepted), or raise KnowledgeError listing all problems."""
    if not directory.is_dir():
        raise KnowledgeError([f"{directory}: knowledge directory not found"])
    files = sorted(p for p in directory.rglob("*.md") if p.name.lower() != "readme.md")
    docs: list[Document] = []
    problems: list[str] = []
    for path in files:
        doc, errs = parse_file(path)
        problems.extend(errs)
        if doc is not None:
            docs.append(doc)
    seen: dict[str, str] = {}
    for doc in docs:
        name = Path(doc.path).name
        if doc.id in seen:
            problems.append(f"{name}: field 'id': duplicate id '{doc.id}' (also in {seen[doc.id]})")
        seen.setdefault(doc.id, name)
    ids = set(seen)
    for doc in docs:
        for ref in doc.meta.related:
            if ref not in ids:
                problems.append(f"{Path(doc.path).name}: field 'related': unknown document id '{ref}'")
        for ref in re.findall(r"\]\(kb:([a-z0-9-]+)\)", doc.body):
            if ref not in ids:
                problems.append(f"{Path(doc.path).name}: field 'body': link to unknown document id '{ref}'")
    if not files:
        problems.append(f"{directory}: no knowledge files (*.md) found")
    if problems:
        raise KnowledgeError(problems)
    return docs
