"""Which failed pairings the ``provision`` action tries again, and when."""

from __future__ import annotations

import pytest

from custom_components.liuzhou_appliances.config_flow import _link_error_key
from custom_components.liuzhou_appliances.link.errors import (
    BusyError,
    ErrorCode,
    LinkError,
    RateLimitedError,
    TimedOutError,
    WrongCodeError,
)
from custom_components.liuzhou_appliances.provisioning import (
    FAILED,
    MAX_RATE_LIMIT_WAIT,
    RETRY_DELAYS,
    UNREACHABLE,
    WRONG_CODE,
    _Outcome,
)


@pytest.mark.parametrize(
    ("error", "key"),
    [
        (BusyError("another pairing is in progress"), "busy"),
        (LinkError(ErrorCode.BUSY, "relayed as it came"), "busy"),
        (TimedOutError("no answer"), "timed_out"),
        (WrongCodeError("no"), "wrong_code"),
        (LinkError(ErrorCode.INTERNAL, "?"), "unknown"),
    ],
)
def test_pairing_errors_have_their_own_keys(error: LinkError, key: str) -> None:
    assert _link_error_key(error, pairing=True)[0] == key


def test_rate_limited_keeps_its_wait() -> None:
    assert _link_error_key(RateLimitedError("wait", retry_after=12.2), pairing=True) == (
        "rate_limited",
        {"retry_after": "13"},
    )


@pytest.mark.parametrize("reason", ["cannot_connect", "ble_cannot_connect", "busy", "timed_out"])
def test_passing_failures_are_tried_twice_more(reason: str) -> None:
    outcome = _Outcome(UNREACHABLE if "connect" in reason else FAILED, reason)
    assert [outcome.retry_in(attempt) for attempt in (1, 2, 3)] == [*RETRY_DELAYS, None]


@pytest.mark.parametrize(
    ("outcome", "reason"),
    [
        (WRONG_CODE, "wrong_code"),
        (FAILED, "pairing_closed"),
        (FAILED, "unsupported_version"),
        (FAILED, "unknown"),
        (UNREACHABLE, "not_discovered"),
        (UNREACHABLE, "no_bluetooth_adapter"),
        ("paired", None),
    ],
)
def test_other_outcomes_are_final(outcome: str, reason: str | None) -> None:
    assert _Outcome(outcome, reason).retry_in(1) is None


def test_a_short_rate_limit_is_waited_out_a_long_one_is_not() -> None:
    short = _Outcome(FAILED, "rate_limited", retry_after=30.0)
    assert short.retry_in(1) == max(30.0, RETRY_DELAYS[0])
    assert short.retry_in(len(RETRY_DELAYS) + 1) is None
    assert _Outcome(FAILED, "rate_limited", retry_after=1.0).retry_in(2) == RETRY_DELAYS[1]
    long = _Outcome(FAILED, "rate_limited", retry_after=MAX_RATE_LIMIT_WAIT + 1)
    assert long.retry_in(1) is None
