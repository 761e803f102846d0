"""Fitting the refusal gate's coverage model: logistic regression over the gate's signals.

Used offline by scripts/tune_refusal.py, which writes assistant/data/refusal_model.json; at run time the gate
only reads that file (assistant/retrieve/threshold.py ``probability``).  Plain numpy: a handful of features and
a few hundred questions need no learning library.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class LogisticModel:
    features: list[str]
    mean: list[float]
    scale: list[float]
    coef: list[float]
    intercept: float

    def predict(self, rows: np.ndarray) -> np.ndarray:
        z = ((rows - np.array(self.mean)) / np.array(self.scale)) @ np.array(self.coef) + self.intercept
        return 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))

    def to_json(self) -> dict:
        return {"features": self.features, "mean": self.mean, "scale": self.scale, "coef": self.coef,
                "intercept": self.intercept}


def fit_logistic(rows: np.ndarray, labels: np.ndarray, features: list[str], l2: float = 1.0,
                 iterations: int = 50) -> LogisticModel:
    """L2-regularised logistic regression by Newton's method on standardised features; ``labels`` 1 = covered.
    Classes are weighted to equal total weight, so the few out-of-scope questions are not drowned out."""
    rows = np.asarray(rows, dtype=float)
    labels = np.asarray(labels, dtype=float)
    mean = rows.mean(axis=0)
    scale = rows.std(axis=0)
    scale[scale < 1e-9] = 1.0
    x = np.hstack([(rows - mean) / scale, np.ones((len(rows), 1))])
    positives = max(labels.sum(), 1.0)
    negatives = max(len(labels) - labels.sum(), 1.0)
    weights = np.where(labels > 0.5, len(labels) / (2 * positives), len(labels) / (2 * negatives))
    penalty = np.eye(x.shape[1]) * l2
    penalty[-1, -1] = 0.0  # the intercept is not shrunk
    beta = np.zeros(x.shape[1])
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-np.clip(x @ beta, -30, 30)))
        gradient = x.T @ (weights * (p - labels)) + penalty @ beta
        hessian = (x * (weights * p * (1 - p))[:, None]).T @ x + penalty
        step = np.linalg.solve(hessian, gradient)
        beta -= step
        if np.abs(step).max() < 1e-8:
            break
    return LogisticModel(features, mean.tolist(), scale.tolist(), beta[:-1].tolist(), float(beta[-1]))


def operating_point(chances: np.ndarray, labels: np.ndarray, max_false_refusals: float) -> float:
    """The highest threshold ("refuse below it") that refuses at most ``max_false_refusals`` of the covered
    questions: among thresholds that keep answerable questions answered, the one refusing the most others."""
    chances = np.asarray(chances, dtype=float)
    covered = np.sort(chances[np.asarray(labels) > 0.5])
    if covered.size == 0:
        return 0.5
    allowed = int(np.floor(max_false_refusals * covered.size))  # this many covered questions may fall below
    return float(covered[allowed]) if allowed < covered.size else float(covered[-1])


def trade_off(chances: np.ndarray, labels: np.ndarray, thresholds: list[float]) -> list[tuple[float, float, float]]:
    """(threshold, share of covered questions refused, share of uncovered ones refused) for each threshold."""
    chances = np.asarray(chances, dtype=float)
    labels = np.asarray(labels) > 0.5
    out = []
    for threshold in thresholds:
        refused = chances < threshold
        false_rate = float(refused[labels].mean()) if labels.any() else 0.0
        recall = float(refused[~labels].mean()) if (~labels).any() else 1.0
        out.append((threshold, false_rate, recall))
    return out
