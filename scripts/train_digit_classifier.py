"""Train the small digit classifier whose features the FCD metric uses, and ship its weights.

Run it from the repository root to reproduce ``course_lib/assets/digit_classifier.npz``::

    .venv/bin/python scripts/train_digit_classifier.py

It trains a 64-128-64-10 ReLU network with scikit-learn (no deep-learning framework, so
both tracks share one feature extractor) on the digits train split, selects nothing on the
test split, and stores the weights as float32 along with the measured test accuracy.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
from sklearn.neural_network import MLPClassifier

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from course_lib import data  # noqa: E402
from course_lib.classifier import WEIGHTS_PATH, DigitClassifier  # noqa: E402


def main() -> None:
    x_train, y_train = data.digits("train", with_labels=True)
    x_val, y_val = data.digits("val", with_labels=True)
    x_test, y_test = data.digits("test", with_labels=True)
    mlp = MLPClassifier(hidden_layer_sizes=(128, 64), activation="relu", alpha=1e-3,
                        learning_rate_init=1e-3, max_iter=600, random_state=0)
    mlp.fit(x_train, y_train)
    arrays = {}
    for i, (w, b) in enumerate(zip(mlp.coefs_, mlp.intercepts_)):
        arrays[f"w{i}"] = w.astype(np.float32)
        arrays[f"b{i}"] = b.astype(np.float32)
    WEIGHTS_PATH.parent.mkdir(parents=True, exist_ok=True)
    np.savez(WEIGHTS_PATH, **arrays)
    clf = DigitClassifier.load()  # measure the numpy forward pass, i.e. what the course uses
    report = {
        "architecture": "64-128-64-10, ReLU; features = the 64 penultimate activations",
        "train_accuracy": float((clf.predict(x_train) == y_train).mean()),
        "val_accuracy": float((clf.predict(x_val) == y_val).mean()),
        "test_accuracy": float((clf.predict(x_test) == y_test).mean()),
        "trained_with": "sklearn.neural_network.MLPClassifier("
                        "hidden_layer_sizes=(128, 64), alpha=1e-3, random_state=0)",
    }
    WEIGHTS_PATH.with_suffix(".json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
