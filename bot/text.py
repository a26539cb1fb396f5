"""Plain-text helpers shared by the knowledge loader and the chunker: Markdown cleanup, sentence splitting."""

from __future__ import annotations

import re

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
