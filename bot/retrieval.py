"""Question → ranked Hits: dense (FAISS) and lexical (BM25) results fused by reciprocal rank."""

from __future__ import annotations

import logging
from collections import defaultdict

import numpy as np

from bot.index import Index, tokenize
from bot.models import Hit

log = logging.getLogger(__name__)

RRF_K = 60  # the usual reciprocal-rank-fusion constant
CANDIDATES = 30  # how deep each retriever looks before fusion


def dense_ranking(index: Index, qvec: np.ndarray, depth: int = CANDIDATES) -> list[tuple[int, float]]:
    """(passage index, cosine) pairs from FAISS, best first."""
    n = min(depth, len(index.passages))
    if n == 0:
        return []
    scores, ids = index.faiss_index.search(qvec.reshape(1, -1).astype(np.float32), n)
    return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]


def lexical_ranking(index: Index, question: str, depth: int = CANDIDATES) -> list[tuple[int, float]]:
    """(passage index, BM25 score) pairs, best first; empty when no question word is in the vocabulary."""
    tokens = [t for t in tokenize(question) if t in index.bm25_vocab]
    n = min(depth, len(index.passages))
    if not tokens or n == 0:
        return []
    ids, scores = index.bm25.retrieve([tokens], k=n, show_progress=False, n_threads=1)
    return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if s > 0]


def fuse(rankings: list[list[tuple[int, float]]], k: int = RRF_K) -> dict[int, float]:
    """Reciprocal-rank fusion: each list adds 1 / (k + rank) to the items it ranks."""
    fused: dict[int, float] = defaultdict(float)
    for ranking in rankings:
        for rank, (idx, _) in enumerate(ranking, start=1):
            fused[idx] += 1.0 / (k + rank)
    return dict(fused)


def retrieve(
    index: Index,
    question: str,
    qvec: np.ndarray,
    top_k: int = 5,
    per_doc: int = 3,
    mode: str = "hybrid",
) -> list[Hit]:
    """The top passages for a question, at most `per_doc` from any one document.

    `mode` is "hybrid" (the product), or "dense" / "lexical" alone (the evaluation baselines).
    """
    dense = dense_ranking(index, qvec) if mode in ("hybrid", "dense") else []
    lexical = lexical_ranking(index, question) if mode in ("hybrid", "lexical") else []
    fused = fuse([r for r in (dense, lexical) if r])
    lex_scores = dict(lexical)
    order = sorted(fused, key=lambda i: (-fused[i], i))
    cosines = index.passage_vectors[order] @ qvec if order else np.zeros(0)
    hits: list[Hit] = []
    per: dict[str, int] = defaultdict(int)
    for idx, cos in zip(order, cosines, strict=True):
        passage = index.passages[idx]
        if per[passage.doc_id] >= per_doc:
            continue
        per[passage.doc_id] += 1
        hits.append(
            Hit(
                passage=passage,
                score=fused[idx],
                dense=float(cos),
                lexical=lex_scores.get(idx, 0.0),
                rank=len(hits) + 1,
            )
        )
        if len(hits) == top_k:
            break
    return hits
