"""Train the room thermal model and write ``room_thermal.tflite`` (run by ./scripts/train).

Runs in the training environment (``.venv-train``: TensorFlow, no Home
Assistant); reads the splits ``dataset.py`` wrote. Fixed seeds, deterministic
ops and one thread, so a rebuild on the same TensorFlow gives the same file.

Network: the inputs normalised (mean, standard deviation of the training
split), two ReLU layers of 64 and three outputs (temperature change, humidity
change, mean power over the next 15 minutes), each scaled to unit spread for
training. For export the normalisation is folded into the first layer and
the output scale into the last: the .tflite takes the inputs in the units the
metadata names and answers in K, % and kW, with FULLY_CONNECTED only.
"""

from __future__ import annotations

import argparse
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
SEED: Final = 20261130
HIDDEN: Final = 64
EPOCHS: Final = 40
BATCH: Final = 256
VERSION: Final = "2"
# Accepted input ranges (the model's metadata): what the training data spans, widened a
# little where a real room can go further; outside them the runtime refuses the row.
RANGES: Final = {
    "on": (0.0, 1.0),
    "cool": (0.0, 1.0),
    "heat": (0.0, 1.0),
    "dry": (0.0, 1.0),
    "fan_only": (0.0, 1.0),
    "setpoint": (5.0, 40.0),
    "setpoint_error": (-20.0, 20.0),
    "fan": (0.0, 3.0),
    "outdoor_temperature": (-5.0, 42.0),
    "outdoor_humidity": (0.0, 101.0),
    "hour_sin": (-1.0, 1.0),
    "hour_cos": (-1.0, 1.0),
    "room_temperature": (5.0, 40.0),
    "room_humidity": (0.0, 101.0),
    "temperature_change_15min": (-6.0, 6.0),
    "temperature_change_1h": (-12.0, 12.0),
    "power_15min": (0.0, 3.0),
    "power_1h": (0.0, 3.0),
    "temperature_change_3h": (-20.0, 20.0),
    "power_3h": (0.0, 3.0),
    "temperature_above_slow": (-20.0, 20.0),
    "power_slow": (0.0, 3.0),
}


def _columns(raw: Any) -> list[tuple[str, str]]:
    out = []
    for label in raw:
        name, unit = str(label).split(" (", 1)
        out.append((name, unit.rstrip(")")))
    return out


def _model(width: int, outputs: int) -> tf.keras.Model:
    inputs = tf.keras.Input((width,), name="inputs")
    hidden = tf.keras.layers.Dense(HIDDEN, activation="relu", name="hidden1")(inputs)
    hidden = tf.keras.layers.Dense(HIDDEN, activation="relu", name="hidden2")(hidden)
    out = tf.keras.layers.Dense(outputs, name="outputs")(hidden)
    return tf.keras.Model(inputs, out)


def train(data: Path, out: Path) -> dict[str, Any]:
    """Train on ``data``/*.npz, write ``out`` and return the held-out metrics."""
    tf.keras.utils.set_random_seed(SEED)
    tf.config.experimental.enable_op_determinism()
    tf.config.threading.set_inter_op_parallelism_threads(1)
    tf.config.threading.set_intra_op_parallelism_threads(1)
    train_split, validation, test = (load_split(data, s) for s in ("train", "validation", "test"))
    features, outputs = _columns(train_split["features"]), _columns(train_split["outputs"])
    width, count = len(features), len(outputs)
    mean = train_split["x"].mean(axis=0)
    std = np.maximum(train_split["x"].std(axis=0), 1e-3)
    y_mean = train_split["y"].mean(axis=0)
    y_scale = np.maximum(train_split["y"].std(axis=0), 1e-3)

    def normalise(split: dict[str, Any]) -> tuple[Any, Any]:
        x = ((split["x"] - mean) / std).astype(np.float32)
        return x, ((split["y"] - y_mean) / y_scale).astype(np.float32)

    net = _model(width, count)
    steps = EPOCHS * int(np.ceil(len(train_split["x"]) / BATCH))
    schedule = tf.keras.optimizers.schedules.CosineDecay(3e-3, steps, alpha=0.02)
    net.compile(optimizer=tf.keras.optimizers.Adam(schedule), loss="huber")
    x_train, y_train = normalise(train_split)
    net.fit(
        x_train,
        y_train,
        batch_size=BATCH,
        epochs=EPOCHS,
        validation_data=normalise(validation),
        shuffle=True,
        verbose=2,
    )

    # Export model: the same weights with normalisation and scale folded in.
    w1, b1 = net.get_layer("hidden1").get_weights()
    w3, b3 = net.get_layer("outputs").get_weights()
    export = _model(width, count)
    export.get_layer("hidden1").set_weights([w1 / std[:, None], b1 - (mean / std) @ w1])
    export.get_layer("hidden2").set_weights(net.get_layer("hidden2").get_weights())
    export.get_layer("outputs").set_weights([w3 * y_scale, b3 * y_scale + y_mean])
    converter = tf.lite.TFLiteConverter.from_keras_model(export)
    flatbuffer = converter.convert()

    spec = {
        "name": "room_thermal",
        "version": VERSION,
        "inputs": [
            {"name": n, "unit": u, "min": RANGES[n][0], "max": RANGES[n][1]} for n, u in features
        ],
        "outputs": [{"name": n, "unit": u} for n, u in outputs],
    }
    data_out = with_spec(flatbuffer, spec)
    out.write_bytes(data_out)

    predicted = export.predict(test["x"].astype(np.float32), verbose=0)
    model_mae = np.abs(predicted - test["y"]).mean(axis=0)
    baseline_mae = np.abs(test["baseline"] - test["y"]).mean(axis=0)
    metrics: dict[str, Any] = {"bytes": len(data_out), "test_rows": len(test["x"])}
    for i, (name, _) in enumerate(outputs):
        metrics[f"{name}_mae_model"] = float(model_mae[i])
        metrics[f"{name}_mae_persistence"] = float(baseline_mae[i])
    return metrics


def main() -> None:
    """Train and report the held-out metrics as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=HERE / "data")
    parser.add_argument("--out", type=Path, default=HERE / "room_thermal.tflite")
    args = parser.parse_args()
    metrics = train(args.data, args.out)
    print(json.dumps(metrics, sort_keys=True))


if __name__ == "__main__":
    main()
