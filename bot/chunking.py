"""Document → Passages: split under Markdown headings, keep whole sentences."""

from __future__ import annotations

from bot.claims import Sentence
from bot.knowledge import Document
from bot.models import Passage, QuickAnswer
from bot.text import clean_markdown, split_sentences

__all__ = ["CHUNKER_VERSION", "MAX_WORDS", "chunk_document", "clean_markdown", "quick_answers", "split_sentences"]

CHUNKER_VERSION = "4"
MAX_WORDS = 110  # all-MiniLM-L6-v2 was trained on up to 128 word pieces; stay near it

def chunk_document(doc: Document) -> list[Passage]:
    """Cut one document into passages of whole sentences, each under its section heading."""
    passages: list[Passage] = []
    sections: dict[str, list[Sentence]] = {}
    for block in doc.claims().blocks:
        sections.setdefault(block.heading, []).extend(block.sentences)
    for heading, sentences in sections.items():
        label = f"{doc.meta.title}: {heading}" if heading else doc.meta.title
        current: list[Sentence] = []
        words = 0
        for sent in sentences:
            n = len(sent.text.split())
            if current and words + n > MAX_WORDS:
                passages.append(_passage(doc, label, current, len(passages)))
                current, words = [], 0
            current.append(sent)
            words += n
        if current:
            passages.append(_passage(doc, label, current, len(passages)))
    return passages


def _passage(doc: Document, heading: str, sentences: list[Sentence], position: int) -> Passage:
    return Passage(
        id=f"{doc.id}#{position}",
        doc_id=doc.id,
        heading=heading,
        sentences=tuple(s.text for s in sentences),
        position=position,
        sources=tuple(s.sources for s in sentences),
    )


def quick_answers(doc: Document) -> list[QuickAnswer]:
    """The document's curated question/answer pairs (its "Quick answers" section)."""
    return [
        QuickAnswer(
            id=f"{doc.id}?{i}",
            doc_id=doc.id,
            questions=qa.questions,
            sentences=tuple(s.text for s in qa.sentences),
            sources=tuple(s.sources for s in qa.sentences),
        )
        for i, qa in enumerate(doc.claims().quick)
    ]
