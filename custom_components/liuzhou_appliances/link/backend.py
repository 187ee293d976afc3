"""What an appliance server serves: who the appliance is, the backend it bridges to, its panel."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from .codec import APPLIANCE_ID_PATTERN
from .declaration import Declaration
from .model import ApplianceType, Value


@dataclass(frozen=True, slots=True)
class ApplianceIdentity:
    """Who the appliance is; sent in HELLO, describe and the zeroconf TXT record."""

    appliance_id: str  # stable, lowercase [a-z0-9-], e.g. "lz-ac-3f2a9c01"
    type: ApplianceType
    model: str
    firmware: str

    def __post_init__(self) -> None:
        if not APPLIANCE_ID_PATTERN.fullmatch(self.appliance_id):
            raise ValueError(f"appliance id {self.appliance_id!r} must be 1-64 of a-z 0-9 -")
        for name in ("model", "firmware"):
            value = getattr(self, name)
            if not isinstance(value, str) or not 0 < len(value) <= 64:
                raise ValueError(f"{name} must be a string of 1-64 characters")


class ApplianceBackend(Protocol):
    """What the network module bridges to (the MCU, or a simulator playing it)."""

    @property
    def declaration(self) -> Declaration:
        """The model's capability declaration."""
        ...

    def snapshot(self) -> dict[str, Value]:
        """Current values of every declared capability."""
        ...

    async def write(self, values: Mapping[str, Value]) -> None:
        """Apply validated values, all or nothing; may raise LinkError."""
        ...

    async def command(self, name: str, args: Mapping[str, int]) -> None:
        """Run a validated command; may raise LinkError."""
        ...

    def add_listener(self, callback: Callable[[Mapping[str, Value]], None]) -> Callable[[], None]:
        """Call ``callback`` with changed values; return a function that removes it."""
        ...


@dataclass(frozen=True, slots=True)
class PanelSpeech:
    """What the voice panel is asked to say (PROTOCOL.md 7.5).

    ``utterance`` is the number of the utterance answered, or None for an
    announcement; ``listening``: listen again after speaking (a follow-up),
    whose utterance will carry ``conversation``. ``text`` may be empty for a
    reply (nothing to say, e.g. only listen again).
    """

    text: str
    language: str
    utterance: int | None = None
    listening: bool = False
    conversation: str | None = None


class VoicePanelBackend(Protocol):
    """The appliance's voice panel, as the server drives it (PROTOCOL.md 7.5).

    What the panel hears goes the other way, through
    ``ApplianceServer.voice_panel.hear()``. Both methods are called from the
    event loop and must not block: queue the speech and return.
    """

    def say(self, speech: PanelSpeech) -> None:
        """Speak a reply or an announcement; may raise LinkError (the hub gets it)."""
        ...

    def unanswered(self, utterance: int) -> None:
        """The hub did not answer ``utterance`` in time: the panel says it has no answer."""
        ...
