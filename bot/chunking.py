"""Document → Passages: split under Markdown headings, keep whole sentences."""

from __future__ import annotations

import re

from bot.knowledge import Document
from bot.models import Passage

CHUNKER_VERSION = "3"
MAX_WORDS = 110  # all-MiniLM-L6-v2 was trained on up to 128 word pieces; stay near it

# Abbreviations after which a full stop does not end a sentence.
_ABBREV = {
    "u.s", "v", "vs", "no", "nos", "dec", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep",
    "sept", "oct", "nov", "mr", "mrs", "ms", "dr", "st", "jr", "sr", "inc", "co", "corp", "ltd",
    "e.g", "i.e", "etc", "al", "cir", "supp", "f", "s", "ct", "u.s.c", "pub", "l", "d", "n.y",
    "cal", "mass", "va", "fla", "stat", "sec", "art", "para", "approx", "gen", "rep", "sen", "u.k",
    "e.d", "s.d", "c.d", "n.d", "w.d", "d.c", "ind", "n.j", "fed", "reg", "op", "p", "pp", "ch",
}
# A sentence ends at . ! or ? before a capital, a digit, § or an Apple-style name (iCloud, iOS, eSIM).
_SENT_END = re.compile(r"(?<=[.!?])[\"'”’)\]]*\s+(?=[\"“'(\[]?([A-Z0-9§]|[ie][A-Z]))")
_LINK = re.compile(r"\[([^\]]+)\]\([^)]+\)")
_EMPH = re.compile(r"(\*\*|__|\*|_|`)(?=\S)(.+?)(?<=\S)\1")


def clean_markdown(text: str) -> str:
    """Inline Markdown to plain text: links keep their words, emphasis marks go."""
    text = _LINK.sub(r"\1", text)
    text = _EMPH.sub(r"\2", text)
    return re.sub(r"\s+", " ", text).strip()


def split_sentences(text: str) -> list[str]:
    """Split plain text into sentences without breaking on common legal abbreviations."""
    text = text.strip()
    if not text:
        return []
    out: list[str] = []
    start = 0
    for m in _SENT_END.finditer(text):
        candidate = text[start : m.start()].rstrip()
        last = re.search(r"(\S+)$", candidate)
        word = last.group(1).strip(".\"'“”’()[]").lower() if last else ""
        if word in _ABBREV or re.fullmatch(r"[a-z]", word) or re.fullmatch(r"(?:[a-z]\.)+[a-z]?", word):
            continue
        out.append(candidate)
        start = m.end()
    tail = text[start:].strip()
    if tail:
        out.append(tail)
    return [s for s in out if len(s) > 1]


def _sections(body: str) -> list[tuple[str, list[str]]]:
    """(heading, paragraphs) pairs; list items and paragraphs are kept as separate blocks."""
    sections: list[tuple[str, list[str]]] = [("", [])]
    block: list[str] = []

    def flush() -> None:
        if block:
            sections[-1][1].append(" ".join(block))
            block.clear()

    for line in body.splitlines():
        stripped = line.strip()
        heading = re.match(r"^#{1,6}\s+(.*)$", stripped)
        if heading:
            flush()
            sections.append((clean_markdown(heading.group(1)), []))
        elif not stripped:
            flush()
        elif re.match(r"^([-*+]|\d+[.)])\s+", stripped):
            flush()
            block.append(re.sub(r"^([-*+]|\d+[.)])\s+", "", stripped))
            flush()
        else:
            block.append(stripped)
    flush()
    return [(h, paras) for h, paras in sections if paras]


def chunk_document(doc: Document) -> list[Passage]:
    """Cut one document into passages of whole sentences, each under its section heading."""
    passages: list[Passage] = []
    for heading, paras in _sections(doc.body):
        label = f"{doc.meta.title}: {heading}" if heading else doc.meta.title
        sentences = [s for p in paras for s in split_sentences(clean_markdown(p))]
        current: list[str] = []
        words = 0
        for sent in sentences:
            n = len(sent.split())
            if current and words + n > MAX_WORDS:
                passages.append(_passage(doc, label, current, len(passages)))
                current, words = [], 0
            current.append(sent)
            words += n
        if current:
            passages.append(_passage(doc, label, current, len(passages)))
    return passages


def _passage(doc: Document, heading: str, sentences: list[str], position: int) -> Passage:
    return Passage(
        id=f"{doc.id}#{position}",
        doc_id=doc.id,
        heading=heading,
        sentences=tuple(sentences),
        position=position,
    )
