"""Claim-level sources: parse a document body into sentences, each with the source ids that state it.

A marker `[^id]` right after a sentence's closing punctuation names the front-matter source that states
that sentence; it also covers the unmarked sentences before it in the same paragraph. The section
headed "Quick answers" holds curated question/answer pairs (`Q:` lines, then an `A:` paragraph),
sourced like any other paragraph. Nothing in this module knows about embeddings or answers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.text import clean_markdown, split_sentences

MARKER = re.compile(r"\[\^([^\]\s]*)\]")
_MARKER_RUN = re.compile(r"(?:\[\^[^\]\s]*\])+")
# A marker must follow a sentence's closing punctuation, optionally inside quotes or brackets.
_CLOSES = re.compile(r"[.!?][\"'”’)\]]*$")
_HEADING = re.compile(r"^(#{1,6})\s+(.*)$")
_ITEM = re.compile(r"^([-*+]|\d+[.)])\s+")
QUICK_HEADING = "quick answers"


@dataclass(frozen=True)
class Sentence:
    """One marker-free sentence of a document and the ids of the sources that state it."""

    text: str
    sources: tuple[str, ...]
    line: int  # 1-based line in the file


@dataclass
class Block:
    """A paragraph or list item under a heading."""

    heading: str
    line: int
    sentences: list[Sentence] = field(default_factory=list)


@dataclass(frozen=True)
class QuickAnswer:
    """A curated question (with its paraphrases) and its short, sourced answer."""

    questions: tuple[str, ...]
    sentences: tuple[Sentence, ...]
    line: int


@dataclass
class ParsedBody:
    """A body split into sourced blocks and quick answers, with every sourcing problem found."""

    blocks: list[Block]
    quick: list[QuickAnswer]
    problems: list[str]  # "line N: ..." without the file name
    used: set[str]


def _raw_blocks(body: str, first_line: int) -> list[tuple[str, int, str, str]]:
    """(heading, line, kind, text) for each paragraph, list item, Q line and A paragraph."""
    out: list[tuple[str, int, str, str]] = []
    heading = ""
    buf: list[str] = []
    start = 0
    kind = "para"

    def flush() -> None:
        if buf:
            out.append((heading, start, kind, "\n".join(buf)))
            buf.clear()

    for offset, line in enumerate(body.splitlines()):
        n = first_line + offset
        s = line.strip()
        h = _HEADING.match(s)
        quick = heading.lower() == QUICK_HEADING
        if h:
            flush()
            heading = clean_markdown(h.group(2))
        elif not s:
            flush()
        elif quick and re.match(r"^Q:\s*", s):
            flush()
            out.append((heading, n, "q", re.sub(r"^Q:\s*", "", s)))
        elif quick and re.match(r"^A:\s*", s):
            flush()
            kind, start = "a", n
            buf.append(re.sub(r"^A:\s*", "", s))
        elif _ITEM.match(s):
            flush()
            kind, start = "para", n
            buf.append(_ITEM.sub("", s))
            flush()
        else:
            if not buf:
                kind, start = ("stray" if quick else "para"), n
            buf.append(s)
    flush()
    return out


def _sentences(text: str, line: int, known: set[str], problems: list[str], used: set[str]) -> list[Sentence]:
    """Split one paragraph (lines joined by newlines) at its markers; every sentence must be covered."""
    out: list[Sentence] = []

    def line_of(offset: int) -> int:
        return line + text.count("\n", 0, offset)

    def add(segment: str, seg_start: int, ids: tuple[str, ...]) -> None:
        lead = len(segment) - len(segment.lstrip())
        for sent in split_sentences(clean_markdown(segment)):
            n = line_of(seg_start + lead)
            if not ids:
                problems.append(f"line {n}: sentence has no source marker: \"{_short(sent)}\"")
            out.append(Sentence(sent, ids, n))
            # the next sentence starts on the line where this one's last word is (close enough for messages)
            last = sent.split()[-1] if sent.split() else ""
            found = text.find(last, seg_start + lead)
            if found >= 0:
                lead = found + len(last) - seg_start
                while seg_start + lead < len(text) and text[seg_start + lead].isspace():
                    lead += 1

    pos = 0
    for m in _MARKER_RUN.finditer(text):
        segment = text[pos : m.start()]
        ids = tuple(dict.fromkeys(MARKER.findall(m.group(0))))
        n = line_of(m.start())
        if not _CLOSES.search(segment.rstrip()) or segment != segment.rstrip():
            problems.append(f"line {n}: marker {m.group(0)} must follow a sentence's closing punctuation directly")
        for sid in ids:
            if sid not in known:
                problems.append(f"line {n}: unknown source id '{sid}'")
            used.add(sid)
        add(segment, pos, ids)
        pos = m.end()
    add(text[pos:], pos, ())
    return out


def _short(text: str, n: int = 70) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def parse_body(body: str, source_ids: list[str], first_line: int = 1) -> ParsedBody:
    """Parse a body; `first_line` is the file line the body starts on (for messages)."""
    known = set(source_ids)
    problems: list[str] = []
    used: set[str] = set()
    blocks: list[Block] = []
    quick: list[QuickAnswer] = []
    pending_q: list[tuple[str, int]] = []
    for heading, line, kind, text in _raw_blocks(body, first_line):
        if kind == "q":
            pending_q.append((clean_markdown(text), line))
            continue
        sentences = _sentences(text, line, known, problems, used)
        if kind == "stray":
            problems.append(f"line {line}: text under 'Quick answers' must be a 'Q:' line or an 'A:' answer")
            if pending_q:
                problems.append(f"line {pending_q[0][1]}: 'Q:' line without an 'A:' answer after it")
            pending_q = []
            continue
        if kind == "a":
            if not pending_q:
                problems.append(f"line {line}: an 'A:' answer needs one or more 'Q:' lines right before it")
            else:
                quick.append(QuickAnswer(tuple(q for q, _ in pending_q), tuple(sentences), pending_q[0][1]))
            pending_q = []
            continue
        if pending_q:
            problems.append(f"line {pending_q[0][1]}: 'Q:' line without an 'A:' answer after it")
            pending_q = []
        if sentences:
            blocks.append(Block(heading, line, sentences))
    if pending_q:
        problems.append(f"line {pending_q[0][1]}: 'Q:' line without an 'A:' answer after it")
    return ParsedBody(blocks, quick, problems, used)


def strip_markers(text: str) -> str:
    """Text with every `[^id]` marker removed."""
    return MARKER.sub("", text)
