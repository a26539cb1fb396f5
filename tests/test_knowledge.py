"""Knowledge files: every problem reported at once, by file and field."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.cli import main
from bot.knowledge import KnowledgeError, load_knowledge
from tests.conftest import FIXTURE_KB


def copy_kb(tmp_path: Path) -> Path:
    kb = tmp_path / "kb"
    shutil.copytree(FIXTURE_KB, kb)
    return kb


def test_fixture_knowledge_loads() -> None:
    docs = load_knowledge(FIXTURE_KB)
    assert {d.id for d in docs} == {"icloud-keys", "awa-case", "uk-notice"}
    case = next(d for d in docs if d.id == "awa-case")
    assert case.meta.status is not None and case.meta.status.value == "withdrawn"


def test_every_problem_is_reported_with_file_and_field(tmp_path: Path) -> None:
    kb = copy_kb(tmp_path)
    icloud = kb / "icloud-keys.md"
    text = icloud.read_text()
    icloud.write_text(text.replace("as_of: 2026-11-27", "as_of: 2026-13-45").replace(
        "url: https://support.apple.com/en-us/HT202303", "url: not-a-url"))
    case = kb / "awa-case.md"
    case.write_text(case.read_text().replace("status: withdrawn\n", "").replace("related: []", ""))
    (kb / "dup.md").write_text((kb / "uk-notice.md").read_text())
    (kb / "empty-body.md").write_text((kb / "uk-notice.md").read_text().split("## Withdrawal")[0]
                                     .replace("id: uk-notice", "id: empty-body"))
    (kb / "no-title.md").write_text((kb / "uk-notice.md").read_text().replace("id: uk-notice", "id: no-title")
                                   .replace("title: UK technical capability notice to Apple (test fixture)\n", ""))
    with pytest.raises(KnowledgeError) as err:
        load_knowledge(kb)
    problems = "\n".join(err.value.problems)
    assert "icloud-keys.md: field 'as_of'" in problems
    assert "icloud-keys.md: field 'sources.0.url'" in problems
    assert "awa-case.md" in problems and "status" in problems
    assert "dup.md: field 'id'" in problems  # id must match the file name
    assert "empty-body.md: field 'body'" in problems
    assert "no-title.md: field 'title'" in problems
    assert len(err.value.problems) >= 6


def test_duplicate_ids_and_dangling_references(tmp_path: Path) -> None:
    kb = copy_kb(tmp_path)
    sub = kb / "more"
    sub.mkdir()
    shutil.copy(kb / "uk-notice.md", sub / "uk-notice.md")
    icloud = kb / "icloud-keys.md"
    icloud.write_text(icloud.read_text().replace("related: [awa-case]", "related: [awa-case, no-such-doc]"))
    with pytest.raises(KnowledgeError) as err:
        load_knowledge(kb)
    problems = "\n".join(err.value.problems)
    assert "duplicate id 'uk-notice'" in problems
    assert "unknown document id 'no-such-doc'" in problems


def test_cli_exits_2_and_names_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    kb = copy_kb(tmp_path)
    (kb / "uk-notice.md").write_text("no front matter here")
    monkeypatch.setenv("KEYHOLDER_KNOWLEDGE_DIR", str(kb))
    monkeypatch.setenv("KEYHOLDER_INDEX_DIR", str(tmp_path / "index"))
    assert main(["topics"]) == 2
    err = capsys.readouterr().err
    assert "uk-notice.md" in err and "front matter" in err
    assert "Traceback" not in err
