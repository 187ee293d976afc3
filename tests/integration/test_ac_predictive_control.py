"""Predictive AC control in Home Assistant: the room thermal model the integration ships."""

from __future__ import annotations

from pathlib import Path

from custom_components.liuzhou_appliances.energy_runtime import room_thermal

ROOT = Path(__file__).resolve().parents[2]
SOURCE_MODEL = ROOT / "models" / "room_thermal" / "room_thermal.tflite"


def test_the_integration_ships_the_trained_model() -> None:
    """HACS installs only the integration's folder: its copy is the trained file, byte for byte
    (``./scripts/train`` writes both; models/room_thermal/ is the source)."""
    assert room_thermal.MODEL_FILE.read_bytes() == SOURCE_MODEL.read_bytes()
