"""Optional: an answer written by a local LLM from the retrieved sentences, every sentence checked.

Off unless KEYHOLDER_LLM_URL is set; nothing on the extractive path imports this module. The model sees the
question (in the user turn only) and up to eight numbered, marker-free sentences from the knowledge base: the
extractive answer's own sentences first, then the other sentences of the top passages. Each sentence it writes
must end with the numbers of the sentences it uses. bot/checker.py then tests each one against the sentences it
cites; a sentence that fails is dropped and never shown. When the first sentence fails, fewer than two survive,
the server errors, answers nonsense or takes longer than the time budget, the extractive answer stands.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from bot.answer import Claim
from bot.checker import Checker, Verdict
from bot.models import Answer
from bot.policy import has_mention
from bot.settings import Settings
from bot.text import split_sentences

log = logging.getLogger(__name__)

MAX_GIVEN = 8
MAX_TOKENS = 220
MIN_KEPT = 2
SYSTEM_PROMPT = (
    "You answer questions about encryption and government or legal demands for user data, using only the "
    "numbered source sentences you are given. Never add a fact, number, date or name they do not state. "
    "Write two or three short sentences; the first one answers the question directly. Put the number of the "
    "source sentence you used at the end of every sentence, in square brackets, for example: "
    "\"The court denied the order [2].\" No lists, no headings, no links."
)

_CITES = re.compile(r"\s*((?:\[\s*\d+(?:\s*,\s*\d+)*\s*\]\s*)+)")
_NUMS = re.compile(r"\d+")
_UNSAFE = re.compile(r"https?://|www\.|\]\(|[<>`*#|]|\n")


@dataclass(frozen=True)
class Given:
    """A sentence handed to the model as `[n]`, with the sources that state it."""

    n: int
    text: str
    doc_id: str
    sources: tuple[tuple[str, str], ...]  # (document id, source id)


@dataclass(frozen=True)
class Written:
    """One sentence the model wrote, its citation markers removed, and the numbers it cited."""

    text: str
    cites: tuple[int, ...]


@dataclass
class Outcome:
    """What one generation attempt did: the answer the user gets and the figures `eval --llm` reports."""

    answer: Answer
    generated: int = 0
    kept: int = 0
    fallback: str | None = None  # why the extractive answer stands, or None when the written one is used
    latency_ms: float = 0.0
    verdicts: list[tuple[Written, Verdict]] = field(default_factory=list)

    @property
    def dropped(self) -> int:
        """Written sentences that failed the checker."""
        return self.generated - self.kept


def given_sentences(answer: Answer, limit: int = MAX_GIVEN) -> list[Given]:
    """The sentences the model may use: the extractive answer's, then the rest of the top passages'."""
    pairs = {c.n: (c.doc_id, c.source_id) for c in answer.citations}
    out: list[Given] = []
    seen: set[str] = set()

    def add(text: str, doc_id: str, sources: tuple[tuple[str, str], ...]) -> None:
        key = " ".join(text.lower().split())
        if key not in seen and sources and len(out) < limit:
            seen.add(key)
            out.append(Given(len(out) + 1, text, doc_id, sources))

    for s in answer.sentences:
        add(s.text, s.doc_id, tuple(pairs[n] for n in s.cites if n in pairs))
    for hit in answer.hits[:4]:
        p = hit.passage
        for text, ids in zip(p.sentences, p.sources, strict=False):
            add(text, p.doc_id, tuple((p.doc_id, i) for i in ids))
    return out


def user_turn(question: str, given: Sequence[Given]) -> str:
    """The numbered sources and the question (the only place the question goes)."""
    sources = "\n".join(f"[{g.n}] {g.text}" for g in given)
    return f"Source sentences:\n{sources}\n\nQuestion: {question}"


def messages(question: str, given: Sequence[Given]) -> list[dict[str, str]]:
    """The chat messages: instructions in the system turn, the sources and the question in the user turn."""
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": user_turn(question, given)}]


def parse(completion: str) -> list[Written]:
    """The completion as sentences with the numbers each cites.

    A marker goes with the sentence it follows ("… in 2016. [2] The court …"), except at the start of a line,
    where a small model copying the source list's layout ("[2] The court …") means the sentence after it.
    """
    out: list[Written] = []
    for line in completion.splitlines():
        line = " ".join(line.split())
        opening = _CITES.match(line)
        pending = tuple(int(n) for n in _NUMS.findall(opening.group(1))) if opening and line[opening.end():] else ()
        if pending and opening:
            line = line[opening.end():]
        for raw in split_sentences(line):
            lead = _CITES.match(raw)
            if lead and out and not pending:  # "…messages. [2] The court…": the [2] belongs to the sentence before
                last = out[-1]
                out[-1] = Written(last.text, tuple(dict.fromkeys(last.cites + _numbers(lead.group(1)))))
                raw = raw[lead.end():]
            cites = pending + tuple(n for m in _CITES.finditer(raw) for n in _numbers(m.group(1)))
            pending = ()
            text = " ".join(_CITES.sub(" ", raw).split()).strip()
            text = re.sub(r"\s+([.,;:!?])", r"\1", text)
            if len(text) > 1:
                out.append(Written(text, tuple(dict.fromkeys(cites))))
    return out


def _numbers(group: str) -> tuple[int, ...]:
    return tuple(int(n) for n in _NUMS.findall(group))


class Writer:
    """Calls the LLM server (any OpenAI-compatible /v1/chat/completions) and keeps only checked sentences."""

    def __init__(self, settings: Settings, checker: Checker,
                 cite: Callable[[Answer, list[Claim], str], Answer]):
        import openai  # only when an LLM is configured

        self.model = str(settings.llm_model)
        self.timeout_s = settings.llm_timeout_s
        self.checker = checker
        self.cite = cite
        self._sem = asyncio.Semaphore(settings.llm_concurrency)
        self._client = openai.AsyncOpenAI(base_url=base_url(str(settings.llm_url)),
                                          api_key=settings.llm_key() or "not-needed",
                                          timeout=settings.llm_timeout_s, max_retries=0)

    async def complete(self, question: str, given: Sequence[Given]) -> str:
        """One chat completion (temperature 0); raises on any server or protocol error."""
        response = await self._client.chat.completions.create(
            model=self.model, messages=messages(question, given),  # type: ignore[arg-type]
            temperature=0, max_tokens=MAX_TOKENS)
        choices = response.choices or []
        content = choices[0].message.content if choices and choices[0].message else None
        if not isinstance(content, str):
            raise ValueError("the completion has no text")
        return content

    async def improve(self, question: str, answer: Answer) -> Outcome:
        """The written answer when it passes, else the extractive `answer`; never raises."""
        started = time.perf_counter()
        outcome = Outcome(answer)
        if answer.declined or not answer.sentences:
            outcome.fallback = "declined"
            return outcome
        given = given_sentences(answer)
        try:
            async with asyncio.timeout(self.timeout_s):
                async with self._sem:
                    completion = await self.complete(question, given)
                written = parse(completion)
                outcome.generated = len(written)
                verdicts = await asyncio.to_thread(self.verdicts, written, given)
        except TimeoutError:
            return self._fallback(outcome, "timeout", started)
        except Exception as exc:  # the server is down, refused, or sent something unusable
            log.warning("LLM step failed (%s); using the extractive answer", type(exc).__name__)
            return self._fallback(outcome, "error", started)
        outcome.verdicts = list(zip(written, verdicts, strict=True))
        kept = [w for w, v in outcome.verdicts if v.supported]
        outcome.kept = len(kept)
        if not written:
            return self._fallback(outcome, "empty", started)
        if not verdicts[0].supported:
            return self._fallback(outcome, "lead failed", started)
        if len(kept) < MIN_KEPT:
            return self._fallback(outcome, "too few kept", started)
        by_n = {g.n: g for g in given}
        claims = []
        for w in kept:
            cited = [by_n[n] for n in w.cites]
            pairs = tuple(dict.fromkeys(p for g in cited for p in g.sources))
            claims.append(Claim(w.text, cited[0].doc_id, pairs))
        outcome.answer = self.cite(answer, claims, self.model)
        outcome.latency_ms = (time.perf_counter() - started) * 1000
        return outcome

    def verdicts(self, written: Sequence[Written], given: Sequence[Given]) -> list[Verdict]:
        """The checker's verdict on each written sentence (blocking: it embeds)."""
        by_n = {g.n: g for g in given}
        items: list[tuple[str, list[str]]] = []
        unsafe: dict[int, Verdict] = {}
        for i, w in enumerate(written):
            if _UNSAFE.search(w.text) or has_mention(w.text):
                unsafe[i] = Verdict(False, "unsafe")
            elif not w.cites or any(n not in by_n for n in w.cites):
                unsafe[i] = Verdict(False, "no citation" if not w.cites else "unknown source")
            items.append((w.text, [by_n[n].text for n in w.cites if n in by_n] if i not in unsafe else []))
        checked = self.checker.check_many([it for i, it in enumerate(items) if i not in unsafe])
        it = iter(checked)
        return [unsafe[i] if i in unsafe else next(it) for i in range(len(written))]

    def _fallback(self, outcome: Outcome, reason: str, started: float) -> Outcome:
        outcome.fallback = reason
        outcome.latency_ms = (time.perf_counter() - started) * 1000
        return outcome


def base_url(url: str) -> str:
    """The client's base URL: 'http://h:11434/v1/chat/completions' and 'http://h:11434' become 'http://h:11434/v1'."""
    u = url.rstrip("/")
    u = re.sub(r"/chat/completions$", "", u)
    return u if re.search(r"/v\d+$", u) else u + "/v1"
