"""The opt-in log of what was said to an appliance's voice panel.

By default nothing said to a panel is kept: the text goes to Assist and the
answer back, and both are forgotten. A person troubleshooting a panel can
switch the log on in the appliance's options; it then holds the last
``MAX_ENTRIES`` exchanges in memory only (a restart, a reload or switching it
off erases it). The ``voice_log`` action returns it, ``erase_voice_log`` erases
it for one appliance or all (services.py), and diagnostics report only how
many entries it holds.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Final

from homeassistant.util import dt as dt_util

MAX_ENTRIES: Final = 20


@dataclass(frozen=True, slots=True)
class VoiceLogEntry:
    """One exchange: when (ISO 8601, UTC), the panel's language, what it heard and answered."""

    at: str
    language: str
    heard: str
    answer: str


class VoiceLog:
    """The last ``MAX_ENTRIES`` exchanges of one panel, kept only while ``enabled``."""

    def __init__(self, *, enabled: bool) -> None:
        """An empty log; ``enabled`` is the appliance's ``voice_log`` option."""
        self.enabled = enabled
        self._entries: deque[VoiceLogEntry] = deque(maxlen=MAX_ENTRIES)

    def add(self, language: str, heard: str, answer: str) -> None:
        """Keep one exchange if the log is on (the oldest goes beyond ``MAX_ENTRIES``)."""
        if self.enabled:
            at = dt_util.utcnow().isoformat(timespec="seconds")
            self._entries.append(VoiceLogEntry(at, language, heard, answer))

    def erase(self) -> int:
        """Forget every entry; returns how many there were."""
        count = len(self._entries)
        self._entries.clear()
        return count

    def entries(self) -> list[VoiceLogEntry]:
        """The entries, oldest first."""
        return list(self._entries)

    def summary(self) -> dict[str, object]:
        """What diagnostics may show: whether the log is on and its size, never its text."""
        return {"enabled": self.enabled, "entries": len(self._entries)}
