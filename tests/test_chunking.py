"""Chunking keeps whole sentences under their headings."""

from __future__ import annotations

from bot.chunking import MAX_WORDS, chunk_document, split_sentences
from bot.knowledge import load_knowledge
from tests.conftest import FIXTURE_KB, KNOWLEDGE


def test_legal_abbreviations_do_not_end_sentences() -> None:
    text = ("In United States v. New York Telephone Co., 434 U.S. 159 (1977), the Court ruled for the FBI. "
            "The order cited 28 U.S.C. § 1651 on Dec. 7, 1977. It was affirmed.")
    assert split_sentences(text) == [
        "In United States v. New York Telephone Co., 434 U.S. 159 (1977), the Court ruled for the FBI.",
        "The order cited 28 U.S.C. § 1651 on Dec. 7, 1977.",
        "It was affirmed.",
    ]


def test_passages_carry_heading_and_whole_sentences() -> None:
    doc = next(d for d in load_knowledge(FIXTURE_KB) if d.id == "icloud-keys")
    passages = chunk_document(doc)
    assert [p.heading for p in passages] == [
        "iCloud Backup keys (test fixture): Standard data protection",
        "iCloud Backup keys (test fixture): Advanced Data Protection",
    ]
    assert passages[0].sentences[1].startswith("Apple holds the keys")
    assert all(s.endswith((".", "?", "!", '"', ")")) for p in passages for s in p.sentences)


def test_real_knowledge_base_passages_stay_small() -> None:
    for doc in load_knowledge(KNOWLEDGE):
        for p in chunk_document(doc):
            words = sum(len(s.split()) for s in p.sentences)
            assert words <= MAX_WORDS or len(p.sentences) == 1, p.id
