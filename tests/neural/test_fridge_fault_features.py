"""The fridge fault detector's window features and alarm rule, on hand-made report streams."""

from __future__ import annotations

import contextlib
import math

import numpy as np
import pytest

from custom_components.liuzhou_appliances.neural.fridge_fault import (
    FAULTS,
    FEATURES,
    WINDOW_H,
    AlarmRule,
    FridgeObserver,
    FridgeSample,
)

COLUMN = {name: i for i, (name, _) in enumerate(FEATURES)}


def _sample(t: float, *, on: bool, fridge: float = 4.0, door: bool = False) -> FridgeSample:
    return FridgeSample(
        time_s=t,
        compressor_on=on,
        power_w=90.0 if on else 1.5,
        fridge_c=fridge,
        fridge_target_c=4.0,
        freezer_c=-18.0,
        freezer_target_c=-18.0,
        door_open=door,
        defrost_active=False,
    )


def _cycling(hours: int, *, gap_at_h: float | None = None) -> FridgeObserver:
    """20 min on, 40 min off, one report a minute; the door opens for a minute at :30."""
    observer = FridgeObserver()
    for minute in range(hours * 60):
        t = minute * 60.0
        if gap_at_h is not None and gap_at_h * 3600 <= t < gap_at_h * 3600 + 6 * 3600:
            continue  # the hub lost the fridge for six hours
        in_hour = minute % 60
        # Warms 1 K over the 40 minutes off, cools it again while on.
        fridge = 3.5 + (in_hour - 20) / 40 if in_hour >= 20 else 4.5 - in_hour / 20
        observer.add(_sample(t, on=in_hour < 20, fridge=fridge, door=in_hour == 30))
    return observer


def test_no_row_before_the_window_is_known() -> None:
    assert _cycling(round(WINDOW_H * 0.85)).features() is None
    assert _cycling(WINDOW_H + 1).features() is not None


def test_a_regular_cycle_gives_its_numbers() -> None:
    row = _cycling(WINDOW_H + 2).features()
    assert row is not None
    assert row.shape == (len(FEATURES),)
    assert row[COLUMN["duty"]] == pytest.approx(1 / 3, abs=0.01)
    assert row[COLUMN["duty_trend"]] == pytest.approx(0.0, abs=0.01)
    assert row[COLUMN["on_power"]] == pytest.approx(90.0)
    assert row[COLUMN["starts"]] == pytest.approx(24.0, abs=0.6)
    assert row[COLUMN["longest_run"]] == pytest.approx(1 / 3, abs=0.02)
    assert row[COLUMN["door_openings"]] == pytest.approx(24.0, abs=0.6)
    assert row[COLUMN["door_open"]] == pytest.approx(24.0, abs=0.6)  # minutes a day
    # 1 K in 40 minutes off, less the minute the door stood open.
    assert row[COLUMN["fridge_off_warming"]] == pytest.approx(1.5, abs=0.1)
    assert row[COLUMN["defrost_hours"]] == 0.0


def test_a_long_gap_leaves_the_window_unknown() -> None:
    assert _cycling(WINDOW_H + 2, gap_at_h=10).features() is None
    # ... until enough of the window is observed again.
    assert _cycling(WINDOW_H + 20, gap_at_h=10).features() is not None


def test_reports_out_of_order_or_not_finite() -> None:
    observer = _cycling(WINDOW_H + 2)
    before = observer.features()
    observer.add(_sample(0.0, on=True))  # older than the last: ignored
    after = observer.features()
    assert before is not None
    assert after is not None
    assert np.array_equal(after, before)
    with pytest.raises(ValueError, match="non-finite"):
        observer.add(_sample(1e9, on=True, fridge=math.nan))


def test_the_alarm_needs_consecutive_rows_and_names_the_fault() -> None:
    rule = AlarmRule(threshold=0.7, consecutive=3)
    seal = np.array([0.1, 0.9, 0.2, 0.1, 0.0])
    healthy = np.array([0.9, 0.1, 0.1, 0.1, 0.1])
    assert rule.update(seal).fault is None
    assert rule.update(seal).fault is None
    assert rule.update(healthy).fault is None  # one quiet row starts the count again
    assert [rule.update(seal).fault for _ in range(3)] == [None, None, FAULTS[0]]
    condenser = np.array([0.0, 0.3, 0.95, 0.0, 0.0])
    assert rule.update(condenser).fault == FAULTS[0]  # summed over the last three rows
    assert rule.update(condenser).fault == "condenser"
    assert rule.update(healthy).fault is None


def test_the_window_survives_a_restart_through_json() -> None:
    """What a restart keeps (JSON, as the hub's Store writes it) gives the same rows, now
    and as reports go on."""
    import json

    observer = _cycling(WINDOW_H + 2)
    kept = FridgeObserver.from_json(json.loads(json.dumps(observer.to_json())))
    before, after = observer.features(), kept.features()
    assert before is not None
    assert after is not None
    np.testing.assert_array_equal(before, after)
    start = (WINDOW_H + 2) * 3600.0
    for minute in range(90):  # a run that started before the restart ends after it
        for each in (observer, kept):
            each.add(_sample(start + minute * 60.0, on=minute < 15))
    later, kept_later = observer.features(), kept.features()
    assert later is not None
    assert kept_later is not None
    np.testing.assert_array_equal(later, kept_later)


@pytest.mark.parametrize(
    "broken",
    [
        None,
        [],
        {"bins": "x"},
        {"bins": [[1.5, {}]]},
        {"bins": [], "last": None},
        {
            "bins": [],
            "last": {"time_s": 0},
            "run_start_s": None,
            "defrost_power_w": None,
            "defrost_j": 0,
            "defrost_s": 0,
        },
        {"bins": [], "last": None, "run_start_s": math.nan, "defrost_power_w": None},
        {
            "bins": [],
            "last": None,
            "run_start_s": None,
            "defrost_power_w": None,
            "defrost_j": "1",
            "defrost_s": 0,
        },
    ],
)
def test_a_saved_window_that_does_not_read_is_a_value_error(broken: object) -> None:
    with pytest.raises(ValueError, match=r"not|finite|integer"):
        FridgeObserver.from_json(broken)


def test_any_json_gives_an_observer_or_a_value_error() -> None:
    """The documented error only, whatever the Store holds."""
    from hypothesis import given, settings, strategies as st

    scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5)
    values = st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
        max_leaves=20,
    )
    good = _cycling(3).to_json()
    mutated = st.builds(
        lambda key, value: {**good, key: value}, st.sampled_from(sorted(good)), values
    )

    @settings(max_examples=200, deadline=None)
    @given(values | mutated)
    def check(data: object) -> None:
        with contextlib.suppress(ValueError):
            FridgeObserver.from_json(data)

    check()
