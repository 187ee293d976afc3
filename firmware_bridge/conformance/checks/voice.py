"""The voice panel (voice_panel, voice_utterance; CONFORMANCE.md, PROTOCOL.md 7.5).

``voice_panel`` needs no one at the appliance: announcements in each
declared language are taken, bad ones are refused with the documented codes
(and the session goes on), and a reply to an utterance never sent is
INVALID_STATE. ``voice_utterance`` runs only when the operator asks
(``--panel-utterance``): the kit prompts the maker to speak or type at the
panel, checks the utterance push it gets and that a reply to it is taken,
once. Both are not applicable to a model that declares no panel.
"""

from __future__ import annotations

import asyncio
from typing import Any, Final

from custom_components.liuzhou_appliances.link.client import SecureChannel
from custom_components.liuzhou_appliances.link.codec import MessageType
from custom_components.liuzhou_appliances.link.declaration import Declaration, VoicePanel
from custom_components.liuzhou_appliances.link.errors import (
    ErrorCode,
    LinkError,
    TransportError,
)
from custom_components.liuzhou_appliances.link.voice import MAX_SPOKEN_TEXT
from custom_components.liuzhou_appliances.link.voice_client import checked_utterance
from firmware_bridge.conformance.probes import Outcome, Reaction
from firmware_bridge.conformance.runner import (
    CheckFailed,
    CheckNotApplicable,
    Context,
    describe_error,
)

from .common import fail_if, ping, request, result_of

# A number no appliance has reached: the largest the protocol allows.
NEVER_SENT: Final = 2**53 - 1
# ISO 639's range for local use ("qaa"-"qtz"): a real panel does not declare it.
UNDECLARED_LANGUAGE: Final = "qtz"
ANNOUNCEMENT: Final = {"zh": "一致性测试", "en": "Conformance test"}


def _panel(declaration: Declaration) -> VoicePanel:
    if declaration.voice_panel is None:
        raise CheckNotApplicable("the declaration has no voice_panel")
    return declaration.voice_panel


def _announcement(language: str) -> str:
    return ANNOUNCEMENT.get(language.split("-")[0].lower(), ANNOUNCEMENT["en"])


def _expect(outcome: Outcome, message_id: int, code: ErrorCode, what: str) -> str | None:
    """None if ``outcome`` is the error ``code`` answering ``message_id``, else the problem."""
    error = outcome.error
    if outcome.reaction is not Reaction.ERROR or error is None:
        return f"{what}: {outcome.describe()}, expected {code.name}"
    if error.code is not code:
        return f"{what}: answered {error.code.name} ({error.message}), expected {code.name}"
    if outcome.message is not None and outcome.message.get("id") != message_id:
        return f"{what}: the error carries id {outcome.message.get('id')!r}, not {message_id}"
    return None


async def check_voice_panel(context: Context) -> str:
    """Announcements in each language; bad announcements and replies refused; session goes on."""
    panel = _panel(context.declaration)
    wait = context.options.timeout
    problems: list[str] = []
    client = context.require_client()
    for language in panel.languages:
        try:
            await client.announce(_announcement(language), language)
        except LinkError as err:
            problems.append(f"announce in {language}: {describe_error(err)}")
    default = panel.languages[0]
    # Through the hub session, as the hub would send them.
    refused = [
        ("test", UNDECLARED_LANGUAGE, f"announce in the undeclared {UNDECLARED_LANGUAGE}"),
        ("", default, "announce of empty text"),
        ("x" * (MAX_SPOKEN_TEXT + 1), default, f"announce of {MAX_SPOKEN_TEXT + 1} characters"),
    ]
    for text, language, what in refused:
        try:
            await client.announce(text, language)
        except TransportError as err:
            raise CheckFailed(f"{what}: the session ended ({describe_error(err)})") from None
        except LinkError as err:
            if err.code is not ErrorCode.OUT_OF_RANGE:
                problems.append(f"{what}: answered {describe_error(err)}, expected OUT_OF_RANGE")
        else:
            problems.append(f"{what}: reply 'result', expected OUT_OF_RANGE")
        try:
            await client.ping()
        except LinkError as err:
            raise CheckFailed(f"ping after {what}: {describe_error(err)}") from None
    # What the hub's API cannot send, on a fresh session.
    channel = await context.open_channel()
    try:
        what = "announce with a number as text"
        fields: dict[str, Any] = {"text": 5, "language": default}
        outcome = await request(channel, 10, MessageType.ANNOUNCE, wait, **fields)
        if problem := _expect(outcome, 10, ErrorCode.MALFORMED, what):
            problems.append(problem)
        await ping(channel, wait, 11, f"ping after {what}")
        reply = {"utterance": NEVER_SENT, "text": "?", "continue": False, "conversation": None}
        outcome = await request(channel, 20, MessageType.VOICE_REPLY, wait, **reply)
        if problem := _expect(outcome, 20, ErrorCode.INVALID_STATE, "reply to an unsent utterance"):
            problems.append(problem)
        await ping(channel, wait, 21, "ping after the replies")
    finally:
        await channel.close()
    fail_if(problems)
    languages = ", ".join(panel.languages)
    return f"announced in {languages}; bad announcements and replies refused, session went on"


async def _next_utterance(channel: SecureChannel, within: float) -> dict[str, Any]:
    """The next utterance push on a subscribed channel (other pushes skipped)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        remaining = deadline - loop.time()
        if remaining <= 0:
            raise CheckFailed(f"no utterance within {within:g} s")
        try:
            message = await asyncio.wait_for(channel.receive_message(), remaining)
        except TimeoutError:
            raise CheckFailed(f"no utterance within {within:g} s") from None
        except LinkError as err:
            raise CheckFailed(f"waiting for an utterance: {describe_error(err)}") from None
        if message["type"] == MessageType.UTTERANCE:
            return message


async def check_voice_utterance(context: Context) -> str:
    """The maker speaks at the panel: a well-formed utterance comes, its reply is taken once."""
    declaration = context.declaration
    panel = _panel(declaration)
    options = context.options
    wait = options.timeout
    channel = await context.open_channel()
    try:
        result_of(await request(channel, 1, MessageType.SUBSCRIBE, wait), 1, "subscribe")
        appliance = context.hello.appliance_id if context.hello is not None else options.host
        options.prompt(
            f"Speak or type a command at the voice panel of {appliance} within "
            f"{options.utterance_timeout:g} s (languages: {', '.join(panel.languages)})"
        )
        message = await _next_utterance(channel, options.utterance_timeout)
        try:
            utterance = checked_utterance(message, declaration)
        except LinkError as err:
            raise CheckFailed(f"utterance {message!r:.160}: {err.message}") from None
        if message.get("conversation") is not None:
            raise CheckFailed("a first utterance carries a conversation; expected null")
        reply = {
            "utterance": utterance.utterance,
            "text": _announcement(utterance.language),
            "continue": False,
            "conversation": None,
        }
        outcome = await request(channel, 2, MessageType.VOICE_REPLY, wait, **reply)
        result_of(outcome, 2, f"reply to utterance {utterance.utterance}")
        again = await request(channel, 3, MessageType.VOICE_REPLY, wait, **reply)
        if problem := _expect(again, 3, ErrorCode.INVALID_STATE, "a second reply"):
            raise CheckFailed(problem)
    finally:
        await channel.close()
    return (
        f"utterance {utterance.utterance} in {utterance.language} "
        f"({len(utterance.text)} characters) answered; a second reply refused"
    )
