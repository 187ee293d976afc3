"""Fixtures: the shipped predictor file and held-out rows from its dataset generator."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from models.wet_cycle import dataset

MODEL = Path(__file__).resolve().parents[2] / "models" / "wet_cycle" / "wet_cycle.tflite"
HELD_OUT_RUNS = 400  # of the held-out split: other seeds, room and weather year


@pytest.fixture(scope="session")
def model_bytes() -> bytes:
    """The shipped wet-cycle predictor."""
    return MODEL.read_bytes()


@pytest.fixture(scope="session")
def held_out() -> dict[str, np.ndarray[Any, Any]]:
    """Rows of the first held-out runs (x, y, baseline ...), made by the dataset generator."""
    return dataset.build("test", limit=HELD_OUT_RUNS)
