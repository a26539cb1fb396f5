"""Hits → Answer: pick the sentences that answer, cite them, add dates and caveats, or decline."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np

from bot.declines import Reason, rule
from bot.index import Index, tokenize
from bot.knowledge import Document, Kind
from bot.models import Answer, AnswerSentence, Citation, Hit
from bot.plaintext import answer_text
from bot.policy import CAVEAT, neutralise_mentions

# Below these, the knowledge base does not cover the question (tuned on the dev gold set; see README).
MIN_DENSE = 0.33
MIN_SENTENCE = 0.30
NEAR_DUPLICATE = 0.80
NEAR_WORDS = 0.40  # ... with this share of the shorter sentence's words in common, a near-duplicate
SAME_MEANING = 0.90  # closer than this, the same claim whatever the words
SAME_WORDS = 0.5  # share of words two sentences have in common beyond which they say the same thing
SAME_CLOSE_WORDS = 0.60  # share of the shorter sentence's words that, with NEAR_CLOSE, makes a reworded repeat
NEAR_CLOSE = 0.68
SAME_DATED = 0.45  # with a full date in common, this share of the shorter sentence's words makes it a repeat
NEAR_DATED = 0.65  # ... if the two are also this close in meaning
SAME_CONTAINED = 0.75  # share of the shorter sentence's words found in the longer one, beyond which it adds nothing
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
W_DANGLING = 0.25  # a sentence opening with "It"/"This"/"However" leans on context it lost
W_ELSEWHERE = 0.15  # a sentence about another named country than the one asked about
W_OTHER_PLATFORM = 0.20  # a sentence about Android for a question about iPhones, or the reverse
W_SECTION = 0.08  # a section made for this kind of question ("How the case ended", "Where it stands now")
W_NOVEL = 0.15  # a support sentence that covers words of the question nothing chosen covers yet
W_SAME_SOURCE = 0.04  # a support sentence whose source is already cited adds no new link to check
W_QUICK_RANK = 0.01  # a quick answer from a lower-ranked document needs a closer question match
QUICK_MIN = 0.70  # question-to-question cosine above which a document's curated answer leads
QUICK_ANY_KIND = 0.95  # above this, a curated question matches even when its kind differs
QUICK_KEEP_REPLY = 0.88  # a curated "Yes:"/"No:" survives only for a question this close to its own
QUICK_POOL = 20  # curated questions considered, closest first
W_QUICK_FITS = 0.05  # a curated answer holding what the question's kind asks for (a date for "when")
OUTCOME_NOW = 0.3  # share of the mismatch penalty between an outcome question and a "where it stands" one
W_KIND_MISMATCH = 0.25  # a curated question of another kind (an outcome one for a "what is" question) answers less well
W_SHAPE = 0.08  # a curated question put the same way (yes/no, "why", "who") as the asked one
W_QUICK_ANSWER = 0.15  # weight of the question's closeness to the curated answer itself
W_QUICK_TERMS = 0.1  # share of the question's words, weighted by rarity among curated entries, the entry uses
W_QUICK_OVERLAP = 0.2  # share of the question's words that the curated answer contains
MAX_SOURCES = 4  # distinct sources listed in one answer (the median stays at 3 or fewer)
REPLY_BUDGET = 1250  # characters of the whole reply (body, notes, sources) beyond which support sentences stop
REPLY_STRETCH = 1500  # ... but one that covers words of the question no kept sentence covers fits up to this many

@dataclass(frozen=True)
class Candidate:
    """A sentence that might go into the answer."""

    text: str
    doc_id: str
    sources: tuple[str, ...]  # ids of the document's sources that state it
    order: tuple[int, int, int]  # (hit rank, passage position, sentence index): reading order
    score: float
    vec: np.ndarray  # the sentence's embedding (for near-duplicate checks)
    heading: str = ""


def decline(question: str, reason: Reason) -> Answer:
    """A polite, useful refusal, as the registry in bot/declines.py words it."""
    return Answer(question=question, body=rule(reason).message, declined=True, decline_reason=reason)


# A sentence that opens with one of these leans on a sentence before it, which may not have been picked.
_DANGLING = re.compile(
    r"^(It|Its|This|That|These|Those|They|Their|He|She|His|Her|There|However|But|Instead|Also|Still|Then|"
    r"Later|Such|Both|Neither|Yet|So|Thus|Therefore|Meanwhile|Even so|In that|In this|At that|The same|As a result|"
    r"Because of this|For that reason|In addition|Again|Otherwise|The ruling|The court|The order|The case|"
    r"The company|The law|The Act|The judge|The government|The bill)\b"
    r"|^(\S+\s+){1,7}(therefore|thus|however|instead|as a result)\b"
)


# Places a question can name, by the `jurisdiction` their documents carry. The United States is left out: most
# questions are about it without saying so, and its documents also cover foreign requests (the CLOUD Act).
_PLACES = {
    "Australia": re.compile(r"\b(australia\w*|aussie|tola|assistance\s+and\s+access)\b", re.I),
    "United Kingdom": re.compile(r"\b(uk|u\.k\.|britain|british|england|home\s+office|investigatory\s+powers)\b", re.I),
    "European Union": re.compile(r"\b(eu|e\.u\.|europe|european|brussels|chat\s+control)\b", re.I),
}


def places(question: str) -> frozenset[str]:
    """The non-US jurisdictions a question names ("Australia's law", "the Home Office")."""
    return frozenset(j for j, words in _PLACES.items() if words.search(question))


_PLATFORMS = {
    "apple": re.compile(r"\b(apple|iphones?|ipads?|ios|imessages?|icloud|facetime|macs?|macos)\b", re.I),
    "android": re.compile(r"\b(android|google|pixel|lollipop|gmail)\b", re.I),
}


@lru_cache(maxsize=65536)
def platforms(text: str) -> frozenset[str]:
    """Which of Apple's and Google's platforms a text names (cached: the knowledge base's sentences are fixed)."""
    return frozenset(p for p, words in _PLATFORMS.items() if words.search(text))


def other_platform(asked: frozenset[str], sentence: str) -> bool:
    """Whether a sentence is about the other platform than the one, and only one, the question names: Android's
    file-based encryption does not answer "when did Apple turn on encryption by default for iPhones?"."""
    if len(asked) != 1:
        return False
    named = platforms(sentence)
    return bool(named) and not (named & asked)


def elsewhere(asked: frozenset[str], doc: Document) -> bool:
    """Whether a document is about another named jurisdiction than the one the question asks about: an
    Australian question answered from the UK's notices ("technical capability notice" exists in both)."""
    return bool(asked) and doc.meta.jurisdiction in _PLACES and doc.meta.jurisdiction not in asked


def elsewhere_entry(asked: frozenset[str], doc: Document, curated: str, answer: str) -> bool:
    """Whether a curated entry answers a question about a named jurisdiction from somewhere else: another
    jurisdiction's document, or a document of no named place ("do companies keep backdoor keys?") whose entry
    does not mention the place asked about."""
    if elsewhere(asked, doc):
        return True
    return (bool(asked) and doc.meta.jurisdiction not in asked
            and not any(_PLACES[j].search(f"{curated} {answer}") for j in asked))


@lru_cache(maxsize=65536)
def word_set(text: str) -> frozenset[str]:
    """The BM25 tokens of a knowledge-base sentence, computed once per sentence (the texts are fixed)."""
    return frozenset(tokenize(text))


def dangling(sentence: str) -> bool:
    """Whether a sentence's meaning depends on one before it (an opening pronoun or connective)."""
    return bool(_DANGLING.match(sentence))


def _candidates(index: Index, hits: list[Hit], qvec: np.ndarray, qtokens: set[str],
                docs: dict[str, Document], kind: str | None = None, asked: frozenset[str] = frozenset(),
                platform: frozenset[str] = frozenset()) -> list[Candidate]:
    out: list[Candidate] = []
    for hit in hits:
        foreign = elsewhere(asked, docs[hit.passage.doc_id])
        # Overview documents (the timeline) repeat facts that their own documents source better.
        overview = "overview" in docs[hit.passage.doc_id].meta.tags
        idx = index.passage_row[hit.passage.id]
        rows = index.sentence_slice(idx)
        sims = index.sentence_vectors[rows] @ qvec
        section = heading_bonus(kind, hit.passage.heading) - (kind != "now" and _STANDS.search(hit.passage.heading) is not None)
        for j, (sentence, sim) in enumerate(zip(hit.passage.sentences, sims, strict=True)):
            prev = float(sims[j - 1]) if j else 0.0
            words = sentence.split()
            if len(words) < 6 or words[0] == "See":  # fragments and bare cross-references say nothing alone
                continue
            toks = word_set(sentence)
            overlap = len(qtokens & toks) / max(1, len(qtokens))
            top_doc = hit.passage.doc_id == hits[0].passage.doc_id
            score = (float(sim) + W_KIND * wants(kind, sentence) + W_PREVIOUS * prev + W_OVERLAP * overlap
                     + W_PASSAGE * hit.dense + W_TOP_DOC * top_doc + W_SECTION * section
                     - 0.01 * (hit.rank - 1) - W_OVERVIEW * overview - W_POINTER * ("(see " in sentence)
                     - W_DANGLING * dangling(sentence) - W_ELSEWHERE * foreign
                     - W_OTHER_PLATFORM * other_platform(platform, sentence))
            sources = hit.passage.sources[j] if hit.passage.sources else ()
            # A body sentence's "No:" replies to its section's question, not necessarily to the user's.
            out.append(Candidate(strip_yes_no(sentence), hit.passage.doc_id, sources, (hit.rank, hit.passage.position, j), score,
                                 index.sentence_vectors[rows.start + j], hit.passage.heading))
    return out


_AUX = re.compile(r"^(\W*(so|ok|okay|hey|hi|hello|yo|quick question|question)\b[\s,:!.-]*)*(is|are|was|were|do|does|did|"
                  r"can|could|will|would|should|has|have|had|may|might|must|am|isn't|aren't|wasn't|doesn't|didn't|"
                  r"can't|won't)\b", re.I)
_POLARITY = re.compile(r"\b(not|no|never|still|anymore|any\s+more|longer|again|yet|ever|un\w+|\w+n't)\b", re.I)
# A curated answer's opening reply to its own question: "Yes: ...", "No, not as a rule: ...", "Partly: ...",
# "Not by default: ...", "Nothing changed: ...", "Yes, ..." (a few words before a colon, or Yes/No and a comma).
_YES_NO = re.compile(r"^(?:(?:Yes|No|Not)\b(?:[ ,]+[A-Za-z][a-z]*){0,5}|(?!In\b|On\b|Since\b|As\b|Under\b)[A-Z][a-z]*(?:[ ,]+[a-z]+){0,2}):\s+"
                     r"(?=[A-Za-z\"“])|^(Yes|No),\s+")


def is_yes_no(question: str) -> bool:
    """Whether a question is put as a yes/no question ("Is...", "Did...", "Can...")."""
    return bool(_AUX.match(question.strip()))


def either_or(question: str) -> bool:
    """Whether a question offers alternatives ("... or just metadata?"), which a bare Yes or No does not answer."""
    return bool(re.search(r"\bor\b", question, re.I))


def polarity(question: str) -> frozenset[str]:
    """The words that flip what a yes or a no means ("still", "not", "again", "unavailable")."""
    return frozenset(w.lower() for w in _POLARITY.findall(question) if w.lower() not in ("under", "until", "united"))


def fit_yes_no(answer: str, curated: str, asked: str, similarity: float = 1.0) -> str:
    """A curated answer's opening reply ("Yes:", "Partly:"), kept only when the user asked that same question.

    "Same" means nearly the same wording, both yes/no questions, the same way round (no "still" or "not" on
    one side only) and neither offering alternatives; otherwise the fact that follows stands on its own.
    """
    if not _YES_NO.match(answer):
        return answer
    if (similarity >= QUICK_KEEP_REPLY and is_yes_no(asked) and is_yes_no(curated)
            and polarity(asked) == polarity(curated) and not either_or(asked) and not either_or(curated)
            and not extra_terms(curated, asked)):
        return answer
    return strip_yes_no(answer)


def extra_terms(curated: str, asked: str) -> set[str]:
    """Words of the curated question the user did not ask about ("backups" in "are WhatsApp backups encrypted?"
    against "is WhatsApp encrypted?"): its Yes or No may not be the answer to what was asked."""
    mine = {t[:6] for t in tokenize(asked)}
    return {t for t in tokenize(curated) if t[:6] not in mine and len(t) > 3 and t not in _GENERIC_TERMS}


# Words that say how a question is asked, not what about ("end to end", "really").
_GENERIC_TERMS = frozenset({"e2ee", "encrypt", "encrypted", "encryption", "default", "really", "actually", "still",
                            "ever", "exactly", "that", "this", "with", "from", "does", "have", "were", "what"})


@lru_cache(maxsize=65536)
def strip_yes_no(answer: str) -> str:
    """A curated answer without its leading "Yes:"/"No, ...:" (the fact that follows stands on its own)."""
    rest = _YES_NO.sub("", answer, count=1)
    if re.match(r"[a-z][A-Z]", rest):  # iCloud, iOS, iMessage, eSIM keep their spelling
        return rest
    return rest[:1].upper() + rest[1:]


# A short "what is X?" asks for a definition, not for something about X ("what law governs pen registers now?").
_DEFINE = re.compile(r"^\W*(so\s+)?(what('?s|\s+is|\s+are|\s+was|\s+were)|define|meaning\s+of)\s+(an?\s+|the\s+)?"
                     r"[\w'’.\- ]{1,40}?\s*(\bexactly|\banyway|\bagain)?\W*$", re.I)
_SHAPE = re.compile(r"\b(why|how\s+come|what|which|who|whom|whose|how|when|where)\b", re.I)


@lru_cache(maxsize=4096)
def shape(question: str) -> str | None:
    """How a question is put: "yesno" ("did Apple ever...?", "can police...?"), or its question word ("why", "what",
    "who", "how" ...); None when it is neither. A curated question put the same way answers it better: a yes/no
    question wants the entry that says yes or no (the same way round), a "why" question the one that gives the reason."""
    if is_yes_no(question):
        return "yesno:" + ",".join(sorted(polarity(question)))  # "did it ever..." and "would it..." differ
    if _DEFINE.match(question) and "differ" not in question.lower():
        return "define"
    m = _SHAPE.search(question)
    if not m:
        return None
    if _KINDS["when"][0].search(question):
        return "when"
    word = m.group(1).lower()
    if word == "what":  # too broad to say how a question is put ("what came of...", "what did it file on...")
        return None
    return "why" if word.startswith("how") and "come" in word else word[:5]


def kind_mismatch(kind: str | None, curated: str) -> float:
    """How badly a curated question's kind fits the asked one's: 1 when an outcome or "still/now" question meets
    a curated question of neither kind (or the reverse), a little when one is "how did it end" and the other
    "where does it stand" (the latest development answers both), else 0."""
    other = question_kind(curated)
    if kind == other or (kind not in ("outcome", "now") and other not in ("outcome", "now")):
        return 0.0
    return OUTCOME_NOW if {kind, other} == {"outcome", "now"} else 1.0


def quick_lead(index: Index, hits: list[Hit], qvec: np.ndarray, docs: dict[str, Document],
               asked: str = "") -> tuple[float, list[Candidate]]:
    """The best-matching curated quick answer among the retrieved documents, as lead candidates, and its score.

    A curated question only matches a question of the same kind (an outcome question, a "still/now" one, a
    "when" one ...), and its Yes/No survives only when the user asked the same yes/no question the same way round.
    """
    if not index.quick or not len(index.quick_question_vectors):
        return 0.0, []
    ranks: dict[str, int] = {}
    for h in hits:
        ranks.setdefault(h.passage.doc_id, len(ranks))
    kind = question_kind(asked) if asked else None
    asked_tokens = set(tokenize(asked)) if asked else set()
    asked_shape = shape(asked) if asked else None
    asked_places = places(asked) if asked else frozenset()
    # A word few curated entries use ("dissented", "target", "tell") tells one document's entries apart.
    asked_weight = sum(index.quick_rarity(w) for w in asked_tokens) or 1.0
    sims = index.quick_question_vectors @ qvec
    best_row, best, best_q = -1, -1.0, ""
    for row in np.argsort(-sims)[:QUICK_POOL]:
        owner = int(index.quick_question_owner[row])
        qa = index.quick[owner]
        if qa.doc_id not in ranks:
            continue
        curated = qa.questions[int(row) - int(np.searchsorted(index.quick_question_owner, owner))]
        # An outcome or "still/now" question is best answered by a curated answer of its own kind.
        mismatch = kind_mismatch(kind, curated) if asked and float(sims[row]) < QUICK_ANY_KIND else 0.0
        # The curated question's closeness, plus how well its answer speaks to what was asked (a yes/no question
        # "was it passed in 1789?" is best answered by the entry whose answer says 1789).
        answer_sim = float(index.quick_sentence_vectors[index.quick_slice(owner).start] @ qvec)
        answer_tokens = word_set(" ".join(qa.sentences))
        # An answer that holds what this kind of question asks for: a date for "when", an outcome for "how did it end".
        fits = wants(kind, qa.sentences[0])
        overlap = len(asked_tokens & answer_tokens) / max(1, len(asked_tokens))
        terms = sum(index.quick_rarity(w) for w in asked_tokens & index.quick_words[owner]) / asked_weight
        score = (float(sims[row]) + W_QUICK_ANSWER * answer_sim + W_QUICK_OVERLAP * overlap
                 + W_QUICK_TERMS * terms - W_QUICK_RANK * ranks[qa.doc_id] - W_KIND_MISMATCH * mismatch + W_QUICK_FITS * fits
                 + W_SHAPE * (asked_shape is not None and shape(curated) == asked_shape)
                 - W_ELSEWHERE * elsewhere_entry(asked_places, docs[qa.doc_id], curated, qa.sentences[0]))
        if score > best:
            best_row, best, best_q = int(row), score, curated
    if best_row < 0:
        return 0.0, []
    q = int(index.quick_question_owner[best_row])
    qa = index.quick[q]
    rows = index.quick_slice(q)
    texts = [fit_yes_no(t, best_q, asked, float(sims[best_row])) if i == 0 and asked else t
             for i, t in enumerate(qa.sentences)]
    cands = [Candidate(text, qa.doc_id, qa.sources[i], (0, -1, i), 10.0 - i, index.quick_sentence_vectors[rows.start + i])
             for i, text in enumerate(texts)]
    return best, cands


_MONTH = r"(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_KINDS = {
    # "when" asks for a date at the start of a question or before its verb ("so when exactly did..."), not as a
    # conjunction ("what does Apple hand over when police send a subpoena").
    "when": (re.compile(r"^\W*(\w+\W+){0,2}?when\b|\bwhen\s+(\w+\s+)?(did|was|were|is|are|will|does|do|has|have|had|"
                        r"can|could|would)\b|\b(what\s+(date|year|day|month)|which\s+year|how\s+long\s+ago)\b", re.I),
             re.compile(rf"\b{_MONTH}\s+\d{{1,2}}|\b(1[89]|20)\d\d\b", re.I)),
    "count": (re.compile(r"\bhow\s+(many|much|long|often|big)\b", re.I),
              re.compile(r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|dozens?|hundreds?|thousands?)\b", re.I)),
}


_KINDS["outcome"] = (
    re.compile(r"\b(how\s+did\b.*\b(end|finish|turn\s+out|come\s+out|conclude|wrap\s+up)|outcome|final\s+result|"
               r"who\s+won|what\s+happened\s+(in\s+the\s+end|next|after|with)|whatever\s+happened|end(ed)?\s+up|"
               r"result\s+of|did\s+.*\bwin\b|hold\s+in|decide[ds]?|in\s+the\s+end|what\s+came\s+of|come\s+of|"
               r"what\s+happened\s+(in|to|at)\b|resolved?|play(ed)?\s+out|end\s+result|verdict)\b", re.I),
    re.compile(r"\b(ended|withdr[a-z]+|dropped|dismissed|held|ruled|decided|vacated|moot|affirmed|reversed|won|lost)\b", re.I),
)
_KINDS["now"] = (
    re.compile(r"\b(still|now|yet|today|currently|these\s+days|nowadays|as\s+of|latest|anymore|stand[s]?\s+now|"
               r"where\s+does\b.*\bstand)\b", re.I),
    re.compile(r"\b(as\s+of|20(2[4-9]))\b", re.I),
)
# "Who wrote / dissented / signed ..." asks for a person: a sentence that names a judge or an official answers it.
# After "outcome", so "who won" stays an outcome question.
_KINDS["who"] = (
    re.compile(r"\bwho\s+(wrote|authored|dissented|decided|ruled|judged|signed|sued|represented|brought|filed|argued|"
               r"presided|heard|was\s+the\s+judge|were\s+the\s+judges)\b|\bwhich\s+(judge|justice|justices|judges)\b", re.I),
    re.compile(r"\b(Justice|Justices|Judge|Judges|Magistrate|Chief Justice|President|Attorney General|Secretary|Senator|"
               r"Director|Home Secretary)\s+[A-Z]"),
)
_SECTION_WORDS = {
    "outcome": re.compile(r"\b(end|ended|outcome|result|ruling|decision|holding|held|aftermath|resolved)\b", re.I),
    "now": re.compile(r"\b(stands?\s+now|today|current|latest|since|after)\b", re.I),
}


_STANDS = re.compile(r"\bstands?\s+now\b", re.I)


def question_kind(question: str) -> str | None:
    """'when', 'count', 'outcome' (how did it end), 'now' (still / today) or 'who' (a judge or an official);
    None for other questions."""
    return next((k for k, (asks, _) in _KINDS.items() if asks.search(question)), None)


def wants(kind: str | None, sentence: str) -> bool:
    """Whether a sentence has what a question of this kind asks for (a date, a number, an outcome)."""
    return kind is not None and bool(_KINDS[kind][1].search(sentence))


def heading_bonus(kind: str | None, heading: str) -> bool:
    """Whether a passage's section was written for this kind of question."""
    words = _SECTION_WORDS.get(kind or "")
    return bool(words and words.search(heading.split(": ", 1)[-1]))


def same_fact(a: Candidate, b: Candidate) -> bool:
    """Two sentences that say the same thing: close in meaning, or sharing most of their words."""
    close = float(a.vec @ b.vec)
    wa, wb = claim_words(a.text), claim_words(b.text)
    shared = len(wa & wb)
    contained = shared / max(1, min(len(wa), len(wb)))
    # Close in meaning alone is not enough: two sentences on one topic ("the keys were held by two agencies",
    # "agents could get the keys with legal authorization") are close and state different facts.
    if close > SAME_MEANING or (close > NEAR_DUPLICATE and contained > NEAR_WORDS):
        return True
    # Close in meaning and most of the shorter one's words inside the other: the same claim reworded.
    if contained > SAME_CLOSE_WORDS and close > NEAR_CLOSE:
        return True
    # The same event told twice: one full date in both, much the same words and meaning ("dismissed as moot on
    # April 17, 2018" in a summary and in the docket history).
    if full_dates(a.text) & full_dates(b.text) and contained > SAME_DATED and close > NEAR_DATED:
        return True
    # Most words in common, or one sentence's content words nearly all inside the other's.
    return shared / max(1, len(wa | wb)) > SAME_WORDS or contained > SAME_CONTAINED


_POINTER = re.compile(r"\s*\(see [^)]*\)")
_FULL_DATE = re.compile(r"\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+(\d{1,2}),?\s+(\d{4})\b", re.I)


@lru_cache(maxsize=65536)
def claim_words(text: str) -> frozenset[str]:
    """A sentence's words without its "(see ...)" pointer, which says where to read on, not what is claimed."""
    return word_set(_POINTER.sub("", text))


@lru_cache(maxsize=65536)
def full_dates(text: str) -> frozenset[tuple[str, str, str]]:
    """The (month, day, year) dates a sentence names in full."""
    return frozenset((m.lower(), d, y) for m, d, y in _FULL_DATE.findall(text))


def select_sentences(cands: list[Candidate], limit: int, lead: list[Candidate] | None = None,
                     qtokens: set[str] | None = None) -> list[Candidate]:
    """Greedy: the lead (a quick answer, or the best sentence), then support sentences, best first.

    Skips near-duplicates of anything already chosen, sentences far below the best, dangling openers as
    the lead, and sentences that would push the answer past MAX_SOURCES distinct sources.
    """
    chosen: list[Candidate] = list(lead or [])
    ranked = sorted(cands, key=lambda c: -c.score)
    if not chosen:
        first = next((c for c in ranked if not dangling(c.text)), None)
        if first is None:
            return []
        chosen.append(first)
    best = max((c.score for c in cands), default=0.0)
    qtokens = qtokens or set()
    pool = [c for c in ranked if not any(c is x for x in chosen)]
    while pool and len(chosen) < limit:
        # Greedy with a bonus for covering words of the question that the chosen sentences do not yet cover,
        # so a two-part question gets both parts.
        covered = set().union(*(word_set(c.text) for c in chosen))
        missing = qtokens - covered

        def gain(c: Candidate, missing: set[str] = missing) -> float:
            return c.score + W_NOVEL * (len(missing & word_set(c.text)) / max(1, len(qtokens or ())))

        cand = max(pool, key=gain)
        pool.remove(cand)
        if cand.score < MIN_SENTENCE or (len(chosen) >= MIN_SENTENCES and cand.score < best - SENTENCE_WINDOW):
            continue
        if any(same_fact(cand, c) for c in chosen):
            continue
        cited = {(c.doc_id, s) for c in chosen for s in c.sources}
        new = {(cand.doc_id, s) for s in cand.sources} - cited
        if new and len(cited | new) > MAX_SOURCES:
            continue
        chosen.append(cand)
    return chosen  # the lead, then support sentences best first (compose puts them in reading order)


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
    if not hits:
        return _with_caveat(replace(decline(question, Reason.out_of_scope), hits=tuple(hits)), personal)
    # A close curated question answers even a tersely worded one; otherwise the passages must be close enough.
    quick_score, lead = quick_lead(index, hits, qvec, docs, query or question)
    if quick_score < QUICK_MIN:
        lead = []
    if not lead and max(h.dense for h in hits) < MIN_DENSE:
        return _with_caveat(replace(decline(question, Reason.out_of_scope), hits=tuple(hits)), personal)
    kind = question_kind(query or question)
    qtokens = set(tokenize(query or question))
    cands = _candidates(index, hits, qvec, qtokens, docs, kind, places(query or question), platforms(query or question))
    # Support sentences that reuse an already-cited source are preferred, so bonus them after the fact.
    if lead:
        lead_sources = {(c.doc_id, s) for c in lead for s in c.sources}
        cands = [replace(c, score=c.score + W_SAME_SOURCE * any((c.doc_id, s) in lead_sources for s in c.sources))
                 for c in cands]
    chosen = select_sentences(cands, max_sentences, lead, qtokens)
    if not chosen or (not lead and chosen[0].score < MIN_SENTENCE):
        return _with_caveat(replace(decline(question, Reason.out_of_scope), hits=tuple(hits)), personal)

    return fit_reply(question, chosen, max(1, len(lead)), docs, personal, hits, "quick" if lead else "extract",
                     qtokens)


def fit_reply(question: str, chosen: list[Candidate], n_lead: int, docs: dict[str, Document], personal: bool,
              hits: list[Hit], lead: str, qtokens: set[str] | None = None) -> Answer:
    """The lead and as many support sentences as fit the reply budget (measured on the text a user reads),
    taken best first: a support sentence that does not fit (often one that brings a new, long source line) is
    skipped and a shorter or already-sourced one after it may still fit; one that holds words of the question no kept
    sentence holds (the second half of a two-part question) may run to REPLY_STRETCH. Support sentences read in
    document order."""
    kept = chosen[:n_lead]
    answer = _assemble(question, kept, docs, personal, hits, lead)
    for cand in chosen[n_lead:]:
        trial = kept[:n_lead] + sorted([*kept[n_lead:], cand], key=lambda c: c.order)
        bigger = _assemble(question, trial, docs, personal, hits, lead)
        size = len(answer_text(bigger))
        if size <= REPLY_BUDGET or (size <= REPLY_STRETCH and _covers_new(cand, kept, qtokens or set())):
            kept, answer = trial, bigger
    return answer


def _covers_new(cand: Candidate, kept: list[Candidate], qtokens: set[str]) -> bool:
    """Whether a sentence holds words of the question that none of the kept sentences holds."""
    covered = set().union(*(word_set(c.text) for c in kept))
    return bool((qtokens - covered) & word_set(cand.text))


def _assemble(question: str, chosen: list[Candidate], docs: dict[str, Document], personal: bool,
              hits: list[Hit], lead: str) -> Answer:
    """The chosen sentences as claims, cited."""
    claims = [Claim(c.text, c.doc_id, tuple((c.doc_id, s) for s in c.sources)) for c in chosen]
    return cite(question, claims, docs, personal, hits, lead)


@dataclass(frozen=True)
class Claim:
    """A sentence to say and the sources that state it, as (document id, source id) pairs."""

    text: str
    doc_id: str
    sources: tuple[tuple[str, str], ...]


def cite(question: str, claims: Sequence[Claim], docs: dict[str, Document], personal: bool,
         hits: Sequence[Hit], lead: str, generated_by: str | None = None) -> Answer:
    """Number the sources in reading order and build the Answer with its notes."""
    # One number per URL: two documents that list the same page (the Telegram FAQ) share its number.
    numbers: dict[str, int] = {}
    citations: list[Citation] = []
    sentences: list[AnswerSentence] = []
    for claim in claims:
        cites: list[int] = []
        for doc_id, source_id in claim.sources:
            meta = docs[doc_id].meta
            source = meta.public_source(source_id)
            if source.url not in numbers:
                numbers[source.url] = len(numbers) + 1
                citations.append(Citation(numbers[source.url], doc_id, source_id, source, meta.title,
                                          meta.as_of.isoformat(), meta.fast_moving))
            cites.append(numbers[source.url])
        sentences.append(AnswerSentence(neutralise_mentions(claim.text), claim.doc_id, tuple(dict.fromkeys(cites))))
    body = " ".join(f"{s.text} " + "".join(f"[{n}]" for n in s.cites) for s in sentences)
    notes = []
    fast = sorted({docs[c.doc_id].meta.as_of for c in citations if c.fast_moving})
    if fast:
        notes.append(f"Checked as of {_date(fast[0])}; this story is still developing.")
    cited_docs = list(dict.fromkeys(doc_id for claim in claims for doc_id, _ in claim.sources))
    related = _related_cases(cited_docs, docs)
    if related:
        notes.append(f"Related case: `/case {related[0]}`")
    return Answer(
        question=question,
        body=neutralise_mentions(body.strip()),
        declined=False,
        citations=tuple(citations),
        notes=tuple(neutralise_mentions(n) for n in notes),
        caveat=CAVEAT if personal else None,
        related_cases=tuple(related),
        sentences=tuple(sentences),
        lead=lead,
        generated_by=generated_by,
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
