"""Claim-level sources: markers tie each sentence to a source; `keyholder index check` rejects what they don't cover."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.chunking import chunk_document, quick_answers
from bot.claims import parse_body
from bot.knowledge import KnowledgeError, load_knowledge
from tests.conftest import FIXTURE_KB, ROOT


def test_markers_become_per_sentence_sources_and_are_stripped() -> None:
    doc = next(d for d in load_knowledge(FIXTURE_KB) if d.id == "icloud-keys")
    passages = chunk_document(doc)
    adp = next(p for p in passages if p.heading.endswith("Advanced Data Protection"))
    assert adp.sources == (("apple-adp-2022",), ("apple-overview", "apple-adp-2022"))
    assert all("[^" not in s for p in passages for s in p.sentences)
    assert not any("Quick answers" in p.heading for p in passages), "quick answers are matched, not retrieved"
    (qa,) = quick_answers(doc)
    assert qa.questions == ("Is Advanced Data Protection on by default?",
                            "Do I have to turn on Advanced Data Protection myself?")
    assert qa.sentences[0].startswith("No: Advanced Data Protection is off") and qa.sources == (("apple-overview",),)


def test_a_marker_covers_the_unmarked_sentences_before_it_in_its_paragraph() -> None:
    parsed = parse_body("## H\n\nFirst fact here. Second fact here.[^a]\n\nThird fact.[^b]\n", ["a", "b"], 1)
    assert [(s.text, s.sources) for b in parsed.blocks for s in b.sentences] == [
        ("First fact here.", ("a",)), ("Second fact here.", ("a",)), ("Third fact.", ("b",))]
    assert parsed.problems == []


def broken_kb(tmp_path: Path) -> Path:
    kb = tmp_path / "kb"
    shutil.copytree(FIXTURE_KB, kb)
    path = kb / "icloud-keys.md"
    text = path.read_text()
    # 1. an unsourced sentence, 2. an unknown id, 3. a listed source that no marker uses afterwards
    text = text.replace("on Apple's servers.[^apple-overview]", "on Apple's servers.")
    text = text.replace("Apple holds the keys to standard iCloud backups, so Apple can decrypt them and hand them "
                        "over under a search warrant.[^apple-overview]",
                        "Apple holds the keys to standard iCloud backups, so Apple can decrypt them and hand them "
                        "over under a search warrant.[^nytimes-2015]\nApple also says so in a second sentence.")
    text = text.replace("end-to-end encrypted.[^apple-adp-2022]", "end-to-end encrypted.[^apple-overview]")
    text = text.replace("[^apple-overview][^apple-adp-2022]", "[^apple-overview]")
    path.write_text(text)
    return kb


def test_every_sourcing_problem_is_reported_at_once_with_file_line_and_id(tmp_path: Path) -> None:
    kb = broken_kb(tmp_path)
    with pytest.raises(KnowledgeError) as err:
        load_knowledge(kb)
    problems = err.value.problems
    lines = (kb / "icloud-keys.md").read_text().splitlines()
    unknown_line = next(i + 1 for i, line in enumerate(lines) if "[^nytimes-2015]" in line)
    second_line = next(i + 1 for i, line in enumerate(lines) if line.startswith("Apple also says so"))
    assert f"icloud-keys.md: line {unknown_line}: unknown source id 'nytimes-2015'" in problems
    assert any(p.startswith(f"icloud-keys.md: line {second_line}: sentence has no source marker: \"Apple also says")
               for p in problems), problems
    assert any("source 'apple-adp-2022' is listed but no [^apple-adp-2022] marker uses it" in p
               and p.startswith("icloud-keys.md: field 'sources.1.id'") for p in problems), problems
    assert len(problems) == 3, problems  # the marker on the next sentence covers the first one


def test_misplaced_markers_and_orphan_questions_are_reported(tmp_path: Path) -> None:
    parsed = parse_body("## H\n\nApple holds[^a] the keys.[^a]\n\n## Quick answers\n\nQ: Who holds the keys?\n\n"
                        "Unrelated text.[^a]\n", ["a"], 10)
    assert "line 12: marker [^a] must follow a sentence's closing punctuation directly" in parsed.problems
    assert "line 18: text under 'Quick answers' must be a 'Q:' line or an 'A:' answer" in parsed.problems
    assert "line 16: 'Q:' line without an 'A:' answer after it" in parsed.problems


def test_index_check_fails_naming_file_line_and_id(tmp_path: Path) -> None:
    kb = broken_kb(tmp_path)
    env = os.environ | {"KEYHOLDER_KNOWLEDGE_DIR": str(kb), "KEYHOLDER_INDEX_DIR": str(tmp_path / "ix"),
                        "KEYHOLDER_DATA_DIR": str(tmp_path / "data")}
    proc = subprocess.run([sys.executable, "-m", "bot.cli", "index", "check"], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert "unknown source id 'nytimes-2015'" in proc.stderr
    assert "sentence has no source marker" in proc.stderr
    assert "no [^apple-adp-2022] marker uses it" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_the_real_knowledge_base_is_sourced_sentence_by_sentence() -> None:
    docs = load_knowledge(ROOT / "knowledge")  # raises, listing every problem, if any sentence is unsourced
    for doc in docs:
        parsed = doc.claims()
        assert parsed.problems == [], doc.id
        assert parsed.used == {s.id for s in doc.meta.sources}, doc.id
