"""A guest's stay in the property demo: check-in and check-out through the room webhook.

What a property-management system does (docs/fleet.md, "The webhook"): it
reads the webhook's address and token once from the household options form
(its second step shows both), then POSTs ``{"room", "state"}`` with the
token as a Bearer header: ``occupied`` when the guest checks in,
``check_out`` when they leave. In between the guest turns the room's air
conditioner on through Home Assistant (what a room panel does), so the stay
leaves something to erase. The demo then reads the audit line the hub wrote
to its logbook (counts only, never the guest's data) and the air
conditioner's state: off again, the house default of a vacant room.
aiohttp is imported by the callers; only the standard library at import time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
import json
from typing import TYPE_CHECKING, Any

from scripts import demo_owner as owner, property_hub
from scripts.demo_owner import DOMAIN, DemoError

if TYPE_CHECKING:
    import aiohttp

AUDIT = "guest data erased at check-out"  # how the hub's logbook line starts
GUEST_MODE = "cool"  # what the guest turns the air conditioner to ...
GUEST_TARGET = 24.0  # ... and at what temperature, °C
SETTLE_DEADLINE = 20.0  # seconds for an appliance's state, or the logbook, to show a change

# The climate entities of an area, as JSON text (the room's air conditioners).
_ROOM_ACS = "{{ area_entities(%s) | select('match', 'climate\\\\.') | list | tojson }}"


@dataclass(frozen=True, slots=True)
class Webhook:
    """The room webhook's address and the token it wants."""

    url: str
    token: str


@dataclass(frozen=True, slots=True)
class CheckOut:
    """What one stay's check-out did: the audit line the hub wrote, the ACs' states after."""

    room: str
    audit: str
    erased: dict[str, int]
    acs: dict[str, str]

    def summary(self) -> list[str]:
        """Two lines: the stay, then the hub's audit line and the air conditioners' states."""
        states = ", ".join(f"{entity} {state}" for entity, state in self.acs.items())
        return [
            f"{self.room}: checked in, the guest's AC at {GUEST_MODE} {GUEST_TARGET:g} °C, "
            "checked out",
            f"{self.room}: logbook: {self.audit}; house defaults again: {states}",
        ]


def _headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def webhook(session: aiohttp.ClientSession, base: str, token: str) -> Webhook:
    """The room webhook's address and token, as the household options form shows them.

    The form is opened, read and closed without saving anything. DemoError if
    the household entry or the form's second step is missing.
    """
    household = [
        entry
        for entry in await owner.entries(session, base, token, DOMAIN)
        if entry["title"] in property_hub.household_titles()
    ]
    if not household:
        raise DemoError("the household entry is missing")
    url = f"{base}/api/config/config_entries/options/flow"
    body = {"handler": household[0]["entry_id"]}
    async with session.post(url, json=body, headers=_headers(token)) as response:
        result: dict[str, Any] = await response.json()
    try:
        for _ in range(3):
            if result.get("type") != "form" or result.get("errors"):
                raise DemoError(f"household options: {result.get('errors') or result}")
            if result.get("step_id") == "house_defaults":
                shown = result.get("description_placeholders") or {}
                address, secret = shown.get("webhook_url"), shown.get("token")
                if not address or not secret:
                    raise DemoError("the household options do not show the room webhook")
                # A hub without a configured URL shows the path only.
                return Webhook(base + address if address.startswith("/") else address, secret)
            answers = property_hub._defaults(result.get("data_schema", []))
            async with session.post(
                f"{url}/{result['flow_id']}", json=answers, headers=_headers(token)
            ) as response:
                result = await response.json()
        raise DemoError("the household options did not reach the house defaults")
    finally:
        if "flow_id" in result:  # closed unsaved, as Cancel in the form does
            async with session.delete(f"{url}/{result['flow_id']}", headers=_headers(token)):
                pass


async def _post_state(
    session: aiohttp.ClientSession, hook: Webhook, room: str, state: str
) -> dict[str, Any]:
    """The webhook's answer to one state change; DemoError unless 200."""
    async with session.post(
        hook.url, json={"room": room, "state": state}, headers=_headers(hook.token)
    ) as response:
        text = await response.text()
        if response.status != 200:
            raise DemoError(
                f"the room webhook refused {state} for {room}: {response.status} {text}"
            )
    answer: dict[str, Any] = json.loads(text)
    return answer


async def _call(
    session: aiohttp.ClientSession, base: str, token: str, service: str, data: Mapping[str, Any]
) -> None:
    domain, name = service.split(".")
    async with session.post(
        f"{base}/api/services/{domain}/{name}", json=dict(data), headers=_headers(token)
    ) as response:
        if response.status != 200:
            raise DemoError(f"{service} failed: {response.status} {await response.text()}")


async def _state(session: aiohttp.ClientSession, base: str, token: str, entity_id: str) -> str:
    async with session.get(f"{base}/api/states/{entity_id}", headers=_headers(token)) as response:
        found: dict[str, Any] = await response.json()
    return str(found.get("state"))


async def _wait_for_state(
    session: aiohttp.ClientSession, base: str, token: str, entity_id: str, wanted: str, why: str
) -> None:
    state = ""
    try:
        async with asyncio.timeout(SETTLE_DEADLINE):
            while True:
                state = await _state(session, base, token, entity_id)
                if state == wanted:
                    return
                await asyncio.sleep(0.5)
    except TimeoutError:
        raise DemoError(
            f"{entity_id} is {state}, not {wanted}, {SETTLE_DEADLINE:.0f} s after {why}"
        ) from None


async def _room_acs(session: aiohttp.ClientSession, base: str, token: str, room: str) -> list[str]:
    async with session.post(
        f"{base}/api/template",
        json={"template": _ROOM_ACS % json.dumps(room)},
        headers=_headers(token),
    ) as response:
        found: list[str] = json.loads(await response.text())
    return found


async def _audit_line(
    session: aiohttp.ClientSession, base: str, token: str, room: str, since: datetime
) -> str:
    """The hub's logbook line of the room's check-out since ``since``."""
    url = f"{base}/api/logbook/{since.isoformat()}"
    try:
        async with asyncio.timeout(SETTLE_DEADLINE):
            while True:
                async with session.get(url, headers=_headers(token)) as response:
                    entries: list[dict[str, Any]] = await response.json()
                for entry in entries:
                    message = str(entry.get("message", ""))
                    if entry.get("name") == room and message.startswith(AUDIT):
                        return message
                # The logbook reads the recorder's database, written every few seconds.
                await asyncio.sleep(1)
    except TimeoutError:
        raise DemoError(f"no check-out line for {room} in the logbook") from None


async def stay(session: aiohttp.ClientSession, base: str, token: str, room: str) -> CheckOut:
    """Check a guest into ``room`` (an area name) and out again, as a PMS does.

    DemoError if the webhook refuses, the room has no air conditioner, the
    audit line is not written or an air conditioner is not off afterwards.
    """
    hook = await webhook(session, base, token)
    acs = await _room_acs(session, base, token, room)
    if not acs:
        raise DemoError(f"{room} has no air conditioner")
    since = datetime.now(UTC)
    await _post_state(session, hook, room, "occupied")
    for entity_id in acs:  # the guest, at the room's panel
        mode = {"entity_id": entity_id, "hvac_mode": GUEST_MODE}
        await _call(session, base, token, "climate.set_hvac_mode", mode)
        await _call(
            session,
            base,
            token,
            "climate.set_temperature",
            {"entity_id": entity_id, "temperature": GUEST_TARGET},
        )
        await _wait_for_state(session, base, token, entity_id, GUEST_MODE, "the guest's change")
    answer = await _post_state(session, hook, room, "check_out")
    for entity_id in acs:
        await _wait_for_state(session, base, token, entity_id, "off", "check-out")
    audit = await _audit_line(session, base, token, room, since)
    states = {entity_id: await _state(session, base, token, entity_id) for entity_id in acs}
    return CheckOut(room=room, audit=audit, erased=dict(answer.get("erased") or {}), acs=states)
