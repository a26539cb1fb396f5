"""Build, save, load and check the index: FAISS (dense) + BM25 (lexical) + a manifest of what built it."""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from bot.chunking import CHUNKER_VERSION, chunk_document, quick_answers
from bot.intent import ALLOWED, EXEMPLARS, IntentModel, exemplar_hash, load_exemplars
from bot.knowledge import Document
from bot.models import Passage, QuickAnswer

log = logging.getLogger(__name__)

FORMAT_VERSION = 4  # 2: per-sentence source ids, quick answers; 3: intent exemplars; 4: intent classifier
FLAT_LIMIT = 50_000  # above this many passages, an HNSW graph replaces exact search

_STOP = frozenset(
    ["a", "about", "above", "after", "again", "against", "all", "am", "an", "and", "any", "are", "as", "at", "be", "because", "been", "before", "being", "below", "between", "both", "but", "by", "can", "could", "did", "do", "does", "doing", "down", "during", "each", "few", "for", "from", "further", "had", "has", "have", "having", "he", "her", "here", "hers", "him", "his", "how", "i", "if", "in", "into", "is", "it", "its", "itself", "just", "me", "more", "most", "my", "no", "nor", "not", "now", "of", "off", "on", "once", "only", "or", "other", "our", "out", "over", "own", "same", "she", "should", "so", "some", "such", "than", "that", "the", "their", "them", "then", "there", "these", "they", "this", "those", "through", "to", "too", "under", "until", "up", "very", "was", "we", "were", "what", "when", "where", "which", "while", "who", "whom", "why", "will", "with", "would", "you", "your", "yours", "please", "tell", "know", "explain", "whats"]
)


class Encoder(Protocol):
    """What the index needs from the embedding model."""

    name: str
    dimension: int

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray: ...


def import_bm25s() -> Any:
    """Import bm25s, undoing the DEBUG log level it sets on its own logger at import time."""
    import bm25s

    logging.getLogger("bm25s").setLevel(logging.WARNING)
    return bm25s


def tokenize(text: str) -> list[str]:
    """Lower-case word tokens for BM25, stop words dropped and plurals folded."""
    out = []
    for tok in re.findall(r"[a-z0-9§]+", text.lower()):
        if tok in _STOP or (len(tok) < 2 and not tok.isdigit()):
            continue
        if len(tok) > 4 and tok.endswith("ies"):
            tok = tok[:-3] + "y"
        elif len(tok) > 3 and tok.endswith("s") and not tok.endswith(("ss", "us", "is")):
            tok = tok[:-1]
        out.append(tok)
    return out


def text_key(text: str) -> str:
    """The content hash under which a text's embedding is cached."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


class IndexProblem(Exception):
    """The index is missing, stale or unreadable; the message says which and what to do."""


@dataclass
class BuildReport:
    """What a build did: how many texts it embedded and how many it reused."""

    documents: int
    passages: int
    embedded: int
    reused: int
    seconds: float
    changed_docs: list[str] = field(default_factory=list)


@dataclass
class Index:
    """Everything retrieval needs, in memory."""

    manifest: dict[str, Any]
    passages: list[Passage]
    passage_vectors: np.ndarray  # (P, d)
    sentence_vectors: np.ndarray  # (S, d)
    sentence_offsets: np.ndarray  # (P + 1,) passage i owns sentences offsets[i]:offsets[i+1]
    faiss_index: Any
    bm25: Any
    bm25_vocab: dict[str, int]
    quick: list[QuickAnswer] = field(default_factory=list)
    quick_question_vectors: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.float32))  # (Q, d)
    quick_question_owner: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # row -> quick index
    quick_sentence_vectors: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.float32))  # (A, d)
    quick_sentence_offsets: np.ndarray = field(default_factory=lambda: np.zeros(1, np.int64))
    intents: IntentModel | None = None  # fitted on the exemplars and the Quick-answer questions
    passage_row: dict[str, int] = field(init=False)
    quick_words: list[frozenset[str]] = field(init=False)  # each curated entry's tokens (questions and answer)
    quick_idf: dict[str, float] = field(init=False)  # how rare a token is among the curated entries
    quick_question_doc: np.ndarray = field(init=False)  # row of quick_question_vectors -> its document's id

    def __post_init__(self) -> None:
        self.passage_row = {p.id: i for i, p in enumerate(self.passages)}
        self.quick_words = [frozenset(tokenize(" ".join((*qa.questions, *qa.sentences)))) for qa in self.quick]
        df: dict[str, int] = {}
        for words in self.quick_words:
            for w in words:
                df[w] = df.get(w, 0) + 1
        n = len(self.quick_words)
        self.quick_idf = {w: float(np.log((n + 1) / (c + 0.5))) for w, c in df.items()}
        self.quick_question_doc = np.array([self.quick[int(o)].doc_id for o in self.quick_question_owner], dtype=object)

    def quick_rarity(self, word: str) -> float:
        """A token's rarity among the curated entries; a token none of them uses is the rarest."""
        return self.quick_idf.get(word, float(np.log((len(self.quick_words) + 1) / 0.5)))

    def sentence_slice(self, passage_idx: int) -> slice:
        """The rows of `sentence_vectors` that belong to one passage."""
        return slice(int(self.sentence_offsets[passage_idx]), int(self.sentence_offsets[passage_idx + 1]))

    def quick_slice(self, quick_idx: int) -> slice:
        """The rows of `quick_sentence_vectors` that belong to one quick answer."""
        return slice(int(self.quick_sentence_offsets[quick_idx]), int(self.quick_sentence_offsets[quick_idx + 1]))


def expected_manifest(docs: list[Document], encoder: Encoder) -> dict[str, Any]:
    """The manifest an up-to-date index for these documents would carry."""
    return {
        "format": FORMAT_VERSION,
        "model": encoder.name,
        "dimension": encoder.dimension,
        "chunker": CHUNKER_VERSION,
        "intents": exemplar_hash(EXEMPLARS),
        "documents": {d.id: d.content_hash for d in sorted(docs, key=lambda d: d.id)},
    }


def read_manifest(index_dir: Path) -> dict[str, Any] | None:
    """The saved manifest, or None when there is no readable index."""
    try:
        return json.loads((index_dir / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def staleness(index_dir: Path, docs: list[Document], encoder: Encoder) -> list[str]:
    """Reasons the index does not match the knowledge base; empty when it is current."""
    saved = read_manifest(index_dir)
    if saved is None:
        return ["no index has been built yet"]
    want = expected_manifest(docs, encoder)
    reasons = []
    for key in ("format", "model", "dimension", "chunker", "intents"):
        if saved.get(key) != want[key]:
            reasons.append(f"built with {key} {saved.get(key)!r}, now {want[key]!r}")
    old, new = saved.get("documents", {}), want["documents"]
    changed = sorted(k for k in new if k in old and old[k] != new[k])
    added = sorted(set(new) - set(old))
    removed = sorted(set(old) - set(new))
    for label, ids in (("changed", changed), ("added", added), ("removed", removed)):
        if ids:
            reasons.append(f"{len(ids)} document(s) {label}: {', '.join(ids[:5])}{' …' if len(ids) > 5 else ''}")
    return reasons


def _load_cache(index_dir: Path, dimension: int) -> dict[str, np.ndarray]:
    path = index_dir / "embed_cache.npz"
    try:
        with np.load(path) as data:
            keys, vecs = data["keys"], data["vectors"]
    except (OSError, KeyError, ValueError):
        return {}
    if vecs.ndim != 2 or vecs.shape[1] != dimension:
        return {}
    return {str(k): vecs[i] for i, k in enumerate(keys)}


def make_faiss_index(vectors: np.ndarray) -> Any:
    """Exact inner-product search for small collections, an HNSW graph for large ones."""
    import faiss

    n, d = vectors.shape
    index: Any
    if n > FLAT_LIMIT:
        index = faiss.IndexHNSWFlat(d, 32, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 80
        index.hnsw.efSearch = 64
    else:
        index = faiss.IndexFlatIP(d)
    if n:
        index.add(vectors)
    return index


def build_index(docs: list[Document], encoder: Encoder, index_dir: Path) -> BuildReport:
    """Chunk, embed (reusing cached vectors of unchanged text) and save the whole index."""
    import faiss

    bm25s = import_bm25s()
    started = time.perf_counter()
    previous = read_manifest(index_dir) or {}
    old_docs = previous.get("documents", {})
    changed = sorted(d.id for d in docs if old_docs.get(d.id) != d.content_hash)
    ordered = sorted(docs, key=lambda d: d.id)
    passages = [p for d in ordered for p in chunk_document(d)]
    quick = [qa for d in ordered for qa in quick_answers(d)]
    texts = [p.text for p in passages]
    sentences = [s for p in passages for s in p.sentences]
    offsets = np.cumsum([0] + [len(p.sentences) for p in passages]).astype(np.int64)
    quick_questions = [q for qa in quick for q in qa.questions]
    quick_owner = np.array([i for i, qa in enumerate(quick) for _ in qa.questions], dtype=np.int64)
    quick_sentences = [s for qa in quick for s in qa.sentences]
    quick_offsets = np.cumsum([0] + [len(qa.sentences) for qa in quick]).astype(np.int64)

    intents = load_exemplars(EXEMPLARS)
    cache = _load_cache(index_dir, encoder.dimension)
    every = texts + sentences + quick_questions + quick_sentences + [t for _, t in intents]
    keys = [text_key(t) for t in every]
    missing = sorted({k: t for k, t in zip(keys, every, strict=True) if k not in cache}.items())
    if missing:
        log.info("embedding %d new or changed texts (%d reused)", len(missing), len(set(keys)) - len(missing))
        vecs = encoder.encode([t for _, t in missing])
        cache.update({k: vecs[i] for i, (k, _) in enumerate(missing)})

    def matrix(start: int, stop: int) -> np.ndarray:
        rows = [cache[k] for k in keys[start:stop]]
        return np.ascontiguousarray(np.stack(rows) if rows else np.zeros((0, encoder.dimension)), dtype=np.float32)

    a, b, c = len(texts), len(texts) + len(sentences), len(texts) + len(sentences) + len(quick_questions)
    d = c + len(quick_sentences)
    passage_vectors, sentence_vectors = matrix(0, a), matrix(a, b)
    quick_question_vectors, quick_sentence_vectors = matrix(b, c), matrix(c, d)
    intent_vectors = matrix(d, len(keys))

    index_dir.mkdir(parents=True, exist_ok=True)
    tmp = index_dir / ".building"
    tmp.mkdir(exist_ok=True)
    faiss.write_index(make_faiss_index(passage_vectors), str(tmp / "dense.faiss"))
    np.save(tmp / "passage_vectors.npy", passage_vectors)
    np.save(tmp / "sentence_vectors.npy", sentence_vectors)
    np.save(tmp / "sentence_offsets.npy", offsets)
    np.save(tmp / "quick_question_vectors.npy", quick_question_vectors)
    np.save(tmp / "quick_question_owner.npy", quick_owner)
    np.save(tmp / "quick_sentence_vectors.npy", quick_sentence_vectors)
    np.save(tmp / "quick_sentence_offsets.npy", quick_offsets)
    IntentModel.fit([label for label, _ in intents] + [ALLOWED] * len(quick_questions),
                    np.vstack([intent_vectors, quick_question_vectors])).save(tmp / "intent_model.npz")
    (tmp / "quick.json").write_text(
        json.dumps([[qa.id, qa.doc_id, list(qa.questions), list(qa.sentences), [list(x) for x in qa.sources]]
                    for qa in quick]),
        encoding="utf-8",
    )
    live = set(keys)
    kept = sorted(k for k in cache if k in live)
    np.savez(tmp / "embed_cache.npz", keys=np.array(kept), vectors=np.stack([cache[k] for k in kept]) if kept
             else np.zeros((0, encoder.dimension), np.float32))
    (tmp / "passages.json").write_text(
        json.dumps([[p.id, p.doc_id, p.heading, list(p.sentences), p.position, [list(x) for x in p.sources]]
                    for p in passages]),
        encoding="utf-8",
    )
    retriever = bm25s.BM25()
    retriever.index([tokenize(t) or ["\u2205"] for t in texts], show_progress=False)
    retriever.save(str(tmp / "bm25"), show_progress=False)
    manifest = expected_manifest(docs, encoder) | {
        "passages": len(passages),
        "sentences": len(sentences),
        "quick_answers": len(quick),
        "faiss": "hnsw" if len(passages) > FLAT_LIMIT else "flat",
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    (tmp / "manifest.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    # Move into place, manifest last, so a crash mid-build leaves a detectably stale index.
    (index_dir / "manifest.json").unlink(missing_ok=True)
    for item in tmp.iterdir():
        target = index_dir / item.name
        if target.is_dir():
            for f in target.iterdir():
                f.unlink()
            target.rmdir()
        if item.name != "manifest.json":
            item.replace(target)
    (tmp / "manifest.json").replace(index_dir / "manifest.json")
    tmp.rmdir()
    return BuildReport(
        documents=len(docs),
        passages=len(passages),
        embedded=len(missing),
        reused=len(set(keys)) - len(missing),
        seconds=time.perf_counter() - started,
        changed_docs=changed,
    )


def load_index(index_dir: Path) -> Index:
    """Read a saved index into memory; raises IndexProblem with a clear message if it is unreadable."""
    import faiss

    bm25s = import_bm25s()
    manifest = read_manifest(index_dir)
    if manifest is None:
        raise IndexProblem(f"no index in {index_dir}; run 'keyholder index build'")
    try:
        rows = json.loads((index_dir / "passages.json").read_text(encoding="utf-8"))
        passages = [Passage(id=r[0], doc_id=r[1], heading=r[2], sentences=tuple(r[3]), position=r[4],
                            sources=tuple(tuple(x) for x in r[5])) for r in rows]
        quick_rows = json.loads((index_dir / "quick.json").read_text(encoding="utf-8"))
        quick = [QuickAnswer(id=r[0], doc_id=r[1], questions=tuple(r[2]), sentences=tuple(r[3]),
                             sources=tuple(tuple(x) for x in r[4])) for r in quick_rows]
        retriever = bm25s.BM25.load(str(index_dir / "bm25"), show_progress=False, verbosity=0)
        index = Index(
            manifest=manifest,
            passages=passages,
            passage_vectors=np.load(index_dir / "passage_vectors.npy"),
            sentence_vectors=np.load(index_dir / "sentence_vectors.npy"),
            sentence_offsets=np.load(index_dir / "sentence_offsets.npy"),
            faiss_index=faiss.read_index(str(index_dir / "dense.faiss")),
            bm25=retriever,
            bm25_vocab=dict(retriever.vocab_dict),
            quick=quick,
            quick_question_vectors=np.load(index_dir / "quick_question_vectors.npy"),
            quick_question_owner=np.load(index_dir / "quick_question_owner.npy"),
            quick_sentence_vectors=np.load(index_dir / "quick_sentence_vectors.npy"),
            quick_sentence_offsets=np.load(index_dir / "quick_sentence_offsets.npy"),
            intents=IntentModel.load(index_dir / "intent_model.npz"),
        )
    except (OSError, ValueError, KeyError, RuntimeError) as exc:
        raise IndexProblem(f"the index in {index_dir} is unreadable ({exc}); run 'keyholder index build'") from exc
    if index.faiss_index.ntotal != len(passages) or len(index.sentence_offsets) != len(passages) + 1:
        raise IndexProblem(f"the index in {index_dir} is inconsistent; run 'keyholder index build'")
    return index
