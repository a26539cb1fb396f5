"""Hits → Answer: pick the sentences that answer, cite them, add dates and caveats, or decline."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

import numpy as np

from bot.index import Index, tokenize
from bot.knowledge import Document, Kind
from bot.models import Answer, Citation, Hit
from bot.policy import CAVEAT, neutralise_mentions

# Below these, the knowledge base does not cover the question (tuned on the dev gold set; see README).
MIN_DENSE = 0.33
MIN_SENTENCE = 0.30
NEAR_DUPLICATE = 0.86
SENTENCE_WINDOW = 0.30  # beyond the first MIN_SENTENCES, keep sentences scoring within this of the best one
MIN_SENTENCES = 3
# Sentence score = cosine(question, sentence) + these bonuses (tuned on the dev gold questions).
W_PREVIOUS = 0.1  # a sentence right after one that matches the question often holds its answer
W_KIND = 0.05  # a date for a "when" question, a number for a "how many" one
W_OVERLAP = 0.15  # share of the question's words that the sentence contains
W_PASSAGE = 0.10  # cosine of the sentence's passage: context the sentence alone lacks
W_TOP_DOC = 0.06  # the best-ranked document is the main answer
W_POINTER = 0.05  # a sentence that points elsewhere "(see ...)" is a weaker lead than one that answers
W_OVERVIEW = 0.06  # overview documents repeat facts that their own documents source better

SCOPE = (
    "I answer questions about encryption and government or legal demands for user data: how iMessage, "
    "iCloud, WhatsApp and Signal encryption work and who holds the keys, the Apple–FBI fights, the All Writs Act, "
    "the Stored Communications Act and CLOUD Act, court cases such as Riley and Carpenter, and laws abroad "
    "such as the UK Investigatory Powers Act."
)
HOW_TO_ASK = (
    "Try a specific question, for example \"Why couldn't Apple give the DOJ real-time iMessages in 2015?\" "
    "or \"Can Apple read my iCloud backups?\", or use /topics and /cases to see what I cover."
)
DECLINES = {
    "out_of_scope": f"Sorry, I don't have a sourced answer to that. {SCOPE} {HOW_TO_ASK}",
    "empty": f"Please ask a question. {SCOPE} {HOW_TO_ASK}",
    "too_long": "That question is too long for me; please keep it under 500 characters and ask one thing at a time.",
    "break_in": (
        "I can't help with getting into someone else's device, account or messages. If you've lost access to your own "
        "account, the provider's official recovery process is the way back in. I can explain how encryption and lawful "
        "access work in general, for example how police get into locked phones with a warrant."
    ),
    "malware": (
        "I can't help write malware, spyware or exploits. I can explain how encryption protects devices and messages, "
        "and what the law says about government hacking and forensic unlocking tools."
    ),
    "doxxing": (
        "I can't help find or share personal information about anyone. I can explain what data providers keep and "
        "what legal process it takes for the government to obtain it."
    ),
    "evasion": (
        "I can't help evade or obstruct a subpoena, warrant or investigation. If legal process concerns you, a lawyer "
        "can tell you your rights and options; in general terms, I can explain what the law allows and requires. "
        + CAVEAT
    ),
}


@dataclass(frozen=True)
class Candidate:
    """A sentence that might go into the answer."""

    text: str
    doc_id: str
    order: tuple[int, int, int]  # (hit rank, passage position, sentence index): reading order
    score: float
    row: int  # row in the sentence-vector matrix


def decline(question: str, reason: str) -> Answer:
    """A polite, useful refusal; `reason` is a key of DECLINES."""
    return Answer(question=question, body=DECLINES[reason], declined=True, decline_reason=reason)


def _candidates(index: Index, hits: list[Hit], qvec: np.ndarray, qtokens: set[str],
                docs: dict[str, Document], kind: str | None = None) -> list[Candidate]:
    out: list[Candidate] = []
    for hit in hits:
        # Overview documents (the timeline) repeat facts that their own documents source better.
        overview = "overview" in docs[hit.passage.doc_id].meta.tags
        idx = index.passage_row[hit.passage.id]
        rows = index.sentence_slice(idx)
        sims = index.sentence_vectors[rows] @ qvec
        for j, (sentence, sim) in enumerate(zip(hit.passage.sentences, sims, strict=True)):
            prev = float(sims[j - 1]) if j else 0.0
            words = sentence.split()
            if len(words) < 6 or words[0] == "See":  # fragments and bare cross-references say nothing alone
                continue
            toks = set(tokenize(sentence))
            overlap = len(qtokens & toks) / max(1, len(qtokens))
            top_doc = hit.passage.doc_id == hits[0].passage.doc_id
            score = (float(sim) + W_KIND * wants(kind, sentence) + W_PREVIOUS * prev + W_OVERLAP * overlap + W_PASSAGE * hit.dense + W_TOP_DOC * top_doc
                     - 0.01 * (hit.rank - 1) - W_OVERVIEW * overview - W_POINTER * ("(see " in sentence))
            out.append(Candidate(sentence, hit.passage.doc_id, (hit.rank, hit.passage.position, j), score, rows.start + j))
    return out


_MONTH = r"(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_KINDS = {
    "when": (re.compile(r"\b(when|what\s+(date|year|day|month)|which\s+year|how\s+long\s+ago)\b", re.I),
             re.compile(rf"\b{_MONTH}\s+\d{{1,2}}|\b(1[89]|20)\d\d\b", re.I)),
    "count": (re.compile(r"\bhow\s+(many|much|long|often|big)\b", re.I),
              re.compile(r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|dozens?|hundreds?|thousands?)\b", re.I)),
}


def question_kind(question: str) -> str | None:
    """'when' for date questions, 'count' for how-many/how-long questions, else None."""
    return next((k for k, (asks, _) in _KINDS.items() if asks.search(question)), None)


def wants(kind: str | None, sentence: str) -> bool:
    """Whether a sentence has what a question of this kind asks for (a date, a number)."""
    return kind is not None and bool(_KINDS[kind][1].search(sentence))


def select_sentences(index: Index, cands: list[Candidate], limit: int) -> list[Candidate]:
    """Greedy: best first, skipping near-duplicates and sentences far below the best."""
    chosen: list[Candidate] = []
    for cand in sorted(cands, key=lambda c: -c.score):
        if len(chosen) >= limit:
            break
        if cand.score < MIN_SENTENCE or (len(chosen) >= MIN_SENTENCES and cand.score < chosen[0].score - SENTENCE_WINDOW):
            break
        vec = index.sentence_vectors[cand.row]
        if any(float(vec @ index.sentence_vectors[c.row]) > NEAR_DUPLICATE for c in chosen):
            continue
        chosen.append(cand)
    if not chosen:
        return []
    lead, rest = chosen[0], chosen[1:]
    return [lead, *sorted(rest, key=lambda c: c.order)]


def _date(d: object) -> str:
    text = f"{d:%B} {d.day}, {d.year}" if hasattr(d, "year") else str(d)  # type: ignore[attr-defined]
    return text


def compose(
    question: str,
    hits: list[Hit],
    index: Index,
    qvec: np.ndarray,
    docs: dict[str, Document],
    personal: bool,
    max_sentences: int = 5,
    query: str | None = None,
) -> Answer:
    """Build the cited answer from the retrieved hits, or decline when nothing relevant was found.

    `question` is what the user typed (kept for display); `query` is what was searched for (defaults to it).
    """
    if not hits or max(h.dense for h in hits) < MIN_DENSE:
        return _with_caveat(replace(decline(question, "out_of_scope"), hits=tuple(hits)), personal)
    cands = _candidates(index, hits, qvec, set(tokenize(query or question)), docs, question_kind(query or question))
    chosen = select_sentences(index, cands, max_sentences)
    if not chosen or chosen[0].score < MIN_SENTENCE:
        return _with_caveat(replace(decline(question, "out_of_scope"), hits=tuple(hits)), personal)

    numbers: dict[str, int] = {}
    for cand in chosen:
        numbers.setdefault(cand.doc_id, len(numbers) + 1)
    body = " ".join(f"{c.text} [{numbers[c.doc_id]}]" for c in chosen)

    citations = []
    notes = []
    for doc_id, n in numbers.items():
        meta = docs[doc_id].meta
        sources = meta.public_sources()
        citations.append(Citation(n, doc_id, meta.title, sources[0].url, sources, meta.as_of.isoformat(), meta.fast_moving))
        if meta.fast_moving:
            notes.append(f"As of {_date(meta.as_of)}: {meta.title} is a fast-moving story; check [{n}] for later news.")
    related = _related_cases(list(numbers), docs)
    if related:
        names = ", ".join(f"`/case {r}`" for r in related)
        notes.append(f"Related case{'s' if len(related) > 1 else ''}: {names}")
    return Answer(
        question=question,
        body=neutralise_mentions(body),
        declined=False,
        citations=tuple(citations),
        notes=tuple(neutralise_mentions(n) for n in notes),
        caveat=CAVEAT if personal else None,
        related_cases=tuple(related),
        hits=tuple(hits),
    )


def _with_caveat(answer: Answer, personal: bool) -> Answer:
    if not personal or answer.caveat or CAVEAT in answer.body:
        return answer
    return replace(answer, caveat=CAVEAT)


def _related_cases(cited: list[str], docs: dict[str, Document], limit: int = 2) -> list[str]:
    """Case ids to point to: cited cases first, then cases the first cited document links to."""
    out = [d for d in cited if docs[d].meta.kind is Kind.case]
    for doc_id in cited[:1]:
        out += [r for r in docs[doc_id].meta.related if r in docs and docs[r].meta.kind is Kind.case]
    seen: list[str] = []
    for d in out:
        if d not in seen:
            seen.append(d)
    return seen[:limit]


_WS = re.compile(r"\s+")


def normalise_question(text: str) -> str:
    """Collapse white space; the question as the composer sees it."""
    return _WS.sub(" ", text).strip()
