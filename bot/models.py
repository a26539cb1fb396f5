"""The types that carry the pipeline: Passage, Hit, Citation, Answer."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.declines import Reason


@dataclass(frozen=True)
class Passage:
    """A retrievable span of one document: a heading and the whole sentences under it."""

    id: str  # "<doc_id>#<n>"
    doc_id: str
    heading: str
    sentences: tuple[str, ...]
    position: int
    sources: tuple[tuple[str, ...], ...] = ()  # per sentence: ids of the front-matter sources that state it

    @property
    def text(self) -> str:
        """The passage as one string, heading first (what gets embedded and indexed)."""
        return f"{self.heading}. " + " ".join(self.sentences) if self.heading else " ".join(self.sentences)


@dataclass(frozen=True)
class QuickAnswer:
    """A curated question (with paraphrases) and its short sourced answer, from a document's Quick answers."""

    id: str  # "<doc_id>?<n>"
    doc_id: str
    questions: tuple[str, ...]
    sentences: tuple[str, ...]
    sources: tuple[tuple[str, ...], ...]  # per sentence: source ids


@dataclass(frozen=True)
class Hit:
    """A passage retrieved for a question, with the scores that ranked it."""

    passage: Passage
    score: float  # fused (reciprocal-rank) score
    dense: float  # cosine similarity of question and passage
    lexical: float  # BM25 score (0 when BM25 did not rank it)
    rank: int  # 1-based rank after fusion


@dataclass(frozen=True)
class Source:
    """A public source as shown to users."""

    title: str
    url: str
    publisher: str
    date: str | None = None


@dataclass(frozen=True)
class Citation:
    """A numbered reference `[n]` in an answer: one source (one URL), the one that states the sentences citing it."""

    n: int
    doc_id: str  # the knowledge document whose marker names this source
    source_id: str  # the source's id in that document's front matter
    source: Source
    doc_title: str
    as_of: str  # ISO date the document's facts were last checked
    fast_moving: bool = False

    @property
    def title(self) -> str:
        """The source's title."""
        return self.source.title

    @property
    def url(self) -> str:
        """The source's link."""
        return self.source.url


@dataclass(frozen=True)
class AnswerSentence:
    """One sentence of an answer, marker-free, with the numbers of the citations that state it."""

    text: str
    doc_id: str
    cites: tuple[int, ...]


@dataclass(frozen=True)
class Answer:
    """What Keyholder says to one question; every presentation layer renders this."""

    question: str
    body: str  # the answer sentences with [n] markers (or the decline message)
    declined: bool
    citations: tuple[Citation, ...] = ()
    notes: tuple[str, ...] = ()  # as-of dates and pointers to related cases
    caveat: str | None = None  # "not legal advice" when the asker describes their own situation
    decline_reason: Reason | None = None  # why it declined (bot/declines.py)
    related_cases: tuple[str, ...] = ()  # case document ids worth a /case
    sentences: tuple[AnswerSentence, ...] = ()
    lead: str = "extract"  # "quick" when the first sentence is a document's curated quick answer
    generated_by: str | None = None  # the LLM that wrote the sentences (each checked), or None when extractive
    hits: tuple[Hit, ...] = field(default=(), compare=False)
