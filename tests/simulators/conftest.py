"""Shared helpers of the simulator tests: every test drives step() with simulated time."""

from __future__ import annotations

from collections.abc import Callable
import math

from custom_components.liuzhou_appliances.link.model import Value
from firmware_bridge.simulators import AppliancePhysics


def assert_valid(simulator: AppliancePhysics) -> dict[str, Value]:
    """Every declared capability is reported, and each value validates."""
    values = simulator.values()
    assert set(values) == set(simulator.declaration.capabilities)
    for key, value in values.items():
        if isinstance(value, float):
            assert math.isfinite(value), key
        simulator.declaration.capabilities[key].validate(value)
    return values


def run_until(
    simulator: AppliancePhysics,
    done: Callable[[], bool],
    *,
    dt: float = 60.0,
    limit_s: float = 2 * 86400.0,
) -> float:
    """Step until ``done()``; return the simulated seconds it took."""
    elapsed = 0.0
    while not done():
        assert elapsed < limit_s, "condition not reached in time"
        simulator.step(dt)
        elapsed += dt
    return elapsed
