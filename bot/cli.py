"""The `keyholder` command: ask, browse cases and topics, manage the index, run the bot."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError

from bot.cards import CaseCard, case_card
from bot.engine import Catalogue, Engine, Timed
from bot.knowledge import Document, KnowledgeError, load_knowledge
from bot.models import Answer
from bot.plaintext import answer_text, case_text
from bot.settings import Settings

log = logging.getLogger(__name__)

EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """Bad usage or bad input: exit code 2."""


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def answer_json(answer: Answer, latency_ms: float) -> dict[str, Any]:
    """The `ask --json` contract (design.md section 3)."""
    return {
        "question": answer.question,
        "answer": answer_text(answer),
        "declined": answer.declined,
        "citations": [
            {"n": c.n, "title": c.title, "url": c.url, "doc_id": c.doc_id, "publisher": c.source.publisher,
             "date": c.source.date or ""}
            for c in answer.citations
        ],
        "sentences": [{"text": s.text, "doc_id": s.doc_id, "cites": list(s.cites)} for s in answer.sentences],
        "generated_by": answer.generated_by,
        "latency_ms": round(latency_ms, 2),
    }


def _engine(settings: Settings) -> Engine:
    return Engine.load(settings, notify=_stderr)


class Answerer:
    """The engine, and the LLM step when KEYHOLDER_LLM_URL is set (run on one event loop for every question)."""

    def __init__(self, settings: Settings):
        self.engine = _engine(settings)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._writer = None
        if settings.llm_url:
            from bot.service import make_writer

            self._writer = make_writer(settings, self.engine)
            self._loop = asyncio.new_event_loop()

    def __call__(self, question: str) -> Timed:
        timed = self.engine.timed_answer(question)
        if self._writer is None or self._loop is None or timed.answer.declined:
            return timed
        outcome = self._loop.run_until_complete(self._writer.improve(question, timed.answer))
        return Timed(outcome.answer, timed.latency_ms + outcome.latency_ms)


def cmd_ask(settings: Settings, args: argparse.Namespace) -> int:
    """Answer one question, or (with `--json -`) one question per stdin line."""
    if args.question == "-":
        if not args.json:
            raise UsageError("reading questions from stdin ('-') needs --json")
        answer = Answerer(settings)
        for line in sys.stdin:
            if not line.strip():
                continue
            timed = answer(line.rstrip("\n"))
            print(json.dumps(answer_json(timed.answer, timed.latency_ms), ensure_ascii=False), flush=True)
        return EXIT_OK
    timed = Answerer(settings)(args.question)
    if args.json:
        print(json.dumps(answer_json(timed.answer, timed.latency_ms), ensure_ascii=False))
    else:
        print(answer_text(timed.answer))
    return EXIT_OK


def case_json(card: CaseCard) -> dict[str, Any]:
    """A case card's fields as JSON."""
    return {
        "id": card.id,
        "title": card.title,
        "aliases": list(card.aliases),
        "court": card.court,
        "citation": card.citation,
        "docket": card.docket,
        "decided": card.decided,
        "key_dates": [{"date": k.date, "event": k.event} for k in card.key_dates],
        "status": card.status,
        "parties": list(card.parties),
        "outcome": card.outcome,
        "significance": card.significance,
        "summary": card.summary,
        "jurisdiction": card.jurisdiction,
        "as_of": card.as_of,
        "sources": [{"title": s.title, "url": s.url, "publisher": s.publisher, "date": s.date} for s in card.sources],
    }


def topic_json(doc: Document) -> dict[str, Any]:
    """A document's catalogue entry as JSON."""
    m = doc.meta
    return {"id": m.id, "title": m.title, "kind": m.kind.value, "jurisdiction": m.jurisdiction,
            "as_of": m.as_of.isoformat(), "summary": m.summary, "tags": m.tags}


def _catalogue(settings: Settings) -> Catalogue:
    """Cases and topics need only the knowledge files, not the model."""
    return Catalogue(load_knowledge(settings.knowledge_dir))


def cmd_case(settings: Settings, args: argparse.Namespace) -> int:
    """Show one case by id or name."""
    catalogue = _catalogue(settings)
    doc = catalogue.find_case(args.name)
    if doc is None:
        suggestions = ", ".join(d.id for d in catalogue.search_cases(args.name, 3)) or "run 'keyholder cases'"
        raise UsageError(f"no case matches '{args.name}' (closest: {suggestions})")
    card = case_card(doc)
    print(json.dumps(case_json(card), ensure_ascii=False, indent=1) if args.json else case_text(card))
    return EXIT_OK


def cmd_cases(settings: Settings, args: argparse.Namespace) -> int:
    """List every case."""
    cases = _catalogue(settings).cases()
    if args.json:
        print(json.dumps([case_json(case_card(d)) for d in cases], ensure_ascii=False, indent=1))
    else:
        for d in cases:
            status = d.meta.status.value if d.meta.status else "?"
            print(f"{d.id:38} {status:10} {d.meta.title}")
    return EXIT_OK


def cmd_topics(settings: Settings, args: argparse.Namespace) -> int:
    """List every document."""
    docs = _catalogue(settings).topics()
    if args.json:
        print(json.dumps([topic_json(d) for d in docs], ensure_ascii=False, indent=1))
    else:
        for d in docs:
            print(f"{d.meta.kind.value:10} {d.id:38} {d.meta.title}")
    return EXIT_OK


def cmd_index(settings: Settings, args: argparse.Namespace) -> int:
    """Build the index (embedding only changed text) or check that it matches the knowledge base."""
    from bot.embedding import Embedder
    from bot.index import build_index, read_manifest, staleness

    docs = load_knowledge(settings.knowledge_dir)
    embedder = Embedder()
    if args.action == "check":
        reasons = staleness(settings.index_dir, docs, embedder)
        if reasons:
            _stderr(f"keyholder: the index does not match the knowledge base: {'; '.join(reasons)}; "
                    "run 'keyholder index build'.")
            return EXIT_ERROR
        manifest = read_manifest(settings.index_dir) or {}
        print(f"Index is up to date: {manifest.get('passages')} passages from {len(docs)} documents, "
              f"model {manifest.get('model')}, built {manifest.get('built_at')}.")
        return EXIT_OK
    report = build_index(docs, embedder, settings.index_dir)
    print(f"Built index: {report.passages} passages from {report.documents} documents; embedded {report.embedded} "
          f"new or changed texts, reused {report.reused}; {report.seconds:.1f} s.")
    return EXIT_OK


def cmd_run(settings: Settings, args: argparse.Namespace) -> int:
    """Run the Discord bot until SIGTERM or Ctrl-C."""
    if not settings.token():
        where = f" (DISCORD_TOKEN_FILE {settings.discord_token_file} is empty or unreadable)" \
            if settings.discord_token_file else ""
        raise UsageError(f"DISCORD_TOKEN is not set{where}; create a bot token in the Discord developer portal "
                         "and set DISCORD_TOKEN or DISCORD_TOKEN_FILE")
    from bot.discord.runner import run_bot

    return run_bot(settings)


def cmd_commands(settings: Settings, args: argparse.Namespace) -> int:
    """Sync the slash commands with Discord now."""
    if not settings.token():
        raise UsageError("DISCORD_TOKEN is not set; it is needed to sync commands")
    from bot.discord.runner import sync_commands

    return sync_commands(settings)


def cmd_health(settings: Settings, args: argparse.Namespace) -> int:
    """Exit 0 when the running bot's /healthz says healthy (for container health checks)."""
    import urllib.error
    import urllib.request

    port = settings.health_port or 8080
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=3) as resp:
            print(resp.read().decode("utf-8", "replace").strip())
            return EXIT_OK
    except urllib.error.HTTPError as exc:
        _stderr(f"keyholder: unhealthy: {exc.read().decode('utf-8', 'replace').strip()}")
    except OSError as exc:
        _stderr(f"keyholder: no health endpoint on port {port} ({exc})")
    return EXIT_ERROR


def cmd_eval(settings: Settings, args: argparse.Namespace) -> int:
    """Score retrieval and answers on the gold questions."""
    from bot.evaluation import main as eval_main

    return eval_main(settings, args)


def cmd_bench(settings: Settings, args: argparse.Namespace) -> int:
    """Measure latency, start-up, index builds, throughput and memory."""
    from bot.bench import main as bench_main

    return bench_main(settings, args)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every subcommand."""
    p = argparse.ArgumentParser(prog="keyholder", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    ask = sub.add_parser("ask", help="answer a question ('-' with --json: one per stdin line)")
    ask.add_argument("question")
    ask.add_argument("--json", action="store_true", help="print one JSON object per answer")
    ask.set_defaults(func=cmd_ask)

    case = sub.add_parser("case", help="show a case by id or name")
    case.add_argument("name")
    case.add_argument("--json", action="store_true")
    case.set_defaults(func=cmd_case)
    for name, func, text in (("cases", cmd_cases, "list the cases"), ("topics", cmd_topics, "list every document")):
        sp = sub.add_parser(name, help=text)
        sp.add_argument("--json", action="store_true")
        sp.set_defaults(func=func)

    index = sub.add_parser("index", help="build or check the search index")
    index.add_argument("action", choices=["build", "check"])
    index.set_defaults(func=cmd_index)

    sub.add_parser("run", help="run the Discord bot").set_defaults(func=cmd_run)
    commands = sub.add_parser("commands", help="manage slash commands")
    commands.add_argument("action", choices=["sync"])
    commands.set_defaults(func=cmd_commands)
    sub.add_parser("health", help="query the running bot's health endpoint").set_defaults(func=cmd_health)

    ev = sub.add_parser("eval", help="evaluate retrieval and answers on the gold questions")
    ev.add_argument("--json", metavar="FILE", help="also write the results as JSON to FILE")
    ev.add_argument("--split", choices=["dev", "heldout", "all"], default="all")
    ev.add_argument("--check-floors", action="store_true", help="exit 1 if a metric falls below eval/floors.json")
    ev.add_argument("--verbose", action="store_true", help="list every failing question of the split (dev unless --split heldout is given)")
    ev.add_argument("--llm", action="store_true",
                    help="also run the gold questions through the LLM step (needs KEYHOLDER_LLM_URL and _MODEL)")
    ev.set_defaults(func=cmd_eval)

    bench = sub.add_parser("bench", help="benchmark latency, start-up, index builds, throughput and memory")
    bench.add_argument("--quick", action="store_true", help="small sizes; checks the benchmark runs (for CI)")
    bench.add_argument("--json", metavar="FILE", help="also write the figures as JSON to FILE")
    bench.add_argument("--scale", type=int, default=None, help="passages in the synthetic scale test (default 100000)")
    bench.set_defaults(func=cmd_bench)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `keyholder` command."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = Settings()
    except ValidationError as exc:
        err = exc.errors()[0]
        _stderr(f"keyholder: setting {'.'.join(str(x) for x in err['loc'])} is invalid: {err['msg']}.")
        return EXIT_USAGE
    logging.basicConfig(level=settings.log_level, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("sentence_transformers", "transformers", "httpx", "bm25s", "faiss"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    from bot.index import IndexProblem

    try:
        return int(args.func(settings, args))
    except KnowledgeError as exc:
        _stderr(f"keyholder: the knowledge base has {len(exc.problems)} problem(s); fix them and try again:")
        for problem in exc.problems:
            _stderr(f"  - {problem}")
        return EXIT_USAGE
    except UsageError as exc:
        _stderr(f"keyholder: {exc}.")
        return EXIT_USAGE
    except IndexProblem as exc:
        _stderr(f"keyholder: {exc}.")
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except Exception as exc:
        log.debug("unexpected error", exc_info=True)
        _stderr(f"keyholder: unexpected error: {type(exc).__name__}: {exc} "
                "(set KEYHOLDER_LOG_LEVEL=DEBUG for details).")
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
