"""Intent from the embedding: which request type a request is, by a classifier checked against neighbours.

Wording rules (bot/policy.py) catch the phrasings someone thought of; this catches the rest (slang, typos,
indirect "what's the easiest way to see…") with the model that is already loaded for retrieval. Two parts,
both fitted when the index is built on the curated exemplars of each request type (`intents.yaml`) and on every
question the documents' Quick answers answer (labelled `allowed`):

- a multinomial logistic regression (classes weighted equally) proposes the most probable type;
- the nearest exemplars veto it: a request whose closest legitimate exemplars are clearly nearer than the
  proposed type's closest ones (by more than VETO in mean cosine) is answered.

The classifier generalises to phrasings no exemplar resembles; the veto keeps legitimate neighbours ("what should
I know before police search my phone?") answered. On the red-team files no exemplar was written from, nearest
neighbours alone declined 0.773 of the requests to decline, the classifier with the veto 0.822, with no more
on-topic requests declined (how it was chosen: eval/README.md).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from bot.declines import Reason

EXEMPLARS = Path(__file__).with_name("intents.yaml")
ALLOWED = "allowed"


def load_exemplars(path: Path = EXEMPLARS) -> list[tuple[str, str]]:
    """(label, text) pairs; labels are decline reasons or 'allowed'. Raises ValueError naming a bad label."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    valid = {r.value for r in Reason if r not in (Reason.empty, Reason.too_long)} | {ALLOWED}  # what a request can be
    pairs = []
    for label, texts in data.items():
        if label not in valid:
            raise ValueError(f"{path.name}: unknown intent '{label}' (expected one of {', '.join(sorted(valid))})")
        pairs += [(label, str(t)) for t in texts or []]
    return pairs


def exemplar_hash(path: Path = EXEMPLARS) -> str:
    """The hash recorded in the index manifest: the exemplars and how the classifier is fitted on them (a change to
    either makes the index stale, so the stored classifier is refitted)."""
    return hashlib.sha256(path.read_bytes() + f"C={C}".encode()).hexdigest()


@dataclass(frozen=True)
class Verdict:
    """Whether to decline and for which type, and every type's probability."""

    reason: Reason | None
    scores: dict[str, float]


C = 16.0  # inverse regularisation; with VETO and MIN_PROBABILITY, chosen on the dev red-team files
MIN_PROBABILITY = 0.4  # the most probable type is declined only at or above this probability
VETO = 0.05  # the proposed type stands unless the legitimate exemplars are nearer by more than this
TOP = 2  # a type's nearness is the mean cosine of its TOP closest exemplars


class IntentModel:
    """A fitted classifier plus the labelled exemplar vectors that can veto it; `judge` scores one question."""

    def __init__(self, classes: list[str], coef: np.ndarray, intercept: np.ndarray, labels: list[str],
                 vectors: np.ndarray):
        self.classes = list(classes)
        self.coef = np.asarray(coef, dtype=np.float32)  # (types, d)
        self.intercept = np.asarray(intercept, dtype=np.float32)  # (types,)
        self.vectors = np.asarray(vectors, dtype=np.float32)  # (exemplars, d)
        labels_arr = np.array(labels)
        self._rows = {label: np.flatnonzero(labels_arr == label) for label in dict.fromkeys(labels)}
        self.labels = list(labels)

    @classmethod
    def fit(cls, labels: list[str], vectors: np.ndarray) -> IntentModel:
        """Fit on labelled vectors (deterministic: the same data gives the same model)."""
        from sklearn.linear_model import LogisticRegression

        if len(set(labels)) < 2:
            raise ValueError(f"{EXEMPLARS.name}: the intent classifier needs exemplars of at least two types")
        model = LogisticRegression(C=C, max_iter=3000, class_weight="balanced").fit(vectors, labels)
        return cls([str(c) for c in model.classes_], model.coef_, model.intercept_, labels, vectors)

    def save(self, path: Path) -> None:
        np.savez(path, classes=np.array(self.classes), coef=self.coef, intercept=self.intercept,
                 labels=np.array(self.labels), vectors=self.vectors)

    @classmethod
    def load(cls, path: Path) -> IntentModel:
        with np.load(path) as data:
            return cls([str(c) for c in data["classes"]], data["coef"], data["intercept"],
                       [str(x) for x in data["labels"]], data["vectors"])

    def probabilities(self, qvec: np.ndarray) -> dict[str, float]:
        """Each type's probability under the classifier."""
        logits = self.coef @ qvec + self.intercept
        probs = np.exp(logits - logits.max())
        probs /= probs.sum()
        return {c: float(p) for c, p in zip(self.classes, probs, strict=True)}

    def nearness(self, qvec: np.ndarray) -> dict[str, float]:
        """Each type's nearness: the mean cosine of its closest exemplars."""
        sims = self.vectors @ qvec
        out = {}
        for label, rows in self._rows.items():
            part = sims[rows]
            out[label] = float((np.partition(part, -TOP)[-TOP:] if len(part) > TOP else part).mean())
        return out

    def judge(self, qvec: np.ndarray) -> Verdict:
        """Decline for the most probable type when it is not `allowed`, reaches MIN_PROBABILITY and is not vetoed."""
        scores = self.probabilities(qvec)
        best = max(scores, key=lambda k: scores[k])
        if best == ALLOWED:
            return Verdict(None, scores)
        if scores[best] < MIN_PROBABILITY:
            return Verdict(None, scores)
        near = self.nearness(qvec)
        if near.get(ALLOWED, 0.0) - near.get(best, 0.0) > VETO:
            return Verdict(None, scores)
        return Verdict(Reason(best), scores)
