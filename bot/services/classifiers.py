"""Calibrated classifiers: L2-regularised logistic regressions (`LinearModel`) over an embedding.

The harmful-request classifier (the embedding and the patterns) replaces a stack of
similarity thresholds. The field classifier (the embedding alone) says whether a question is
about personal information and fraud at all, so that a victim whose story sits a hair closer
to an out-of-scope example than the nearest-neighbour margin allows is still answered. The
scam checker's classifier (the embedding and the warning signs, bot/services/checking.py) is
one too.

They are trained when the bot starts, from vectors the index already holds, so they fit
whatever embedding backend is configured. For the harm model, each example comes from a
file whose origin is stated:
- harmful (label 1): `harmful` in knowledge/request_examples.yaml, which we wrote;
- not harmful (label 0): `protective` in the same file; knowledge/out_of_scope.yaml;
  the example questions of every knowledge entry; and knowledge/benign_narratives.yaml,
  the development part of the real-question set (victims' and relatives' own stories).
The features are the question's vector plus three pattern flags from
knowledge/harmful_requests.yaml (a harmful pattern in a sentence that is not protective,
a harmful pattern in a protective sentence, a protective pattern anywhere), weighted by
`PATTERN_WEIGHT` so that they count against 384 small coordinates.

`REGULARISATION` (C) and the decision threshold (the backend's `Calibration.harm_threshold`)
were chosen by 5-fold cross-validation on the development sets (tests/data/adversarial.jsonl
and the real questions' development part), then checked on the written questions
(tests/data/dev_questions.jsonl); the held-out sets were only measured.

The field model learns the knowledge entries' example questions, the harmful, protective
and narrative examples (all in the field: label 1) against knowledge/out_of_scope.yaml
(label 0), from the question's vector alone. Its threshold (`Calibration.field_threshold`)
was chosen on the written questions with the narratives left out of training.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

REGULARISATION = 64.0
PATTERN_WEIGHT = 3.0
# Which anchor kinds (knowledge/*.yaml example sets) are harmful, and which are not.
HARMFUL_KINDS = ("harmful",)
HARMLESS_KINDS = ("protective", "outside", "narrative", "question")

# The kinds in the field (label 1) and outside it (label 0) for the field classifier.
FIELD_KINDS = ("question", "protective", "harmful", "narrative")
OUTSIDE_KINDS = ("outside",)

Flags = Callable[[str], tuple[float, float, float]]


@dataclass(frozen=True)
class LinearModel:
    """Weights of a logistic regression over a vector and pattern flags, and its decision threshold.

    The harmful-request classifier and the message checker's scam classifier are both one.
    """

    weights: np.ndarray
    bias: float
    threshold: float
    trained_on: int  # how many examples

    def probability(self, vector: Sequence[float] | np.ndarray, flags: Sequence[float] = ()) -> float:
        """The calibrated probability of the positive class (harmful, a scam) for this vector and flags."""
        x = np.concatenate([np.asarray(vector, dtype=np.float64), PATTERN_WEIGHT * np.asarray(flags, float)])
        if x.shape[0] != self.weights.shape[0]:
            return 0.0  # a vector of another model: no evidence either way
        return float(1.0 / (1.0 + np.exp(-(x @ self.weights + self.bias))))

    def decides(self, vector, flags: Sequence[float] = ()) -> bool:
        """Whether the probability reaches the threshold."""
        return self.probability(vector, flags) >= self.threshold


def train_harm_model(
    examples: dict[str, tuple[list[str], np.ndarray]], flags: Flags, threshold: float
) -> LinearModel | None:
    """Fit the harmful-request classifier on the example sets (`kind -> (texts, vectors)`)."""
    return train_linear(examples, HARMFUL_KINDS, HARMLESS_KINDS, flags, threshold)


def train_linear(
    examples: dict[str, tuple[list[str], np.ndarray]],
    positive: tuple[str, ...],
    negative: tuple[str, ...],
    flags: Callable[[str], Sequence[float]],
    threshold: float,
) -> LinearModel | None:
    """Fit a classifier of the `positive` kinds against the `negative` ones; None without both classes."""
    rows, labels = [], []
    for kind, (texts, vectors) in examples.items():
        if kind not in positive + negative or not len(texts):
            continue
        pattern = np.array([flags(t) for t in texts], dtype=np.float64) * PATTERN_WEIGHT
        rows.append(np.hstack([np.asarray(vectors, dtype=np.float64), pattern]))
        labels.append(np.full(len(texts), 1.0 if kind in positive else 0.0))
    fitted = _fit_rows(rows, labels)
    return LinearModel(*fitted, threshold, trained_on=sum(map(len, labels))) if fitted else None


def train_field_model(
    examples: dict[str, tuple[list[str], np.ndarray]], threshold: float
) -> LinearModel | None:
    """Fit the field classifier (the vector alone, no flags) on the example sets."""
    return train_linear(examples, FIELD_KINDS, OUTSIDE_KINDS, lambda text: (), threshold)


def _fit_rows(rows: list[np.ndarray], labels: list[np.ndarray]) -> tuple[np.ndarray, float] | None:
    """The fitted weights and bias over the stacked rows; None unless both classes are present."""
    if not rows:
        return None
    x, y = np.vstack(rows), np.concatenate(labels)
    if y.min() == y.max():
        return None
    return fit_logistic(x, y, REGULARISATION)


def fit_logistic(x: np.ndarray, y: np.ndarray, c: float, iterations: int = 30) -> tuple[np.ndarray, float]:
    """L2-regularised logistic regression with balanced class weights, by Newton's method.

    Minimises sum_i s_i * logloss_i + |w|^2 / (2c), the objective of scikit-learn's
    `LogisticRegression(C=c, class_weight="balanced")`; the intercept is not penalised.
    """
    n, d = x.shape
    positives = y.sum()
    sample = np.where(y == 1, n / (2 * positives), n / (2 * (n - positives)))
    xb = np.hstack([x, np.ones((n, 1))])
    theta = np.zeros(d + 1)
    penalty = np.full(d + 1, 1.0 / c)
    penalty[-1] = 0.0
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-(xb @ theta)))
        gradient = xb.T @ (sample * (p - y)) + penalty * theta
        curvature = sample * p * (1 - p)
        hessian = (xb * curvature[:, None]).T @ xb + np.diag(penalty) + 1e-9 * np.eye(d + 1)
        step = np.linalg.solve(hessian, gradient)
        theta -= step
        if np.abs(step).max() < 1e-6:
            break
    return theta[:-1], float(theta[-1])
