"""The corpus covers every domain in both languages, with at least 150 different sentences each.

(A sentence may appear more than once: the same words in another situation,
an offline appliance or a value out of range, must give another answer.)
"""

from __future__ import annotations

import pytest

from .corpus_runner import cases

DOMAINS = {"wet_cycle", "fridge", "ac", "energy"}


@pytest.mark.parametrize("language", ["en", "zh-cn"])
def test_corpus_has_150_sentences_over_every_domain(language: str) -> None:
    """Each language: >= 150 different sentences, each domain represented."""
    corpus = list(cases(language))
    assert len({case.sentence for case in corpus}) >= 150
    assert {case.domain for case in corpus} == DOMAINS
