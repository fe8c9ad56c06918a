"""Trainer of the next-week-commits model: a seeded random forest and its holdout metrics.

This file is also committed to the demo's training-code git repository. Only metrics that are a
function of the confusion matrix are logged, so two models can tie exactly.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score

from commands.demo.features import BUCKETS, FEATURE_COLUMNS


def train(
    train_rows: pd.DataFrame, *, n_estimators, max_depth, min_samples_leaf, max_features, seed
):
    """Fit a random forest on the feature columns only; single-threaded for reproducibility."""
    model = RandomForestClassifier(
        n_estimators=n_estimators,
        max_depth=max_depth,
        min_samples_leaf=min_samples_leaf,
        max_features=max_features,
        random_state=seed,
        n_jobs=1,
    )
    model.fit(train_rows[list(FEATURE_COLUMNS)], train_rows["target"])
    return model


def evaluate(model, holdout: pd.DataFrame) -> tuple[dict[str, float], np.ndarray]:
    """(metrics, predictions) on the holdout."""
    predicted = model.predict(holdout[list(FEATURE_COLUMNS)])
    truth = holdout["target"].to_numpy()
    labels = list(BUCKETS)
    # sklearn's metrics are unannotated: their zero_division is inferred str from "warn"
    metrics = {
        "holdout_accuracy": float(accuracy_score(truth, predicted)),
        "holdout_f1_macro": float(
            f1_score(truth, predicted, labels=labels, average="macro", zero_division=0)  # pyright: ignore[reportArgumentType]
        ),
        "holdout_precision_macro": float(
            precision_score(truth, predicted, labels=labels, average="macro", zero_division=0)  # pyright: ignore[reportArgumentType]
        ),
        "holdout_recall_macro": float(
            recall_score(truth, predicted, labels=labels, average="macro", zero_division=0)  # pyright: ignore[reportArgumentType]
        ),
    }
    return metrics, np.asarray(predicted)
