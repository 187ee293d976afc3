"""One-command demo: Home Assistant with the integration and simulated appliances.

Run through ``./scripts/demo`` (which sets up .venv first). It starts
simulated appliances of all four types (``python -m firmware_bridge
simulate``), a Home Assistant instance whose config lives in the state
directory (``.demo/``) with this repository's integration linked in, completes
onboarding through Home Assistant's HTTP API (printing the credentials it
created), pairs every appliance through the integration's own config flow,
exactly as a user would, and puts each appliance's energy sensor on the Energy
dashboard. ``--language zh-Hans`` sets up a Chinese home: Home Assistant's
server language (which names devices and entities), the owner's interface
language and the appliances' names. Ctrl-C stops everything cleanly. Re-running
reuses the same Home Assistant user, appliances and entries.

Every wait has a deadline; when one runs out the demo says in one line what did
not come up and which log to read, stops what it started and exits 1.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable, Mapping
import contextlib
import ipaddress
import json
import os
from pathlib import Path
import shutil
import signal
import sys
from typing import TYPE_CHECKING, Any
import unicodedata

if TYPE_CHECKING:
    import aiohttp

ROOT = Path(__file__).resolve().parent.parent
# Run as a script (./scripts/demo) or imported as scripts.demo (the tests).
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from scripts import demo_owner as owner, demo_panels  # noqa: E402
from scripts.demo_owner import DOMAIN, DemoError, shown as _shown  # noqa: E402

READY = "Home Assistant is ready: open"  # the line tests and scripts wait for

# Deadlines (seconds). Home Assistant's first start on a fresh state directory
# takes 20-40 s on a 2-core machine; these leave room for a slow one.
SIMULATORS_DEADLINE = 60
HTTP_DEADLINE = 240
LOADED_DEADLINE = 90
STOP_DEADLINE = 30

# The languages the integration is translated into; English is the default.
LANGUAGES = ("en", "zh-Hans")
HOME_NAME = {"en": "Liuzhou home (demo)", "zh-Hans": "柳州的家（演示）"}

CONFIGURATION_YAML = """\
# Written by scripts/demo. default_config is not used: some of its parts need
# binaries (go2rtc, ffmpeg, libpcap) that these machines lack. Assist (the
# conversation agent and its pipeline) works offline; speech needs add-ons.
homeassistant:
  name: {name}
  language: {language}
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
# The room webhook a property-management system calls (docs/fleet.md).
webhook:
onboarding:
energy:
history:
logbook:
conversation:
assist_pipeline:
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
    # Text-to-speech, which Assist loads, asks for the ffmpeg binary at start;
    # only spoken answers need it, typed ones work without.
    haffmpeg: critical
"""

# Where the demo puts each type: Home Assistant's default areas (named in the
# owner's language at onboarding), and a balcony, where a Chinese home keeps its
# washer, which the demo adds.
AREA_OF_TYPE = {
    "room_air_conditioner": {"en": "Bedroom", "zh-Hans": "卧室"},
    "refrigerator": {"en": "Kitchen", "zh-Hans": "厨房"},
    "dishwasher": {"en": "Kitchen", "zh-Hans": "厨房"},
    "laundry_washer": {"en": "Balcony", "zh-Hans": "阳台"},
}


def _log(message: str) -> None:
    print(f"[demo] {message}", flush=True)


async def _start_simulators(
    args: argparse.Namespace, state_dir: Path, log: Any
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
        "--module",
        args.module,
        "--json",
        "--no-zeroconf",  # paired by address below; nothing to announce on the LAN
        "--panel",  # lines typed at the demo reach the voice panels (demo_panels.py)
    ]
    process = await asyncio.create_subprocess_exec(
        *command,
        cwd=ROOT,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=log,
        start_new_session=True,
    )
    assert process.stdout is not None
    wanted = args.ac + args.fridge + args.washer + args.dishwasher
    appliances: list[dict[str, Any]] = []
    log_name = _shown(Path(log.name))
    try:
        async with asyncio.timeout(SIMULATORS_DEADLINE):
            while len(appliances) < wanted:
                line = await process.stdout.readline()
                if not line:
                    raise DemoError(f"the simulated appliances exited at start; see {log_name}")
                appliances.append(json.loads(line))
    except TimeoutError:
        process.terminate()
        raise DemoError(
            f"the simulated appliances did not start within {SIMULATORS_DEADLINE} s; see {log_name}"
        ) from None
    return process, appliances


def _home_assistant_command(config_dir: Path) -> list[str]:
    return [sys.executable, "-m", "homeassistant", "-c", str(config_dir)]


def _type_names(language: str) -> dict[str, str]:
    """Appliance types as the integration names them in ``language`` (its translations)."""
    path = ROOT / "custom_components" / DOMAIN / "translations" / f"{language}.json"
    devices: dict[str, dict[str, str]] = json.loads(path.read_text(encoding="utf-8"))["device"]
    return {kind: names["name"] for kind, names in devices.items()}


def _padded(text: str, width: int) -> str:
    """``text`` padded to ``width`` terminal columns (Chinese characters take two)."""
    columns = sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)
    return text + " " * max(0, width - columns)


def _label_code(code: str) -> str:
    """The pairing code as printed on the appliance's label: 1234-5678."""
    digits = code.replace("-", "")
    return f"{digits[:4]}-{digits[4:]}" if len(digits) == 8 else code


def _storage(key: str, version: int, data: Mapping[str, Any]) -> str:
    """A Home Assistant ``.storage`` file's text (its Store format)."""
    return json.dumps({"version": version, "minor_version": 1, "key": key, "data": data})


def _write_ha_config(config_dir: Path, host: str, port: int, language: str = "en") -> None:
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "configuration.yaml").write_text(
        CONFIGURATION_YAML.format(
            host=host, port=port, domain=DOMAIN, language=language, name=HOME_NAME[language]
        ),
        encoding="utf-8",
    )
    storage = config_dir / ".storage"
    storage.mkdir(exist_ok=True)
    onboarding = storage / "onboarding"
    if not onboarding.exists():
        # Location and analytics are answered here, not through the API: the
        # location is in configuration.yaml, nothing is sent anywhere, and the
        # API's location step would add weather, radio and text-to-speech
        # entries that need the internet.
        onboarding.write_text(_storage("onboarding", 4, {"done": ["core_config", "analytics"]}))
    network = storage / "core.network"
    if ipaddress.ip_address(host).is_loopback and not network.exists():
        # Served on loopback only: Home Assistant announces and browses mDNS on
        # loopback too, never on the LAN the machine happens to be on.
        network.write_text(_storage("core.network", 1, {"configured_adapters": ["lo"]}))
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


async def _wait_for_http(
    session: aiohttp.ClientSession, base: str, hass: Any, log_name: str
) -> None:
    """Wait until Home Assistant's HTTP API answers, before or after onboarding.

    ``/auth/providers`` needs no login: 200 once onboarded, and before that 400
    with ``onboarding_required`` (which is just as good: the server is up).
    """
    import aiohttp

    try:
        async with asyncio.timeout(HTTP_DEADLINE):
            while True:
                if hass.returncode is not None:
                    raise DemoError(f"Home Assistant exited during start-up; see {log_name}")
                with contextlib.suppress(aiohttp.ClientError, ValueError):
                    async with session.get(f"{base}/auth/providers") as response:
                        if response.status == 200:
                            return
                        body = await response.json(content_type=None)
                        if isinstance(body, dict) and body.get("code") == "onboarding_required":
                            return
                await asyncio.sleep(1)
    except TimeoutError:
        raise DemoError(
            f"Home Assistant did not answer on {base} within {HTTP_DEADLINE} s; see {log_name}"
        ) from None


async def _bring_up(
    base: str,
    demo_dir: Path,
    hass: Any,
    appliances: list[dict[str, Any]],
    logs: str,
    language: str = "en",
) -> None:
    """Onboard Home Assistant, pair every appliance, set up household energy."""
    import aiohttp

    log_name = _shown(demo_dir / "home-assistant.log")
    async with aiohttp.ClientSession() as session:
        await _wait_for_http(session, base, hass, log_name)
        token = await owner.onboard(session, base, demo_dir / "credentials.json", language)
        # A paired appliance accepts pairing only after its pairing button
        # (PROTOCOL.md 5.5), so appliances Home Assistant already has are left
        # as they are; their entries hold the key.
        wanted = {names[language] for names in AREA_OF_TYPE.values()}
        areas = await owner.area_ids(session, base, token, wanted)
        known = await owner.paired_appliance_ids(session, base, token)
        for appliance in appliances:
            area = AREA_OF_TYPE.get(appliance["type"], {}).get(language)
            area_id = areas.get(area or "")
            if appliance["id"] in known:
                _log(f"  {appliance['id']}: already paired")
                continue
            paired = await owner.pair(session, base, token, appliance, area_id)
            if paired.startswith("paired as") and area_id:
                paired += f" in {area}"
            _log(f"  {appliance['id']}: {paired}")
        # Onboarding starts these in the background; by now they exist.
        await owner.remove_online_only_entries(session, base, token)
        energy = await owner.set_up_household_energy(session, base, token)
        _log(f"  household energy: {energy}")
        expected = len(appliances) + 1
        counts, unavailable = await owner.wait_until_loaded(
            session, base, token, expected, LOADED_DEADLINE
        )
        if counts["loaded"] < expected:
            states = ", ".join(f"{count} {state}" for state, count in counts.items()) or "none"
            raise DemoError(
                f"only {counts['loaded']} of {expected} Liuzhou entries loaded within "
                f"{LOADED_DEADLINE} s ({states}); see {log_name}"
            )
        if unavailable:
            shown = ", ".join(unavailable[:3]) + (" ..." if len(unavailable) > 3 else "")
            raise DemoError(
                f"{len(unavailable)} Liuzhou entities still unavailable after "
                f"{LOADED_DEADLINE} s ({shown}); see {log_name}"
            )
        dashboard = await owner.add_to_energy_dashboard(session, base, token, appliances)
        _log(f"  Energy dashboard: {dashboard}")
    credentials = json.loads((demo_dir / "credentials.json").read_text())
    rule = "-" * 64
    print(flush=True)
    _log(rule)
    _log(f"{READY} {base}")
    _log(f"  user: {credentials['username']}   password: {credentials['password']}")
    _log("  Settings -> Devices & services -> Liuzhou Appliances shows the appliances;")
    _log("  each has an 'Energy optimisation' switch, off until you turn it on.")
    _log("  The Energy dashboard shows what each one uses; Assist (top right) takes")
    _log("  requests such as 'turn on the air conditioner'.")
    _log("  Every appliance has a voice panel: type a line here to say it at one,")
    _log(f"  e.g. '{demo_panels.EXAMPLES.get(language, demo_panels.EXAMPLES['en'])}'.")
    _log(f"  Logs: {logs}")
    _log("  Press Ctrl-C to stop everything.")
    _log(rule)
    print(flush=True)


async def run(args: argparse.Namespace) -> int:
    """Start everything, wait for Ctrl-C (or a failure), stop everything.

    Returns the exit code: 0 after Ctrl-C or SIGTERM, 1 when something did not
    come up or exited by itself (the message says what, and which log to read).
    """
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)  # Ctrl-C works at any moment

    demo_dir: Path = args.state_dir.resolve()
    config_dir = demo_dir / "config"
    demo_dir.mkdir(parents=True, exist_ok=True)
    _write_ha_config(config_dir, args.host, args.port, args.language)
    base = f"http://{args.host}:{args.port}"
    hass_log_path = demo_dir / "home-assistant.log"
    appliance_log_path = demo_dir / "appliances.log"
    logs = f"{_shown(hass_log_path)} (Home Assistant), {_shown(appliance_log_path)} (appliances)"
    processes: list[asyncio.subprocess.Process] = []
    exit_code = 0
    with appliance_log_path.open("w") as appliance_log, hass_log_path.open("w") as hass_log:
        try:
            _log("starting simulated appliances ...")
            start = asyncio.ensure_future(
                _start_simulators(args, demo_dir / "appliances", appliance_log)
            )
            await asyncio.wait(
                [start, asyncio.ensure_future(stop.wait())], return_when=asyncio.FIRST_COMPLETED
            )
            if not start.done():
                start.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await start
                return 0
            simulators, appliances = start.result()
            processes.append(simulators)
            type_names = _type_names(args.language)
            for appliance in appliances:
                kind = _padded(type_names.get(appliance["type"], appliance["type"]), 16)
                _log(
                    f"  {kind} {appliance['id']}  {appliance['host']}:"
                    f"{appliance['port']}  pairing code {_label_code(appliance['code'])}"
                )

            _log(f"starting Home Assistant (config in {_shown(config_dir)}) ...")
            hass = await asyncio.create_subprocess_exec(
                *_home_assistant_command(config_dir),
                cwd=ROOT,
                stdout=hass_log,
                stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,
            )
            processes.append(hass)
            exit_code = await _serve(
                stop, hass, simulators, appliances, base, demo_dir, logs, args.language
            )
        except DemoError as err:
            _log(f"error: {err}")
            exit_code = 1
        except Exception as err:  # one line, never a traceback, for a newcomer
            _log(f"error: {type(err).__name__}: {err}; see {logs}")
            exit_code = 1
        finally:
            await _stop(processes)
    return exit_code


async def _serve(
    stop: asyncio.Event,
    hass: asyncio.subprocess.Process,
    simulators: asyncio.subprocess.Process,
    appliances: list[dict[str, Any]],
    base: str,
    demo_dir: Path,
    logs: str,
    language: str = "en",
) -> int:
    """Bring Home Assistant up, then run until Ctrl-C (0) or until a part exits (1)."""
    bring_up = asyncio.ensure_future(_bring_up(base, demo_dir, hass, appliances, logs, language))
    waiters = [
        asyncio.ensure_future(stop.wait()),
        asyncio.ensure_future(hass.wait()),
        asyncio.ensure_future(simulators.wait()),
    ]
    panels: list[asyncio.Task[None]] = []
    try:
        await asyncio.wait([bring_up, *waiters], return_when=asyncio.FIRST_COMPLETED)
        if bring_up.done():
            bring_up.result()  # raises DemoError if setting up failed
            panels = demo_panels.start(simulators)
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (bring_up, *waiters, *panels):
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await bring_up
    if stop.is_set():
        return 0
    for name, process, log in (
        ("Home Assistant", hass, "home-assistant.log"),
        ("the simulated appliances", simulators, "appliances.log"),
    ):
        if process.returncode is not None:
            _log(
                f"error: {name} exited by itself (exit code {process.returncode}); "
                f"see {_shown(demo_dir / log)}"
            )
    return 1


async def _stop(
    processes: list[asyncio.subprocess.Process], log: Callable[[str], None] | None = None
) -> None:
    """SIGTERM each process group; SIGKILL what is still there after the deadline."""
    log = log or _log
    log("stopping ...")
    for process in processes:
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
    for process in processes:
        try:
            async with asyncio.timeout(STOP_DEADLINE):
                await process.wait()
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            await process.wait()
    log("stopped")


def add_simulator_arguments(parser: argparse.ArgumentParser) -> None:
    """The simulated appliances' options every demo has: first port, seed, speed, the
    washers' and dishwashers' network module (``python -m firmware_bridge simulate``'s)."""
    parser.add_argument(
        "--base-port",
        metavar="PORT",
        type=int,
        default=6780,
        help="TCP port of the first simulated appliance; the others follow it",
    )
    parser.add_argument(
        "--seed",
        metavar="SEED",
        type=int,
        default=1,
        help="same seed, same appliance ids and pairing codes",
    )
    parser.add_argument(
        "--speed", metavar="X", type=float, default=10.0, help="simulated seconds per real second"
    )
    parser.add_argument(
        "--module",
        choices=("linux", "mcu"),  # answered before set-up: no numpy to ask ModuleClass
        default="linux",
        help=(
            "the washers' and dishwashers' network module: linux runs the float wet_cycle "
            "model, mcu its int8 variant; each declares the version it runs"
        ),
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="./scripts/demo",
        description=(
            "Home Assistant with the Liuzhou integration and simulated appliances of all four "
            "types, onboarded and paired. Ctrl-C stops everything."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--host", metavar="ADDRESS", default="127.0.0.1", help="address Home Assistant listens on"
    )
    parser.add_argument(
        "--port", metavar="PORT", type=int, default=8123, help="Home Assistant's web port"
    )
    add_simulator_arguments(parser)
    parser.add_argument(
        "--ac", metavar="N", type=int, default=1, help="number of room air conditioners"
    )
    parser.add_argument(
        "--fridge", metavar="N", type=int, default=1, help="number of refrigerators"
    )
    parser.add_argument(
        "--washer", metavar="N", type=int, default=1, help="number of washing machines"
    )
    parser.add_argument(
        "--dishwasher", metavar="N", type=int, default=1, help="number of dishwashers"
    )
    parser.add_argument(
        "--language",
        choices=LANGUAGES,
        default="en",
        help="Home Assistant's server language (it names devices and entities), the "
        "owner's interface language and the appliances' names; zh-Hans sets up a Chinese home",
    )
    parser.add_argument(
        "--state-dir",
        metavar="DIR",
        type=Path,
        default=ROOT / ".demo",
        help="where Home Assistant's config, the appliances' keys, the logs and the "
        "login are kept; delete it to start over",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse the options (before anything is imported or started), then run."""
    args = _parser().parse_args(argv)
    # A loop of its own: the calling thread's current event loop is left as it was.
    return asyncio.run(run(args), loop_factory=asyncio.new_event_loop)


if __name__ == "__main__":
    sys.exit(main())
