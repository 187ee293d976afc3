"""One building's hub in the property demo, set up through Home Assistant's APIs.

What the site engineer does on a new hub: a long-lived access token for the
provisioning command, Home Assistant's MQTT integration with the hub's own
broker credential over TLS, verifying the broker against the estate's CA (its
config flow), and the household entry with the estate
and building ids (its config flow, then its options). aiohttp is imported by
the callers; only the standard library at import time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scripts import demo_owner as owner
from scripts.demo_owner import DOMAIN, DemoError

if TYPE_CHECKING:
    import aiohttp

ROOT = Path(__file__).resolve().parent.parent
TOKEN_NAME = "property demo provisioning"
TOKEN_DAYS = 3650
TRANSLATIONS = ROOT / "custom_components" / DOMAIN / "translations"


@dataclass(frozen=True, slots=True)
class MqttLogin:
    """How a hub logs in to the broker: TLS on 127.0.0.1:``port``, verified against ``ca``.

    ``trusted``: the hub's record of the CA its MQTT entry was set up with.
    """

    port: int
    user: str
    password: str
    ca: Path
    trusted: Path


@cache
def household_titles() -> frozenset[str]:
    """The household entry's title in every language the integration speaks.

    Home Assistant names the entry in the server's language ("Household energy",
    "家庭能源"): its set-up step's title in the integration's translations.
    """
    return frozenset(
        json.loads(path.read_text(encoding="utf-8"))["config"]["step"]["household_energy"]["title"]
        for path in TRANSLATIONS.glob("*.json")
    )


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
    broker: MqttLogin,
    status_topic: str,
) -> str:
    """Home Assistant's MQTT integration on the demo's broker over TLS, logged in as the hub.

    The entry verifies the broker against ``broker.ca`` (the form's "custom"
    broker certificate, uploaded as the site engineer uploads it). Its birth
    and last-will messages go to the hub's ``status_topic`` (online, offline;
    retained), as docs/estate.md asks: the broker then says ``offline`` for a
    hub that vanishes. ``broker.trusted`` records the CA the entry was set up
    with: an entry made with another CA, or without TLS by an older demo, is
    reconfigured; one with this CA is left alone.
    """
    ca = broker.ca.read_bytes()
    existing = await owner.entries(session, base, token, "mqtt")
    if existing and broker.trusted.exists() and broker.trusted.read_bytes() == ca:
        return "already set up"
    headers = {"Authorization": f"Bearer {token}"}
    url = f"{base}/api/config/config_entries/flow"
    body: dict[str, Any] = {"handler": "mqtt", "show_advanced_options": True}
    if existing:
        body["entry_id"] = existing[0]["entry_id"]  # its reconfigure flow
    async with session.post(url, json=body, headers=headers) as response:
        result: dict[str, Any] = await response.json()
    for _ in range(4):
        if result.get("type") != "form" or result.get("errors"):
            break
        answers: dict[str, Any] = {
            "broker": "127.0.0.1",
            "port": broker.port,
            "username": broker.user,
            "password": broker.password,
        }
        fields = {field["name"] for field in result.get("data_schema", [])}
        if "advanced_options" in fields:  # the box that shows the TLS settings
            answers["advanced_options"] = True
        if "set_ca_cert" in fields:
            answers["set_ca_cert"] = "custom"
        if "certificate" in fields:
            answers["certificate"] = await _upload(session, base, token, "ca.pem", ca)
        if "tls_insecure" in fields:
            answers["tls_insecure"] = False  # the broker's name is checked too
        async with session.post(
            f"{url}/{result['flow_id']}", json=answers, headers=headers
        ) as response:
            result = await response.json()
    if existing and result.get("reason") == "reconfigure_successful":
        broker.trusted.write_bytes(ca)
        return f"reconnected to 127.0.0.1:{broker.port} over TLS as {broker.user}"
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
    broker.trusted.write_bytes(ca)
    return (
        f"connected to 127.0.0.1:{broker.port} over TLS (broker certificate verified "
        f"against the demo's CA) as {broker.user}, last will on {status_topic}"
    )


async def _upload(
    session: aiohttp.ClientSession, base: str, token: str, name: str, content: bytes
) -> str:
    """A file through Home Assistant's file upload, for a form's file field; its id."""
    import aiohttp

    form = aiohttp.FormData()
    form.add_field("file", content, filename=name)
    async with session.post(
        f"{base}/api/file_upload", data=form, headers={"Authorization": f"Bearer {token}"}
    ) as response:
        if response.status != 200:
            raise DemoError(f"uploading {name} refused: HTTP {response.status}")
        return str((await response.json())["file_id"])


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
        if entry["title"] in household_titles()
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
