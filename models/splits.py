"""The held-out design every dataset shares: a split is a set of run seeds, rooms and a
weather year, and the test split differs from training in all three (other seeds, a room
training never saw, another weather year), so held-out figures measure generalisation."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Split:
    """Seeds, rooms and weather year of one split."""

    seeds: range
    rooms: tuple[str, ...]
    climate_seed: int
