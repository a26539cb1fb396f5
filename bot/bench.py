"""`keyholder bench`: latency, start-up, index builds, throughput, memory and scale, each next to a baseline."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import psutil

from bot.embedding import Embedder
from bot.engine import Engine
from bot.evaluation import load_gold
from bot.index import Index, build_index, import_bm25s, load_index, make_faiss_index, tokenize
from bot.knowledge import load_knowledge
from bot.service import AskService
from bot.settings import Settings

SAMPLE = "Why couldn't Apple give the DOJ real-time iMessages in 2015?"


def pct(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank) of `values`."""
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[k]


def rss_mb() -> float:
    """This process's resident memory in MiB."""
    return psutil.Process().memory_info().rss / 2**20


def _ms(start: float) -> float:
    return (time.perf_counter() - start) * 1000


def warm_latency(engine: Engine, questions: list[str], rounds: int) -> dict[str, Any]:
    """Full answers versus the bare query embedding of the same questions, interleaved in one process."""
    embed, answer = [], []
    for _ in range(rounds):
        for q in questions:
            t = time.perf_counter()
            engine.embedder.encode_one(q)
            embed.append(_ms(t))
            t = time.perf_counter()
            engine.answer(q)
            answer.append(_ms(t))
    out: dict[str, Any] = {"questions": len(embed)}
    for name, vals in (("answer_ms", answer), ("embed_ms", embed)):
        out[name] = {f"p{p}": round(pct(vals, p), 2) for p in (50, 95, 99)}
    out["ratio_p50"] = round(out["answer_ms"]["p50"] / out["embed_ms"]["p50"], 3)
    out["target_ratio"] = 1.3
    return out


def _wall(cmd: list[str], env: dict[str, str]) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t


def cold_start(settings: Settings, repeats: int) -> dict[str, Any]:
    """A fresh `keyholder ask` process versus a bare import-and-load of the model, best of `repeats` each."""
    env = os.environ | {"KEYHOLDER_INDEX_DIR": str(settings.index_dir),
                        "KEYHOLDER_KNOWLEDGE_DIR": str(settings.knowledge_dir), "KEYHOLDER_LOG_LEVEL": "WARNING"}
    bare = [sys.executable, "-c", "from bot.embedding import load_model; load_model().encode(['warm up'])"]
    full = [sys.executable, "-m", "bot.cli", "ask", "--json", SAMPLE]
    base, ask = [], []
    for _ in range(repeats):
        base.append(_wall(bare, env))
        ask.append(_wall(full, env))
    return {"bare_load_s": round(min(base), 2), "ask_s": round(min(ask), 2),
            "overhead_s": round(min(ask) - min(base), 2), "target_overhead_s": 2.0}


def index_builds(settings: Settings, embedder: Embedder) -> dict[str, Any]:
    """A full build into an empty folder, then an incremental one after one document changes."""
    with tempfile.TemporaryDirectory() as tmp:
        kb = Path(tmp) / "kb"
        shutil.copytree(settings.knowledge_dir, kb)
        docs = load_knowledge(kb)
        full = build_index(docs, embedder, Path(tmp) / "index")
        victim_doc = next(d for d in docs if Path(d.path).name != "README.md")
        victim = kb / Path(victim_doc.path).name
        # One sourced sentence in a section of its own, before the curated Quick answers (which must stay last).
        added = f"## Benchmark\n\nA sentence added for the benchmark.[^{victim_doc.meta.sources[0].id}]\n\n"
        text = victim.read_text(encoding="utf-8")
        cut = text.find("## Quick answers")
        victim.write_text(text[:cut] + added + text[cut:] if cut >= 0 else text + "\n\n" + added, encoding="utf-8")
        inc = build_index(load_knowledge(kb), embedder, Path(tmp) / "index")
    return {"full_s": round(full.seconds, 2), "full_embedded": full.embedded,
            "incremental_s": round(inc.seconds, 2), "incremental_embedded": inc.embedded,
            "incremental_changed_docs": inc.changed_docs}


async def _throughput(engine: Engine, settings: Settings, questions: list[str], concurrency: int) -> dict[str, Any]:
    service = AskService(settings.model_copy(update={"max_concurrency": concurrency}), loader=lambda: engine,
                         cache_size=0)
    await service.wait_ready()
    gate = asyncio.Semaphore(concurrency)
    latencies: list[float] = []

    async def one(q: str) -> None:
        async with gate:
            t = time.perf_counter()
            await service.ask(q)
            latencies.append(_ms(t))

    t = time.perf_counter()
    await asyncio.gather(*(one(q) for q in questions))
    wall = time.perf_counter() - t
    return {"concurrency": concurrency, "questions": len(questions), "qps": round(len(questions) / wall, 1),
            "p50_ms": round(pct(latencies, 50), 1), "p95_ms": round(pct(latencies, 95), 1)}


def synthetic_index(base: Index, n: int, seed: int = 7) -> Index:
    """An index of `n` passages recombined from the real sentences and their real vectors (no model needed)."""
    rng = random.Random(seed)
    from bot.models import Passage

    flat = [(s, int(base.sentence_offsets[i]) + j, p.doc_id)
            for i, p in enumerate(base.passages) for j, s in enumerate(p.sentences)]
    passages, pvecs, svecs, offsets = [], [], [], [0]
    for k in range(n):
        picks = rng.sample(flat, 3)
        rows = [r for _, r, _ in picks]
        vec = base.sentence_vectors[rows].mean(axis=0)
        doc_id = picks[0][2]  # a real document, so answers can be composed and cited as usual
        passages.append(Passage(f"{doc_id}#syn{k}", doc_id, "Synthetic", tuple(s for s, _, _ in picks), 1000 + k))
        pvecs.append(vec / np.linalg.norm(vec))
        svecs.extend(rows)
        offsets.append(offsets[-1] + 3)
    bm25s = import_bm25s()
    pv = np.ascontiguousarray(np.stack(pvecs), dtype=np.float32)
    retriever = bm25s.BM25()
    retriever.index([tokenize(p.text) or ["\u2205"] for p in passages], show_progress=False)
    return Index(manifest={"faiss": "synthetic"}, passages=passages, passage_vectors=pv,
                 sentence_vectors=np.ascontiguousarray(base.sentence_vectors[svecs]),
                 sentence_offsets=np.array(offsets, dtype=np.int64), faiss_index=make_faiss_index(pv),
                 bm25=retriever, bm25_vocab=dict(retriever.vocab_dict), intents=base.intents)


def scale(engine: Engine, questions: list[str], sizes: list[int]) -> list[dict[str, Any]]:
    """Answer latency and memory as the collection grows (synthetic passages, the production index type)."""
    base = load_index(engine.settings.index_dir)  # Engine.load just checked it matches the knowledge base
    qvecs = engine.embedder.encode(questions)
    rows = []
    for n in sizes:
        before = rss_mb()
        t = time.perf_counter()
        index = synthetic_index(base, n)
        scaled = engine.with_index(index)
        build_s = time.perf_counter() - t
        lat = []
        for q, v in zip(questions, qvecs, strict=True):
            t = time.perf_counter()
            scaled.respond(q, v)
            lat.append(_ms(t))
        rows.append({"passages": n, "faiss": type(index.faiss_index).__name__, "build_s": round(build_s, 1),
                     "retrieve_p50_ms": round(pct(lat, 50), 2), "retrieve_p95_ms": round(pct(lat, 95), 2),
                     "rss_growth_mb": round(rss_mb() - before, 1)})
        del index, scaled
    return rows


def main(settings: Settings, args: argparse.Namespace) -> int:
    """Run every benchmark and print a table; `--quick` uses small sizes (a smoke run for CI)."""
    quick = args.quick
    rss_start = rss_mb()
    engine = Engine.load(settings)
    rss_loaded = rss_mb()
    gold = [g.q for g in load_gold() if g.type != "decline"]
    questions = gold[:20] if quick else gold
    results: dict[str, Any] = {"machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]}}
    engine.answer(SAMPLE)  # warm up
    results["warm"] = warm_latency(engine, questions, 1 if quick else 3)
    results["cold_start"] = cold_start(settings, 1 if quick else 3)
    results["index_build"] = index_builds(settings, engine.embedder)
    results["throughput"] = [asyncio.run(_throughput(engine, settings, questions[: 16 if quick else 128], c))
                             for c in ((1, 8) if quick else (1, 8, 64))]
    results["memory"] = {"rss_before_load_mb": round(rss_start, 1), "rss_idle_mb": round(rss_loaded, 1),
                         "peak_rss_mb": round(psutil.Process().memory_info().rss / 2**20, 1)}
    size = args.scale or (2000 if quick else 100_000)
    results["scale"] = scale(engine, questions[:20], [engine.passage_count, *(
        [size] if quick else [10_000, size])])
    import resource

    results["memory"]["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(render(results))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1), encoding="utf-8")
    return 0


def render(r: dict[str, Any]) -> str:
    """The figures as Markdown tables."""
    w, c, b, m = r["warm"], r["cold_start"], r["index_build"], r["memory"]
    lines = [
        f"Machine: {r['machine']['cpus']} CPUs, Python {r['machine']['python']}", "",
        "| measure | Keyholder | baseline (same run) | ratio / difference | target |", "|---|---|---|---|---|",
        f"| warm answer p50 / p95 / p99 | {w['answer_ms']['p50']} / {w['answer_ms']['p95']} / {w['answer_ms']['p99']} ms"
        f" | bare query embedding {w['embed_ms']['p50']} / {w['embed_ms']['p95']} / {w['embed_ms']['p99']} ms"
        f" | {w['ratio_p50']}x (p50) | ≤ 1.3x |",
        f"| cold start to first answer | {c['ask_s']} s | import + load model {c['bare_load_s']} s"
        f" | {c['overhead_s']:+.2f} s | ≤ +2 s |",
        f"| index build | full {b['full_s']} s ({b['full_embedded']} texts embedded) | — | incremental {b['incremental_s']} s"
        f" ({b['incremental_embedded']} texts, docs {', '.join(b['incremental_changed_docs'])}) | only the changed doc |",
        f"| memory | idle {m['rss_idle_mb']} MiB after load | {m['rss_before_load_mb']} MiB before load"
        f" | peak {m['peak_rss_mb']} MiB | — |", "",
        "| concurrency | questions | answers/s | p50 ms | p95 ms |", "|---|---|---|---|---|",
    ]
    lines += [f"| {t['concurrency']} | {t['questions']} | {t['qps']} | {t['p50_ms']} | {t['p95_ms']} |"
              for t in r["throughput"]]
    lines += ["", "| passages | FAISS index | build s | retrieve+compose p50 ms | p95 ms | RSS growth MiB |",
              "|---|---|---|---|---|---|"]
    lines += [f"| {s['passages']} | {s['faiss']} | {s['build_s']} | {s['retrieve_p50_ms']} | {s['retrieve_p95_ms']}"
              f" | {s['rss_growth_mb']} |" for s in r["scale"]]
    return "\n".join(lines)
