"""`keyholder eval` for the optional LLM step: the checker on hand-labelled cases, and (`--llm`) a real server.

The checker cases live in `eval/checker/`: `cases.yaml` is the dev set the thresholds were tuned on, and
`sealed.yaml`, written blind to the checker after tuning, is the held-out set the README's figures come from.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

from bot.checker import Checker
from bot.engine import Engine
from bot.settings import REPO_ROOT, Settings

CHECKER_DIR = REPO_ROOT / "eval" / "checker"


class CheckerCase(BaseModel):
    """One labelled (sentence, cited sentences, supported?) case."""

    model_config = ConfigDict(extra="forbid")

    id: str
    split: Literal["dev", "heldout"]
    kind: str
    sentence: str = Field(min_length=1)
    cited: list[str] = Field(min_length=1)
    supported: bool


def load_checker_cases(directory: Path = CHECKER_DIR) -> list[CheckerCase]:
    """Every case of every `*.yaml` file in `directory` (each a mapping with a `cases` list), validated."""
    out: list[CheckerCase] = []
    for path in sorted(directory.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if not isinstance(data, dict) or not isinstance(data.get("cases"), list):
            raise ValueError(f"{path.name}: expected a mapping with a 'cases' list")
        for i, item in enumerate(data["cases"]):
            try:
                out.append(CheckerCase.model_validate(item))
            except ValueError as exc:
                raise ValueError(f"{path.name}, case {i + 1}: {exc}") from exc
    ids = Counter(c.id for c in out)
    dupes = [i for i, n in ids.items() if n > 1]
    if dupes:
        raise ValueError(f"checker case ids used twice: {', '.join(sorted(dupes)[:5])}")
    return out


def evaluate_checker(checker: Checker, cases: Sequence[CheckerCase]) -> dict[str, Any]:
    """Precision and recall on 'supported', by split, with the unsupported sentences let through."""
    verdicts = checker.check_many([(c.sentence, c.cited) for c in cases])
    out: dict[str, Any] = {}
    for split in ("all", "dev", "heldout"):
        pairs = [(c, v) for c, v in zip(cases, verdicts, strict=True) if split in ("all", c.split)]
        tp = sum(1 for c, v in pairs if v.supported and c.supported)
        fp = [c.id for c, v in pairs if v.supported and not c.supported]
        fn = Counter(v.reason for c, v in pairs if not v.supported and c.supported)
        positives = sum(1 for c, _ in pairs if c.supported)
        out[split] = {
            "metrics": {
                "cases": float(len(pairs)),
                "precision": round(tp / (tp + len(fp)), 4) if tp + len(fp) else 1.0,
                "recall": round(tp / positives, 4) if positives else 1.0,
                "unsupported_let_through": float(len(fp)),
            },
            "let_through": fp,
            "rejected_supported_by_test": dict(fn),
            "caught_by_test": dict(Counter(v.reason for c, v in pairs if not v.supported and not c.supported)),
        }
    return out


def checker_table(results: dict[str, Any]) -> str:
    """Precision and recall by split, as Markdown."""
    lines = ["| checker | cases | precision | recall | unsupported let through |", "|---|---|---|---|---|"]
    for split in ("dev", "heldout"):
        m = results[split]["metrics"]
        lines.append(f"| {split} | {m['cases']:.0f} | {m['precision']:.3f} | {m['recall']:.3f} |"
                     f" {m['unsupported_let_through']:.0f} |")
    return "\n".join(lines)


def evaluate_llm(settings: Settings, engine: Engine, questions: Sequence[Any]) -> dict[str, Any]:
    """Every gold answer question through the extractive composer and then the LLM step, side by side."""
    from bot.evaluation import Tally
    from bot.service import make_writer

    writer = make_writer(settings, engine)
    if writer is None:
        raise ValueError("eval --llm needs KEYHOLDER_LLM_URL and KEYHOLDER_LLM_MODEL")
    extractive, written = Tally(), Tally()
    generated = kept = 0
    fallbacks: Counter[str] = Counter()
    dropped: Counter[str] = Counter()
    latencies: list[float] = []
    used_written = 0

    async def run() -> None:
        nonlocal generated, kept, used_written
        for g in questions:
            answer = engine.answer(g.q)
            started = time.perf_counter()
            outcome = await writer.improve(g.q, answer)
            latencies.append((time.perf_counter() - started) * 1000)
            extractive.add(g, answer)
            written.add(g, outcome.answer)
            if answer.declined:
                continue
            generated += outcome.generated
            kept += outcome.kept
            dropped.update(v.reason or "?" for _, v in outcome.verdicts if not v.supported)
            if outcome.fallback:
                fallbacks[outcome.fallback] += 1
            else:
                used_written += 1

    asyncio.run(run())
    answered = used_written + sum(fallbacks.values())
    return {
        "model": writer.model,
        "questions": len(questions),
        "sentences_generated": generated,
        "sentences_kept": kept,
        "sentences_dropped": generated - kept,
        "dropped_by_test": dict(dropped.most_common()),
        "written_answers": used_written,
        "fallback_rate": round(sum(fallbacks.values()) / answered, 4) if answered else 0.0,
        "fallbacks": dict(fallbacks),
        "answer_accuracy_extractive": extractive.metrics()["answer_accuracy"],
        "answer_accuracy_with_llm": written.metrics()["answer_accuracy"],
        "latency_ms_p50": round(statistics.median(latencies), 1) if latencies else 0.0,
        "latency_ms_p95": round(sorted(latencies)[int(0.95 * (len(latencies) - 1))], 1) if latencies else 0.0,
    }


def llm_table(r: dict[str, Any]) -> str:
    """The --llm figures as Markdown."""
    return "\n".join([
        f"LLM step: {r['model']}, {r['questions']} questions.", "",
        "| measure | value |", "|---|---|",
        f"| sentences generated / kept / dropped | {r['sentences_generated']} / {r['sentences_kept']} /"
        f" {r['sentences_dropped']} |",
        f"| dropped, by the test that failed | {', '.join(f'{k} {v}' for k, v in r['dropped_by_test'].items()) or 'none'} |",
        f"| written answers used | {r['written_answers']} |",
        f"| fallback to the extractive answer | {r['fallback_rate']:.1%} ({', '.join(f'{k} {v}' for k, v in r['fallbacks'].items()) or 'none'}) |",
        f"| answer accuracy: extractive / with the LLM step | {r['answer_accuracy_extractive']:.3f} /"
        f" {r['answer_accuracy_with_llm']:.3f} |",
        f"| latency of the LLM step p50 / p95 | {r['latency_ms_p50']} / {r['latency_ms_p95']} ms |",
    ])
