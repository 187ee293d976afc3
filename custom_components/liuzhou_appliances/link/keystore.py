"""Where an appliance keeps its long-term key: the KeyStore protocol and two stores."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Final, Protocol

from .pairing import KEY_SIZE
from .storage import write_private_file

_LOGGER: Final = logging.getLogger(__name__)


class KeyStore(Protocol):
    """Where the long-term key lives; factory reset clears it."""

    def load(self) -> bytes | None:
        """The stored key, or None when unpaired."""
        ...

    def save(self, key: bytes) -> None:
        """Store (replace) the key."""
        ...

    def clear(self) -> None:
        """Forget the key."""
        ...


class MemoryKeyStore:
    """A key store in memory (simulators, tests)."""

    def __init__(self, key: bytes | None = None) -> None:
        self._key = key

    def load(self) -> bytes | None:
        """The stored key."""
        return self._key

    def save(self, key: bytes) -> None:
        """Store the key."""
        self._key = bytes(key)

    def clear(self) -> None:
        """Forget the key."""
        self._key = None


class FileKeyStore:
    """The key in a file readable only by its owner (0600), replaced atomically."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def load(self) -> bytes | None:
        """The stored key; None if absent or not a valid key (logged)."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return None
        if len(data) != KEY_SIZE:
            _LOGGER.warning(
                "ignoring key file %s: %d bytes, not %d", self.path, len(data), KEY_SIZE
            )
            return None
        return data

    def save(self, key: bytes) -> None:
        """Replace the key file so that a power cut leaves the old key or the new one."""
        if len(key) != KEY_SIZE:
            raise ValueError(f"a key is {KEY_SIZE} bytes")
        write_private_file(self.path, key)

    def clear(self) -> None:
        """Delete the key file."""
        self.path.unlink(missing_ok=True)
