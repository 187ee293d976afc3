"""One-command demo: Home Assistant with the integration and simulated appliances.

Run through ``./scripts/demo`` (which sets up .venv first). It starts
simulated appliances of all four types (``python -m firmware_bridge
simulate``), a Home Assistant instance whose config lives in ``.demo/`` with
this repository's integration linked in, completes onboarding through Home
Assistant's HTTP API (printing the credentials it created), and pairs every
appliance through the integration's own config flow, exactly as a user
would. Ctrl-C stops everything cleanly. Re-running reuses the same
Home Assistant user, appliances and entries.
"""

from __future__ import annotations

import argparse
import asyncio
from collections import Counter
from collections.abc import Callable, Mapping
import contextlib
import json
import os
from pathlib import Path
import secrets
import shutil
import signal
import sys
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
DOMAIN = "liuzhou_appliances"
CLIENT_ID_PATH = "/"

CONFIGURATION_YAML = """\
# Written by scripts/demo. default_config is not used: some of its parts need
# binaries (go2rtc, ffmpeg, libpcap) that these machines lack.
homeassistant:
  name: Liuzhou home (demo)
  time_zone: Asia/Shanghai
  country: CN
  currency: CNY
  unit_system: metric
  latitude: 24.3264
  longitude: 109.4281
  elevation: 90
frontend:
config:
http:
  server_host: {host}
  server_port: {port}
api:
onboarding:
energy:
history:
logbook:
conversation:
diagnostics:
repairs:
automation:
script:
scene:
blueprint:
person:
search:
system_health:
zeroconf:
logger:
  default: warning
  logs:
    custom_components.{domain}: info
"""


def _log(message: str) -> None:
    print(f"[demo] {message}", flush=True)


class DemoError(RuntimeError):
    """Something the demo cannot recover from; the message says what."""


async def _start_simulators(
    args: argparse.Namespace, state_dir: Path
) -> tuple[asyncio.subprocess.Process, list[dict[str, Any]]]:
    command = [
        sys.executable,
        "-m",
        "firmware_bridge",
        "simulate",
        "--ac",
        str(args.ac),
        "--fridge",
        str(args.fridge),
        "--washer",
        str(args.washer),
        "--dishwasher",
        str(args.dishwasher),
        "--seed",
        str(args.seed),
        "--speed",
        str(args.speed),
        "--state-dir",
        str(state_dir),
        "--base-port",
        str(args.base_port),
        "--json",
    ]
    process = await asyncio.create_subprocess_exec(
        *command, cwd=ROOT, stdout=asyncio.subprocess.PIPE, start_new_session=True
    )
    assert process.stdout is not None
    wanted = args.ac + args.fridge + args.washer + args.dishwasher
    appliances: list[dict[str, Any]] = []
    try:
        async with asyncio.timeout(60):
            while len(appliances) < wanted:
                line = await process.stdout.readline()
                if not line:
                    raise DemoError("the simulators exited before they were ready")
                appliances.append(json.loads(line))
    except TimeoutError:
        process.terminate()
        raise DemoError("the simulators did not start within 60 s") from None
    return process, appliances


def _write_ha_config(config_dir: Path, host: str, port: int) -> None:
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "configuration.yaml").write_text(
        CONFIGURATION_YAML.format(host=host, port=port, domain=DOMAIN)
    )
    custom = config_dir / "custom_components"
    custom.mkdir(exist_ok=True)
    link = custom / DOMAIN
    target = (ROOT / "custom_components" / DOMAIN).resolve()
    if (link.is_symlink() or link.exists()) and link.resolve() != target:
        if link.is_symlink():
            link.unlink()
        else:
            shutil.rmtree(link)
    if not link.exists():
        link.symlink_to(ROOT / "custom_components" / DOMAIN, target_is_directory=True)


async def _wait_for_http(session: aiohttp.ClientSession, base: str, hass: Any) -> None:
    # /auth/providers answers without a login, before and after onboarding
    # (/api/onboarding disappears once onboarding is done).
    async with asyncio.timeout(300):
        while True:
            if hass.returncode is not None:
                raise DemoError(
                    "Home Assistant exited during start-up; see .demo/home-assistant.log"
                )
            with contextlib.suppress(aiohttp.ClientError):
                async with session.get(f"{base}/auth/providers") as response:
                    if response.status == 200:
                        return
            await asyncio.sleep(1)


async def _token(
    session: aiohttp.ClientSession, base: str, data: Mapping[str, str]
) -> dict[str, Any]:
    async with session.post(f"{base}/auth/token", data=data) as response:
        if response.status != 200:
            raise DemoError(f"token request failed: {response.status} {await response.text()}")
        result: dict[str, Any] = await response.json()
        return result


async def _onboard(session: aiohttp.ClientSession, base: str, credentials_file: Path) -> str:
    """Return an access token, onboarding Home Assistant first if needed."""
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
            "name": "Demo Owner",
            "username": "demo",
            "password": password,
            "language": "en",
        }
        async with session.post(f"{base}/api/onboarding/users", json=user) as response:
            if response.status != 200:
                raise DemoError(f"onboarding failed: {await response.text()}")
            auth_code = (await response.json())["auth_code"]
        tokens = await _token(
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
            ("core_config", {}),
            ("analytics", {}),
            ("integration", {"client_id": client_id, "redirect_uri": f"{base}/?auth_callback=1"}),
        ):
            async with session.post(
                f"{base}/api/onboarding/{step}", json=body, headers=headers
            ) as response:
                if response.status not in (200, 403):  # 403: step already done
                    raise DemoError(f"onboarding step {step} failed: {await response.text()}")
        access: str = tokens["access_token"]
        return access
    if not credentials_file.exists():
        raise DemoError(
            "Home Assistant in .demo/ is onboarded but .demo/credentials.json is missing; "
            "delete .demo/ to start over"
        )
    saved = json.loads(credentials_file.read_text())
    tokens = await _token(
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


# Onboarding adds these; they need the internet or ffmpeg, which the demo lacks,
# and would only fill the log with errors.
ONLINE_ONLY_DOMAINS = frozenset({"met", "radio_browser", "google_translate"})


async def _entries(
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


async def _remove_online_only_entries(
    session: aiohttp.ClientSession, base: str, token: str
) -> None:
    for entry in await _entries(session, base, token):
        if entry["domain"] in ONLINE_ONLY_DOMAINS:
            async with session.delete(
                f"{base}/api/config/config_entries/entry/{entry['entry_id']}",
                headers={"Authorization": f"Bearer {token}"},
            ):
                pass


async def _wait_until_loaded(
    session: aiohttp.ClientSession, base: str, token: str, expected: int
) -> str:
    """Wait (up to 60 s) until the appliances' entries are loaded; describe their states."""
    counts: Counter[str] = Counter()
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(60):
            while True:
                counts = Counter(
                    entry["state"] for entry in await _entries(session, base, token, DOMAIN)
                )
                if counts["loaded"] >= expected:
                    break
                await asyncio.sleep(1)
    return ", ".join(f"{count} {state}" for state, count in counts.items()) or "none"


def _fill(schema: list[dict[str, Any]], appliance: Mapping[str, Any]) -> dict[str, Any]:
    """Answer a config flow form from what the simulator printed."""
    answers: dict[str, Any] = {}
    for field in schema:
        name = field["name"]
        if name == "host":
            answers[name] = appliance["host"]
        elif name == "port":
            answers[name] = appliance["port"]
        elif "code" in name:
            answers[name] = appliance["code"]
    return answers


async def _run_flow(
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


async def _pair(
    session: aiohttp.ClientSession, base: str, token: str, appliance: Mapping[str, Any]
) -> str:
    result = await _run_flow(
        session, base, token, "appliance", lambda schema: _fill(schema, appliance)
    )
    if result["type"] == "create_entry":
        return "paired"
    if result.get("reason") == "already_configured":
        return "already paired"
    return f"skipped ({result.get('reason')})"


async def _set_up_household_energy(session: aiohttp.ClientSession, base: str, token: str) -> str:
    """The household energy entry with the default tariff (Guangxi residential)."""
    result = await _run_flow(session, base, token, "household_energy", lambda schema: {})
    if result["type"] == "create_entry":
        return "set up (Guangxi residential tariff; change it with Configure)"
    return "already set up"


async def _bring_up(base: str, demo_dir: Path, hass: Any, appliances: list[dict[str, Any]]) -> None:
    """Onboard Home Assistant, pair every appliance, set up household energy."""
    async with aiohttp.ClientSession() as session:
        await _wait_for_http(session, base, hass)
        token = await _onboard(session, base, demo_dir / "credentials.json")
        # Pairing again is harmless: for a configured appliance the flow
        # aborts as already configured and keeps the entry's key in step.
        for appliance in appliances:
            _log(f"  {appliance['id']}: {await _pair(session, base, token, appliance)}")
        # Onboarding starts these in the background; by now they exist.
        await _remove_online_only_entries(session, base, token)
        energy = await _set_up_household_energy(session, base, token)
        _log(f"  household energy: {energy}")
        states = await _wait_until_loaded(session, base, token, len(appliances) + 1)
        _log(f"  Home Assistant entries: {states}")
    credentials = json.loads((demo_dir / "credentials.json").read_text())
    _log("")
    _log(f"Home Assistant is ready: open {base}")
    _log(f"  user: {credentials['username']}   password: {credentials['password']}")
    _log("  Settings -> Devices & services -> Liuzhou Appliances shows the appliances;")
    _log("  each has an 'Energy optimisation' switch, off until you turn it on.")
    _log("  Logs: .demo/home-assistant.log.  Press Ctrl-C to stop everything.")


async def run(args: argparse.Namespace) -> int:
    demo_dir = ROOT / ".demo"
    config_dir = demo_dir / "config"
    demo_dir.mkdir(exist_ok=True)
    _write_ha_config(config_dir, args.host, args.port)
    base = f"http://{args.host}:{args.port}"

    _log("starting simulated appliances ...")
    simulators, appliances = await _start_simulators(args, demo_dir / "appliances")
    for appliance in appliances:
        _log(
            f"  {appliance['type']:<22} {appliance['id']}  {appliance['host']}:"
            f"{appliance['port']}  pairing code {appliance['code']}"
        )

    _log(f"starting Home Assistant (config in {config_dir.relative_to(ROOT)}) ...")
    log_file = (demo_dir / "home-assistant.log").open("w")
    hass = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "homeassistant",
        "-c",
        str(config_dir),
        cwd=ROOT,
        stdout=log_file,
        stderr=asyncio.subprocess.STDOUT,
        start_new_session=True,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    exit_code = 0
    try:
        bring_up = asyncio.ensure_future(_bring_up(base, demo_dir, hass, appliances))
        waiters = [
            asyncio.ensure_future(stop.wait()),
            asyncio.ensure_future(hass.wait()),
            asyncio.ensure_future(simulators.wait()),
        ]
        # Ctrl-C works at any moment, also while Home Assistant is still starting.
        await asyncio.wait([bring_up, *waiters], return_when=asyncio.FIRST_COMPLETED)
        if bring_up.done():
            bring_up.result()  # raises DemoError if setting up failed
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        else:
            bring_up.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await bring_up
        for waiter in waiters:
            waiter.cancel()
        if not stop.is_set():
            _log("a component exited unexpectedly; see .demo/home-assistant.log")
            exit_code = 1
    except DemoError as err:
        _log(f"error: {err}")
        exit_code = 1
    finally:
        _log("stopping ...")
        for process in (hass, simulators):
            if process.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    process.send_signal(signal.SIGTERM)
        for process in (hass, simulators):
            try:
                async with asyncio.timeout(30):
                    await process.wait()
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
        log_file.close()
        _log("stopped")
    return exit_code


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1", help="address Home Assistant listens on")
    parser.add_argument("--port", type=int, default=8123, help="Home Assistant's web port")
    parser.add_argument(
        "--base-port", type=int, default=16780, help="first TCP port of the simulated appliances"
    )
    parser.add_argument("--ac", type=int, default=1)
    parser.add_argument("--fridge", type=int, default=1)
    parser.add_argument("--washer", type=int, default=1)
    parser.add_argument("--dishwasher", type=int, default=1)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--speed", type=float, default=10.0, help="simulated seconds per real second"
    )
    args = parser.parse_args()
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
