"""Train the fridge fault detector and write ``fridge_fault.tflite`` (run by ./scripts/train).

Runs in the training environment (``.venv-train``: TensorFlow, no Home
Assistant); reads the splits ``dataset.py`` wrote. Fixed seeds, deterministic
ops and one thread, so a rebuild on the same TensorFlow gives the same file.

Network: the 17 window features, normalised (mean and standard deviation of
the training split), two ReLU layers of 32 and five logistic outputs (healthy
and the four faults), trained one-vs-rest with binary cross-entropy. Rows
whose window has seen less than six hours of a fault are left out of
training (their label is more guess than fact). For export the normalisation
is folded into the first layer by the converter: the .tflite takes the
features in the units the metadata names, with FULLY_CONNECTED and LOGISTIC
only. L2 weight decay keeps the logits moderate, so float32 rounding leaves
the two runtimes within 1e-5 of each other (CARD.md). The alarm rule
and the held-out metrics come from ``evaluate.py`` (in the test environment),
which runs the written file.
"""

from __future__ import annotations

import argparse
from functools import partial
import json
import os
from pathlib import Path
from typing import Any, Final

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_DETERMINISTIC_OPS", "1")

import numpy as np
import tensorflow as tf

from models.export import load_split, with_spec

HERE: Final = Path(__file__).resolve().parent
# The integration ships its own copy (HACS installs only custom_components/); a test checks
# that the two files are the same bytes.
SEED: Final = 20261130
HIDDEN: Final = 32
EPOCHS: Final = 40
BATCH: Final = 256
# Weight decay keeps the logits moderate: with logits in the hundreds float32 rounding
# alone made the two runtimes differ by more than 1e-5.
L2: Final = 1e-4
VERSION: Final = "1"
# Accepted input ranges (the model's metadata): physically possible values, wider than the
# training data; outside them the runtime refuses the row.
RANGES: Final = {
    "duty": (0.0, 1.0),
    "duty_recent": (0.0, 1.0),
    "duty_trend": (-1.0, 1.0),
    "on_power": (0.0, 400.0),
    "on_power_trend": (-400.0, 400.0),
    "defrost_hours": (0.0, 48.0),
    "defrost_power": (0.0, 600.0),
    "fridge_above_target": (-15.0, 40.0),
    "fridge_above_target_recent": (-15.0, 40.0),
    "freezer_above_target": (-15.0, 60.0),
    "freezer_above_target_recent": (-15.0, 60.0),
    "fridge_off_warming": (-50.0, 50.0),
    "freezer_on_cooling": (-50.0, 50.0),
    "starts": (0.0, 500.0),
    "longest_run": (0.0, 48.0),
    "door_openings": (0.0, 500.0),
    "door_open": (0.0, 1440.0),
}


def _columns(raw: Any) -> list[tuple[str, str]]:
    out = []
    for label in raw:
        name, unit = str(label).split(" (", 1)
        out.append((name, unit.rstrip(")")))
    return out


class _Normalise(tf.keras.layers.Layer):  # type: ignore[misc]
    """(x + offset) * scale in front of the trained first layer; the converter folds both
    into that FULLY_CONNECTED's weights and bias."""

    def __init__(self, offset: np.ndarray[Any, Any], scale: np.ndarray[Any, Any]) -> None:
        super().__init__(name="normalise")
        self._offset = tf.constant(offset, dtype=tf.float32)
        self._scale = tf.constant(scale, dtype=tf.float32)

    def call(self, x: Any) -> Any:
        return (x + self._offset) * self._scale


def _model(width: int, classes: int, normalise: _Normalise | None = None) -> tf.keras.Model:
    inputs = tf.keras.Input((width,), name="inputs")
    first = inputs if normalise is None else normalise(inputs)
    dense = partial(tf.keras.layers.Dense, kernel_regularizer=tf.keras.regularizers.L2(L2))
    hidden = dense(HIDDEN, activation="relu", name="hidden1")(first)
    hidden = dense(HIDDEN, activation="relu", name="hidden2")(hidden)
    outputs = dense(classes, activation="sigmoid", name="scores")(hidden)
    return tf.keras.Model(inputs, outputs)


def train(data: Path, out: Path) -> dict[str, Any]:
    """Train on ``data``/*.npz, write ``out`` and return training facts."""
    tf.keras.utils.set_random_seed(SEED)
    tf.config.experimental.enable_op_determinism()
    tf.config.threading.set_inter_op_parallelism_threads(1)
    tf.config.threading.set_intra_op_parallelism_threads(1)
    train_split, validation = load_split(data, "train"), load_split(data, "validation")
    features, outputs = _columns(train_split["features"]), _columns(train_split["outputs"])
    width, classes = len(features), len(outputs)
    mean = train_split["x"].mean(axis=0)
    std = np.maximum(train_split["x"].std(axis=0), 1e-3)

    def prepare(split: dict[str, Any]) -> tuple[Any, Any]:
        keep = ~split["settling"]
        x = ((split["x"][keep] - mean) / std).astype(np.float32)
        y = np.eye(classes, dtype=np.float32)[split["y"][keep]]
        return x, y

    net = _model(width, classes)
    x_train, y_train = prepare(train_split)
    steps = EPOCHS * int(np.ceil(len(x_train) / BATCH))
    schedule = tf.keras.optimizers.schedules.CosineDecay(3e-3, steps, alpha=0.02)
    net.compile(optimizer=tf.keras.optimizers.Adam(schedule), loss="binary_crossentropy")
    history = net.fit(
        x_train,
        y_train,
        batch_size=BATCH,
        epochs=EPOCHS,
        validation_data=prepare(validation),
        shuffle=True,
        verbose=2,
    )

    # Export model: the trained weights behind the normalisation, which the converter folds
    # into the first layer.
    export = _model(width, classes, _Normalise(-mean, 1.0 / std))
    export.get_layer("hidden1").set_weights(net.get_layer("hidden1").get_weights())
    export.get_layer("hidden2").set_weights(net.get_layer("hidden2").get_weights())
    export.get_layer("scores").set_weights(net.get_layer("scores").get_weights())
    converter = tf.lite.TFLiteConverter.from_keras_model(export)
    flatbuffer = converter.convert()

    spec = {
        "name": "fridge_fault",
        "version": VERSION,
        "inputs": [
            {"name": n, "unit": u, "min": RANGES[n][0], "max": RANGES[n][1]} for n, u in features
        ],
        "outputs": [{"name": n, "unit": u} for n, u in outputs],
    }
    data_out = with_spec(flatbuffer, spec)
    out.write_bytes(data_out)
    return {
        "bytes": len(data_out),
        "train_rows": len(x_train),
        "validation_loss": float(history.history["val_loss"][-1]),
    }


def main() -> None:
    """Train and report as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=HERE / "data")
    parser.add_argument("--out", type=Path, default=HERE / "fridge_fault.tflite")
    args = parser.parse_args()
    facts = train(args.data, args.out)
    print(json.dumps(facts, sort_keys=True))


if __name__ == "__main__":
    main()
