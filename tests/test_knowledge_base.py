"""The built-in knowledge base: complete, valid, sourced, and findable."""

from __future__ import annotations

from collections import Counter

import pytest

from bot.engine import Engine
from bot.evaluation import load_gold
from bot.knowledge import Kind, load_knowledge
from tests.conftest import KNOWLEDGE

# Every topic of the research brief, sections A to E (the research notes the knowledge base was written from).
BRIEF_TOPICS = """seed-2015-imessage-standoff imessage-encryption-design ios8-data-protection-passcodes icloud-backup-keys
messages-in-icloud advanced-data-protection apple-transparency-legal-process all-writs-act us-v-new-york-telephone-1977
brooklyn-orenstein-case apple-v-fbi-san-bernardino apple-fbi-pensacola calea-1994 salt-typhoon-2024 wiretap-act-title-iii
metadata-vs-content stored-communications-act-ecpa microsoft-ireland-case cloud-act-2018 lavabit-2013
riley-v-california-2014 carpenter-v-us-2018 fifth-amendment-compelled-unlock clipper-chip-crypto-wars
keys-under-doormats-2015 going-dark-debate apple-csam-scanning-2021 whatsapp-signal-e2ee messenger-telegram-defaults
google-android-encryption sms-rcs-messaging lawful-hacking-unlock-tools encryption-basics uk-investigatory-powers-act
uk-adp-withdrawal-2025 australia-assistance-access-act eu-chat-control timeline-cheatsheet""".split()
REQUIRED_CASES = """seed-2015-imessage-standoff brooklyn-orenstein-case apple-v-fbi-san-bernardino apple-fbi-pensacola
us-v-new-york-telephone-1977 microsoft-ireland-case lavabit-2013 riley-v-california-2014 carpenter-v-us-2018
smith-v-maryland-1979 us-v-payne-2024 grand-jury-subpoena-doe-2012 commonwealth-v-gelfgatt-2014""".split()
FAST_MOVING = ["uk-adp-withdrawal-2025", "eu-chat-control", "sms-rcs-messaging"]


@pytest.fixture(scope="module")
def docs():  # type: ignore[no-untyped-def]
    # load_knowledge raises KnowledgeError listing every problem at once: missing or malformed fields,
    # sources without URLs, duplicate ids, cases without status or dates, dangling cross-references.
    return {d.id: d for d in load_knowledge(KNOWLEDGE)}


def test_every_brief_topic_has_a_document(docs) -> None:  # type: ignore[no-untyped-def]
    assert sorted(set(BRIEF_TOPICS) - set(docs)) == []


def test_cases_carry_their_structured_fields(docs) -> None:  # type: ignore[no-untyped-def]
    cases = [d for d in docs.values() if d.meta.kind is Kind.case]
    assert len(cases) >= 15
    assert sorted(set(REQUIRED_CASES) - {d.id for d in cases}) == []
    for d in cases:
        m = d.meta
        assert m.court and m.status and (m.decided or m.key_dates) and (m.citation or m.docket), d.id
        body = d.body.lower()
        assert any(neg in body for neg in ("does not", "did not", "never", "was not", "is not")), \
            f"{d.id}: say what the case does not stand for"


def test_every_document_is_sourced_dated_and_substantial(docs) -> None:  # type: ignore[no-untyped-def]
    for d in docs.values():
        assert all(str(s.url).startswith(("https://", "http://")) for s in d.meta.sources), d.id
        words = len(d.body.split("## Quick answers")[0].split())  # curated Q&A come on top of the text
        assert 150 <= words <= 1300, f"{d.id}: {words} words"
        assert d.body.count("\n## ") >= 2, f"{d.id}: organise under headings"
    for slug in FAST_MOVING:
        assert docs[slug].meta.fast_moving, slug


def test_each_document_is_found_by_at_least_two_gold_questions(kb_engine: Engine) -> None:
    found: Counter[str] = Counter()
    for g in load_gold():
        if g.type in ("answer", "caveat", "injection") and g.docs:
            hits = kb_engine.answer(g.q).hits
            top3: list[str] = []
            for h in hits:
                if h.passage.doc_id not in top3:
                    top3.append(h.passage.doc_id)
            found.update(set(g.docs) & set(top3[:3]))
    weak = {d: found[d] for d in kb_engine.titles() if found[d] < 2}
    assert weak == {}
