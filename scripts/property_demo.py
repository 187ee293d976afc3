"""The property demo: two buildings, two hubs, one broker, head office's report.

Run through ``./scripts/estate-demo`` (which sets up .venv first). From an
empty state directory (``.estate-demo/``) it starts Mosquitto on 127.0.0.1,
TLS only (a CA and server certificate made by scripts/broker_tls.py and kept in
the state directory, a password per hub and for head office, the ACL of
docs/estate.md), simulated appliances for the property
(scripts/property_layout.py), and one Home Assistant per building, each
onboarded with a long-lived access token, its MQTT integration logged in over
TLS with the hub's own credential, verifying the broker against the CA, and its
household entry publishing as its building of the estate
(scripts/property_hub.py). It writes the roster from the simulators' addresses
and printed codes, provisions each building into its hub with ``python -m
fleet.provision --building``, and prints head office's report
(fleet.estate_report, over TLS) once both buildings are in it.
``--language zh-Hans`` onboards the hubs in Simplified Chinese (Home
Assistant's server language names the entities; buildings, floors and rooms
are named in Chinese), provisions with ``fleet.provision --language zh-Hans``
(progress and report in Chinese) and prints head office's report in Chinese. Before the
report, each hub's rooms and floors go on its Energy dashboard, checked by
Home Assistant's own validation
(scripts/property_energy.py); after it, a guest's stay in each building's
first room is checked in and out through the room webhook, and the hub's audit
line and the room's air conditioner, off again, are shown
(scripts/property_checkout.py).
Ctrl-C stops everything; a re-run reuses the state directory.

Every wait has a deadline; when one runs out the demo says in one line what did
not come up and which log to read, stops what it started and exits 1.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from dataclasses import dataclass
import json
import os
from pathlib import Path
import signal
import sys
import time
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from scripts import (  # noqa: E402
    demo,
    demo_owner as owner,
    property_broker,
    property_checkout,
    property_energy,
    property_hub,
    property_layout,
)
from scripts.demo_owner import DemoError, shown  # noqa: E402

READY = "The property is ready:"  # the line tests wait for
ESTATE = "liuzhou-demo"
PROVISION_DEADLINE = 900  # seconds per hub; 40 rooms take a few minutes on 2 cores
REPORT_DEADLINE = 120  # until head office hears every appliance of both buildings
REPORT_WAIT = 2.0  # seconds each look at the broker listens


def _log(message: str) -> None:
    print(f"[estate-demo] {message}", flush=True)


@dataclass(frozen=True, slots=True)
class Hub:
    """One building's Home Assistant."""

    building: str
    building_id: str
    port: int
    directory: Path

    @property
    def trusted_ca(self) -> Path:
        """The CA the hub's MQTT entry verifies the broker against, as last set up."""
        return self.directory / "mqtt-ca.pem"

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.directory / "home-assistant.log"

    @property
    def provision_log(self) -> Path:
        return self.directory / "provision.log"

    @property
    def token_file(self) -> Path:
        """The long-lived access token (0600)."""
        return self.directory / "token"


async def _provision(hub: Hub, roster: Path, token_file: Path, language: str) -> str:
    """Run fleet.provision for the hub's building in ``language``; its closing line (the
    totals), DemoError if not all done."""
    chosen = ["--language", language] if language != "en" else []
    with hub.provision_log.open("w") as log:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "fleet.provision",
            str(roster),
            "--url",
            hub.base,
            "--token-file",
            str(token_file),
            "--building",
            hub.building,
            *chosen,
            cwd=ROOT,
            stdout=log,
            stderr=asyncio.subprocess.STDOUT,
        )
        try:
            async with asyncio.timeout(PROVISION_DEADLINE):
                status = await process.wait()
        except TimeoutError:
            process.kill()
            await process.wait()
            raise DemoError(
                f"provisioning {hub.building} did not finish within {PROVISION_DEADLINE} s; "
                f"see {shown(hub.provision_log)}"
            ) from None
    lines = hub.provision_log.read_text().strip().splitlines()
    if status != 0:
        raise DemoError(
            f"provisioning {hub.building} ended with exit status {status}; "
            f"see {shown(hub.provision_log)}"
        )
    return lines[-1] if lines else "done"


async def _bring_up_hub(
    hub: Hub,
    process: asyncio.subprocess.Process,
    broker: property_broker.Broker,
    roster: Path,
    language: str,
) -> None:
    """Onboard the hub, connect it to the broker, set up its household, provision it."""
    import aiohttp

    async with aiohttp.ClientSession() as session:
        await demo._wait_for_http(session, hub.base, process, shown(hub.log))
        access = await owner.onboard(
            session, hub.base, hub.directory / "credentials.json", language
        )
        await owner.remove_online_only_entries(session, hub.base, access)
        token_file = hub.token_file
        token = await property_hub.long_lived_token(session, hub.base, access, token_file)
        user = property_broker.hub_user(hub.building_id)
        login = property_hub.MqttLogin(
            broker.port, user, broker.passwords[user], broker.ca, hub.trusted_ca
        )
        mqtt = await property_hub.set_up_mqtt(
            session, hub.base, token, login, f"liuzhou/{ESTATE}/{hub.building_id}/status"
        )
        _log(f"  {hub.building}: MQTT {mqtt}")
        household = await property_hub.set_up_household(
            session, hub.base, token, ESTATE, hub.building_id
        )
        _log(f"  {hub.building}: household entry {household}")
    _log(f"  {hub.building}: provisioning (progress in {shown(hub.provision_log)}) ...")
    _log(f"  {hub.building}: {await _provision(hub, roster, token_file, language)}")


async def _energy_dashboard(
    hub: Hub, places: list[property_layout.Place]
) -> property_energy.EnergyDashboard:
    """The hub's rooms and floors on its Energy dashboard, checked by Home Assistant."""
    import aiohttp

    rooms = len({place.room for place in places if place.building_id == hub.building_id})
    token = hub.token_file.read_text().strip()
    async with aiohttp.ClientSession() as session:
        dashboard = await property_energy.set_up_energy_dashboard(session, hub.base, token, rooms)
    _log(f"  {hub.building}: Energy dashboard: {dashboard.summary()}")
    return dashboard


# The checks that run on after the ready line (kept here: the loop holds tasks weakly).
_LATER: set[asyncio.Task[None]] = set()


async def _statistics(hub: Hub, dashboard: property_energy.EnergyDashboard) -> None:
    """Say when the hub's energy sensors have statistics and Home Assistant finds no issue."""
    import aiohttp

    token = hub.token_file.read_text().strip()
    try:
        async with aiohttp.ClientSession() as session:
            await property_energy.statistics_compiled(session, hub.base, token, dashboard)
    except DemoError as err:
        _log(f"  {hub.building}: error: {err}")
        return
    except (aiohttp.ClientError, aiohttp.WSMessageTypeError):
        return  # the hub has stopped: the demo is stopping, or says why it stops
    _log(
        f"  {hub.building}: Energy dashboard: statistics compiled; Home Assistant's "
        "validation reports no issues"
    )


async def _check_out(hub: Hub, places: list[property_layout.Place]) -> None:
    """A guest's stay in the building's first room, checked in and out through the webhook."""
    import aiohttp

    first = next(place for place in places if place.building_id == hub.building_id)
    token = hub.token_file.read_text().strip()
    async with aiohttp.ClientSession() as session:
        done = await property_checkout.stay(
            session, hub.base, token, f"{hub.building} / {first.room}"
        )
    for line in done.summary():
        _log(f"  {hub.building}: {line}")


async def _head_office(
    broker: property_broker.Broker, expected: dict[str, int], language: str
) -> str:
    """Head office's report (over TLS) once every building's appliances are in it (text)."""
    from fleet import estate_report
    from fleet.estate_mqtt import BrokerError

    settings = broker.settings(property_broker.OFFICE)
    heard: dict[str, int] = {}
    try:
        async with asyncio.timeout(REPORT_DEADLINE):
            while True:
                try:
                    view = await asyncio.to_thread(
                        estate_report.collect, settings, ESTATE, REPORT_WAIT
                    )
                except BrokerError as err:
                    raise DemoError(
                        f"head office cannot read the broker: {err}; see {shown(broker.log)}"
                    ) from None
                data = view.as_dict()
                # Heard, and in place: an appliance's state is first published when it
                # is paired, then again with its floor and room once provisioning puts it
                # there; the report waits for the second.
                heard = {
                    name: sum(
                        1
                        for appliance in building["appliances"]
                        if appliance["floor"] and appliance["room"]
                    )
                    for name, building in data["buildings"].items()
                    if building["hub"] == "online"
                }
                if all(heard.get(name, 0) >= count for name, count in expected.items()):
                    return estate_report.render(data, language)
    except TimeoutError:
        said = ", ".join(f"{name} {heard.get(name, 0)}/{n}" for name, n in expected.items())
        raise DemoError(
            f"head office did not hear every appliance in its room within {REPORT_DEADLINE} s "
            f"({said}); "
            f"see the hubs' home-assistant.log and {shown(broker.log)}"
        ) from None


def _check_language(state: Path, language: str) -> None:
    """Record the state directory's language; DemoError if it was set up in another."""
    saved = state / "language"
    if saved.exists() and (was := saved.read_text().strip()) != language:
        raise DemoError(
            f"{shown(state)} holds a property set up with --language {was}; run with "
            f"--language {was}, or give another --state-dir (or delete it) for {language}"
        )
    saved.write_text(language + "\n")


async def _bring_up(
    args: argparse.Namespace, state: Path, processes: list[asyncio.subprocess.Process], logs: Any
) -> None:
    started = time.monotonic()
    _check_language(state, args.language)
    places = property_layout.layout(args.rooms, language=args.language)
    building_ids = [building_id for _name, building_id in property_layout.BUILDINGS]
    broker = property_broker.configure(state / "broker", args.broker_port, ESTATE, building_ids)
    certificates = {"made": "made", "renewed": "server certificate renewed", "kept": "reused"}
    _log(
        f"starting Mosquitto on {broker.url} (TLS only; CA {shown(broker.ca)} "
        f"{certificates[broker.certificates]}) ..."
    )
    processes.append(await property_broker.start(broker))

    need = property_layout.counts(places)
    _log(f"starting {len(places)} simulated appliances for {args.rooms} rooms ...")
    simulator_args = argparse.Namespace(
        ac=need["room_air_conditioner"],
        fridge=need["refrigerator"],
        washer=need["laundry_washer"],
        dishwasher=0,
        seed=args.seed,
        speed=args.speed,
        base_port=args.base_port,
        module=args.module,
    )
    simulators, appliances = await demo._start_simulators(
        simulator_args, state / "appliances", logs["appliances"]
    )
    processes.append(simulators)
    pairs = property_layout.assign(places, appliances)
    roster = state / "roster.csv"
    property_layout.write_roster(roster, pairs)
    _log(f"  roster of {len(pairs)} appliances written to {shown(roster)}")

    hubs = [
        Hub(name, building_id, args.port + index, state / building_id)
        for index, (name, building_id) in enumerate(
            property_layout.buildings(len(property_layout.BUILDINGS), args.language)
        )
    ]
    hub_processes = []
    for hub in hubs:
        demo._write_ha_config(hub.directory / "config", "127.0.0.1", hub.port, args.language)
        _log(f"starting the {hub.building} hub on {hub.base} (log {shown(hub.log)}) ...")
        # A temporary folder per hub: Home Assistant's file upload keeps uploads in
        # <tmp>/home-assistant-file_upload and empties it at its first upload and at
        # stop, so hubs sharing /tmp would delete each other's uploaded rosters.
        private_tmp = hub.directory / "tmp"
        private_tmp.mkdir(parents=True, exist_ok=True)
        process = await asyncio.create_subprocess_exec(
            *demo._home_assistant_command(hub.directory / "config"),
            cwd=ROOT,
            env={**os.environ, "TMPDIR": str(private_tmp)},
            stdout=logs[hub.building_id],
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
        )
        processes.append(process)
        hub_processes.append(process)
    await asyncio.gather(
        *(
            _bring_up_hub(hub, process, broker, roster, args.language)
            for hub, process in zip(hubs, hub_processes, strict=True)
        )
    )
    _log("Energy dashboards (rooms and floors as devices, the property as the grid):")
    dashboards = await asyncio.gather(*(_energy_dashboard(hub, places) for hub in hubs))
    expected = {
        hub.building_id: sum(1 for place, _ in pairs if place.building_id == hub.building_id)
        for hub in hubs
    }
    _log("head office's report (python -m fleet.estate_report):")
    report = await _head_office(broker, expected, args.language)
    print(report, flush=True)
    _log("a guest's stay per building, through the room webhook (occupied, then check_out):")
    await asyncio.gather(*(_check_out(hub, places) for hub in hubs))
    rule = "-" * 64
    print(flush=True)
    _log(rule)
    _log(f"{READY} {len(pairs)} appliances in {time.monotonic() - started:.0f} s")
    for hub in hubs:
        login = json.loads((hub.directory / "credentials.json").read_text())
        _log(
            f"  {hub.building}: open {hub.base}  user: {login['username']}   "
            f"password: {login['password']}"
        )
    language = f" --language {args.language}" if args.language != "en" else ""
    _log(
        f"  head office: .venv/bin/python -m fleet.estate_report --broker {broker.url} "
        f"--ca {shown(broker.ca)} --estate {ESTATE} --username {property_broker.OFFICE} "
        f"--password-file {shown(broker.password_file(property_broker.OFFICE))}{language}"
    )
    _log(f"  roster: {shown(roster)}; each hub's token: {shown(state)}/<building>/token")
    _log("  Press Ctrl-C to stop everything.")
    _log(rule)
    print(flush=True)
    for hub, dashboard in zip(hubs, dashboards, strict=True):
        if dashboard.pending:
            task = asyncio.ensure_future(_statistics(hub, dashboard))
            _LATER.add(task)
            task.add_done_callback(_LATER.discard)


async def run(args: argparse.Namespace) -> int:
    """Start everything, wait for Ctrl-C (0) or a failure (1), stop everything."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    state: Path = args.state_dir.resolve()
    state.mkdir(parents=True, exist_ok=True)
    processes: list[asyncio.subprocess.Process] = []
    names = ["appliances", *(building_id for _n, building_id in property_layout.BUILDINGS)]
    with contextlib.ExitStack() as stack:
        logs = {}
        for name in names:
            path = state / name / "home-assistant.log" if name != "appliances" else None
            path = path or state / "appliances.log"
            path.parent.mkdir(parents=True, exist_ok=True)
            logs[name] = stack.enter_context(path.open("w"))
        exit_code = 0
        try:
            setup = asyncio.ensure_future(_bring_up(args, state, processes, logs))
            stopped = asyncio.ensure_future(stop.wait())
            try:
                await asyncio.wait([setup, stopped], return_when=asyncio.FIRST_COMPLETED)
                if not setup.done():
                    setup.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await setup
                    return 0
                setup.result()
                exits = [asyncio.ensure_future(p.wait()) for p in processes]
                await asyncio.wait([stopped, *exits], return_when=asyncio.FIRST_COMPLETED)
                for waiter in exits:
                    waiter.cancel()
                if not stop.is_set():
                    _log(f"error: a part exited by itself; see the logs in {shown(state)}")
                    exit_code = 1
            finally:
                stopped.cancel()
        except DemoError as err:
            _log(f"error: {err}")
            exit_code = 1
        except Exception as err:  # one line, never a traceback, for a newcomer
            _log(f"error: {type(err).__name__}: {err}; see the logs in {shown(state)}")
            exit_code = 1
        finally:
            await demo._stop(processes, _log)
    return exit_code


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="./scripts/estate-demo",
        description=(
            "A property of two buildings: a hub (Home Assistant) per building, Mosquitto, "
            "simulated appliances provisioned from a roster, and head office's report. "
            "Ctrl-C stops everything."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--rooms", metavar="N", type=int, default=40, help="rooms, over 4 floors in 2 buildings"
    )
    parser.add_argument(
        "--port",
        metavar="PORT",
        type=int,
        default=8123,
        help="web port of the first building's hub; the second's is the next",
    )
    parser.add_argument(
        "--broker-port",
        metavar="PORT",
        type=int,
        default=8883,
        help="Mosquitto's port (TLS only: the hubs and head office verify it against the "
        "demo's CA)",
    )
    demo.add_simulator_arguments(parser)
    parser.add_argument(
        "--language",
        choices=demo.LANGUAGES,
        default="en",
        help="the hubs' server language (it names devices and entities), the owner's "
        "interface language, the buildings' and rooms' names and head office's report; "
        "zh-Hans sets up a Chinese property",
    )
    parser.add_argument(
        "--state-dir",
        metavar="DIR",
        type=Path,
        default=ROOT / ".estate-demo",
        help="the broker's, the hubs' and the appliances' state and logs; delete it to start over",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse the options (before anything is started), then run."""
    args = _parser().parse_args(argv)
    if args.rooms < 4:
        _parser().error("--rooms: at least 4 (one per floor)")
    return asyncio.run(run(args), loop_factory=asyncio.new_event_loop)


if __name__ == "__main__":
    sys.exit(main())
