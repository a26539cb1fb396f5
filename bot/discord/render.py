"""Answer, case and listing → Discord embeds. Pure functions: no I/O, no client, every Discord limit respected."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import discord

from bot.cards import case_card
from bot.declines import Reason, rule
from bot.knowledge import Document, Kind
from bot.models import Answer, Citation, Hit, Source
from bot.plaintext import provenance
from bot.policy import neutralise_mentions, strip_injection

# Discord's documented limits (https://discord.com/developers/docs/resources/message#embed-object-embed-limits).
CONTENT_LIMIT = 2000
TITLE_LIMIT = 256
DESCRIPTION_LIMIT = 4096
FIELD_NAME_LIMIT = 256
FIELD_VALUE_LIMIT = 1024
FIELDS_LIMIT = 25
FOOTER_LIMIT = 2048
AUTHOR_LIMIT = 256
EMBEDS_PER_MESSAGE = 10
MESSAGE_EMBED_TOTAL = 6000
BUTTON_LABEL_LIMIT = 80
CHOICE_NAME_LIMIT = 100
CHOICES_LIMIT = 25

# Our own budget: at most this many messages for one answer; past it the text is trimmed with a link.
MAX_ANSWER_MESSAGES = 3
# Headroom under the 6000 total for the footer and sources of the last embed.
_MESSAGE_BUDGET = 5800

DISCLAIMER = "General information, not legal advice."
COLOUR = discord.Colour(0x2B6CB0)
DECLINE_COLOUR = discord.Colour(0x718096)
ERROR_COLOUR = discord.Colour(0xC53030)

def clip(text: str, limit: int, ellipsis: str = "…") -> str:
    """`text` cut to at most `limit` characters, at a word boundary when one is near, with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[: max(0, limit - len(ellipsis))]
    space = cut.rfind(" ")
    if space > limit * 0.6:
        cut = cut[:space]
    return cut.rstrip() + ellipsis


def user_text(text: str, limit: int) -> str:
    """Text a user wrote, made safe to echo: mentions defused, markdown escaped, clipped."""
    flat = " ".join(text.split())
    return clip(discord.utils.escape_markdown(neutralise_mentions(flat)), limit)


_BREAKS = ("\n\n", "\n", ". ", "; ", ", ", " ")


def split_text(text: str, limit: int) -> list[str]:
    """Split `text` into pieces of at most `limit` characters, preferring paragraph, line, sentence, word breaks."""
    pieces: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        window = rest[:limit]
        cut = -1
        for sep in _BREAKS:
            at = window.rfind(sep)
            if at >= limit // 3:
                cut = at + len(sep.rstrip(" ")) if sep.strip() else at
                break
        if cut <= 0:
            cut = limit
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        pieces.append(rest)
    return pieces


def _link_text(text: str) -> str:
    return discord.utils.escape_markdown(text).replace("[", "(").replace("]", ")")


def _url(url: str) -> str:
    return url.replace(" ", "%20").replace("(", "%28").replace(")", "%29")


def source_line(source: Source) -> str:
    """One source as a Markdown link with its publisher and date."""
    meta = ", ".join(x for x in (source.publisher, source.date) if x)
    return f"[{_link_text(clip(source.title, 150))}]({_url(source.url)})" + (f" — {_link_text(clip(meta, 120))}" if meta else "")


def citation_line(c: Citation) -> str:
    """`[n]` with its source as a link, publisher and date."""
    return f"**[{c.n}]** {source_line(c.source)}"


def pack_fields(name: str, lines: Sequence[str], max_fields: int = 5) -> list[tuple[str, str]]:
    """Pack lines into (name, value) embed fields of at most 1024 characters each; the overflow is counted."""
    fields: list[tuple[str, str]] = []
    current: list[str] = []
    size = 0
    for i, line in enumerate(lines):
        line = clip(line, FIELD_VALUE_LIMIT - 40)
        if current and size + 1 + len(line) > FIELD_VALUE_LIMIT:
            fields.append((name if not fields else f"{name} (continued)", "\n".join(current)))
            current, size = [], 0
            if len(fields) == max_fields:
                left = len(lines) - i
                last_name, last_value = fields[-1]
                note = f"\n…and {left} more"
                fields[-1] = (last_name, clip(last_value, FIELD_VALUE_LIMIT - len(note)) + note)
                return fields
        current.append(line)
        size += len(line) + 1
    if current:
        fields.append((name if not fields else f"{name} (continued)", "\n".join(current)))
    return fields


def footer_text(answer: Answer) -> str:
    """Who wrote it (when an LLM did), the disclaimer, and when the cited facts were last checked."""
    written = provenance(answer)
    text = f"{written} {DISCLAIMER}" if written else DISCLAIMER
    if answer.citations:
        oldest = min(c.as_of for c in answer.citations)
        return clip(f"{text} Facts checked as of {oldest}.", FOOTER_LIMIT)
    return text


def answer_description(answer: Answer) -> str:
    """Body, notes (as-of dates, related cases) and caveat, as Markdown."""
    parts = [answer.body]
    if answer.notes:
        parts.append("\n".join(f"-# {n}" if n.startswith("Related case") else f"*{n}*" for n in answer.notes))
    if answer.caveat:
        parts.append(f"**{answer.caveat}**")
    return "\n\n".join(p for p in parts if p)


def answer_messages(answer: Answer, *, echo_question: bool = True) -> list[list[discord.Embed]]:
    """An answer as one or more messages of embeds; the first message is the one that carries the buttons.

    Long answers are split over several embeds and messages; past MAX_ANSWER_MESSAGES the text is trimmed
    and ends with a link to the primary source. Every result passes Discord's embed limits.
    """
    # The title is the question being answered, without any instruction stripped from it; a decline's title
    # comes from the registry, so a refused request (or the contact details in it) is never shown back.
    shown = strip_injection(answer.question)[0]
    title = user_text(shown, TITLE_LIMIT) if echo_question and shown.strip() else None
    if answer.declined:
        title = rule(answer.decline_reason or Reason.out_of_scope).title
    colour = DECLINE_COLOUR if answer.declined else COLOUR
    footer = footer_text(answer)
    source_fields = pack_fields("Sources", [citation_line(c) for c in answer.citations], max_fields=2)
    text = answer_description(answer)
    link = answer.citations[0].url if answer.citations else None
    more = f"\n\n… This answer is longer than Discord allows; read the rest in the sources{f': {link}' if link else '.'}"
    limit = len(text)
    while True:
        body = text if limit >= len(text) else clip(text, max(1, limit - len(more))) + more
        out = _layout(body, title, colour, source_fields, footer)
        if len(out) <= MAX_ANSWER_MESSAGES:
            return out
        limit = int(min(limit, len(text)) * 0.85)


def _layout(text: str, title: str | None, colour: discord.Colour, source_fields: list[tuple[str, str]],
            footer: str) -> list[list[discord.Embed]]:
    """Description chunks packed into messages under the 6000 total, sources and footer on the last embed."""
    tail = sum(len(n) + len(v) for n, v in source_fields) + len(footer)
    messages: list[list[discord.Embed]] = [[]]
    size = len(title or "")
    for chunk in split_text(text, DESCRIPTION_LIMIT) or [""]:
        if messages[-1] and (size + len(chunk) > _MESSAGE_BUDGET or len(messages[-1]) >= EMBEDS_PER_MESSAGE):
            messages.append([])
            size = 0
        embed = discord.Embed(description=chunk or None, colour=colour)
        if len(messages) == 1 and not messages[0] and title:
            embed.title = title
        messages[-1].append(embed)
        size += len(chunk)
    if size + tail > _MESSAGE_BUDGET:
        messages.append([discord.Embed(colour=colour)])
    final = messages[-1][-1]
    for name, value in source_fields:
        final.add_field(name=name, value=value, inline=False)
    final.set_footer(text=footer)
    if len(messages) > 1:
        for i, group in enumerate(messages):
            group[0].set_author(name=f"Answer, part {i + 1} of {len(messages)}")
    return messages


def sources_embed(answer: Answer, titles: Mapping[str, str]) -> discord.Embed:
    """The passages an answer came from, with their retrieval scores (shown privately by the Sources button)."""
    embed = discord.Embed(title="Passages behind this answer", colour=COLOUR)
    hits: Sequence[Hit] = answer.hits[:10]
    if not hits:
        embed.description = "No passages were retrieved for this answer."
        return embed
    embed.description = (
        "Ranked by fused score (reciprocal-rank fusion of meaning similarity and keyword match). "
        "Numbers in [n] refer to the answer's sources."
    )
    numbers: dict[str, list[int]] = {}
    for c in answer.citations:
        numbers.setdefault(c.doc_id, []).append(c.n)
    budget = max(150, min(700, 4800 // len(hits) - 120))
    for hit in hits:
        p = hit.passage
        doc_title = titles.get(p.doc_id, p.doc_id)
        ref = "".join(f"[{n}]" for n in numbers.get(p.doc_id, ())) + " " if p.doc_id in numbers else ""
        name = clip(f"#{hit.rank} {ref}{doc_title}" + (f" › {p.heading}" if p.heading else ""), FIELD_NAME_LIMIT)
        scores = f"score {hit.score:.4f} · similarity {hit.dense:.2f} · keyword {hit.lexical:.2f}"
        excerpt = clip(" ".join(p.sentences), budget)
        embed.add_field(name=name, value=clip(f"{scores}\n> {excerpt}", FIELD_VALUE_LIMIT), inline=False)
    embed.set_footer(text=DISCLAIMER)
    return embed


def case_embed(doc: Document) -> discord.Embed:
    """A case card: court, dates, status, outcome, what it stands for and primary-source links."""
    card = case_card(doc)
    embed = discord.Embed(title=clip(card.title, TITLE_LIMIT), description=clip(card.summary, DESCRIPTION_LIMIT),
                          colour=COLOUR)
    if card.link:
        embed.url = _url(card.link)
    if card.court:
        embed.add_field(name="Court", value=clip(card.court, FIELD_VALUE_LIMIT), inline=False)
    if card.refs:
        embed.add_field(name="Citation / docket", value=clip(card.refs, FIELD_VALUE_LIMIT), inline=True)
    if card.status_label:
        embed.add_field(name="Status", value=card.status_label, inline=True)
    if card.decided:
        embed.add_field(name="Decided", value=card.decided, inline=True)
    for name, value in pack_fields("Key dates", [f"{k.date}: {k.event}" for k in card.timeline], max_fields=2):
        embed.add_field(name=name, value=value, inline=False)
    if card.parties:
        embed.add_field(name="Parties", value=clip(" v. ".join(card.parties), FIELD_VALUE_LIMIT), inline=False)
    if card.outcome:
        embed.add_field(name="Outcome", value=clip(card.outcome, FIELD_VALUE_LIMIT), inline=False)
    if card.significance:
        embed.add_field(name="What it stands for", value=clip(card.significance, FIELD_VALUE_LIMIT), inline=False)
    for name, value in pack_fields("Primary sources", [source_line(s) for s in card.sources], max_fields=2):
        embed.add_field(name=name, value=value, inline=False)
    embed.set_footer(text=f"{DISCLAIMER} Facts checked as of {card.as_of}. Jurisdiction: {clip(card.jurisdiction, 100)}.")
    return fit(embed)


def fit(embed: discord.Embed) -> discord.Embed:
    """Drop trailing fields until the embed fits Discord's 6000-character total (a safety net)."""
    while len(embed) > MESSAGE_EMBED_TOTAL and embed.fields:
        embed.remove_field(len(embed.fields) - 1)
    return embed


def case_lines(cases: Sequence[Document]) -> list[str]:
    """One line per case for /cases."""
    out = []
    for card in map(case_card, cases):
        status = f", {card.status_label.lower()}" if card.status_label else ""
        out.append(f"**{_link_text(clip(card.title, 120))}** ({card.year}{status}) · `{card.id}`")
    return out


def list_pages(title: str, sections: Sequence[tuple[str, Sequence[str]]], footer: str,
               page_chars: int = 3000) -> list[discord.Embed]:
    """Sections of lines as pages of embeds (one field per section part), each page well under the limits."""
    pages: list[discord.Embed] = []
    current = discord.Embed(title=title, colour=COLOUR)
    used = 0
    for heading, lines in sections:
        for name, value in pack_fields(heading, lines, max_fields=FIELDS_LIMIT):
            if current.fields and (used + len(name) + len(value) > page_chars or len(current.fields) >= 10):
                pages.append(current)
                current = discord.Embed(title=title, colour=COLOUR)
                used = 0
            current.add_field(name=clip(name, FIELD_NAME_LIMIT), value=value, inline=False)
            used += len(name) + len(value)
    if current.fields or not pages:
        if not current.fields:
            current.description = "Nothing here yet."
        pages.append(current)
    for i, page in enumerate(pages):
        page.set_footer(text=clip(f"{footer} Page {i + 1} of {len(pages)}.", FOOTER_LIMIT))
    return pages


def cases_pages(cases: Sequence[Document], per_section: int = 8) -> list[discord.Embed]:
    """/cases: every case, oldest first, paginated."""
    lines = case_lines(cases)
    sections = [("Cases" if i == 0 else "Cases (continued)", lines[i : i + per_section])
                for i in range(0, len(lines), per_section)]
    return list_pages(f"Cases Keyholder covers ({len(cases)})", sections,
                      "Use /case NAME for a case card.")


KIND_HEADINGS = {
    Kind.topic: "Topics",
    Kind.case: "Court cases",
    Kind.statute: "Laws",
    Kind.report: "Reports",
    Kind.technology: "Technology",
    Kind.policy: "Policies",
}


def topics_pages(docs: Sequence[Document]) -> list[discord.Embed]:
    """/topics: every document, grouped by kind, paginated."""
    sections: list[tuple[str, list[str]]] = []
    for kind, heading in KIND_HEADINGS.items():
        lines = [f"**{_link_text(clip(d.meta.title, 100))}**: {_link_text(clip(d.meta.summary, 140))}"
                 for d in docs if d.meta.kind is kind]
        if lines:
            sections.append((f"{heading} ({len(lines)})", lines))
    return list_pages("What Keyholder covers", sections, "Ask with /ask; see cases with /cases.")


def duration(seconds: float) -> str:
    """A short human duration: 3d 4h, 5h 2m, 4m 10s, 12s."""
    s = int(seconds)
    d, s = divmod(s, 86400)
    h, s = divmod(s, 3600)
    m, s = divmod(s, 60)
    if d:
        return f"{d}d {h}h"
    if h:
        return f"{h}h {m}m"
    if m:
        return f"{m}m {s}s"
    return f"{s}s"


@dataclass(frozen=True)
class AboutInfo:
    """Everything /about shows (gathered by the cog, rendered here)."""

    version: str
    kb_version: str | None
    documents: int | None
    cases: int | None
    passages: int | None
    knowledge_as_of: str | None
    index_built_at: str | None
    model: str | None
    uptime_s: float
    latency_ms: float | None
    answered: int
    declined: int
    shards: int
    loading: bool
    load_error: str | None = None


def about_embed(info: AboutInfo) -> discord.Embed:
    """/about: knowledge base version, counts, model, uptime."""
    embed = discord.Embed(
        title="About Keyholder",
        description=("Sourced answers about encryption and government demands for user data. "
                     "Every answer cites public sources from a vetted knowledge base. Open source and self-hostable."),
        colour=COLOUR,
    )
    if info.loading:
        status = f"Failed to load: {clip(info.load_error, 300)}" if info.load_error else "Loading the model and index…"
        embed.add_field(name="Knowledge base", value=status, inline=False)
    else:
        embed.add_field(name="Knowledge base", value=(
            f"version `{info.kb_version}` · facts as of {info.knowledge_as_of}\n"
            f"{info.documents} documents, {info.cases} cases, {info.passages} passages"), inline=False)
        embed.add_field(name="Model", value=f"`{info.model}`", inline=True)
        embed.add_field(name="Index built", value=clip(info.index_built_at or "unknown", 100), inline=True)
    embed.add_field(name="Uptime", value=duration(info.uptime_s), inline=True)
    embed.add_field(name="Gateway latency", value=f"{info.latency_ms:.0f} ms" if info.latency_ms is not None else "—",
                    inline=True)
    embed.add_field(name="Since start", value=f"{info.answered} answered, {info.declined} declined", inline=True)
    embed.add_field(name="Shards", value=str(info.shards), inline=True)
    embed.set_footer(text=f"Keyholder {info.version}. {DISCLAIMER}")
    return embed


def help_embed(rate_count: int, rate_seconds: float) -> discord.Embed:
    """/help: how to ask."""
    embed = discord.Embed(title="How to ask Keyholder", colour=COLOUR, description=(
        "I answer questions about encryption and government or legal demands for user data, from a vetted "
        "knowledge base, and cite a public source for every claim."))
    embed.add_field(name="Ask", value=(
        "`/ask question:` your question (up to 500 characters). Add `private: True` so only you see the answer.\n"
        "Or mention me in a message: `@Keyholder can Apple read my iMessages?`\n"
        "Reply to one of my answers to ask a follow-up; I use your earlier question as context."), inline=False)
    embed.add_field(name="Good questions", value=(
        "• Why couldn't Apple give the DOJ real-time iMessages in 2015?\n"
        "• What did the court decide in the San Bernardino iPhone case?\n"
        "• What is the All Writs Act?"), inline=False)
    embed.add_field(name="Browse", value=(
        "`/case name:` a case card (start typing for suggestions) · `/cases` all cases · "
        "`/topics` everything I cover · `/about` version and status"), inline=False)
    embed.add_field(name="Under each answer", value=(
        "**Sources** shows you (privately) the passages the answer came from, with their scores. "
        "👍 / 👎 tell the maintainers whether it helped: only a salted hash of your user id is stored. "
        "**Related case** opens a case card."), inline=False)
    embed.add_field(name="Limits", value=(
        f"Up to {rate_count} questions per {duration(rate_seconds)} per person. I don't give legal advice or help "
        "anyone get into someone else's device or account."), inline=False)
    embed.set_footer(text=DISCLAIMER)
    return embed


def rate_limited_text(retry_after: float, now: float, count: int, seconds: float) -> str:
    """The reply to a rate-limited user: the limit and when to try again."""
    at = int(now + retry_after + 0.999)
    wait = max(1, int(retry_after + 0.999))
    return (f"You've asked {count} questions in the last {duration(seconds)}, which is my limit per person. "
            f"Please try again <t:{at}:R> (in about {duration(wait)}).")


_MENTION_OF = "<@{id}>|<@!{id}>"


def strip_bot_mention(content: str, bot_id: int) -> str:
    """The question in a message that mentions the bot: the bot's own mentions removed, white space collapsed."""
    text = re.sub(_MENTION_OF.format(id=bot_id), " ", content)
    return " ".join(text.split())


def choice_name(doc: Document) -> str:
    """An autocomplete label for a case: its title, with the first alias if it fits, at most 100 characters."""
    name = doc.meta.title
    if doc.meta.aliases and len(name) + len(doc.meta.aliases[0]) + 3 <= CHOICE_NAME_LIMIT:
        name = f"{name} ({doc.meta.aliases[0]})"
    return clip(name, CHOICE_NAME_LIMIT)


def related_label(doc: Document | None, case_id: str) -> str:
    """The label of a Related case button."""
    title = doc.meta.title if doc is not None else case_id
    return clip(f"Related case: {title}", BUTTON_LABEL_LIMIT)
