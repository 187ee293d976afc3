"""The demo's owner at work, through Home Assistant's HTTP and websocket APIs.

What a person does in the user interface on a new installation: onboarding
(owner, home, analytics), pairing appliances through the integration's config
flow, areas, removing what needs the internet, the household energy entry and
the Energy dashboard; and the checks that everything came up. Only the standard
library at import time (``./scripts/demo --help`` runs before any set-up);
aiohttp is imported by the callers that need it.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
import contextlib
import json
from pathlib import Path
import secrets
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import aiohttp

ROOT = Path(__file__).resolve().parent.parent
DOMAIN = "liuzhou_appliances"
CLIENT_ID_PATH = "/"


class DemoError(RuntimeError):
    """Something the demo cannot recover from; the message says what."""


def shown(path: Path) -> str:
    """A path as short as it can be said: relative to the checkout when inside it."""
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


async def request_token(
    session: aiohttp.ClientSession, base: str, data: Mapping[str, str]
) -> dict[str, Any]:
    async with session.post(f"{base}/auth/token", data=data) as response:
        if response.status != 200:
            raise DemoError(f"token request failed: {response.status} {await response.text()}")
        result: dict[str, Any] = await response.json()
        return result


class Websocket:
    """Home Assistant's websocket API, one call at a time (what the frontend uses)."""

    def __init__(self, socket: aiohttp.ClientWebSocketResponse) -> None:
        self._socket = socket
        self._id = 0

    async def call(self, kind: str, **payload: Any) -> Any:
        """Send one command; its result, or DemoError with Home Assistant's error."""
        self._id += 1
        await self._socket.send_json({"id": self._id, "type": kind, **payload})
        while True:
            message = await self._socket.receive_json()
            if message.get("id") == self._id and message.get("type") == "result":
                if not message["success"]:
                    raise WebsocketError(kind, message["error"])
                return message.get("result")


class WebsocketError(DemoError):
    def __init__(self, kind: str, error: Mapping[str, Any]) -> None:
        super().__init__(f"{kind} failed: {error.get('message')}")
        self.code = error.get("code")


MAX_MESSAGE = 64 * 1024 * 1024  # bytes


@contextlib.asynccontextmanager
async def websocket(
    session: aiohttp.ClientSession, base: str, token: str
) -> AsyncIterator[Websocket]:
    # A hub of 500 appliances answers a registry listing with more than aiohttp's
    # default 4 MiB a message.
    async with session.ws_connect(f"{base}/api/websocket", max_msg_size=MAX_MESSAGE) as socket:
        await socket.receive_json()  # auth_required
        await socket.send_json({"type": "auth", "access_token": token})
        answer = await socket.receive_json()
        if answer.get("type") != "auth_ok":
            raise DemoError(f"websocket login failed: {answer}")
        yield Websocket(socket)


# The owner's name, in the home's language (the sidebar and the person show it).
OWNER_NAME = {"en": "Demo Owner", "zh-Hans": "演示用户"}

# The owner's interface settings (Profile → Language and the formats that follow it).
FRONTEND_LOCALE = {
    "number_format": "language",
    "time_format": "language",
    "date_format": "language",
    "time_zone": "local",
    "first_weekday": "language",
}


async def onboard(
    session: aiohttp.ClientSession, base: str, credentials_file: Path, language: str = "en"
) -> str:
    """Return an access token, onboarding Home Assistant first if needed.

    The owner is created in ``language`` (Home Assistant names the default areas
    in it) and gets it as the interface language of their profile.
    """
    client_id = f"{base}{CLIENT_ID_PATH}"
    async with session.get(f"{base}/api/onboarding") as response:
        # 404: onboarding is finished and its API is gone.
        steps = (
            {step["step"]: step["done"] for step in await response.json()}
            if response.status == 200
            else {}
        )
    if not steps.get("user", True):
        password = secrets.token_urlsafe(12)
        user = {
            "client_id": client_id,
            "name": OWNER_NAME.get(language, OWNER_NAME["en"]),
            "username": "demo",
            "password": password,
            "language": language,
        }
        async with session.post(f"{base}/api/onboarding/users", json=user) as response:
            if response.status != 200:
                raise DemoError(f"onboarding failed: {await response.text()}")
            auth_code = (await response.json())["auth_code"]
        tokens = await request_token(
            session,
            base,
            {
                "grant_type": "authorization_code",
                "code": auth_code,
                "client_id": client_id,
            },
        )
        credentials_file.write_text(
            json.dumps(
                {
                    "username": "demo",
                    "password": password,
                    "refresh_token": tokens["refresh_token"],
                    "client_id": client_id,
                }
            )
        )
        credentials_file.chmod(0o600)
        headers = {"Authorization": f"Bearer {tokens['access_token']}"}
        for step, body in (
            ("integration", {"client_id": client_id, "redirect_uri": f"{base}/?auth_callback=1"}),
        ):
            async with session.post(
                f"{base}/api/onboarding/{step}", json=body, headers=headers
            ) as response:
                if response.status not in (200, 403):  # 403: step already done
                    raise DemoError(f"onboarding step {step} failed: {await response.text()}")
        access: str = tokens["access_token"]
        async with websocket(session, base, access) as ws:
            await ws.call(
                "frontend/set_user_data",
                key="language",
                value={"language": language, **FRONTEND_LOCALE},
            )
        return access
    if not credentials_file.exists():
        raise DemoError(
            f"Home Assistant in {shown(credentials_file.parent)} is onboarded but "
            f"{shown(credentials_file)} is missing; delete the folder to start over"
        )
    saved = json.loads(credentials_file.read_text())
    tokens = await request_token(
        session,
        base,
        {
            "grant_type": "refresh_token",
            "refresh_token": saved["refresh_token"],
            "client_id": saved["client_id"],
        },
    )
    access = tokens["access_token"]
    return access


# Onboarding's location step added these to state directories made before the
# demo answered that step itself; they need the internet and only fill the log.
ONLINE_ONLY_DOMAINS = frozenset({"met", "radio_browser", "google_translate"})


async def entries(
    session: aiohttp.ClientSession, base: str, token: str, domain: str | None = None
) -> list[dict[str, Any]]:
    params = {"domain": domain} if domain else {}
    async with session.get(
        f"{base}/api/config/config_entries/entry",
        params=params,
        headers={"Authorization": f"Bearer {token}"},
    ) as response:
        entries: list[dict[str, Any]] = await response.json()
    return [entry for entry in entries if domain is None or entry.get("domain") == domain]


async def remove_online_only_entries(session: aiohttp.ClientSession, base: str, token: str) -> None:
    for entry in await entries(session, base, token):
        if entry["domain"] in ONLINE_ONLY_DOMAINS:
            async with session.delete(
                f"{base}/api/config/config_entries/entry/{entry['entry_id']}",
                headers={"Authorization": f"Bearer {token}"},
            ):
                pass


# The integration's entities that Home Assistant shows as unavailable, as JSON text.
UNAVAILABLE_TEMPLATE = (
    "{{ integration_entities('" + DOMAIN + "') | select('is_state', 'unavailable') "
    "| list | tojson }}"
)


async def unavailable_entities(session: aiohttp.ClientSession, base: str, token: str) -> list[str]:
    async with session.post(
        f"{base}/api/template",
        json={"template": UNAVAILABLE_TEMPLATE},
        headers={"Authorization": f"Bearer {token}"},
    ) as response:
        names: list[str] = json.loads(await response.text())
    return names


async def wait_until_loaded(
    session: aiohttp.ClientSession, base: str, token: str, expected: int, deadline: float
) -> tuple[Counter[str], list[str]]:
    """Wait until the integration's entries are loaded and their entities available.

    Returns the entries' states and the unavailable entities as last seen.
    """
    counts: Counter[str] = Counter()
    unavailable: list[str] = []
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(deadline):
            while True:
                counts = Counter(
                    entry["state"] for entry in await entries(session, base, token, DOMAIN)
                )
                if counts["loaded"] >= expected:
                    unavailable = await unavailable_entities(session, base, token)
                    if not unavailable:
                        break
                await asyncio.sleep(1)
    return counts, unavailable


def fill(
    schema: list[dict[str, Any]], appliance: Mapping[str, Any], area_id: str | None = None
) -> dict[str, Any]:
    """Answer a config flow form from what the simulator printed.

    The name is left as suggested: the type in the server's language ("Air
    conditioner", "空调"); the area is ``area_id`` when given.
    """
    answers: dict[str, Any] = {}
    for field in schema:
        name = field["name"]
        if name == "host":
            answers[name] = appliance["host"]
        elif name == "port":
            answers[name] = appliance["port"]
        elif "code" in name:
            answers[name] = appliance["code"]
        elif name == "area_id" and area_id is not None:
            answers[name] = area_id
    return answers


async def run_flow(
    session: aiohttp.ClientSession,
    base: str,
    token: str,
    menu_choice: str,
    answer: Callable[[list[dict[str, Any]]], dict[str, Any]],
) -> dict[str, Any]:
    """Drive one config flow of the integration through Home Assistant's REST API."""
    headers = {"Authorization": f"Bearer {token}"}
    url = f"{base}/api/config/config_entries/flow"
    async with session.post(url, json={"handler": DOMAIN}, headers=headers) as response:
        result: dict[str, Any] = await response.json()
    for _ in range(6):
        kind = result.get("type")
        if kind in ("create_entry", "abort"):
            return result
        if kind == "menu":
            body = {"next_step_id": menu_choice}
        elif kind == "form":
            if result.get("errors"):
                raise DemoError(f"{menu_choice}: {result['errors']}")
            body = answer(result.get("data_schema", []))
        else:
            raise DemoError(f"unexpected config flow answer: {result}")
        async with session.post(
            f"{url}/{result['flow_id']}", json=body, headers=headers
        ) as response:
            result = await response.json()
    raise DemoError(f"the {menu_choice} flow did not finish")


async def area_ids(
    session: aiohttp.ClientSession, base: str, token: str, wanted: Iterable[str]
) -> dict[str, str]:
    """Area names to ids; the ``wanted`` areas that Home Assistant lacks are created."""
    async with websocket(session, base, token) as ws:
        areas = await ws.call("config/area_registry/list")
        ids = {area["name"]: area["area_id"] for area in areas}
        for name in wanted:
            if name not in ids:
                area = await ws.call("config/area_registry/create", name=name)
                ids[name] = area["area_id"]
    return ids


async def paired_appliance_ids(session: aiohttp.ClientSession, base: str, token: str) -> set[str]:
    """Ids of the appliances that already have a device (so an entry) in Home Assistant."""
    async with websocket(session, base, token) as ws:
        devices = await ws.call("config/device_registry/list")
    return {
        identifier[1]
        for device in devices
        for identifier in device.get("identifiers", [])
        if len(identifier) == 2 and identifier[0] == DOMAIN
    }


async def pair(
    session: aiohttp.ClientSession,
    base: str,
    token: str,
    appliance: Mapping[str, Any],
    area_id: str | None = None,
) -> str:
    result = await run_flow(
        session, base, token, "appliance", lambda schema: fill(schema, appliance, area_id)
    )
    if result["type"] == "create_entry":
        return f"paired as {result['title']}"
    if result.get("reason") == "already_configured":
        return "already paired"
    return f"skipped ({result.get('reason')})"


async def set_up_household_energy(session: aiohttp.ClientSession, base: str, token: str) -> str:
    """The household energy entry with the default tariff (Guangxi residential)."""
    result = await run_flow(session, base, token, "household_energy", lambda schema: {})
    if result["type"] == "create_entry":
        return "set up (Guangxi residential tariff; change it with Configure)"
    return "already set up"


async def add_to_energy_dashboard(
    session: aiohttp.ClientSession, base: str, token: str, appliances: list[dict[str, Any]]
) -> str:
    """Each appliance's energy sensor as an individual device on the Energy dashboard.

    What the user does in Settings → Dashboards → Energy; devices already there
    (and anything else the user configured) are kept.
    """
    async with websocket(session, base, token) as ws:
        registry = await ws.call("config/entity_registry/list")
        energy_sensors = {
            entity["unique_id"]: entity["entity_id"]
            for entity in registry
            if entity["platform"] == DOMAIN and entity["entity_id"].startswith("sensor.")
        }
        wanted = [
            energy_sensors[unique_id]
            for appliance in appliances
            if (unique_id := f"{appliance['id']}_energy") in energy_sensors
        ]
        try:
            prefs = await ws.call("energy/get_prefs")
        except WebsocketError as err:
            if err.code != "not_found":
                raise
            prefs = {}
        devices: list[dict[str, Any]] = list(prefs.get("device_consumption", []))
        present = {device["stat_consumption"] for device in devices}
        added = [entity_id for entity_id in wanted if entity_id not in present]
        if added:
            devices += [{"stat_consumption": entity_id} for entity_id in added]
            await ws.call("energy/save_prefs", device_consumption=devices)
    if added:
        return f"{len(added)} appliances added as individual devices"
    return f"{len(wanted)} appliances already there"
