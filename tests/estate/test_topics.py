"""The estate's topic tree and payloads: built, parsed back, and hostile input refused."""

from __future__ import annotations

import contextlib
import json

from hypothesis import given, settings, strategies as st
import pytest

from custom_components.liuzhou_appliances.estate_topics import (
    DECODERS,
    Ack,
    ApplianceEvent,
    ApplianceResult,
    ApplianceState,
    BuildingSummary,
    Command,
    EstateTopicError,
    FloorSummary,
    ack_topic,
    building_filter,
    command_topic,
    decode_ack,
    decode_command,
    decode_event,
    decode_state,
    decode_status,
    decode_summary,
    encode,
    event_topic,
    hub_command_filters,
    parse_topic,
    state_topic,
    status_topic,
    summary_topic,
)

STATE = ApplianceState(
    appliance_id="lz-ac-0001",
    type="room_air_conditioner",
    name="Room 101 AC",
    floor="Tower A / 1",
    room="Tower A / 101",
    online=True,
    state="cool",
    power_w=812.5,
    energy_kwh=12.345,
    cost=7.41,
    faults=("filter",),
    updated="2026-11-30T10:00:00+00:00",
)


def test_topics_round_trip() -> None:
    assert status_topic("riverside", "tower-a") == "liuzhou/riverside/tower-a/status"
    topic = state_topic("riverside", "tower-a", "lz-ac-0001")
    assert topic == "liuzhou/riverside/tower-a/appliance/lz-ac-0001/state"
    parsed = parse_topic(topic)
    assert (parsed.kind, parsed.estate, parsed.building, parsed.appliance_id) == (
        "state",
        "riverside",
        "tower-a",
        "lz-ac-0001",
    )
    assert parse_topic(event_topic("e", "b", "a1")).kind == "event"
    assert parse_topic(summary_topic("e", "b")).kind == "summary"
    estate_wide = parse_topic(command_topic("e", "c-1"))
    assert (estate_wide.kind, estate_wide.building, estate_wide.command_id) == (
        "command",
        None,
        "c-1",
    )
    one = parse_topic(command_topic("e", "c-2", "b"))
    assert (one.kind, one.building, one.command_id) == ("command", "b", "c-2")
    ack = parse_topic(ack_topic("e", "b", "c-2"))
    assert (ack.kind, ack.building, ack.command_id) == ("ack", "b", "c-2")
    assert building_filter("e", "b") == "liuzhou/e/b/#"
    assert hub_command_filters("e", "b") == ("liuzhou/e/command/+", "liuzhou/e/b/command/+")


@pytest.mark.parametrize(
    "bad",
    ["", "a/b", "+", "#", "$SYS", "a b", "x" * 65, "楼", "-lead"],
)
def test_bad_segments_refused(bad: str) -> None:
    with pytest.raises(EstateTopicError):
        state_topic("estate", "building", bad)
    with pytest.raises(EstateTopicError):
        status_topic(bad, "building")


def test_reserved_building() -> None:
    with pytest.raises(EstateTopicError, match="reserved"):
        status_topic("estate", "command")


@pytest.mark.parametrize(
    "topic",
    [
        "liuzhou/e",
        "other/e/b/status",
        "liuzhou/e/b/appliance/a/other",
        "liuzhou/e/b/appliance/a",
        "liuzhou/e/b/status/extra",
        "liuzhou/e/b/ack",
        "liuzhou/e//status",
        "liuzhou/e/b/+/status",
    ],
)
def test_other_topics_refused(topic: str) -> None:
    with pytest.raises(EstateTopicError):
        parse_topic(topic)


def test_payloads_round_trip() -> None:
    assert decode_state(encode(STATE)) == STATE
    event = ApplianceEvent("ev-1", "lz-ac-0001", "fault_raised", "filter", STATE.updated)
    assert decode_event(encode(event)) == event
    summary = BuildingSummary(
        (FloorSummary("Tower A / 1", 3, 4.5, 2.7), FloorSummary(None, 1, 0.0, 0.0)),
        4.5,
        2.7,
        STATE.updated,
    )
    assert decode_summary(encode(summary)) == summary
    command = Command("demand_response", action="start", level="critical", duration_s=600.0)
    assert decode_command(encode(command)) == command
    ack = Ack(
        "c-1",
        "tower-a",
        (
            ApplianceResult("a1", "applied"),
            ApplianceResult("a2", "pending", "offline"),
            ApplianceResult("a3", "failed", "energy_optimisation_off"),
        ),
        STATE.updated,
        seq=2,
    )
    assert decode_ack(encode(ack)) == ack
    assert decode_status(b"online") == "online"


def test_later_versions_fields_ignored() -> None:
    data = json.loads(encode(STATE))
    data["humidity"] = 40
    assert decode_state(json.dumps(data)) == STATE


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"v": 2}, "v"),
        ({"power_w": -1}, "power_w"),
        ({"power_w": float("nan")}, "power_w"),
        ({"energy_kwh": 10**400}, "energy_kwh"),
        ({"online": "yes"}, "online"),
        ({"updated": "yesterday"}, "updated"),
        ({"updated": "2026-11-30T10:00:00"}, "updated"),
        ({"faults": "filter"}, "faults"),
        ({"appliance_id": "a/b"}, "appliance_id"),
        ({"power_w": True}, "power_w"),
    ],
)
def test_bad_state_fields(change: dict[str, object], message: str) -> None:
    data = {**json.loads(encode(STATE)), **change}
    with pytest.raises(EstateTopicError, match=message):
        decode_state(json.dumps(data))


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"\xff\xfe",
        b"[]",
        b"null",
        b"[" * 100_000,
        b'{"v": 1}',
        b" " * (64 * 1024 + 1),
        b'{"v":1,"command":"reboot"}',
        b'{"v":1,"command":"demand_response","action":"start","duration_s":0}',
    ],
)
def test_bad_bytes_raise_only_the_documented_error(raw: bytes) -> None:
    for kind, decoder in DECODERS.items():
        with pytest.raises(EstateTopicError):
            decoder(raw)
        assert kind


_JSON = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=6)
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(raw=st.binary(max_size=300))
def test_fuzz_bytes(raw: bytes) -> None:
    for decoder in DECODERS.values():
        with contextlib.suppress(EstateTopicError):
            decoder(raw)


@settings(max_examples=300, deadline=None)
@given(
    base=st.sampled_from(
        [
            json.loads(encode(STATE)),
            json.loads(encode(Command("demand_response", action="stop"))),
            json.loads(encode(Ack("c", "b", (ApplianceResult("a", "applied"),), STATE.updated))),
        ]
    ),
    key=st.text(max_size=12),
    pick=st.integers(min_value=0),
    value=_JSON,
)
def test_fuzz_fields(base: dict[str, object], key: str, pick: int, value: object) -> None:
    """A valid payload with one field (or a new one) replaced by anything JSON holds."""
    keys = [*base, key]
    raw = json.dumps({**base, keys[pick % len(keys)]: value})
    for decoder in DECODERS.values():
        with contextlib.suppress(EstateTopicError):
            decoder(raw)


@settings(max_examples=300, deadline=None)
@given(topic=st.text(alphabet="liuzhoe/+#$ab-c", max_size=40))
def test_fuzz_topics(topic: str) -> None:
    try:
        parsed = parse_topic(topic)
    except EstateTopicError:
        return
    assert parsed.estate in topic
