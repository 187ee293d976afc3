"""The voice panel over real sessions (PROTOCOL.md 7.5): utterances, replies, announcements."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
import logging
from typing import Any

import pytest

from custom_components.liuzhou_appliances.link.backend import PanelSpeech
from custom_components.liuzhou_appliances.link.client import ApplianceClient, SecureChannel
from custom_components.liuzhou_appliances.link.declaration import (
    Declaration,
    DeclarationError,
    VoicePanel,
)
from custom_components.liuzhou_appliances.link.errors import (
    BusyError,
    ErrorCode,
    InvalidStateError,
    LinkError,
    McuUnavailableError,
    OutOfRangeError,
    UnknownMessageError,
)
from custom_components.liuzhou_appliances.link.messages import Utterance
from custom_components.liuzhou_appliances.link.server import ApplianceServer, MemoryKeyStore
from custom_components.liuzhou_appliances.link.voice import MAX_UNANSWERED
from custom_components.liuzhou_appliances.link.voice_client import checked_utterance

from .backend import AC_DECLARATION, AC_IDENTITY, MemoryBackend
from .conftest import CODE, HUB_ID, KEY
from .util import eventually

PANEL_DECLARATION: dict[str, Any] = AC_DECLARATION | {"voice_panel": {"languages": ["zh-CN", "en"]}}


class RecordingPanel:
    """A voice panel that records what it is asked to say."""

    def __init__(self) -> None:
        self.said: list[PanelSpeech] = []
        self.unanswered_utterances: list[int] = []
        self.fail_with: LinkError | None = None

    def say(self, speech: PanelSpeech) -> None:
        if self.fail_with is not None:
            raise self.fail_with
        self.said.append(speech)

    def unanswered(self, utterance: int) -> None:
        self.unanswered_utterances.append(utterance)


@pytest.fixture
def panel() -> RecordingPanel:
    return RecordingPanel()


@pytest.fixture
def panel_backend() -> MemoryBackend:
    return MemoryBackend(PANEL_DECLARATION)


@pytest.fixture
def make_panel_server(
    panel_backend: MemoryBackend, panel: RecordingPanel
) -> Callable[..., ApplianceServer]:
    def make(**options: Any) -> ApplianceServer:
        return ApplianceServer(
            panel_backend,
            AC_IDENTITY,
            pairing_code=CODE,
            key_store=MemoryKeyStore(KEY),
            handshake_timeout=2.0,
            **({"panel": panel} | options),
        )

    return make


@pytest.fixture
async def panel_server(
    make_panel_server: Callable[..., ApplianceServer],
) -> AsyncIterator[ApplianceServer]:
    server = make_panel_server()
    await server.start("127.0.0.1", 0)
    yield server
    await server.stop()


@pytest.fixture
async def hub(panel_server: ApplianceServer) -> AsyncIterator[ApplianceClient]:
    client = ApplianceClient("127.0.0.1", panel_server.port, KEY, hub_id=HUB_ID, request_timeout=2)
    await client.connect()
    yield client
    await client.disconnect()


def _relay(server: ApplianceServer) -> Any:
    assert server.voice_panel is not None
    return server.voice_panel


def _collect(client: ApplianceClient) -> list[Utterance]:
    heard: list[Utterance] = []
    client.add_utterance_listener(heard.append)
    return heard


# --- the declaration ---------------------------------------------------------


def test_the_declaration_reads_and_writes_the_panel() -> None:
    declaration = Declaration.from_dict(PANEL_DECLARATION)
    assert declaration.voice_panel == VoicePanel(("zh-CN", "en"))
    assert declaration.to_dict()["voice_panel"] == {"languages": ["zh-CN", "en"]}
    assert Declaration.from_dict(declaration.to_dict()) == declaration
    plain = Declaration.from_dict(AC_DECLARATION)
    assert plain.voice_panel is None
    assert "voice_panel" not in plain.to_dict()


@pytest.mark.parametrize(
    ("panel", "detail"),
    [
        ([], "must be an object"),
        ({}, "list of 1-16"),
        ({"languages": []}, "list of 1-16"),
        ({"languages": "en"}, "list of 1-16"),
        ({"languages": ["en", 5]}, "not a BCP 47"),
        ({"languages": ["english"]}, "not a BCP 47"),
        ({"languages": ["zh_CN"]}, "not a BCP 47"),
        ({"languages": ["en", "EN"]}, "repeat"),
        ({"languages": ["en"], "wake_word": "hi"}, "unknown voice_panel keys"),
    ],
)
def test_a_bad_panel_is_a_declaration_error(panel: object, detail: str) -> None:
    with pytest.raises(DeclarationError, match=detail):
        Declaration.from_dict(AC_DECLARATION | {"voice_panel": panel})


# --- utterances and replies --------------------------------------------------


async def test_an_utterance_reaches_the_hub_and_its_reply_the_panel(
    panel_server: ApplianceServer, hub: ApplianceClient, panel: RecordingPanel
) -> None:
    heard = _collect(hub)
    number = _relay(panel_server).hear("  开始洗  ", "zh-CN")
    await eventually(lambda: len(heard) == 1)
    assert heard == [Utterance(number, "开始洗", "zh-CN", None)]
    await hub.voice_reply(number, "好的，开始洗衣", continue_listening=True, conversation="c-1")
    assert panel.said == [PanelSpeech("好的，开始洗衣", "zh-CN", number, True, "c-1")]
    # A follow-up carries the conversation; after a reply that stops listening, none.
    second = _relay(panel_server).hear("用快洗", "zh-CN")
    await eventually(lambda: len(heard) == 2)
    assert (heard[1].utterance, heard[1].conversation) == (second, "c-1")
    assert second > number
    await hub.voice_reply(second, "好的", continue_listening=False, conversation="c-1")
    third = _relay(panel_server).hear("thanks", "en")
    await eventually(lambda: len(heard) == 3)
    assert heard[2] == Utterance(third, "thanks", "en", None)
    assert _relay(panel_server).unanswered == 1


async def test_the_default_language_is_the_first_and_tags_ignore_case(
    panel_server: ApplianceServer, hub: ApplianceClient
) -> None:
    heard = _collect(hub)
    _relay(panel_server).hear("开始")
    _relay(panel_server).hear("start", "EN")
    await eventually(lambda: len(heard) == 2)
    assert [u.language for u in heard] == ["zh-CN", "en"]


async def test_a_reply_to_an_utterance_never_sent_or_answered_is_invalid_state(
    panel_server: ApplianceServer, hub: ApplianceClient, panel: RecordingPanel
) -> None:
    with pytest.raises(InvalidStateError, match="not waiting"):
        await hub.voice_reply(41, "?", continue_listening=False, conversation=None)
    number = _relay(panel_server).hear("hello", "en")
    await hub.voice_reply(number, "hi", continue_listening=False, conversation=None)
    with pytest.raises(InvalidStateError):
        await hub.voice_reply(number, "hi again", continue_listening=False, conversation=None)
    assert [s.text for s in panel.said] == ["hi"]
    assert hub.connected
    assert await hub.ping() >= 0


@pytest.mark.parametrize(
    ("text", "conversation"), [("x" * 1001, None), ("ok", ""), ("ok", "c" * 129)]
)
async def test_a_reply_out_of_bounds_is_out_of_range_and_keeps_the_utterance(
    panel_server: ApplianceServer,
    hub: ApplianceClient,
    panel: RecordingPanel,
    text: str,
    conversation: str | None,
) -> None:
    number = _relay(panel_server).hear("hello", "en")
    with pytest.raises(OutOfRangeError):
        await hub.voice_reply(number, text, continue_listening=True, conversation=conversation)
    assert panel.said == []
    await hub.voice_reply(number, "x" * 1000, continue_listening=False, conversation="c" * 128)
    assert len(panel.said) == 1


async def test_an_empty_reply_is_allowed(
    panel_server: ApplianceServer, hub: ApplianceClient, panel: RecordingPanel
) -> None:
    number = _relay(panel_server).hear("hello", "en")
    await hub.voice_reply(number, "", continue_listening=True, conversation=None)
    assert panel.said == [PanelSpeech("", "en", number, True, None)]


async def test_a_panel_failure_reaches_the_hub_and_the_utterance_still_waits(
    panel_server: ApplianceServer, hub: ApplianceClient, panel: RecordingPanel
) -> None:
    number = _relay(panel_server).hear("hello", "en")
    panel.fail_with = McuUnavailableError("speaker off")
    with pytest.raises(McuUnavailableError, match="speaker off"):
        await hub.voice_reply(number, "hi", continue_listening=False, conversation=None)
    panel.fail_with = None
    await hub.voice_reply(number, "hi", continue_listening=False, conversation=None)
    assert [s.utterance for s in panel.said] == [number]


# --- announcements -----------------------------------------------------------


async def test_announcements_in_each_declared_language(
    hub: ApplianceClient, panel: RecordingPanel
) -> None:
    await hub.announce("洗衣完成", "zh-CN")
    await hub.announce("Washing done", "en")
    assert panel.said == [PanelSpeech("洗衣完成", "zh-CN"), PanelSpeech("Washing done", "en")]


@pytest.mark.parametrize(
    ("text", "language", "detail"),
    [
        ("Fertig", "de", "not 'de'"),
        ("", "en", "1-1000"),
        ("x" * 1001, "en", "1-1000"),
    ],
)
async def test_a_bad_announcement_is_out_of_range_and_the_session_continues(
    hub: ApplianceClient, panel: RecordingPanel, text: str, language: str, detail: str
) -> None:
    with pytest.raises(OutOfRangeError, match=detail):
        await hub.announce(text, language)
    assert panel.said == []
    await hub.announce("x" * 1000, "en")
    assert len(panel.said) == 1


async def test_an_appliance_without_a_panel_does_not_know_the_messages(
    server: ApplianceServer, client: ApplianceClient
) -> None:
    assert server.voice_panel is None
    with pytest.raises(UnknownMessageError):
        await client.announce("hi", "en")
    with pytest.raises(UnknownMessageError):
        await client.voice_reply(1, "hi", continue_listening=False, conversation=None)
    # Whatever the fields: as an appliance from before the panel answers.
    channel = await SecureChannel.open("127.0.0.1", server.port, KEY, hub_id=HUB_ID)
    try:
        channel.send_message({"id": 4, "type": "voice_reply", "utterance": "x"})
        reply = await channel.receive_message(2)
        assert (reply["id"], reply["code"]) == (4, ErrorCode.UNKNOWN_MESSAGE)
    finally:
        await channel.close()


async def test_a_declared_panel_not_connected_is_mcu_unavailable(
    make_panel_server: Callable[..., ApplianceServer], caplog: pytest.LogCaptureFixture
) -> None:
    server = make_panel_server(panel=None)
    assert "declares a voice panel but none is connected" in caplog.text
    await server.start("127.0.0.1", 0)
    client = ApplianceClient("127.0.0.1", server.port, KEY, hub_id=HUB_ID, request_timeout=2)
    try:
        await client.connect()
        with pytest.raises(McuUnavailableError):
            await client.announce("hi", "en")
    finally:
        await client.disconnect()
        await server.stop()


def test_a_panel_needs_a_declared_one() -> None:
    with pytest.raises(ValueError, match="voice_panel in the declaration"):
        ApplianceServer(
            MemoryBackend(),
            AC_IDENTITY,
            pairing_code=CODE,
            key_store=MemoryKeyStore(KEY),
            panel=RecordingPanel(),
        )


# --- malformed requests from the hub ------------------------------------------

MALFORMED: list[dict[str, Any]] = [
    {"id": 5, "type": "voice_reply", "utterance": "1", "text": "x", "continue": False},
    {"id": 5, "type": "voice_reply", "utterance": 2**53, "text": "x", "continue": False},
    {"id": 5, "type": "voice_reply", "utterance": 1, "text": 5, "continue": False},
    {"id": 5, "type": "voice_reply", "utterance": 1, "text": "x", "continue": "yes"},
    {
        "id": 5,
        "type": "voice_reply",
        "utterance": 1,
        "text": "x",
        "continue": True,
        "conversation": 3,
    },
    {"id": 5, "type": "announce", "text": "x", "language": None},
    {"id": 5, "type": "announce", "text": ["x"], "language": "en"},
]


@pytest.mark.parametrize("message", MALFORMED)
async def test_voice_requests_of_the_wrong_shape_are_malformed_and_the_session_continues(
    panel_server: ApplianceServer,
    panel: RecordingPanel,
    caplog: pytest.LogCaptureFixture,
    message: dict[str, Any],
) -> None:
    channel = await SecureChannel.open("127.0.0.1", panel_server.port, KEY, hub_id=HUB_ID)
    try:
        channel.send_message(message)
        reply = await channel.receive_message(2)
        assert (reply["type"], reply["id"], reply["code"]) == ("error", 5, ErrorCode.MALFORMED)
        channel.send_message({"id": 6, "type": "announce", "text": "ok", "language": "en"})
        assert await channel.receive_message(2) == {"id": 6, "type": "result", "result": {}}
    finally:
        await channel.close()
    assert panel.said == [PanelSpeech("ok", "en")]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


# --- ordering, limits, time ---------------------------------------------------


async def test_utterances_queue_in_order_with_pushes_and_are_never_merged(
    panel_server: ApplianceServer, panel_backend: MemoryBackend
) -> None:
    channel = await SecureChannel.open("127.0.0.1", panel_server.port, KEY, hub_id=HUB_ID)
    try:
        channel.send_message({"id": 1, "type": "subscribe"})
        assert (await channel.receive_message(2))["result"] == {"seq": 0}
        # All produced before the writer runs: changes merge, but never across an utterance.
        panel_backend.change({"humidity": 61})
        first = _relay(panel_server).hear("one", "en")
        panel_backend.change({"humidity": 62})
        panel_backend.change({"swing": "vertical"})
        second = _relay(panel_server).hear("two", "en")
        third = _relay(panel_server).hear("three", "en")
        received = [await channel.receive_message(2) for _ in range(5)]
    finally:
        await channel.close()
    assert [(m["type"], m.get("seq"), m.get("utterance")) for m in received] == [
        ("changed", 1, None),
        ("utterance", None, first),
        ("changed", 3, None),
        ("utterance", None, second),
        ("utterance", None, third),
    ]
    assert received[2]["values"] == {"humidity": 62, "swing": "vertical"}
    assert [m["text"] for m in received if m["type"] == "utterance"] == ["one", "two", "three"]


async def test_at_most_eight_utterances_wait_for_an_answer(
    panel_server: ApplianceServer, hub: ApplianceClient
) -> None:
    relay = _relay(panel_server)
    numbers = [relay.hear(f"request {n}", "en") for n in range(MAX_UNANSWERED)]
    with pytest.raises(BusyError, match="waiting for an answer"):
        relay.hear("one more", "en")
    await hub.voice_reply(numbers[3], "done", continue_listening=False, conversation=None)
    assert relay.hear("one more", "en") == numbers[-1] + 1


async def test_an_unanswered_utterance_is_forgotten_and_a_late_reply_is_invalid_state(
    make_panel_server: Callable[..., ApplianceServer], panel: RecordingPanel
) -> None:
    server = make_panel_server(utterance_timeout=0.2)
    await server.start("127.0.0.1", 0)
    client = ApplianceClient("127.0.0.1", server.port, KEY, hub_id=HUB_ID, request_timeout=2)
    try:
        await client.connect()
        relay = _relay(server)
        number = relay.hear("hello", "en")
        answered = relay.hear("again", "en")
        await client.voice_reply(answered, "hi", continue_listening=False, conversation=None)
        await eventually(lambda: panel.unanswered_utterances == [number])
        assert relay.unanswered == 0
        with pytest.raises(InvalidStateError):
            await client.voice_reply(number, "late", continue_listening=False, conversation=None)
        assert [s.utterance for s in panel.said] == [answered]
    finally:
        await client.disconnect()
        await server.stop()


async def test_a_follow_up_ends_when_the_panel_stops_listening(
    make_panel_server: Callable[..., ApplianceServer],
) -> None:
    server = make_panel_server(utterance_timeout=0.1)
    await server.start("127.0.0.1", 0)
    client = ApplianceClient("127.0.0.1", server.port, KEY, hub_id=HUB_ID, request_timeout=2)
    try:
        await client.connect()
        heard = _collect(client)
        relay = _relay(server)
        number = relay.hear("hello", "en")
        await client.voice_reply(number, "yes?", continue_listening=True, conversation="c-9")
        await asyncio.sleep(0.2)
        relay.hear("too late for a follow-up", "en")
        await eventually(lambda: len(heard) == 2)
        assert heard[1].conversation is None
    finally:
        await client.disconnect()
        await server.stop()


async def test_hear_refuses_what_nobody_could_answer(panel_server: ApplianceServer) -> None:
    relay = _relay(panel_server)
    with pytest.raises(InvalidStateError, match="no hub is listening"):
        relay.hear("hello", "en")
    client = ApplianceClient("127.0.0.1", panel_server.port, KEY, hub_id=HUB_ID)
    await client.connect()
    try:
        for text, language in [("   ", "en"), ("x" * 501, "en"), ("hallo", "de")]:
            with pytest.raises(OutOfRangeError):
                relay.hear(text, language)
        assert relay.hear("x" * 500, "en") == 1  # nothing refused used up a number
    finally:
        await client.disconnect()


async def test_every_subscribed_hub_hears_it_and_the_first_reply_wins(
    panel_server: ApplianceServer, hub: ApplianceClient, panel: RecordingPanel
) -> None:
    other = ApplianceClient("127.0.0.1", panel_server.port, KEY, hub_id="hub-2")
    await other.connect()
    try:
        heard, heard_too = _collect(hub), _collect(other)
        number = _relay(panel_server).hear("hello", "en")
        await eventually(lambda: len(heard) == len(heard_too) == 1)
        await other.voice_reply(number, "from two", continue_listening=False, conversation=None)
        with pytest.raises(InvalidStateError):
            await hub.voice_reply(number, "from one", continue_listening=False, conversation=None)
        assert [s.text for s in panel.said] == ["from two"]
    finally:
        await other.disconnect()


# --- the hub reading utterances -------------------------------------------------


@pytest.mark.parametrize(
    ("push", "detail"),
    [
        ({"language": "de"}, "not a declared language"),
        ({"text": "   "}, "1-500"),
        ({"text": "x" * 501}, "1-500"),
        ({"utterance": "1"}, "whole number"),
    ],
)
def test_the_hub_checks_utterances_against_the_declaration(
    push: dict[str, Any], detail: str
) -> None:
    declaration = Declaration.from_dict(PANEL_DECLARATION)
    wire = Utterance(1, "hello", "en").to_dict()
    assert checked_utterance(wire, declaration) == Utterance(1, "hello", "en")
    with pytest.raises(LinkError, match=detail):
        checked_utterance(wire | push, declaration)
    with pytest.raises(OutOfRangeError, match="no voice panel"):
        checked_utterance(wire, Declaration.from_dict(AC_DECLARATION))


async def test_a_bad_utterance_is_dropped_and_the_session_goes_on(
    hub: ApplianceClient, caplog: pytest.LogCaptureFixture
) -> None:
    heard = _collect(hub)
    failing: list[Utterance] = []

    def broken(utterance: Utterance) -> None:
        failing.append(utterance)
        raise RuntimeError("listener bug")

    remove = hub.add_utterance_listener(broken)
    hub._handle({"type": "utterance", "utterance": 1, "text": "x", "language": "fr"})
    assert heard == []
    assert "ignoring an utterance" in caplog.text
    hub._handle(Utterance(2, "hello", "en").to_dict())
    assert [u.utterance for u in heard] == [2]
    assert len(failing) == 1
    assert "utterance listener failed" in caplog.text
    remove()
    remove()  # removing twice is harmless
    hub._handle(Utterance(3, "again", "en").to_dict())
    assert len(failing) == 1
    assert len(heard) == 2
    assert hub.connected
    assert await hub.ping() >= 0
