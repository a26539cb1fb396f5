"""Rules about the question itself: harmful requests, injected instructions, personal legal situations, mentions."""

from __future__ import annotations

import re

MAX_QUESTION_CHARS = 500

# --- harmful requests -------------------------------------------------------------------------

_ASKS = r"(how\s+(do|can|could|would|should)\s+i|how\s+to|help\s+me|teach\s+me|show\s+me|i\s+(want|need|wanna)\s+to|" \
    r"give\s+me|write\s+me|tell\s+me\s+how|steps?\s+to|ways?\s+to|can\s+you|could\s+you|is\s+there\s+a\s+way\s+to|tool\s+to)"
_TARGET = r"(some\s*one|some\s*body|anyone|another\s+person|other\s+people|my\s+(ex|wife|husband|girl\s*friend|boy\s*friend|" \
    r"partner|boss|co-?worker|neighbou?r|roommate|sister|brother|friend|daughter|son|kid)|\b(his|her|their)\b|a\s+stolen|a\s+found|" \
    r"(a|the)\s+(celebrity|journalist|politician))"
_BREAK = r"(hack|break\s+into|get\s+into|bypass|crack|brute[\s-]*force|unlock|access|spy\s+on|snoop|read|intercept|track|monitor|" \
    r"clone|sim[\s-]*swap|phish|steal|take\s+over|log\s*into|login\s+to)"

HARM_PATTERNS: dict[str, list[re.Pattern[str]]] = {
    "break_in": [
        re.compile(rf"{_ASKS}.{{0,40}}\b{_BREAK}\b.{{0,40}}{_TARGET}", re.I | re.S),
        re.compile(rf"\b{_BREAK}\b.{{0,15}}{_TARGET}.{{0,30}}\b(phone|iphone|android|account|icloud|email|messages|texts|"
                   rf"whatsapp|signal|password|instagram|snapchat|facebook)\b.{{0,40}}\b(without|behind)\b", re.I | re.S),
        re.compile(r"\b(stalkerware|spyware)\b.{0,30}\b(on|into)\b.{0,20}" + _TARGET, re.I | re.S),
    ],
    "malware": [
        re.compile(_ASKS + r".{0,20}\b(write|create|code|build|make|develop|generate|get|program)\b.{0,40}\b(malware|ransomware|keylogger|"
                   r"spyware|stalkerware|trojan|virus|worm|rootkit|botnet|exploit|payload|rat\b|backdoor\s+for)", re.I | re.S),
        re.compile(r"\b(write|code|build|make|create|develop|program)\s+(me\s+|us\s+)?(a|an|some|my\s+own)?\s*([\w-]+\s+){0,3}"
                   r"(malware|ransomware|keylogger|spyware|stalkerware|trojan|virus|worm|rootkit|botnet|exploit)s?\b", re.I),
        re.compile(r"\b(zero[\s-]*day|0[\s-]*day)\b.{0,30}\b(for|against|to)\b", re.I),
    ],
    "doxxing": [
        re.compile(r"\bdox+(ing|ed)?\b", re.I),
        re.compile(r"\b(find|get|look\s*up|track\s+down|give\s+me)\b.{0,30}\b(home\s+address|real\s+name|where\s+\w+\s+lives?|"
                   r"phone\s+number|ip\s+address|personal\s+(info|information|details))\b.{0,30}\b(of|for|on|about)\b", re.I | re.S),
    ],
    "evasion": [
        re.compile(r"\b(evade|avoid|dodge|get\s+around|beat|hide\s+from|escape|obstruct|defeat)\b.{0,30}\b(subpoena|warrant|court\s+order|"
                   r"police|cops|fbi|law\s+enforcement|investigators?|investigation|legal\s+process|wiretap|detection)", re.I | re.S),
        re.compile(r"\b(destroy|delete|wipe|hide|erase|get\s+rid\s+of)\b.{0,30}\b(evidence)\b", re.I | re.S),
        re.compile(r"\b(wipe|erase|destroy|reset)\b.{0,30}\b(phone|iphone|laptop|device|data)\b.{0,30}\b(before|so)\b.{0,30}"
                   r"\b(police|cops|fbi|investigators|they|feds)\b", re.I | re.S),
    ],
}


def harm_category(question: str) -> str | None:
    """The kind of harmful help the question asks for ("break_in", "malware", "doxxing", "evasion"), or None."""
    for category, patterns in HARM_PATTERNS.items():
        if any(p.search(question) for p in patterns):
            return category
    return None


# --- injected instructions --------------------------------------------------------------------

_INJECTION = re.compile(
    r"(ignore|disregard|forget|override|bypass)\b.{0,40}\b(instructions?|rules|prompts?|guidelines|system|previous|above|prior)"
    r"|\b(system\s*prompt|system\s*message|developer\s*mode|jailbreak|dan\s+mode)\b"
    r"|^\s*[\[<(]?\s*(system|assistant|admin|developer)\s*[\]>):]"
    r"|\byou\s+are\s+(now|no\s+longer)\b|\bfrom\s+now\s+on\b|\bnew\s+instructions?\b|\bpretend\s+(to\s+be|you)\b|\bact\s+as\b"
    r"|\b(say|print|output|reply\s+with|respond\s+with|repeat|type|write|post|end\s+your\s+answer\s+with)\b.{0,40}"
    r"(@\s*everyone|@\s*here|everyone|here\b|exactly|verbatim|the\s+following)"
    r"|@\s*(everyone|here)\b|\b(ping|mention|tag)\s+(everyone|@?here|all)\b",
    re.I | re.M,
)
_CLAUSES = re.compile(r"(?<=[.!?;\n])\s+|\s*\n\s*")


def strip_injection(question: str) -> tuple[str, bool]:
    """Remove sentences that try to instruct the bot; return (what is left to answer, whether any were removed)."""
    parts = [p for p in _CLAUSES.split(question) if p and p.strip()]
    kept = [p for p in parts if not _INJECTION.search(p)]
    removed = len(kept) != len(parts)
    return " ".join(k.strip() for k in kept).strip(), removed


# --- personal legal situations ----------------------------------------------------------------

_FIRST_PERSON = re.compile(r"\b(i|i'm|im|i've|ive|i'd|me|my|mine|myself|we|our|us)\b", re.I)
_LEGAL = re.compile(
    r"\b(police|cops?|fbi|feds?|dea|ice|cbp|customs|border|officers?|detectives?|agents?|warrants?|subpoena\w*|arrest\w*|charged|"
    r"charges|court|judge|lawyers?|attorneys?|sue|sued|lawsuit|legal(ly)?|illegal|rights?|seiz\w*|confiscat\w*|searched|"
    r"detain\w*|investigat\w*|prosecut\w*|testify|grand\s+jury|plead|fifth\s+amendment|compel\w*|gag\s+order|jail|prison|probation|parole|"
    r"national\s+security\s+letter|court\s+order|orders?|notices?|hand\s+over|turn\s+over|wiretap\w*|intercept\w*|calea|magistrate|"
    r"home\s+office|comply|refuse)\b",
    re.I,
)
_SITUATION = re.compile(
    r"\b(do|must|should|can|could|will|would)\s+i\b|\bam\s+i\b|\bi\s+(got|was|am|have|had|just|received|need|want|refuse\w*|"
    r"forgot|live|work|run|own|use)\b|\b(do|must|should|can|could)\s+we\b|\bi'm\b|\bim\b|\bi've\b|\bive\b|"
    r"\bmy\s+(\w+\s+)?(phone|iphone|laptop|computer|case|lawyer|attorney|data|"
    r"account|messages|texts|company|employer|client|son|daughter|friend|husband|wife|kid|backups?|passcode|password|startup|"
    r"business|users|customers|icloud|email|chats|house|home)\b",
    re.I,
)

CAVEAT = (
    "This is general information, not legal advice. For your own situation, talk to a lawyer "
    "(a criminal-defence attorney, a public defender or a legal-aid service) before you decide anything."
)


def is_personal(question: str) -> bool:
    """Whether the asker describes their own legal situation (and so needs the not-legal-advice caveat)."""
    return bool(_FIRST_PERSON.search(question) and _SITUATION.search(question) and _LEGAL.search(question))


# --- mentions ---------------------------------------------------------------------------------

_MASS = re.compile(r"@(?=\s*(everyone|here)\b)", re.I)
_MENTION = re.compile(r"<(@[!&]?|#)(?=\d)")


def neutralise_mentions(text: str) -> str:
    """Defuse @everyone, @here and <@id>/<@&id>/<#id> so no text can ping anyone, whatever the sender's settings."""
    text = _MASS.sub("@\u200b", text)
    return _MENTION.sub(lambda m: "<" + m.group(1) + "\u200b", text)
