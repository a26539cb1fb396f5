"""A case card's fields, computed once from a case document; the CLI (text, JSON) and Discord render them."""

from __future__ import annotations

from dataclasses import dataclass

from bot.knowledge import Document
from bot.models import Source

STATUS_LABELS = {
    "decided": "Decided",
    "vacated": "Vacated",
    "moot": "Moot",
    "dropped": "Dropped",
    "pending": "Pending",
    "withdrawn": "Withdrawn",
}


@dataclass(frozen=True)
class KeyDate:
    """One dated event of a case (ISO date)."""

    date: str
    event: str


@dataclass(frozen=True)
class CaseCard:
    """Everything a case card shows, presentation-neutral."""

    id: str
    title: str
    aliases: tuple[str, ...]
    summary: str
    court: str | None
    citation: str | None
    docket: str | None
    decided: str | None
    status: str | None  # the front matter's value, e.g. "moot"
    status_label: str | None  # how people read it, e.g. "Moot"
    key_dates: tuple[KeyDate, ...]  # as the front matter lists them
    timeline: tuple[KeyDate, ...]  # sorted, with the decision date added when no key date marks it
    parties: tuple[str, ...]
    outcome: str | None
    significance: str | None
    jurisdiction: str
    as_of: str
    year: str  # the year the case began, or "—"
    sources: tuple[Source, ...]

    @property
    def link(self) -> str | None:
        """The first source's URL (the card's title links to it)."""
        return self.sources[0].url if self.sources else None

    @property
    def refs(self) -> str:
        """Citation and docket, joined."""
        return " · ".join(x for x in (self.citation, self.docket) if x)


def case_card(doc: Document) -> CaseCard:
    """The card of a case document."""
    m = doc.meta
    key_dates = tuple(KeyDate(k.date.isoformat(), k.event) for k in m.key_dates)
    timeline = sorted(key_dates, key=lambda k: k.date)
    if m.decided and not any(k.date == m.decided for k in m.key_dates):
        timeline = sorted([*timeline, KeyDate(m.decided.isoformat(), "decided")], key=lambda k: k.date)
    first = m.first_date()
    status = m.status.value if m.status else None
    return CaseCard(
        id=m.id, title=m.title, aliases=tuple(m.aliases), summary=m.summary, court=m.court, citation=m.citation,
        docket=m.docket, decided=m.decided.isoformat() if m.decided else None, status=status,
        status_label=STATUS_LABELS.get(status, status) if status else None, key_dates=key_dates,
        timeline=tuple(timeline), parties=tuple(m.parties), outcome=m.outcome, significance=m.significance,
        jurisdiction=m.jurisdiction, as_of=m.as_of.isoformat(), year=str(first.year) if first else "—",
        sources=m.public_sources(),
    )
