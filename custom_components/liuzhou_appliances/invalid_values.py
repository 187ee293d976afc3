"""Values an appliance reports against its own declaration: log once, count, raise an issue.

The client (link/client.py) drops such a value and keeps the last valid one;
``InvalidValues`` says so once per attribute (then at debug level), names a
few undeclared keys and counts the rest together, and raises the repair issue
when it keeps happening (issues.py defines how often is persistent). A quiet
while clears the issue again.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
import logging
import time
from typing import Any

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.event import async_call_later

from .issues import (
    INVALID_VALUES_COUNT,
    INVALID_VALUES_QUIET_S,
    INVALID_VALUES_WINDOW_S,
    IssueOwner,
    async_clear_invalid_values_issue,
    async_raise_invalid_values_issue,
)
from .link.errors import LinkError, UnknownCapabilityError

# The coordinator's logger: these lines are part of one appliance's connection.
_LOGGER = logging.getLogger(__package__)

# An appliance's text in a log line or a notice is cut to this many characters.
_SHOWN_CHARS = 80
# Undeclared keys named in logs and notices; the others are counted together.
_MAX_UNDECLARED = 5


def _shown(text: str) -> str:
    """``text`` (a key, a value's repr, an error message) cut short: the appliance chose it."""
    return text if len(text) <= _SHOWN_CHARS else f"{text[: _SHOWN_CHARS - 1]}…"


class InvalidValues:
    """One appliance's invalid values: what was logged, how often, and its repair issue."""

    def __init__(self, hass: HomeAssistant, owner: Callable[[], IssueOwner]) -> None:
        """``owner`` names the appliance as its issues do (read at each use: titles change)."""
        self.hass = hass
        self._owner = owner
        self._invalid_logged: set[str] = set()
        # The moments of the last few invalid values, to tell a glitch from a habit.
        self._invalid_times: deque[float] = deque(maxlen=INVALID_VALUES_COUNT)
        self._undeclared: set[str] = set()
        self._invalid_keys: dict[str, float] = {}
        self._invalid_issue_keys: list[str] | None = None
        self._cancel_invalid_quiet: CALLBACK_TYPE | None = None
        # Declared keys refused since the connection opened (the coordinator resets it).
        self.rejected_keys: set[str] = set()

    @callback
    def handle(self, key: str, value: object, error: LinkError) -> None:
        """A pushed or read value its declaration does not allow: log once, count, maybe raise.

        The client has already kept the last valid value; this says so once per
        attribute (then at debug level) and raises a repair issue when it keeps
        happening (issues.py defines how often is persistent).
        """
        owner = self._owner()
        name = owner.title
        if isinstance(error, UnknownCapabilityError):
            # An appliance can invent any number of keys: a few are named, the rest are "…".
            attribute = _shown(key)
            if attribute not in self._invalid_logged and len(self._undeclared) >= _MAX_UNDECLARED:
                attribute = "…"
            self._undeclared.add(attribute)
        else:
            attribute = key
            self.rejected_keys.add(key)
        if attribute in self._invalid_logged:
            _LOGGER.debug(
                "%s reported %s = %s again: %s",
                name,
                _shown(key),
                _shown(repr(value)),
                error.message,
            )
        else:
            self._invalid_logged.add(attribute)
            _LOGGER.warning(
                "%s reported %s = %s, which its own declaration does not allow (%s); "
                "keeping the last valid value. Further invalid values of %s are logged at "
                "debug level",
                name,
                _shown(key),
                _shown(repr(value)),
                _shown(error.message),
                attribute,
            )
        now = time.monotonic()
        self._invalid_times.append(now)
        self._invalid_keys[attribute] = now
        window_start = now - INVALID_VALUES_WINDOW_S
        for old_key in [k for k, seen in self._invalid_keys.items() if seen <= window_start]:
            del self._invalid_keys[old_key]
        if self._invalid_issue_keys is not None:
            self._restart_invalid_quiet_timer()
        times = self._invalid_times
        if len(times) < INVALID_VALUES_COUNT or times[0] <= window_start:
            return  # not (yet) persistent
        keys = sorted(self._invalid_keys)
        if keys != self._invalid_issue_keys:
            if self._invalid_issue_keys is None:
                _LOGGER.warning(
                    "%s keeps reporting invalid values (%s); raising a repair issue",
                    name,
                    ", ".join(keys),
                )
            self._invalid_issue_keys = keys
            async_raise_invalid_values_issue(self.hass, owner, keys=keys)
            self._restart_invalid_quiet_timer()

    def _restart_invalid_quiet_timer(self) -> None:
        if self._cancel_invalid_quiet is not None:
            self._cancel_invalid_quiet()
        self._cancel_invalid_quiet = async_call_later(
            self.hass, INVALID_VALUES_QUIET_S, self._async_invalid_values_quiet
        )

    @callback
    def _async_invalid_values_quiet(self, _now: Any) -> None:
        """No invalid value for a while: the appliance behaves again."""
        self._cancel_invalid_quiet = None
        self._invalid_issue_keys = None
        self._invalid_times.clear()
        self._invalid_keys.clear()
        async_clear_invalid_values_issue(self.hass, self._owner().appliance_id)

    @callback
    def async_cancel(self) -> None:
        """Stop the quiet timer (the connection is closed for good)."""
        if self._cancel_invalid_quiet is not None:
            self._cancel_invalid_quiet()
            self._cancel_invalid_quiet = None
