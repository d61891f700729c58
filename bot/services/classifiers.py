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
- harmful (label 1): `harmful` in knowledge/request_examples.yaml, which we and a helper who
  saw neither the patterns nor any evaluation set wrote;
- not harmful (label 0): `protective` in the same file; knowledge/out_of_scope.yaml;
  the example questions of every knowledge entry; and knowledge/benign_narratives.yaml,
  the development part of the real-question set (victims' and relatives' own stories).
The features are the question's vector plus three pattern flags from
knowledge/harmful_requests.yaml (a harmful pattern in a sentence that is not protective,
a harmful pattern in a protective sentence, a protective pattern anywhere), weighted by
`PATTERN_WEIGHT` so that they count against 384 small coordinates. With the bundled model the
request's character 1- to 3-grams count too (hashed, L2-normalised, scaled by the backend's
`harm_ngram_scale`): the trade's own words (料, 四件套, 接码) are evidence a small embedding blurs.

`REGULARISATION` (C) and the decision threshold (the backend's `Calibration.harm_threshold`)
were chosen by 5-fold cross-validation on the development sets (tests/data/adversarial.jsonl
and the real questions' development part), then checked on the written questions
(tests/data/dev_questions.jsonl); the held-out sets were only measured. The n-gram scale
(0.5) and the bundled threshold (0.6) were chosen by 5-fold cross-validation over the helper's
600 examples (README, issue 15's eighth part).

The field model learns the knowledge entries' example questions, the harmful, protective
and narrative examples (all in the field: label 1) against knowledge/out_of_scope.yaml
(label 0), from the question's vector alone. Its threshold (`Calibration.field_threshold`)
was chosen on the written questions with the narratives left out of training.
"""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import bot.services.ngrams as ngrams

REGULARISATION = 64.0
PATTERN_WEIGHT = 3.0
# Bump when the features or the fit change: a saved model of another version is not reused.
MODEL_VERSION = 1
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
    # Weights of the text's hashed character n-grams (bot/services/ngrams.py), each row scaled by
    # `ngram_scale`; None for a model over the vector and flags alone.
    ngram_weights: np.ndarray | None = None
    ngram_scale: float = 0.0

    def probability(
        self, vector: Sequence[float] | np.ndarray, flags: Sequence[float] = (), text: str | None = None
    ) -> float:
        """The calibrated probability of the positive class (harmful, a scam) for this vector and flags
        (and the text's n-grams, for a model that has them)."""
        x = np.concatenate([np.asarray(vector, dtype=np.float64), PATTERN_WEIGHT * np.asarray(flags, float)])
        if x.shape[0] != self.weights.shape[0]:
            return 0.0  # a vector of another model: no evidence either way
        z = x @ self.weights + self.bias
        if self.ngram_weights is not None and text:
            z += self.ngram_scale * ngrams.score(text, self.ngram_weights)
        return float(1.0 / (1.0 + np.exp(-z)))

    def decides(self, vector, flags: Sequence[float] = (), text: str | None = None) -> bool:
        """Whether the probability reaches the threshold."""
        return self.probability(vector, flags, text) >= self.threshold


def train_harm_model(
    examples: dict[str, tuple[list[str], np.ndarray]],
    flags: Flags,
    threshold: float,
    ngram_scale: float = 0.0,
) -> LinearModel | None:
    """Fit the harmful-request classifier on the example sets (`kind -> (texts, vectors)`); with
    `ngram_scale`, over the texts' character n-grams too."""
    if not ngram_scale:
        return train_linear(examples, HARMFUL_KINDS, HARMLESS_KINDS, flags, threshold)
    return train_with_ngrams(examples, HARMFUL_KINDS, HARMLESS_KINDS, flags, threshold, ngram_scale)


def cached_harm_model(
    directory: Path | None,
    examples: dict[str, tuple[list[str], np.ndarray]],
    flags: Flags,
    threshold: float,
    ngram_scale: float,
    salt: str = "",
) -> LinearModel | None:
    """The harm classifier, loaded from `directory` when one was saved for exactly these examples
    (texts, vectors), `salt` (the patterns) and settings, else trained and saved there.

    Training with n-grams takes about two seconds (scikit-learn's import, the patterns over every
    example, the fit); loading takes milliseconds. A directory that cannot be written is no error.
    """
    if not ngram_scale or directory is None:
        return train_harm_model(examples, flags, threshold, ngram_scale)
    settings = [MODEL_VERSION, REGULARISATION, PATTERN_WEIGHT, ngram_scale, salt]
    digest = hashlib.sha256(json.dumps(settings).encode())
    for kind in sorted(HARMFUL_KINDS + HARMLESS_KINDS):
        texts, vectors = examples.get(kind, ([], np.zeros((0, 0))))
        digest.update(json.dumps([kind, list(texts)], ensure_ascii=False).encode())
        digest.update(np.ascontiguousarray(vectors, dtype=np.float32).tobytes())
    path = Path(directory) / f"harm-{digest.hexdigest()[:20]}.npz"
    try:
        with np.load(path) as saved:
            weights = np.zeros(ngrams.FEATURES)
            weights[saved["columns"]] = saved["values"]
            dense, bias, trained_on = saved["dense"], float(saved["bias"]), int(saved["trained_on"])
            return LinearModel(dense, bias, threshold, trained_on, weights, ngram_scale)
    except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile):
        pass  # none saved, or a damaged file: train again
    model = train_harm_model(examples, flags, threshold, ngram_scale)
    if model is not None and model.ngram_weights is not None:
        columns = np.flatnonzero(model.ngram_weights)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_name(f"{path.stem}.{os.getpid()}.partial.npz")  # replicas may share it
            np.savez(
                partial,
                dense=model.weights,
                bias=model.bias,
                trained_on=model.trained_on,
                columns=columns,
                values=model.ngram_weights[columns],
            )
            partial.replace(path)
            for stale in path.parent.glob("harm-*.npz"):  # models of earlier examples
                if stale != path and ".partial." not in stale.name:
                    stale.unlink(missing_ok=True)
        except OSError:
            pass
    return model


def train_with_ngrams(
    examples: dict[str, tuple[list[str], np.ndarray]],
    positive: tuple[str, ...],
    negative: tuple[str, ...],
    flags: Callable[[str], Sequence[float]],
    threshold: float,
    ngram_scale: float,
) -> LinearModel | None:
    """Fit a classifier over the vector, the flags and the texts' character n-grams (scikit-learn's
    liblinear on a sparse matrix: 0.3 s for 2,700 examples, where L-BFGS took 3 s)."""
    from scipy import sparse
    from sklearn.linear_model import LogisticRegression

    labelled = _labelled(examples, positive, negative, flags)
    if labelled is None:
        return None
    texts, dense, y = labelled
    x = sparse.hstack([sparse.csr_matrix(dense), ngram_scale * ngrams.matrix(texts)]).tocsr()
    fitted = LogisticRegression(C=REGULARISATION, class_weight="balanced", solver="liblinear").fit(x, y)
    coef = fitted.coef_[0]
    width = dense.shape[1]
    return LinearModel(
        coef[:width], float(fitted.intercept_[0]), threshold, len(y), coef[width:].copy(), ngram_scale
    )


def train_linear(
    examples: dict[str, tuple[list[str], np.ndarray]],
    positive: tuple[str, ...],
    negative: tuple[str, ...],
    flags: Callable[[str], Sequence[float]],
    threshold: float,
) -> LinearModel | None:
    """Fit a classifier of the `positive` kinds against the `negative` ones; None without both classes."""
    labelled = _labelled(examples, positive, negative, flags)
    if labelled is None:
        return None
    _, x, y = labelled
    return LinearModel(*fit_logistic(x, y, REGULARISATION), threshold, trained_on=len(y))


def _labelled(examples, positive, negative, flags) -> tuple[list[str], np.ndarray, np.ndarray] | None:
    """The texts, the stacked rows (vector and weighted flags) and the labels of the `positive` and
    `negative` examples; None unless both classes are present."""
    texts, rows, labels = [], [], []
    for kind, (kind_texts, vectors) in examples.items():
        if kind not in positive + negative or not len(kind_texts):
            continue
        pattern = np.array([flags(t) for t in kind_texts], dtype=np.float64) * PATTERN_WEIGHT
        rows.append(np.hstack([np.asarray(vectors, dtype=np.float64), pattern]))
        labels.append(np.full(len(kind_texts), 1.0 if kind in positive else 0.0))
        texts += list(kind_texts)
    if not rows:
        return None
    x, y = np.vstack(rows), np.concatenate(labels)
    return None if y.min() == y.max() else (texts, x, y)


def train_field_model(
    examples: dict[str, tuple[list[str], np.ndarray]], threshold: float
) -> LinearModel | None:
    """Fit the field classifier (the vector alone, no flags) on the example sets."""
    return train_linear(examples, FIELD_KINDS, OUTSIDE_KINDS, lambda text: (), threshold)


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
