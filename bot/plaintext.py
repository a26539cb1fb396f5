"""Answers and case cards as plain text (the CLI's front end); bot/discord/render.py is the Discord one."""

from __future__ import annotations

from bot.cards import CaseCard
from bot.models import Answer, Citation, Source
from bot.policy import neutralise_mentions


def clip_title(title: str, limit: int = 90) -> str:
    """A source title cut at a word boundary, so a long court caption does not crowd out the answer."""
    if len(title) <= limit:
        return title
    return title[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:") + "…"


def format_source(s: Source, limit: int = 90) -> str:
    """One source as 'Title (Publisher, date): URL', the title clipped to `limit` characters."""
    meta = ", ".join(x for x in (s.publisher, s.date) if x)
    return f"{clip_title(s.title, limit)} ({meta}): {s.url}"


CITED_TITLE = 50  # characters of a cited source's title: the link names the page, and every character the list
# takes is one the answer cannot (the whole reply is kept to one embed, about 1,200 characters)


def format_citation(c: Citation) -> str:
    """A numbered source-list entry: `[n] Title (Publisher, date): URL`."""
    return f"[{c.n}] {format_source(c.source, CITED_TITLE)}"


def provenance(answer: Answer) -> str | None:
    """Says so when an LLM wrote the sentences (the extractive answer quotes the knowledge base and needs no note)."""
    if answer.generated_by:
        return f"Written by {answer.generated_by} from the cited sources; each sentence checked against them."
    return None


def answer_text(answer: Answer) -> str:
    """The whole text a user reads: body, notes, caveat and the numbered source list."""
    parts = [answer.body]
    if answer.notes:
        parts.append("\n".join(answer.notes))
    if answer.caveat:
        parts.append(answer.caveat)
    written = provenance(answer)
    if written:
        parts.append(written)
    if answer.citations:
        parts.append("Sources:\n" + "\n".join(format_citation(c) for c in answer.citations))
    # Source titles come from knowledge files; defuse mentions there too, whatever a file says.
    return neutralise_mentions("\n\n".join(parts))


def case_text(card: CaseCard) -> str:
    """A readable case card."""
    lines = [card.title, "=" * len(card.title), card.summary, ""]
    for label, value in (("Court", card.court), ("Citation", card.citation), ("Docket", card.docket),
                         ("Decided", card.decided), ("Status", card.status_label), ("Parties", " v. ".join(card.parties)),
                         ("Outcome", card.outcome), ("What it stands for", card.significance)):
        if value:
            lines.append(f"{label}: {value}")
    if card.timeline:
        lines.append("Key dates:")
        lines += [f"  {k.date}  {k.event}" for k in card.timeline]
    lines.append("Sources:")
    lines += [f"  - {format_source(s)}" for s in card.sources]
    lines.append(f"(Facts checked as of {card.as_of}. Jurisdiction: {card.jurisdiction}.)")
    return "\n".join(lines)
