"""The index records what built it, is detected as stale, and re-embeds only changed text."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

import bot.intent
from bot.chunking import chunk_document
from bot.embedding import Embedder
from bot.engine import Engine
from bot.index import build_index, load_index, staleness
from bot.knowledge import load_knowledge
from tests.conftest import FIXTURE_KB, CountingEmbedder, make_settings


def test_manifest_records_model_chunker_and_hashes(tmp_path: Path, embedder: Embedder) -> None:
    docs = load_knowledge(FIXTURE_KB)
    build_index(docs, embedder, tmp_path)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["model"] == "sentence-transformers/all-MiniLM-L6-v2"
    assert manifest["dimension"] == 384
    assert manifest["chunker"]
    assert set(manifest["documents"]) == {d.id for d in docs}
    index = load_index(tmp_path)
    assert index.faiss_index.ntotal == len(index.passages) == sum(len(chunk_document(d)) for d in docs)
    assert staleness(tmp_path, docs, embedder) == []


def test_changed_document_is_stale_and_only_its_text_is_reembedded(tmp_path: Path, embedder: Embedder) -> None:
    kb = tmp_path / "kb"
    shutil.copytree(FIXTURE_KB, kb)
    counter = CountingEmbedder(embedder)
    first = build_index(load_knowledge(kb), counter, tmp_path / "index")
    assert first.reused == 0 and first.embedded > 0

    doc = kb / "uk-notice.md"
    doc.write_text(doc.read_text() + "\nApple said it would never build a backdoor or master key.[^s1]\n")
    docs = load_knowledge(kb)
    reasons = staleness(tmp_path / "index", docs, counter)
    assert reasons == ["1 document(s) changed: uk-notice"]

    counter.calls.clear()
    second = build_index(docs, counter, tmp_path / "index")
    assert second.changed_docs == ["uk-notice"]
    # Only the changed passage and the one new sentence are embedded; the other documents are reused.
    assert counter.embedded == second.embedded == 2
    assert second.reused == first.embedded - 1  # the old version of the changed passage is gone

    counter.calls.clear()
    third = build_index(docs, counter, tmp_path / "index")
    assert counter.embedded == 0 and third.embedded == 0


def test_foreign_model_or_chunker_makes_the_index_stale(tmp_path: Path, embedder: Embedder) -> None:
    docs = load_knowledge(FIXTURE_KB)
    build_index(docs, embedder, tmp_path)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    manifest["model"] = "some/other-model"
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    assert any("model" in r for r in staleness(tmp_path, docs, embedder))


def test_the_stored_intent_classifier_judges_as_it_did_when_fitted(tmp_path: Path, embedder: Embedder) -> None:
    build_index(load_knowledge(FIXTURE_KB), embedder, tmp_path)
    stored = load_index(tmp_path).intents
    assert stored is not None
    harmful = embedder.encode_one("whats the easiest way to read my girlfriend's texts without her knowing")
    legit = embedder.encode_one("can police read my texts with a warrant")
    assert stored.judge(harmful).reason == "break_in"
    assert stored.judge(legit).reason is None


def test_a_changed_classifier_setting_makes_the_index_stale(tmp_path: Path, embedder: Embedder,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    docs = load_knowledge(FIXTURE_KB)
    build_index(docs, embedder, tmp_path)
    monkeypatch.setattr(bot.intent, "C", bot.intent.C * 2)
    assert any("intents" in r for r in staleness(tmp_path, docs, embedder))


def test_engine_load_rebuilds_a_stale_index_and_says_so(tmp_path: Path, embedder: Embedder) -> None:
    kb = tmp_path / "kb"
    shutil.copytree(FIXTURE_KB, kb)
    settings = make_settings(tmp_path, knowledge=kb)
    said: list[str] = []
    Engine.load(settings, embedder, notify=said.append)
    assert said and "no index has been built yet" in said[0]
    said.clear()
    Engine.load(settings, embedder, notify=said.append)
    assert said == []  # current index: nothing rebuilt
    (kb / "uk-notice.md").unlink()
    engine = Engine.load(settings, embedder, notify=said.append)
    assert "removed: uk-notice" in said[0]
    assert engine.document("uk-notice") is None
