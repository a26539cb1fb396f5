"""The checker for written sentences, on sentences a model might write about one source (not from eval/)."""

from __future__ import annotations

import pytest

from bot.checker import Checker
from bot.embedding import Embedder

SOURCE = ("Magistrate Judge James Orenstein denied the government's application on Feb. 29, 2016, "
          "after Apple had said it could not be forced to help.")
TWO_DATES = ("The government filed its appeal on March 7, 2016, and it withdrew the application on April 22, 2016, "
             "after an individual supplied the passcode.")


@pytest.fixture(scope="module")
def checker(embedder: Embedder) -> Checker:
    return Checker(embedder.encode)


@pytest.mark.parametrize("sentence", [
    "Judge Orenstein denied the government's application on Feb. 29, 2016.",
    "On Feb. 29, 2016, Magistrate Judge Orenstein turned down the government's application.",
])
def test_faithful_sentences_pass(checker: Checker, sentence: str) -> None:
    assert checker.check(sentence, [SOURCE]).supported


@pytest.mark.parametrize(("sentence", "reason"), [
    ("Judge Orenstein denied the government's application on Feb. 28, 2016.", "number"),
    ("Judge Orenstein denied the application on Feb. 29, 2016, after a $5,000 fine.", "number"),
    ("Judge Pym denied the government's application on Feb. 29, 2016.", "name"),
    ("Judge Orenstein granted the government's application on Feb. 29, 2016.", "opposite"),
    ("Apple said it could be forced to help, and Judge Orenstein denied the application.", "negation"),
    ("Judge Orenstein denied every government application about iPhones.", "scope"),
    ("Judge Orenstein denied the application, and his ruling was later overturned on appeal.", "coverage"),
])
def test_unsupported_sentences_fail_with_the_reason(checker: Checker, sentence: str, reason: str) -> None:
    verdict = checker.check(sentence, [SOURCE])
    assert not verdict.supported and verdict.reason == reason, verdict


def test_a_date_the_source_gives_for_another_event_fails(checker: Checker) -> None:
    assert checker.check("The government withdrew the application on April 22, 2016.", [TWO_DATES]).supported
    wrong = checker.check("The government withdrew the application on March 7, 2016.", [TWO_DATES])
    assert not wrong.supported and wrong.reason == "number"


def test_a_sentence_without_a_cited_source_fails(checker: Checker) -> None:
    assert checker.check("Judge Orenstein denied the application.", []).reason == "no citation"


def test_a_dropped_hedge_fails(checker: Checker) -> None:
    source = "The Wall Street Journal reported that the hackers may have been inside the systems for months."
    assert checker.check("The Journal reported that the hackers may have been inside the systems for months.",
                         [source]).supported
    assert checker.check("The hackers were inside the systems for months.", [source]).reason == "hedge"
