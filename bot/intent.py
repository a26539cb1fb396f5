"""Intent by nearest neighbours: how close a request is to curated exemplars of each request type.

Wording rules (bot/policy.py) catch the phrasings someone thought of; this catches the rest (slang, typos,
indirect "what's the easiest way to see…") with the model that is already loaded for retrieval. A request is
declined for a type when its closest exemplars of that type are near enough (the type's threshold in
bot/declines.py) and at least as near as its closest legitimate neighbours (`allowed`): a margin of 0, chosen on
the dev red-team set (margins -0.02 to 0.05 and TOP 1 to 3 compared; none declined an on-topic dev or gold question
at TOP 2, and 0 keeps most of the recall).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from bot.declines import RULES, Reason

EXEMPLARS = Path(__file__).with_name("intents.yaml")
ALLOWED = "allowed"
TOP = 2  # a type's score is the mean cosine of its TOP closest exemplars


def load_exemplars(path: Path = EXEMPLARS) -> list[tuple[str, str]]:
    """(label, text) pairs; labels are decline reasons or 'allowed'. Raises ValueError naming a bad label."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    valid = {r.value for r in Reason} | {ALLOWED}
    pairs = []
    for label, texts in data.items():
        if label not in valid:
            raise ValueError(f"{path.name}: unknown intent '{label}' (expected one of {', '.join(sorted(valid))})")
        pairs += [(label, str(t)) for t in texts or []]
    return pairs


def exemplar_hash(path: Path = EXEMPLARS) -> str:
    """The content hash recorded in the index manifest (a changed exemplar file makes the index stale)."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass(frozen=True)
class Verdict:
    """The closest request type, whether it should be declined, and every type's score."""

    reason: Reason | None
    scores: dict[str, float]


class IntentModel:
    """Exemplar vectors by label; `judge` scores one question vector against them."""

    def __init__(self, labels: list[str], vectors: np.ndarray, margin: float = 0.0):
        self.labels = np.array(labels)
        self.vectors = vectors
        self.margin = margin
        self._rows = {label: np.flatnonzero(self.labels == label) for label in dict.fromkeys(labels)}

    def scores(self, qvec: np.ndarray) -> dict[str, float]:
        """Each label's score: the mean cosine of its closest exemplars."""
        if not len(self.vectors):
            return {}
        sims = self.vectors @ qvec
        out = {}
        for label, rows in self._rows.items():
            if len(rows):
                part = sims[rows]
                top = np.partition(part, -TOP)[-TOP:] if len(part) > TOP else part
                out[label] = float(top.mean())
        return out

    def judge(self, qvec: np.ndarray) -> Verdict:
        """Decline for the best-scoring type that clears its threshold and beats `allowed` by the margin."""
        scores = self.scores(qvec)
        allowed = scores.get(ALLOWED, 0.0)
        best: tuple[float, Reason] | None = None
        for label, score in scores.items():
            if label == ALLOWED:
                continue
            rule = RULES[Reason(label)]
            if rule.intent_min is None or score < rule.intent_min or score - allowed < self.margin:
                continue
            if best is None or score > best[0]:
                best = (score, rule.reason)
        return Verdict(best[1] if best else None, scores)
