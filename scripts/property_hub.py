"""One building's hub in the property demo, set up through Home Assistant's APIs.

What the site engineer does on a new hub: a long-lived access token for the
provisioning command, Home Assistant's MQTT integration with the hub's own
broker credential (its config flow), and the household entry with the estate
and building ids (its config flow, then its options). aiohttp is imported by
the callers; only the standard library at import time.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scripts import demo_owner as owner
from scripts.demo_owner import DOMAIN, DemoError

if TYPE_CHECKING:
    import aiohttp

TOKEN_NAME = "property demo provisioning"
TOKEN_DAYS = 3650
HOUSEHOLD_TITLE = "Household energy"


async def long_lived_token(
    session: aiohttp.ClientSession, base: str, access: str, token_file: Path
) -> str:
    """The hub's long-lived access token, created once and kept in ``token_file`` (0600)."""
    if token_file.exists():
        return token_file.read_text().strip()
    async with owner.websocket(session, base, access) as ws:
        token: str = await ws.call(
            "auth/long_lived_access_token", client_name=TOKEN_NAME, lifespan=TOKEN_DAYS
        )
    token_file.write_text(token + "\n")
    token_file.chmod(0o600)
    return token


async def set_up_mqtt(
    session: aiohttp.ClientSession,
    base: str,
    token: str,
    port: int,
    user: str,
    password: str,
    status_topic: str,
) -> str:
    """Home Assistant's MQTT integration on the demo's broker, logged in as ``user``.

    Its birth and last-will messages go to the hub's ``status_topic`` (online,
    offline; retained), as docs/estate.md asks: the broker then says ``offline``
    for a hub that vanishes.
    """
    if await owner.entries(session, base, token, "mqtt"):
        return "already set up"
    headers = {"Authorization": f"Bearer {token}"}
    url = f"{base}/api/config/config_entries/flow"
    async with session.post(url, json={"handler": "mqtt"}, headers=headers) as response:
        result: dict[str, Any] = await response.json()
    if result.get("type") != "form":
        raise DemoError(f"MQTT set-up did not start: {result}")
    answers = {"broker": "127.0.0.1", "port": port, "username": user, "password": password}
    async with session.post(
        f"{url}/{result['flow_id']}", json=answers, headers=headers
    ) as response:
        result = await response.json()
    if result.get("type") != "create_entry":
        raise DemoError(f"MQTT set-up refused: {result.get('errors') or result}")
    options_url = f"{base}/api/config/config_entries/options/flow"
    body = {"handler": result["result"]["entry_id"]}
    async with session.post(options_url, json=body, headers=headers) as response:
        result = await response.json()
    if result.get("type") != "form":
        raise DemoError(f"MQTT options did not start: {result}")
    answers = _defaults(result.get("data_schema", []))
    for kind, payload in (("birth", "online"), ("will", "offline")):
        answers |= {
            f"{kind}_enable": True,
            f"{kind}_topic": status_topic,
            f"{kind}_payload": payload,
            f"{kind}_qos": 1,
            f"{kind}_retain": True,
        }
    async with session.post(
        f"{options_url}/{result['flow_id']}", json=answers, headers=headers
    ) as response:
        result = await response.json()
    if result.get("type") != "create_entry":
        raise DemoError(f"MQTT options refused: {result.get('errors') or result}")
    return f"connected to 127.0.0.1:{port} as {user}, last will on {status_topic}"


def _defaults(schema: list[dict[str, Any]]) -> dict[str, Any]:
    """A form answered with what it suggests: its defaults and suggested values."""
    answers: dict[str, Any] = {}
    for field in schema:
        if "default" in field:
            answers[field["name"]] = field["default"]
        elif (suggested := (field.get("description") or {}).get("suggested_value")) is not None:
            answers[field["name"]] = suggested
    return answers


async def set_up_household(
    session: aiohttp.ClientSession, base: str, token: str, estate: str, building_id: str
) -> str:
    """The household entry (default tariff), publishing as ``building_id`` of ``estate``."""
    await owner.set_up_household_energy(session, base, token)
    household = [
        entry
        for entry in await owner.entries(session, base, token, DOMAIN)
        # The server speaks English here: the household entry's title in it.
        if entry["title"] == HOUSEHOLD_TITLE
    ]
    if not household:
        raise DemoError("the household entry is missing after its set-up")
    headers = {"Authorization": f"Bearer {token}"}
    url = f"{base}/api/config/config_entries/options/flow"
    body: Mapping[str, Any] = {"handler": household[0]["entry_id"]}
    async with session.post(url, json=body, headers=headers) as response:
        result: dict[str, Any] = await response.json()
    estate_ids = {"estate_id": estate, "building_id": building_id}
    for _ in range(3):
        if result.get("type") == "create_entry":
            return f"publishing as {building_id} of estate {estate}"
        if result.get("type") != "form" or result.get("errors"):
            raise DemoError(f"household options refused: {result.get('errors') or result}")
        answers = _defaults(result.get("data_schema", []))
        if result.get("step_id") == "household":
            answers |= estate_ids
        async with session.post(
            f"{url}/{result['flow_id']}", json=answers, headers=headers
        ) as response:
            result = await response.json()
    raise DemoError("the household options did not finish")
