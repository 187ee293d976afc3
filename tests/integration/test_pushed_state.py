"""The state map records which keys a listener reads, and which pushes concern it."""

from __future__ import annotations

from custom_components.liuzhou_appliances.pushed_state import (
    EVERY_KEY,
    ApplianceState,
    ReadRecorder,
    StateReads,
)


def test_reads_are_recorded_only_while_recording() -> None:
    recorder = ReadRecorder()
    state = ApplianceState({"on": True, "mode": "cool", "power": 640.0}, recorder)
    reads = StateReads()
    assert reads.concerns({"anything": 1})  # unknown until recorded once

    assert state.get("on") is True  # not recording: nothing noted
    outer = recorder.start(reads)
    assert state["mode"] == "cool"
    assert state.get("missing") is None
    assert "power" in state
    recorder.stop(outer)
    assert state["on"] is True

    assert reads.keys == {"mode", "missing", "power"}
    assert reads.concerns({"power": 1.0, "energy": 2.0})
    assert reads.concerns({"missing": 1})  # a key reported for the first time
    assert not reads.concerns({"on": False})
    assert not reads.concerns({})


def test_walking_the_whole_state_makes_every_push_concern_the_reader() -> None:
    recorder = ReadRecorder()
    state = ApplianceState({"on": True}, recorder)
    reads = StateReads()
    outer = recorder.start(reads)
    assert dict(state) == {"on": True}
    recorder.stop(outer)
    assert reads.keys == {EVERY_KEY, "on"}
    assert reads.concerns({"a_new_key": 1})


def test_recording_nests_and_restores_the_outer_reader() -> None:
    recorder = ReadRecorder()
    state = ApplianceState({"a": 1, "b": 2}, recorder)
    outer_reads, inner_reads = StateReads(), StateReads()
    outer = recorder.start(outer_reads)
    state.get("a")
    inner = recorder.start(inner_reads)
    state.get("b")
    recorder.stop(inner)
    state.get("a")
    recorder.stop(outer)
    assert outer_reads.keys == {"a"}
    assert inner_reads.keys == {"b"}
    assert recorder.into is None
    assert len(state) == 2
    assert not outer_reads.concerns({"b": 3})
