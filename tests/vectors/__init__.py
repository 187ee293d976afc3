"""Protocol test vectors (the JSON files next to this module) and helpers to replay them.

Both sides replay the same files: tests/link/test_vectors.py from the hub's
side, tests/firmware_bridge/test_vectors_appliance_side.py from the
appliance's. ``python -m tests.vectors.generate`` rewrites the files from the
implementation (review the diff: a changed vector is a changed protocol).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
import hashlib
import json
from pathlib import Path
from typing import Any

from custom_components.liuzhou_appliances.link.backend import PanelSpeech
from custom_components.liuzhou_appliances.link.client import SecureChannel
from custom_components.liuzhou_appliances.link.declaration import Declaration
from custom_components.liuzhou_appliances.link.model import Value

VECTOR_DIR = Path(__file__).parent


def load(name: str) -> dict[str, Any]:
    """One vector file, e.g. ``load("messages")``."""
    data: dict[str, Any] = json.loads((VECTOR_DIR / f"{name}.json").read_text("utf-8"))
    return data


def seeded_entropy(seed: str) -> Callable[[int], bytes]:
    """Deterministic 'randomness': SHA-256(seed | u32 counter) blocks, consumed in order."""
    buffer = bytearray()
    counter = 0

    def entropy(size: int) -> bytes:
        nonlocal counter
        while len(buffer) < size:
            buffer.extend(hashlib.sha256(seed.encode() + counter.to_bytes(4, "big")).digest())
            counter += 1
        out = bytes(buffer[:size])
        del buffer[:size]
        return out

    return entropy


class VectorBackend:
    """The appliance the message vectors talk to: declaration and state from the file.

    Writes apply and are reported to listeners before the write returns (so a
    write's push precedes its result); commands are recorded.
    """

    def __init__(self, appliance: Mapping[str, Any]) -> None:
        self._declaration = Declaration.from_dict(appliance["declaration"])
        self.values: dict[str, Value] = dict(appliance["state"])
        self.commands: list[tuple[str, dict[str, int]]] = []
        self._listeners: list[Callable[[Mapping[str, Value]], None]] = []

    @property
    def declaration(self) -> Declaration:
        return self._declaration

    def snapshot(self) -> dict[str, Value]:
        return dict(self.values)

    async def write(self, values: Mapping[str, Value]) -> None:
        self.values.update(values)
        for listener in list(self._listeners):
            listener(dict(values))

    async def command(self, name: str, args: Mapping[str, int]) -> None:
        self.commands.append((name, dict(args)))

    def add_listener(self, callback: Callable[[Mapping[str, Value]], None]) -> Callable[[], None]:
        self._listeners.append(callback)
        return lambda: self._listeners.remove(callback)


class VectorPanel:
    """The voice panel of the voice vectors: records what it is asked to say."""

    def __init__(self) -> None:
        self.said: list[PanelSpeech] = []
        self.unanswered_utterances: list[int] = []

    def say(self, speech: PanelSpeech) -> None:
        self.said.append(speech)

    def unanswered(self, utterance: int) -> None:
        self.unanswered_utterances.append(utterance)


def speech_dict(speech: PanelSpeech) -> dict[str, Any]:
    """What the panel was asked to say, as the vectors write it."""
    return {
        "text": speech.text,
        "language": speech.language,
        "utterance": speech.utterance,
        "listening": speech.listening,
        "conversation": speech.conversation,
    }


def comparable(message: Mapping[str, Any]) -> dict[str, Any]:
    """A message without its free-text ``message`` field (wording is not protocol)."""
    return {key: value for key, value in message.items() if key != "message"}


async def replay_exchange(channel: SecureChannel, steps: list[dict[str, Any]]) -> None:
    """Send every step's request bytes over a live session; assert the answers match.

    A step's ``expect`` lists the response and any pushes it causes; pushes
    must arrive in order, the response is matched by id. Error wording is
    ignored.
    """
    for number, step in enumerate(steps):
        channel.send_plaintext(step["request"].encode())
        await channel.drain()
        expected = [comparable(m) for m in step["expect"]]
        want_response = next(m for m in expected if m["type"] in ("result", "error"))
        want_pushes = [m for m in expected if m["type"] == "changed"]
        pushes: list[dict[str, Any]] = []
        while True:
            received = comparable(await channel.receive_message(5))
            if received["type"] == "changed":
                pushes.append(received)
                continue
            assert received == want_response, f"step {number} ({step['name']}): {received}"
            break
        for _ in range(len(want_pushes) - len(pushes)):
            pushes.append(comparable(await channel.receive_message(5)))
        assert pushes == want_pushes, f"step {number} ({step['name']}): pushes {pushes}"
    await asyncio.sleep(0)
