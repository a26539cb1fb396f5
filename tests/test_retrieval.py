"""Dense and lexical retrieval fused by reciprocal rank, a few passages per document at most."""

from __future__ import annotations

from collections import Counter

import pytest

from bot.engine import Engine
from bot.index import Index, load_index
from bot.retrieval import RRF_K, fuse, retrieve


def test_fusion_rewards_agreement() -> None:
    fused = fuse([[(1, 0.9), (2, 0.8), (3, 0.7)], [(3, 9.0), (1, 5.0)]])
    assert fused[1] == 1 / (RRF_K + 1) + 1 / (RRF_K + 2)
    assert fused[3] == 1 / (RRF_K + 3) + 1 / (RRF_K + 1)
    assert fused[2] == 1 / (RRF_K + 2)
    assert max(fused, key=fused.__getitem__) == 1


@pytest.fixture(scope="module")
def kb_index(kb_engine: Engine) -> Index:
    """The index the engine loaded, read from disk as the retrieval layer sees it."""
    return load_index(kb_engine.settings.index_dir)


def test_hits_keep_scores_and_cap_passages_per_document(kb_engine: Engine, kb_index: Index) -> None:
    q = "All Writs Act New York Telephone factors burden"
    qvec = kb_engine.embedder.encode_one(q)
    hits = retrieve(kb_index, q, qvec, top_k=8, per_doc=2)
    assert len(hits) == 8
    assert max(Counter(h.passage.doc_id for h in hits).values()) <= 2
    assert [h.rank for h in hits] == list(range(1, 9))
    assert all(h.score > 0 and -1 <= h.dense <= 1 for h in hits)
    assert hits[0].score >= hits[-1].score
    assert any(h.lexical > 0 for h in hits)


def test_lexical_finds_rare_names_dense_alone_may_miss(kb_engine: Engine, kb_index: Index) -> None:
    q = "Azimuth"
    qvec = kb_engine.embedder.encode_one(q)
    lexical = retrieve(kb_index, q, qvec, mode="lexical")
    hybrid = retrieve(kb_index, q, qvec)
    assert lexical and "Azimuth" in " ".join(lexical[0].passage.sentences)
    assert any("Azimuth" in " ".join(h.passage.sentences) for h in hybrid[:3])


def test_a_curated_question_brings_in_a_document_its_passages_miss(kb_engine: Engine, kb_index: Index) -> None:
    # Lavabit's passages speak of "SSL keys", so neither retriever ranks it for "encryption keys"; its own curated
    # question is this one, so the document joins the hits and its answer leads.
    q = "can a court make a company hand over its encryption keys"
    qvec = kb_engine.embedder.encode_one(q)
    assert "lavabit-2013" not in {h.passage.doc_id for h in retrieve(kb_index, q, qvec, mode="dense")}
    assert "lavabit-2013" in {h.passage.doc_id for h in retrieve(kb_index, q, qvec)}
    answer = kb_engine.answer(q)
    assert answer.sentences[0].doc_id == "lavabit-2013" and "SSL keys" in answer.sentences[0].text
