"""The `keyholder` command as users run it: real processes, real model, real index."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.engine import Engine
from tests.conftest import FIXTURE_KB, KNOWLEDGE

CONTRACT_KEYS = {"question", "answer", "declined", "citations", "sentences", "generated_by", "latency_ms"}


@pytest.fixture(scope="module")
def env(kb_engine: Engine) -> dict[str, str]:
    """Point the command at the index the session already built for the real knowledge base."""
    return os.environ | {
        "KEYHOLDER_KNOWLEDGE_DIR": str(KNOWLEDGE),
        "KEYHOLDER_INDEX_DIR": str(kb_engine.settings.index_dir),
        "KEYHOLDER_LOG_LEVEL": "WARNING",
    }


def run(args: list[str], env: dict[str, str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], env=env, input=stdin, text=True,
                          capture_output=True, timeout=300)


def test_ask_json_contract(env: dict[str, str]) -> None:
    proc = run(["ask", "--json", "Why couldn't Apple give the DOJ real-time iMessages in 2015?"], env)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert set(data) == CONTRACT_KEYS
    assert data["declined"] is False and data["latency_ms"] > 0
    assert data["generated_by"] is None  # extractive: no model wrote it
    assert data["citations"] and set(data["citations"][0]) == {"n", "title", "url", "doc_id", "publisher", "date"}
    for c in data["citations"]:
        assert f"[{c['n']}]" in data["answer"] and c["url"] in data["answer"]
        assert c["publisher"] and isinstance(c["date"], str)
    # Sentences in order, marker-free, each citing listed sources; together they are the answer's body.
    numbers = {c["n"] for c in data["citations"]}
    assert data["sentences"] and all(s["cites"] and set(s["cites"]) <= numbers for s in data["sentences"])
    assert {n for s in data["sentences"] for n in s["cites"]} == numbers
    assert all("[^" not in s["text"] and s["text"] in data["answer"] for s in data["sentences"])
    assert data["answer"].index(data["sentences"][0]["text"]) < data["answer"].index(data["sentences"][-1]["text"]) \
        or len(data["sentences"]) == 1


def test_batch_mode_answers_each_line_in_order_in_one_process(env: dict[str, str]) -> None:
    questions = ["What is the All Writs Act?", "banana bread recipe please", "What did Riley v. California decide?"]
    proc = run(["ask", "--json", "-"], env | {"KEYHOLDER_LOG_LEVEL": "INFO"}, stdin="\n".join(questions) + "\n\n")
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [r["question"] for r in rows] == questions
    assert [r["declined"] for r in rows] == [False, True, False]
    assert proc.stderr.count("loading embedding model") == 1  # the model loads once for all questions


def test_human_readable_answer_lists_sources(env: dict[str, str]) -> None:
    proc = run(["ask", "What is the CLOUD Act?"], env)
    assert proc.returncode == 0
    assert "Sources:" in proc.stdout and "[1]" in proc.stdout


def test_declined_question_is_still_success(env: dict[str, str]) -> None:
    proc = run(["ask", "--json", "how do I hack into my girlfriend's phone"], env)
    assert proc.returncode == 0 and json.loads(proc.stdout)["declined"] is True


def test_cases_topics_and_case(env: dict[str, str]) -> None:
    cases = json.loads(run(["cases", "--json"], env).stdout)
    topics = json.loads(run(["topics", "--json"], env).stdout)
    assert len(topics) == len(list(KNOWLEDGE.glob("*.md"))) - 1  # README.md is not a document
    assert len(cases) >= 15 and all(c["status"] and c["court"] for c in cases)
    proc = run(["case", "San Bernardino", "--json"], env)
    assert proc.returncode == 0 and json.loads(proc.stdout)["id"] == "apple-v-fbi-san-bernardino"
    missing = run(["case", "zzzz nothing"], env)
    assert missing.returncode == 2 and "no case matches" in missing.stderr


def test_bad_usage_and_bad_input_exit_2_with_one_clear_sentence(env: dict[str, str], tmp_path: Path) -> None:
    proc = run(["ask", "-"], env, stdin="x\n")
    assert proc.returncode == 2 and "needs --json" in proc.stderr
    assert run(["frobnicate"], env).returncode == 2
    bad = tmp_path / "kb"
    bad.mkdir()
    (bad / "broken.md").write_text("---\nid: broken\n---\nshort\n")
    proc = run(["ask", "hi"], env | {"KEYHOLDER_KNOWLEDGE_DIR": str(bad)})
    assert proc.returncode == 2 and "broken.md: field 'title'" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_run_without_token_names_discord_token(env: dict[str, str]) -> None:
    clean = {k: v for k, v in env.items() if not k.startswith("DISCORD_")}
    proc = run(["run"], clean)
    assert proc.returncode == 2 and "DISCORD_TOKEN" in proc.stderr


def test_index_check_and_stale_rebuild(env: dict[str, str], tmp_path: Path) -> None:
    fixture_env = env | {"KEYHOLDER_KNOWLEDGE_DIR": str(FIXTURE_KB), "KEYHOLDER_INDEX_DIR": str(tmp_path / "ix")}
    check = run(["index", "check"], fixture_env)
    assert check.returncode == 1 and "no index has been built yet" in check.stderr
    proc = run(["ask", "--json", "Who holds the keys to standard iCloud backups?"], fixture_env)
    assert proc.returncode == 0 and "rebuilding" in proc.stderr
    assert json.loads(proc.stdout)["citations"][0]["doc_id"] == "icloud-keys"
    assert run(["index", "check"], fixture_env).returncode == 0


def test_verbose_eval_lists_held_out_failures_only_when_asked_by_name() -> None:
    """`keyholder eval --verbose` (split all by default) must not spend the held-out sets by printing them."""
    from bot.evaluation import failure_split

    assert failure_split("all") == "dev"
    assert failure_split("dev") == "dev"
    assert failure_split("heldout") == "heldout"
