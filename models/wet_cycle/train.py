"""Train the wet-cycle predictor and write ``wet_cycle.tflite`` (run by ./scripts/train).

Runs in the training environment (``.venv-train``: TensorFlow, no Home
Assistant); reads the splits ``dataset.py`` wrote. Fixed seeds, deterministic
ops and one thread, so a rebuild on the same TensorFlow gives the same file.

Network: the inputs are normalised (mean, standard deviation of the training
split), two ReLU layers of 64, and two outputs added to the declared profile's
remaining time and energy (a fixed linear skip), so the network learns the
correction. For export the normalisation is folded into the first layer and
the output scale into the last: the .tflite takes the inputs in the units the
metadata names and answers in hours and kWh, with FULLY_CONNECTED and ADD only.
The same run writes ``wet_cycle_int8.tflite`` from the same weights, full
integer (``_int8_file``; CARD.md says how it differs).
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
SEED: Final = 20260415
HIDDEN: Final = 64
EPOCHS: Final = 60
BATCH: Final = 256
VERSION: Final = "1"
# Accepted input ranges (the model's metadata): what the training data spans, widened to
# what a real run can show; outside them the runtime refuses the row.
RANGES: Final = {
    "dishwasher": (0.0, 1.0),
    "declared_duration": (0.0, 6.0),
    "declared_energy": (0.0, 3.0),
    "declared_heating": (0.0, 2.0),
    "water_temperature": (0.0, 95.0),
    "spin_speed": (0.0, 1.6),
    "rinses": (0.0, 3.0),
    "inlet_water_temperature": (2.0, 35.0),
    "elapsed": (0.0, 8.0),
    "energy_so_far": (0.0, 5.0),
    "heating_so_far": (0.0, 4.0),
    "heater_power": (0.0, 3.0),
    "heater_on": (0.0, 1.0),
    "declared_remaining": (0.0, 6.0),
    "declared_remaining_energy": (0.0, 3.0),
}
SKIP_FROM: Final = ("declared_remaining", "declared_remaining_energy")


def _columns(raw: Any) -> list[tuple[str, str]]:
    out = []
    for label in raw:
        name, unit = str(label).split(" (", 1)
        out.append((name, unit.rstrip(")")))
    return out


def _model(width: int, skip: np.ndarray[Any, Any]) -> tf.keras.Model:
    inputs = tf.keras.Input((width,), name="inputs")
    hidden = tf.keras.layers.Dense(HIDDEN, activation="relu", name="hidden1")(inputs)
    hidden = tf.keras.layers.Dense(HIDDEN, activation="relu", name="hidden2")(hidden)
    correction = tf.keras.layers.Dense(2, name="correction")(hidden)
    declared = tf.keras.layers.Dense(2, use_bias=False, trainable=False, name="declared")(inputs)
    outputs = tf.keras.layers.Add(name="outputs")([declared, correction])
    model = tf.keras.Model(inputs, outputs)
    model.get_layer("declared").set_weights([skip])
    return model


def train(data: Path, out: Path) -> dict[str, Any]:
    """Train on ``data``/*.npz, write ``out`` and return the held-out metrics."""
    tf.keras.utils.set_random_seed(SEED)
    tf.config.experimental.enable_op_determinism()
    tf.config.threading.set_inter_op_parallelism_threads(1)
    tf.config.threading.set_intra_op_parallelism_threads(1)
    train_split, validation, test = (load_split(data, s) for s in ("train", "validation", "test"))
    features, outputs = _columns(train_split["features"]), _columns(train_split["outputs"])
    names = [name for name, _ in features]
    width = len(features)
    mean = train_split["x"].mean(axis=0)
    std = np.maximum(train_split["x"].std(axis=0), 1e-3)
    skip = np.zeros((width, 2), dtype=np.float32)
    for column, name in enumerate(SKIP_FROM):
        skip[names.index(name), column] = 1.0
    residual = train_split["y"] - train_split["x"] @ skip
    scale = np.maximum(residual.std(axis=0), 1e-3)

    # Training model: normalised inputs, residual scaled to unit spread.
    def normalise(split: dict[str, Any]) -> tuple[Any, Any]:
        x = ((split["x"] - mean) / std).astype(np.float32)
        target = ((split["y"] - split["x"] @ skip) / scale).astype(np.float32)
        return x, target

    net = _model(width, np.zeros_like(skip))
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
    w3, b3 = net.get_layer("correction").get_weights()
    export = _model(width, skip)
    export.get_layer("hidden1").set_weights([w1 / std[:, None], b1 - (mean / std) @ w1])
    export.get_layer("hidden2").set_weights(net.get_layer("hidden2").get_weights())
    export.get_layer("correction").set_weights([w3 * scale, b3 * scale])
    converter = tf.lite.TFLiteConverter.from_keras_model(export)
    flatbuffer = converter.convert()

    spec = {
        "name": "wet_cycle",
        "version": VERSION,
        "inputs": [
            {"name": n, "unit": u, "min": RANGES[n][0], "max": RANGES[n][1]} for n, u in features
        ],
        "outputs": [{"name": n, "unit": u} for n, u in outputs],
    }
    data_out = with_spec(flatbuffer, spec)
    out.write_bytes(data_out)

    int8_bytes = _int8_file(net, names, mean, std, scale, train_split["x"], spec)
    out.with_name(f"{out.stem}_int8.tflite").write_bytes(int8_bytes)

    predicted = export.predict(test["x"].astype(np.float32), verbose=0)
    metrics = {
        "remaining_mae_min_model": float(np.abs(predicted[:, 0] - test["y"][:, 0]).mean() * 60),
        "remaining_mae_min_declared": float(
            np.abs(test["baseline"][:, 0] - test["y"][:, 0]).mean() * 60
        ),
        "energy_mae_kwh_model": float(np.abs(predicted[:, 1] - test["y"][:, 1]).mean()),
        "energy_mae_kwh_declared": float(np.abs(test["baseline"][:, 1] - test["y"][:, 1]).mean()),
        "bytes": len(data_out),
        "int8_bytes": len(int8_bytes),
    }
    return metrics


def _int8_file(
    net: tf.keras.Model,
    names: list[str],
    mean: np.ndarray[Any, Any],
    std: np.ndarray[Any, Any],
    scale: np.ndarray[Any, Any],
    x_train: np.ndarray[Any, Any],
    spec: dict[str, Any],
) -> bytes:
    """The same weights as a full-integer file: int8 weights and activations, float in and out.

    int8 activations are quantised per tensor, so raw inputs (°C next to 0/1 flags) would
    share one scale; the file takes normalised inputs instead and its spec carries the
    mean and standard deviation (``normalise``) the runtimes apply first. The declared
    profile's skip becomes two pass-through units in each hidden layer (the declared
    remaining time and energy are never negative, so ReLU passes them unchanged), which
    leaves a plain chain of three FULLY_CONNECTED between QUANTIZE and DEQUANTIZE.
    """
    skip = [names.index(name) for name in SKIP_FROM]
    w1, b1 = net.get_layer("hidden1").get_weights()
    w2, b2 = net.get_layer("hidden2").get_weights()
    w3, b3 = net.get_layer("correction").get_weights()
    width, wide = len(names), HIDDEN + len(skip)
    first = np.zeros((width, wide), dtype=np.float32)
    first[:, :HIDDEN] = w1
    second = np.zeros((wide, wide), dtype=np.float32)
    second[:HIDDEN, :HIDDEN] = w2
    last = np.zeros((wide, 2), dtype=np.float32)
    last[:HIDDEN] = w3 * scale
    for n, column in enumerate(skip):
        first[column, HIDDEN + n] = std[column]  # z·std + mean = the raw value again
        second[HIDDEN + n, HIDDEN + n] = 1.0
        last[HIDDEN + n, n] = 1.0
    bias1 = np.concatenate([b1, mean[skip]]).astype(np.float32)
    bias2 = np.concatenate([b2, np.zeros(len(skip))]).astype(np.float32)
    inputs = tf.keras.Input((width,), name="inputs")
    hidden = tf.keras.layers.Dense(wide, activation="relu", name="hidden1")(inputs)
    hidden = tf.keras.layers.Dense(wide, activation="relu", name="hidden2")(hidden)
    outputs = tf.keras.layers.Dense(2, name="outputs")(hidden)
    chain = tf.keras.Model(inputs, outputs)
    chain.get_layer("hidden1").set_weights([first, bias1])
    chain.get_layer("hidden2").set_weights([second, bias2])
    chain.get_layer("outputs").set_weights([last, (b3 * scale).astype(np.float32)])
    rng = np.random.default_rng(SEED)
    sample = ((x_train[rng.choice(len(x_train), 2000, replace=False)] - mean) / std).astype(
        np.float32
    )

    def representative() -> Any:
        for row in sample:
            yield [row[np.newaxis, :]]

    converter = tf.lite.TFLiteConverter.from_keras_model(chain)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = representative
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    flatbuffer = converter.convert()
    int8_spec = spec | {
        "version": f"{VERSION}-int8",
        "normalise": {"mean": mean.tolist(), "std": std.tolist()},
    }
    return with_spec(flatbuffer, int8_spec)


def main() -> None:
    """Train and report the held-out metrics as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=HERE / "data")
    parser.add_argument("--out", type=Path, default=HERE / "wet_cycle.tflite")
    args = parser.parse_args()
    metrics = train(args.data, args.out)
    print(json.dumps(metrics, sort_keys=True))


if __name__ == "__main__":
    main()
