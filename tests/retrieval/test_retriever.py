"""The retriever's evidence: the centroid of an entry's vectors next to its nearest vector."""

from __future__ import annotations

import numpy as np
import pytest

from bot.core.text import clean
from bot.retrieval.retriever import Hit, Retrieval, _centroids
from bot.services.real_eval import load_real_set, real_metrics, run_real
from tests.support.knowledge import DATA


def test_centroids_are_the_normalised_mean_of_each_entrys_rows():
    vectors = np.array([[1.0, 0.0], [0.0, 1.0], [3.0, 4.0]], dtype=np.float32)
    ids, means = _centroids(["b", "b", "a"], vectors)
    assert ids == ["a", "b"]
    assert means[0] == pytest.approx([0.6, 0.8])
    assert means[1] == pytest.approx([2**-0.5, 2**-0.5])
    assert _centroids([], np.zeros((0, 0)))[0] == []


def test_strongest_is_the_best_entry_with_the_strongest_evidence_of_any_hit(app):
    first, second = list(app.kb.entries.values())[:2]
    retrieval = Retrieval([Hit(first, 1.0, 0.80, 0.1, 0.9), Hit(second, 0.9, 0.88, 0.7, 0.5)], {})
    strongest = retrieval.strongest
    assert strongest.entry is first and strongest.score == 1.0
    assert (strongest.dense, strongest.lexical) == (0.88, 0.7)
    assert retrieval.best.dense == 0.80  # the hits themselves are unchanged
    assert Retrieval([], {}).strongest is None


def test_every_hit_carries_its_centroid_evidence(app):
    hits = app.retriever.retrieve(clean("快递盒上的面单直接扔掉可以吗"), k=3).hits
    assert hits[0].entry.topic == "delivery_labels"
    assert all(0.0 < h.centroid <= 1.0 for h in hits)
    # The fused score stays on the scale of a similarity: a near-perfect match is about 1.
    assert 0.8 < hits[0].score < 1.2


def test_centroid_evidence_puts_the_right_entry_first_for_more_real_questions(app):
    """On the development part of the real questions (what real people wrote), the centroid
    evidence must earn its place: without it (weight 0) fewer askers get an acceptable entry first."""
    items = [i for i in load_real_set(DATA / "real_questions.jsonl") if i.split == "dev"]
    default = app.retriever.centroid_weight
    try:
        app.retriever.centroid_weight = 0.0
        without = real_metrics(run_real(app.answers, items))["rank1"]
    finally:
        app.retriever.centroid_weight = default
    with_centroid = real_metrics(run_real(app.answers, items))["rank1"]
    assert with_centroid >= without + 0.05, (without, with_centroid)
