"""Why Keyholder declines a question: one typed registry that the engine, the CLI and the Discord layer all read."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

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
NOT_LEGAL_ADVICE = (
    "This is general information, not legal advice. For your own situation, talk to a lawyer "
    "(a criminal-defence attorney, a public defender or a legal-aid service) before you decide anything."
)


class Reason(StrEnum):
    """A reason to decline; the value is what `ask --json` and the logs show."""

    empty = "empty"
    too_long = "too_long"
    out_of_scope = "out_of_scope"  # near the subject, but not something the knowledge base answers
    off_topic = "off_topic"  # jokes, poems, recipes, stock tips, homework: shares a word with it at most
    personal_data = "personal_data"  # contains or seeks someone's contact details
    break_in = "break_in"  # getting into, reading, tracking or impersonating someone else's device or account
    malware = "malware"
    evasion = "evasion"  # evading or obstructing legal process


@dataclass(frozen=True)
class Rule:
    """How one reason is presented."""

    reason: Reason
    title: str  # the embed title: never the user's question
    message: str  # the whole reply: short, specific, and never repeating what the user typed
    private: bool  # on /ask, only the asker sees it
    harmful: bool  # a request for harmful help (counted apart from scope declines)


RULES: dict[Reason, Rule] = {
    Reason.empty: Rule(Reason.empty, "Ask me a question", f"Please ask a question. {SCOPE} {HOW_TO_ASK}", False, False),
    Reason.too_long: Rule(
        Reason.too_long, "That question is too long",
        "That question is too long for me; please keep it under 500 characters and ask one thing at a time.",
        False, False),
    Reason.out_of_scope: Rule(
        Reason.out_of_scope, "Not something I can answer",
        f"Sorry, I don't have a sourced answer to that. {SCOPE} {HOW_TO_ASK}", False, False),
    Reason.off_topic: Rule(
        Reason.off_topic, "Outside what I cover",
        "That's outside what I cover: I only answer questions about encryption and government or legal demands "
        "for user data, with sources. /topics lists what I know.", False, False),
    Reason.personal_data: Rule(
        Reason.personal_data, "I can't help with personal information",
        "I can't help find, share or repost anyone's personal or contact details, and I don't repeat them. "
        "I can explain what data providers keep and what legal process the government needs to obtain it.",
        True, True),
    Reason.break_in: Rule(
        Reason.break_in, "I can't help with that",
        "I can't help with getting into someone else's device, account or messages, or with tracking or "
        "impersonating anyone. If you've lost access to your own account, the provider's official recovery process "
        "is the way back in. I can explain how encryption and lawful access work in general, for example how police "
        "get into locked phones with a warrant.", True, True),
    Reason.malware: Rule(
        Reason.malware, "I can't help with that",
        "I can't help write malware, spyware or exploits. I can explain how encryption protects devices and "
        "messages, and what the law says about government hacking and forensic unlocking tools.", True, True),
    Reason.evasion: Rule(
        Reason.evasion, "I can't help with that",
        "I can't help evade or obstruct a subpoena, warrant or investigation. If legal process concerns you, a lawyer "
        "can tell you your rights and options; in general terms, I can explain what the law allows and requires. "
        + NOT_LEGAL_ADVICE, True, True),
}

HARMFUL = frozenset(r for r, rule in RULES.items() if rule.harmful)


def rule(reason: Reason | str) -> Rule:
    """The presentation rule for a reason (accepts the enum or its string value)."""
    return RULES[Reason(reason)]
