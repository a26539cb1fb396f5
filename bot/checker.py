"""Is a written sentence supported by the source sentences it cites? Deterministic, on the CPU, with the model
already loaded.

A sentence passes only if every test passes, cheapest first:

1. it cites at least one of the sentences it was given;
2. every number, month and date it states appears in what it cites, next to the same words;
3. every name it states appears there too, and not only inside a longer name ("Virginia" for "West Virginia");
4. its "not" (or "never", "cannot", "excluding"…) agrees with the span of the source it restates, and it does
   not assert what the source denies;
5. it uses no word whose opposite the source uses instead (granted / refused, kept / removed…), no word that
   widens the claim where the source does not ("all", "always", "mandatory"…), and keeps the source's hedges
   ("may have", "reportedly", "on the order of"…);
6. enough of its content words appear in the source, in every clause (`coverage`), so it adds no claim;
7. it is close in meaning to what it cites (`similarity`), and each number or year sits in the source span
   closest in meaning to the span of the sentence that states it (blanked out, so only what it is attached to
   counts).

The thresholds were tuned on the dev cases in `eval/checker/` (hand-labelled: right-topic wrong claims, changed
dates and numbers, swapped names, dropped negations, claims merged from two sources); `keyholder eval` reports
precision and recall on the held-out cases, written blind to this code. Passing means the sentence says nothing
these tests can see the cited sentences do not; it does not mean the cited sentences are right, that the answer is
complete, or that a role swap between two names the source both mentions ("X represented Y") is caught.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

# Tuned on the eval/checker dev cases (see `keyholder eval`): the best F0.5 (precision weighted) there.
COVERAGE = 0.60
SIMILARITY = 0.65

_WORD = re.compile(r"[A-Za-z][A-Za-z'’.-]*[A-Za-z]|[A-Za-z]|\d[\d,.]*\d|\d")
_NUMBER_WORDS = {
    "zero": "0", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6", "seven": "7",
    "eight": "8", "nine": "9", "ten": "10", "eleven": "11", "twelve": "12", "thirteen": "13", "fourteen": "14",
    "fifteen": "15", "sixteen": "16", "seventeen": "17", "eighteen": "18", "nineteen": "19", "twenty": "20",
    "thirty": "30", "forty": "40", "fifty": "50", "hundred": "100", "thousand": "1000", "million": "1000000",
    "first": "1st", "second": "2nd", "third": "3rd", "fourth": "4th", "fifth": "5th", "ninth": "9th",
    "twice": "2", "half": "half", "dozen": "12",
}
_MONTHS = {
    "january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
    "november", "december", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
}
_NEGATIONS = {
    "not", "no", "never", "cannot", "neither", "nor", "without", "none", "nothing", "nobody", "unable",
    "excluding", "excluded", "exclude", "excludes", "except", "exempt", "exempted", "unless",
}
_AUXILIARIES = {"be", "been", "being", "is", "are", "was", "were", "do", "does", "did", "have", "has", "had", "to",
                "a", "an", "the", "any", "it", "they", "he", "she", "we", "you", "ever", "yet", "so", "also"}
# Pairs of words where using one in place of the other reverses the claim.
_OPPOSITES = [
    ("granted", "denied"), ("grant", "deny"), ("won", "lost"), ("win", "lose"), ("upheld", "struck"),
    ("affirmed", "reversed"), ("approved", "rejected"), ("accepted", "rejected"), ("allowed", "barred"),
    ("allowed", "forbade"), ("legal", "illegal"), ("lawful", "unlawful"), ("constitutional", "unconstitutional"),
    ("encrypted", "unencrypted"), ("before", "after"), ("increased", "decreased"), ("more", "fewer"),
    ("more", "less"), ("majority", "minority"), ("required", "optional"), ("complied", "refused"),
    ("agreed", "refused"), ("with", "without"), ("always", "never"), ("praised", "objected"),
    ("praised", "criticised"), ("praised", "criticized"),
    ("all", "some"), ("public", "secret"), ("opened", "closed"), ("started", "ended"), ("first", "last"),
    ("enabled", "disabled"), ("on", "off"), ("default", "optional"), ("expanded", "narrowed"),
    ("supported", "opposed"), ("dropped", "pursued"), ("dismissed", "upheld"), ("overturned", "upheld"),
    ("including", "excluding"), ("included", "excluded"), ("include", "exclude"), ("keeps", "removes"),
    ("kept", "removed"), ("keep", "remove"), ("default", "opt-in"), ("confirmed", "reported"),
    ("confirmed", "denied"), ("inside", "outside"), ("domestic", "foreign"), ("win", "loss"),
    ("any", "every"), ("any", "only"), ("some", "all"), ("some", "every"), ("either", "both"),
    ("granted", "refused"), ("adopt", "reject"), ("adopted", "rejected"), ("same", "less"), ("same", "different"),
    ("same", "lower"), ("same", "higher"), ("accept", "reject"), ("allow", "bar"), ("allowed", "refused"),
]
_OPPOSITE: dict[str, set[str]] = {}
for _a, _b in _OPPOSITES:
    _OPPOSITE.setdefault(_a, set()).add(_b)
    _OPPOSITE.setdefault(_b, set()).add(_a)
# Capitalised words that open or join sentences without naming anything.
_NOT_NAMES = {
    "a", "an", "the", "yes", "no", "it", "its", "this", "that", "these", "those", "they", "he", "she", "we", "you",
    "in", "on", "at", "by", "for", "from", "to", "of", "as", "after", "before", "when", "while", "under", "because",
    "however", "but", "and", "or", "so", "then", "there", "here", "also", "both", "each", "every", "some", "many",
    "most", "partly", "only", "if", "since", "until", "with", "without", "what", "which", "who", "how", "why",
    "i", "his", "her", "their", "our", "my", "your", "not", "neither", "nor", "according", "instead",
    "rather", "reportedly", "apparently", "seemingly", "allegedly", "unlike", "like", "during", "although", "though",
    "even", "today", "later", "earlier", "meanwhile", "originally", "eventually", "ultimately", "initially",
    "once", "now", "still", "yet", "overall", "together", "otherwise", "thus", "therefore", "first", "next",
}
# Words that widen or harden a claim; a sentence may use one only where what it cites does.
_SCOPE = {
    "all", "every", "everyone", "everything", "always", "uniformly", "universally", "entirely",
    "completely", "fully", "wholly", "totally", "only", "solely", "mandatory", "compulsory", "automatically",
    "worldwide", "globally", "also", "both", "settled", "definitely", "certainly", "confirmed", "proved", "proven",
    "established", "guaranteed", "must", "sole", "permanently", "forever", "immediately", "exactly", "precisely",
    "days", "weeks", "months", "years", "decades", "hours", "minutes",
}
# Words that soften a claim; when what a sentence cites is hedged, the sentence must be too.
_HEDGES = {"might", "reportedly", "apparently", "seemingly", "possibly", "perhaps", "likely", "unlikely",
           "allegedly", "seemed", "seems", "probably"}
_HEDGE_PHRASE = re.compile(r"\b(may|might|could|would) have\b|\bon the order of\b|\bonly if\b|\bmay be\b|"
                           r"\bmany\b|\broughly\b|\bapproximately\b|\bestimated\b|\bup to\b", re.I)
# Scope words that say the same thing as each other.
_SAME_SCOPE = {"every": {"each", "all", "any"}, "all": {"every", "each", "both"}, "both": {"two", "all"},
               "only": {"sole", "solely", "just", "alone"}, "must": {"required", "requires", "require", "mandatory"},
               "mandatory": {"must", "required"}, "also": {"too", "as well", "both"}}
_STOP = _NOT_NAMES | {
    "is", "are", "was", "were", "be", "been", "being", "has", "have", "had", "do", "does", "did", "will", "would",
    "can", "could", "should", "may", "might", "must", "shall", "than", "into", "onto", "over", "about", "any",
    "such", "other", "same", "own", "out", "up", "down", "off", "very", "just", "said", "says", "say", "one",
    "which", "whose", "them", "him", "us", "me", "who", "whom", "where", "all", "more", "even", "still", "yet",
    "now", "again", "further", "once", "well", "via", "per", "against", "between", "through", "during", "within",
}
_QUALIFIERS = {"west", "east", "north", "south", "new", "northern", "southern", "eastern", "western", "upper",
               "lower", "great", "greater", "little", "old"}
_CLAUSE = re.compile(r",\s*|;|\s+(?=where\b)|\s+(?=(?:and|but|while|because|though|although|whereas)\s)")
CLAUSE_COVERAGE = 0.5
_OPENER = re.compile(r"^\s*(yes|no|partly|not quite|in short)\b[,:;.]?\s*", re.I)
_SUFFIXES = ("ations", "ation", "ments", "ment", "ings", "ing", "ies", "ied", "ers", "er", "ed", "es", "als", "al", "ly",
             "s", "e")


@dataclass(frozen=True)
class Verdict:
    """Whether a sentence is supported, and if not, the first test it failed."""

    supported: bool
    reason: str | None = None  # "no citation", "number", "name", "negation", "opposite", "coverage", "meaning"
    detail: str = ""
    coverage: float = 0.0
    similarity: float = 0.0


def words(text: str) -> list[str]:
    """Word and number tokens, lower-cased, apostrophes normalised, trailing full stops removed."""
    return [w.lower().replace("’", "'").rstrip(".") for w in _WORD.findall(text)]


def stem(word: str) -> str:
    """A crude stem, so 'encrypted', 'encrypts' and 'encryption' meet."""
    w = word.lower().replace("'s", "")
    for suffix in _SUFFIXES:
        if len(w) > len(suffix) + 3 and w.endswith(suffix):
            return w[: -len(suffix)][:7]
    return w[:7]


def numbers(text: str) -> set[str]:
    """Every number a text states, digits or words, commas removed ('1,000' and 'one thousand' differ: both kept)."""
    out = set()
    for w in (part for token in words(text) for part in token.split("-") if part):
        if w[0].isdigit():
            out.add(w.replace(",", "").rstrip("."))
        elif w in _NUMBER_WORDS:
            out.add(_NUMBER_WORDS[w])
    return out


_DATE = re.compile(r"\b(January|February|March|April|May|June|July|August|September|October|November|December|"
                   r"Jan\.|Feb\.|Mar\.|Apr\.|Aug\.|Sept?\.|Oct\.|Nov\.|Dec\.)"
                   r"(?:\s+(\d{1,2}))?(?:,?\s+(\d{4}))?")


def dates(text: str) -> set[tuple[str, str, str]]:
    """Dates as (month, day, year), with '' for a part not stated."""
    return {(m.group(1)[:3].lower(), m.group(2) or "", m.group(3) or "") for m in _DATE.finditer(text)
            if m.group(2) or m.group(3)}


def dates_missing(sentence: str, source: str) -> set[str]:
    """Dates in the sentence that no date in the source matches on every part the sentence states."""
    have = dates(source)
    out = set()
    for month, day, year in dates(sentence):
        if not any(m == month and (not day or d == day) and (not year or y == year or not y) for m, d, y in have):
            out.add(" ".join(x for x in (month, day, year) if x))
    return out


def _context(tokens: list[str], i: int, span: int) -> set[str]:
    """Stems of up to `span` content words either side of token i (numbers and stop words skipped)."""
    def side(seq: Sequence[str]) -> list[str]:
        out = []
        for w in seq:
            if w in _STOP or w in _AUXILIARIES or w[0].isdigit() or len(w) < 2 or w in _MONTHS:
                continue
            out.append(stem(w))
            if len(out) == span:
                break
        return out
    return set(side(tokens[i + 1 :])) | set(side(list(reversed(tokens[:i]))))


def unbound_numbers(sentence: str, source: str, span: int = 2) -> set[str]:
    """Numbers the source states, but never next to the words the sentence puts around them
    ('8,000 orders' where the source has '8,000 accounts'; 'signed on March 22' where it was passed that day).
    Checked only where the source gives more than one number of the kind, so that one could stand for another."""
    mine, theirs = words(sentence), words(source)
    is_year = re.compile(r"(19|20)\d\d").fullmatch
    numeric = [t.replace(",", "") for t in theirs if t[0].isdigit()]
    years = {t for t in numeric if is_year(t)}
    others = set(numeric) - years
    out = set()
    for i, w in enumerate(mine):
        if not w[0].isdigit():
            continue
        value = w.replace(",", "")
        places = [j for j, t in enumerate(theirs) if t.replace(",", "") == value]
        dated = is_year(value) or (i + 1 < len(mine) and bool(is_year(mine[i + 1])))
        if not places or len(years if is_year(value) else others) < 2:
            continue
        if dated:  # what happened then is usually said before the date; in the source it may come after it
            around = _before(mine, i, span + 1)
            found = any(around & (_before(theirs, j, span + 2) | _after(theirs, j, span + 2)) for j in places)
        else:
            around = _context(mine, i, span)
            found = any(around & _context(theirs, j, span + 1) for j in places)
        if around and not found:
            out.add(w)
    return out


def _after(tokens: list[str], i: int, span: int) -> set[str]:
    """Stems of up to `span` content words after token i."""
    return _before(list(reversed(tokens)), len(tokens) - 1 - i, span)


def _before(tokens: list[str], i: int, span: int) -> set[str]:
    """Stems of up to `span` content words before token i, within its clause."""
    out: list[str] = []
    for w in reversed(tokens[:i]):
        if w in _STOP or w in _AUXILIARIES or w[0].isdigit() or len(w) < 2 or w in _MONTHS:
            continue
        out.append(stem(w))
        if len(out) == span:
            break
    return set(out)


_SEGMENT = re.compile(r",\s*|;\s*|\s+(?=(?:and|but|while|whereas|after|before|when|because)\s)", re.I)
_MASK = re.compile(r"\d[\d,.]*|\b(January|February|March|April|May|June|July|August|September|October|November|"
                   r"December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)\b\.?")


def segments(text: str) -> list[str]:
    """A sentence cut at commas, semicolons and joining words: the spans one fact usually fits in."""
    return [p.strip() for p in _SEGMENT.split(text) if p and p.strip() and len(p.split()) > 1]


def values(text: str) -> set[str]:
    """Every number and year a text states (digits only, commas removed)."""
    return {w.replace(",", "") for w in words(text) if w[0].isdigit()}


def masked(text: str) -> str:
    """The text with its numbers and months blanked, so only what they are attached to is compared."""
    return _MASK.sub("#", text)


def negated_stems(text: str, window: int = 2) -> tuple[set[str], set[str]]:
    """The content stems a negation governs (the next `window` content words after each cue), and all the others."""
    inside: set[str] = set()
    outside: set[str] = set()
    left = 0
    for w in words(text):
        if w in _NEGATIONS or w.endswith("n't"):
            left = window
            continue
        if w in _AUXILIARIES or w in _STOP or w[0].isdigit() or len(w) < 2:
            continue
        (inside if left else outside).add(stem(w))
        left = max(0, left - 1)
    return inside, outside - inside


def months(text: str) -> set[str]:
    """Month names a text states, as their first three letters."""
    return {w[:3] for w in words(text) if w in _MONTHS and (w != "may" or re.search(r"\bMay\b", text))}


def names(text: str) -> set[str]:
    """Capitalised words and acronyms that name someone or something (lower-cased; hyphenated words by part)."""
    out = set()
    opening = True
    for m in re.finditer(r"\b([A-Z][A-Za-z'’.]*[A-Za-z]|[A-Z])\b", text):
        w = m.group(1).lower().replace("’", "'")
        w = w[:-2] if w.endswith("'s") else w
        first = opening and not text[: m.start()].strip(" \"'“(")
        opening = False
        if first and re.search(r"(ing|ed|ly)$", w):  # "Getting a warrant…", "Reportedly…": not a name
            continue
        if w not in _NOT_NAMES and w not in _MONTHS and w not in _NUMBER_WORDS:
            out.add(w)
    return out


def acronyms(text: str) -> set[str]:
    """Initials of each run of capitalised words ('Advanced Data Protection' gives 'adp')."""
    out = set()
    for run in re.findall(r"(?:\b[A-Z][a-z]+(?:\s+(?:of|and|for|the)\s+|\s+))+[A-Z][a-z]+\b", text):
        caps = [w for w in run.split() if w[0].isupper()]
        out.add("".join(w[0] for w in caps).lower())
    return out


def qualified_names(sentence: str, source: str) -> set[str]:
    """Names the sentence uses bare that the source only uses with a qualifier ('Virginia' for 'West Virginia')."""
    out = set()
    for n in names(sentence):
        pattern = re.compile(rf"\b(\w+)\s+{re.escape(n)}\b", re.I)
        bare_in_sentence = not any(m.group(1).lower() in _QUALIFIERS for m in pattern.finditer(sentence))
        uses = [m.group(1).lower() for m in pattern.finditer(source)]
        alone = len(re.findall(rf"\b{re.escape(n)}\b", source, re.I)) > sum(u in _QUALIFIERS for u in uses)
        if bare_in_sentence and uses and not alone:
            out.add(n)
    return out


def negated(text: str) -> bool:
    """Whether a text says 'not' (or n't, never, cannot…)."""
    return any(w in _NEGATIONS or w.endswith("n't") for w in words(text))


def content(text: str) -> set[str]:
    """The stems of a text's content words."""
    return {stem(w) for w in words(text) if w not in _STOP and not w[0].isdigit() and len(w) > 1}


class Checker:
    """Checks written sentences against the source sentences they cite."""

    def __init__(self, encode: Callable[[list[str]], np.ndarray], coverage: float = COVERAGE,
                 similarity: float = SIMILARITY):
        self.encode = encode
        self.coverage = coverage
        self.similarity = similarity

    def lexical(self, sentence: str, cited: Sequence[str]) -> Verdict:
        """Tests 1-6, which need no model; a passing verdict carries the coverage."""
        if not cited:
            return Verdict(False, "no citation")
        source = " ".join(cited)
        missing = numbers(sentence) - numbers(source)
        if missing:
            return Verdict(False, "number", ", ".join(sorted(missing)))
        missing = (months(sentence) - months(source)) | dates_missing(sentence, source) | \
            unbound_numbers(sentence, source)
        if missing:
            return Verdict(False, "number", ", ".join(sorted(missing)))
        sentence = _OPENER.sub("", sentence)
        source_words = set(words(source)) | {w.replace("'s", "") for w in words(source)}
        source_words |= {part for w in source_words if "-" in w for part in w.split("-")}
        source_stems = {stem(w) for w in source_words}
        known = source_words | acronyms(source)
        missing = {n for n in names(sentence) if n not in known and stem(n) not in source_stems}
        if missing:
            return Verdict(False, "name", ", ".join(sorted(missing)))
        narrowed = qualified_names(sentence, source)
        if narrowed:
            return Verdict(False, "name", ", ".join(sorted(narrowed)))
        mine = content(sentence)
        closest = max(cited, key=lambda c: len(mine & content(c)))
        clauses = [c for part in cited for c in _CLAUSE.split(part) if content(c)]
        nearest = max(clauses, key=lambda c: len(mine & content(c)) / len(content(c) | mine)) if clauses else closest
        if negated(sentence) != negated(nearest) and not (negated(sentence) and negated(closest)):
            return Verdict(False, "negation", nearest)
        # The sentence asserts what the source denies ("X published…" for "X did not publish…").
        _, asserted = negated_stems(sentence)
        source_denied, source_asserted = negated_stems(source)
        flipped = asserted & source_denied - source_asserted
        if flipped:
            return Verdict(False, "negation", ", ".join(sorted(flipped)))
        said = set(words(sentence))
        for w in said:
            opposite = _OPPOSITE.get(w, set()) & source_words
            if opposite and w not in source_words:
                return Verdict(False, "opposite", f"{w} / {', '.join(sorted(opposite))}")
        widened = {w for w in said if w in _SCOPE and not _SAME_SCOPE.get(w, set()) & source_words} - source_words
        if widened:
            return Verdict(False, "scope", ", ".join(sorted(widened)))
        if (set(words(closest)) & _HEDGES or _HEDGE_PHRASE.search(closest)) and not (
                said & _HEDGES or _HEDGE_PHRASE.search(sentence)):
            return Verdict(False, "hedge", closest)
        source_content = content(source)
        for clause in _CLAUSE.split(sentence):
            part = content(clause)
            if len(part) >= 2 and len(part & source_content) / len(part) < CLAUSE_COVERAGE:
                return Verdict(False, "coverage", clause.strip())
        covered = len(mine & source_content) / len(mine) if mine else 0.0
        if covered < self.coverage:
            return Verdict(False, "coverage", ", ".join(sorted(mine - source_content)), covered)
        return Verdict(True, coverage=covered)

    def check(self, sentence: str, cited: Sequence[str]) -> Verdict:
        """All the tests."""
        return self.check_many([(sentence, cited)])[0]

    def misnamed(self, sentence: str, cited: Sequence[str]) -> set[str]:
        """Names the sentence puts in a span whose closest source span (in meaning) does not have them, where the
        source has the name elsewhere: 'Eadie represented Apple' against 'Eadie represented the government'."""
        spans = [p for c in cited for p in segments(c)]
        every = names(" ".join(cited))
        mine = [p for p in segments(sentence) if names(p) & every]
        if len(spans) < 2 or not mine:
            return set()
        vecs = self.encode(mine + spans)
        out: set[str] = set()
        for i, part in enumerate(mine):
            order = np.argsort(-(vecs[len(mine):] @ vecs[i]))
            near = names(spans[int(order[0])])
            missing = (names(part) & every) - near
            if missing and near & names(part):  # the span is about the same people, but adds someone else
                out |= missing
        return out

    def misbound(self, sentence: str, cited: Sequence[str]) -> set[str]:
        """Numbers and years the sentence attaches to a different fact than the source does: for each, the source
        span closest in meaning to the sentence's span (numbers blanked in both) must state that number."""
        spans = [p for c in cited for p in segments(c) if values(p)]
        if len({v for p in spans for v in values(p)}) < 2:
            return set()
        out: set[str] = set()
        mine = [p for p in segments(sentence) if values(p) & values(" ".join(spans))]
        if not mine:
            return out
        vecs = self.encode([masked(p) for p in mine + spans])
        for i, part in enumerate(mine):
            sims = vecs[len(mine):] @ vecs[i]
            best = spans[int(np.argmax(sims))]
            out |= (values(part) & values(" ".join(spans))) - values(best)
        return out

    def check_many(self, items: Sequence[tuple[str, Sequence[str]]]) -> list[Verdict]:
        """Check several sentences, embedding everything in one batch."""
        lexical = [self.lexical(s, c) for s, c in items]
        texts: list[str] = []
        spans: list[tuple[int, int]] = []
        for (sentence, cited), v in zip(items, lexical, strict=True):
            start = len(texts)
            if v.supported:
                texts += [sentence, " ".join(cited), *cited]
            spans.append((start, len(texts)))
        vecs = self.encode(texts) if texts else np.zeros((0, 0), np.float32)
        out = []
        for (sentence, cited), v, (start, end) in zip(items, lexical, spans, strict=True):
            if not v.supported:
                out.append(v)
                continue
            best = float(max(vecs[start + 1 : end] @ vecs[start]))
            if best < self.similarity:
                out.append(Verdict(False, "meaning", f"{best:.2f}", v.coverage, best))
                continue
            misbound = self.misbound(sentence, cited)
            misnamed = set() if misbound else self.misnamed(sentence, cited)
            if misbound or misnamed:
                out.append(Verdict(False, "number" if misbound else "name", ", ".join(sorted(misbound or misnamed)),
                                   v.coverage, best))
            else:
                out.append(Verdict(True, coverage=v.coverage, similarity=best))
        return out
