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
QUICK_RESCUE = 0.75  # a curated question at least this close to the asked one brings its document into the hits...
QUICK_RESCUE_GAP = 0.15  # ... when it is this much closer than any curated question of the retrieved documents


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
    if mode == "hybrid":
        hits += rescued(index, qvec, hits)
    return hits


def rescued(index: Index, qvec: np.ndarray, hits: list[Hit]) -> list[Hit]:
    """The best passage of a document whose curated question is nearly the asked one, when the passages did not
    bring that document in and no retrieved document has a curated question nearly as close ("can a court make a
    company hand over its encryption keys?" is Lavabit's own question, but its passages speak of "SSL keys")."""
    if not len(index.quick_question_vectors):
        return []
    sims = index.quick_question_vectors @ qvec
    row = int(np.argmax(sims))
    doc_id = str(index.quick_question_doc[row])
    retrieved = {h.passage.doc_id for h in hits}
    if float(sims[row]) < QUICK_RESCUE or doc_id in retrieved:
        return []
    theirs = np.isin(index.quick_question_doc, list(retrieved))
    closest_retrieved = float(sims[theirs].max()) if theirs.any() else 0.0
    if float(sims[row]) - closest_retrieved < QUICK_RESCUE_GAP:
        return []
    mine = [i for i, p in enumerate(index.passages) if p.doc_id == doc_id]
    cos = index.passage_vectors[mine] @ qvec
    best = mine[int(np.argmax(cos))]
    return [Hit(passage=index.passages[best], score=0.0, dense=float(np.max(cos)), lexical=0.0, rank=len(hits) + 1)]
