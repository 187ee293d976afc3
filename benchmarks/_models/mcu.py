"""Model files against a typical appliance MCU's flash and RAM.

The reference part is an ESP32-C3 module (Espressif ESP32-C3 Series
Datasheet, "CPU and Memory": 400 KB SRAM, 16 KB of it cache; the ESP32-C3FN4
and the ESP32-C3-MINI-1 module carry 4 MB of flash), a common Wi-Fi/BLE
controller of Chinese appliances. Flash holds the file as it is (weights,
graph, metadata); RAM needs at least the tensor arena, estimated from the
graph at batch 1 as the largest sum of tensors live at once (each computed
tensor lives from the operator that writes it to the last that reads it; the
graph input is live from the start). An interpreter adds its own code and
bookkeeping on top (TensorFlow Lite Micro: tens of KB of code, a few KB of RAM
per model), which this estimate leaves out.
"""

from __future__ import annotations

from dataclasses import dataclass
import math
from pathlib import Path
from typing import Final

from custom_components.liuzhou_appliances.neural.graph import Graph, read_graph
from custom_components.liuzhou_appliances.neural.numpy_runtime import numpy_supports

MCU: Final = "ESP32-C3 (ESP32-C3-MINI-1)"
FLASH_BYTES: Final = 4 * 1024 * 1024
SRAM_BYTES: Final = 400 * 1024


@dataclass(frozen=True, slots=True)
class Footprint:
    """A model file's size in flash and its tensor arena in RAM (bytes)."""

    name: str
    file_bytes: int
    weight_bytes: int
    arena_bytes: int

    @property
    def flash_pct(self) -> float:
        """Share of the MCU's flash the file takes."""
        return 100.0 * self.file_bytes / FLASH_BYTES

    @property
    def sram_pct(self) -> float:
        """Share of the MCU's SRAM the arena takes."""
        return 100.0 * self.arena_bytes / SRAM_BYTES


def arena_bytes(graph: Graph) -> int:
    """Peak bytes of the non-constant tensors live at once, at batch 1."""
    tensors = graph.tensors

    def size(index: int) -> int:
        tensor = tensors[index]
        return math.prod(max(d, 1) for d in tensor.shape) * tensor.dtype.itemsize

    last_use = {index: len(graph.operators) for index in graph.outputs}
    for position, op in enumerate(graph.operators):
        for index in op.inputs:
            if index != -1 and tensors[index].data is None:
                last_use[index] = max(last_use.get(index, position), position)
    live = dict.fromkeys(graph.inputs, 0)  # tensor -> first position it is live
    for position, op in enumerate(graph.operators):
        live.update(dict.fromkeys(op.outputs, position))
    peak = 0
    for position in range(len(graph.operators)):
        total = sum(
            size(index)
            for index, first in live.items()
            if first <= position <= last_use.get(index, first)
        )
        peak = max(peak, total)
    return peak


def footprint(path: Path) -> Footprint:
    """The flash and RAM a model file needs."""
    data = path.read_bytes()
    graph = read_graph(data, numpy_supports)
    weights = sum(t.data.nbytes for t in graph.tensors if t.data is not None)
    return Footprint(path.name, len(data), weights, arena_bytes(graph))


def report(paths: list[Path]) -> dict[str, float]:
    """Print each file against the MCU; return the JSON summary's fields."""
    print(f"\nagainst an {MCU}: {FLASH_BYTES // 1024} KB flash, {SRAM_BYTES // 1024} KB SRAM")
    print(f"  {'file':<26}{'file B':>9}{'weights B':>11}{'arena B':>9}{'flash %':>9}{'SRAM %':>8}")
    out: dict[str, float] = {}
    for path in paths:
        fp = footprint(path)
        print(
            f"  {fp.name:<26}{fp.file_bytes:>9}{fp.weight_bytes:>11}{fp.arena_bytes:>9}"
            f"{fp.flash_pct:>9.2f}{fp.sram_pct:>8.3f}"
        )
        key = path.stem
        out[f"{key}_file_bytes"] = fp.file_bytes
        out[f"{key}_arena_bytes"] = fp.arena_bytes
        out[f"{key}_flash_pct"] = round(fp.flash_pct, 3)
        out[f"{key}_sram_pct"] = round(fp.sram_pct, 4)
    return out
