"""Estate scale benchmark: an estate of serviced apartments, provisioned and run for real.

``./scripts/bench estate-scale [--rooms 500] [--hubs 4] [--per-room 4] [--floors 5]
[--window 120] [--changes 20] [--speed 1] [--state-dir DIR]`` brings the property
demo's parts up at scale from an empty state directory (a temporary one unless
``--state-dir``): one Mosquitto (TLS) with a password per hub and the estate ACL,
simulated appliances (one ``firmware_bridge simulate`` process per building), and
one Home Assistant per building (``--hubs`` buildings, Tower A, B ...) onboarded
and connected to the broker as the property demo does it. ``--rooms`` rooms over
``--floors`` floors a building hold ``--per-room`` appliances each (an AC, a
fridge, a washer, a dishwasher: scripts/property_layout.py). Then:

1. **Provisioning**: one roster, ``python -m fleet.provision --building --json`` into
   every hub at the same time: wall time per hub and in all, rows per second, the
   outcomes (fleet.provision's report), and how long until head office's
   subscription has heard every appliance in its floor and room.
2. **Steady state**, twice: as provisioned (ACs off, washers and dishwashers
   idle), then with every AC turned on through its hub. After ``--settle`` s,
   over ``--window`` s: each hub's, the simulators' and the broker's CPU (% of
   one core, psutil, children included) and RSS (MiB, sampled every 5 s), the
   machine's busy share of all its cores, and the live messages head office
   receives on the estate tree (the broker's message rate on it; retained copies
   not counted).
3. **Freshness**, after each steady state: ``--changes`` ACs turned on or off through their hub's
   ``climate`` action (a real command to the appliance), each timed until head
   office's subscription hears the new state: p50, p95, max.
4. **Head office's report**: a cold subscription timed until it holds every
   appliance, then ``fleet.estate_report.collect`` + ``render`` of the whole estate.

Prints a table and ends with one JSON line. Every process started is stopped at
the end, on failure and on Ctrl-C. Logs are in the state directory (kept with
``--state-dir``).
"""

from __future__ import annotations

import argparse
import asyncio
from collections import Counter
import contextlib
from dataclasses import asdict
import json
import math
from pathlib import Path
import signal
import sys
import tempfile
import time
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks._estate_scale import bringup, measure  # noqa: E402
from custom_components.liuzhou_appliances.provisioning import FAILURES  # noqa: E402
from scripts import demo, property_broker, property_layout  # noqa: E402
from scripts.demo_owner import DemoError  # noqa: E402
from scripts.ports import free_port_block  # noqa: E402
from scripts.property_demo import Hub  # noqa: E402

ESTATE = "liuzhou-scale"
SAMPLE_EVERY = 5.0  # seconds between RSS samples in the window
SIMULATE_MAX_PER_TYPE = 64  # firmware_bridge simulate's limit per appliance type


def _log(message: str) -> None:
    print(f"[estate-scale] {message}", flush=True)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="./scripts/bench estate-scale",
        description="Provision and run an estate of simulated serviced apartments; measure it.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--rooms", type=int, default=500, help="rooms in all")
    parser.add_argument("--hubs", type=int, default=4, help="buildings, one hub each")
    parser.add_argument("--per-room", type=int, default=4, help="appliances a room (1 to 4)")
    parser.add_argument(
        "--floors", type=int, default=None, help="floors a building (5, fewer for few rooms)"
    )
    parser.add_argument("--window", type=float, default=120.0, help="steady-state window (s)")
    parser.add_argument("--settle", type=float, default=30.0, help="wait before the window (s)")
    parser.add_argument("--changes", type=int, default=20, help="freshness changes")
    parser.add_argument("--speed", type=float, default=1.0, help="simulated s per real second")
    parser.add_argument("--seed", type=int, default=1, help="first building's simulator seed")
    parser.add_argument(
        "--port", type=int, default=0, help="first hub's web port (0: free ones are chosen)"
    )
    parser.add_argument(
        "--broker-port", type=int, default=0, help="Mosquitto's port (0: a free one)"
    )
    parser.add_argument("--provision-deadline", type=float, default=3600.0, help="per hub (s)")
    parser.add_argument(
        "--state-dir", type=Path, default=None, help="keep state and logs here (must be empty)"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; 0 with the figures printed, 1 if the estate did not come up."""
    args = _parser().parse_args(argv)
    if args.floors is None:
        args.floors = max(1, min(5, args.rooms // max(1, args.hubs)))
    try:
        property_layout.layout(
            args.rooms,
            building_count=args.hubs,
            floors_per_building=args.floors,
            per_room=args.per_room,
        )
    except ValueError as err:
        _parser().error(str(err))
    if args.state_dir is not None:
        state = args.state_dir.resolve()
        if state.exists() and any(state.iterdir()):
            _parser().error(f"--state-dir {state} is not empty")
        state.mkdir(parents=True, exist_ok=True)
        return asyncio.run(_main(args, state))
    with tempfile.TemporaryDirectory(prefix="estate-scale-") as tmp:
        return asyncio.run(_main(args, Path(tmp)))


async def _main(args: argparse.Namespace, state: Path) -> int:
    processes: list[asyncio.subprocess.Process] = []
    results: dict[str, Any] = {}
    with contextlib.ExitStack() as logs:
        run = asyncio.ensure_future(_run(args, state, processes, results, logs))
        # SIGTERM, and SIGINT even when a background shell ignores it, stop the run
        # through the finally below, which stops every process started.
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, run.cancel)
        try:
            await run
        except asyncio.CancelledError:
            _log("stopped before the end")
            print(
                json.dumps(_rounded({"benchmark": "estate_scale", "error": "stopped", **results}))
            )
            return 1
        except DemoError as err:
            _log(f"error: {err}")
            # What was measured before the failure, for the record.
            print(json.dumps(_rounded({"benchmark": "estate_scale", "error": str(err), **results})))
            return 1
        finally:
            await demo._stop(processes, _log)
    _print(results)
    return 0


async def _run(
    args: argparse.Namespace,
    state: Path,
    processes: list[asyncio.subprocess.Process],
    results: dict[str, Any],
    logs: contextlib.ExitStack,
) -> None:
    started = time.monotonic()
    places = property_layout.layout(
        args.rooms,
        building_count=args.hubs,
        floors_per_building=args.floors,
        per_room=args.per_room,
    )
    names = property_layout.buildings(args.hubs)
    building_ids = [building_id for _name, building_id in names]
    results["setup"] = {
        "rooms": args.rooms,
        "hubs": args.hubs,
        "per_room": args.per_room,
        "floors_per_building": args.floors,
        "appliances": len(places),
        "speed": args.speed,
        "cores": psutil.cpu_count(),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "started_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    broker_port = args.broker_port or free_port_block(1)
    broker = property_broker.configure(state / "broker", broker_port, ESTATE, building_ids)
    _log(f"starting Mosquitto on {broker.url} ...")
    broker_process = await property_broker.start(broker)
    processes.append(broker_process)
    await asyncio.sleep(0.5)
    if broker_process.returncode is not None:  # another broker held the port
        raise DemoError(f"mosquitto exited at start; see {broker.log}")

    groups = _simulator_groups(places)
    _log(f"starting {len(places)} simulated appliances in {len(groups)} processes ...")
    simulated = await asyncio.gather(
        *(
            bringup.start_simulators(
                property_layout.counts(group),
                args.seed + index,
                args.speed,
                state / "appliances" / name,
                logs.enter_context((state / f"appliances-{name}.log").open("w")),
            )
            for index, (name, group) in enumerate(groups.items())
        ),
        return_exceptions=True,
    )
    for outcome in simulated:
        if not isinstance(outcome, BaseException):
            processes.append(outcome[0])
    for outcome in simulated:
        if isinstance(outcome, BaseException):
            raise outcome
    pairs = []
    simulator_pids: dict[str, int] = {}
    for (name, group), outcome in zip(groups.items(), simulated, strict=True):
        assert not isinstance(outcome, BaseException)
        pairs += property_layout.assign(group, outcome[1])
        simulator_pids[f"simulators {name}"] = outcome[0].pid
    roster = state / "roster.csv"
    property_layout.write_roster(roster, pairs)
    _log(f"  roster of {len(pairs)} appliances: {roster}")

    first_port = args.port or free_port_block(len(names))
    hubs = [
        Hub(name, building_id, first_port + index, state / building_id)
        for index, (name, building_id) in enumerate(names)
    ]
    hub_processes = []
    for hub in hubs:
        hub.directory.mkdir(parents=True, exist_ok=True)
        _log(f"starting the {hub.building} hub on {hub.base} ...")
        process = await bringup.start_hub(hub, logs.enter_context(hub.log.open("w")))
        processes.append(process)
        hub_processes.append(process)
    hubs_started = time.monotonic()
    tokens = await asyncio.gather(
        *(
            bringup.set_up_hub(hub, process, broker, ESTATE)
            for hub, process in zip(hubs, hub_processes, strict=True)
        )
    )
    results["hubs_ready_s"] = time.monotonic() - hubs_started
    _log(f"  hubs onboarded, on the broker, household set up in {results['hubs_ready_s']:.1f} s")

    office = broker.settings(property_broker.OFFICE)
    tap = measure.OfficeTap(office, ESTATE)
    try:
        expected = {
            hub.building_id: sum(1 for place, _ in pairs if place.building_id == hub.building_id)
            for hub in hubs
        }
        await _provision_and_measure(args, hubs, hub_processes, tap, roster, expected, results)
        meter_pids = {
            f"hub {hub.building_id}": p.pid for hub, p in zip(hubs, hub_processes, strict=True)
        }
        meter_pids |= simulator_pids
        meter_pids["broker"] = broker_process.pid
        apis = [
            measure.HubApi(hub.building_id, hub.base, token, climates)
            for hub, token in zip(hubs, tokens, strict=True)
            if (climates := await bringup.climate_entities(hub, token))
        ]
        steady: dict[str, Any] = {}
        results["steady"] = steady
        fresh: dict[str, Any] = {}
        results["freshness"] = fresh
        steady["idle"] = await _steady_state(args, meter_pids, tap, "as provisioned")
        fresh["idle"] = await _freshness(args, apis, tap)
        if apis:
            _log("every AC on (a hot afternoon, every apartment let) ...")
            turned = await _all_acs_on(apis)
            _log(f"  {turned} ACs on")
            steady["busy"] = await _steady_state(args, meter_pids, tap, "every AC on")
            fresh["busy"] = await _freshness(args, apis, tap)
    finally:
        tap.close()
    _log("head office's report of the whole estate ...")
    timing = await asyncio.to_thread(measure.report_time, office, ESTATE, len(places))
    results["report"] = asdict(timing)
    results["total_s"] = time.monotonic() - started


def _simulator_groups(places: list[property_layout.Place]) -> dict[str, list[Any]]:
    """The places each simulate process serves: a building's, at most 64 of a type each.

    ``firmware_bridge simulate`` takes at most 64 appliances of each type, so a
    building of more needs several processes (named tower-a, tower-a-2 ...).
    """
    groups: dict[str, list[Any]] = {}
    for place in places:
        number = 1
        while True:
            name = place.building_id if number == 1 else f"{place.building_id}-{number}"
            group = groups.setdefault(name, [])
            if sum(1 for p in group if p.kind == place.kind) < SIMULATE_MAX_PER_TYPE:
                group.append(place)
                break
            number += 1
    return groups


async def _provision_and_measure(
    args: argparse.Namespace,
    hubs: list[Hub],
    hub_processes: list[asyncio.subprocess.Process],
    tap: measure.OfficeTap,
    roster: Path,
    expected: dict[str, int],
    results: dict[str, Any],
) -> None:
    _log("provisioning every hub at once (progress in each <building>/provision.log) ...")
    started = time.monotonic()
    done = await asyncio.gather(
        *(bringup.provision(hub, roster, args.provision_deadline) for hub in hubs)
    )
    total = time.monotonic() - started
    outcomes: Counter[str] = Counter()
    per_hub = {}
    for hub, result in zip(hubs, done, strict=True):
        summary = Counter(result.report.get("summary", {}))
        summary.pop("other_building", None)
        rows = sum(summary.values())
        outcomes.update(summary)
        per_hub[hub.building_id] = {
            "wall_s": result.wall_s,
            "ha_seconds": result.report.get("seconds"),
            "rows": rows,
            "rows_per_s": rows / result.wall_s,
            "failed": result.report.get("failed", 0),
            "status": result.status,
        }
        _log(f"  {hub.building}: {dict(summary)} in {result.wall_s:.1f} s")
    rows = sum(outcomes.values())
    results["provision"] = {
        "wall_s": total,
        "rows": rows,
        "rows_per_s": rows / total,
        "outcomes": dict(outcomes),
        "failed": sum(outcomes[o] for o in FAILURES),
        "per_hub": per_hub,
        # The machine's load as provisioning ended (other work on it counts too).
        "load_average": psutil.getloadavg(),
    }
    # Only what was provisioned can be heard: lines that failed are left out.
    expected = {
        hub.building_id: int(result.report.get("summary", {}).get("paired", 0))
        + int(result.report.get("summary", {}).get("already_present", 0))
        for hub, result in zip(hubs, done, strict=True)
    }
    _log(
        f"waiting for head office to hear every provisioned appliance in its room ({expected}) ..."
    )
    heard: dict[str, int] = {}
    deadline = time.monotonic() + max(300.0, rows * 0.5)
    while time.monotonic() < deadline:
        heard = tap.placed()
        if all(heard.get(b, 0) >= n for b, n in expected.items()):
            break
        for hub, process in zip(hubs, hub_processes, strict=True):
            if process.returncode is not None:
                raise DemoError(f"the {hub.building} hub exited; see {hub.log}")
        await asyncio.sleep(1)
    results["in_place_after_provision_s"] = time.monotonic() - started - total
    results["in_place"] = heard
    _log(f"  heard in place: {heard} ({results['in_place_after_provision_s']:.1f} s after)")


async def _all_acs_on(apis: list[measure.HubApi]) -> int:
    """``climate.turn_on`` for every AC, one action per hub; how many ACs.

    A hub that answers with an error is logged: the steady state's appliance
    states say how many ACs are on.
    """
    import aiohttp

    async with aiohttp.ClientSession() as session:
        for api in apis:
            async with session.post(
                f"{api.base}/api/services/climate/turn_on",
                json={"entity_id": sorted(api.climates.values())},
                headers={"Authorization": f"Bearer {api.token}"},
                timeout=aiohttp.ClientTimeout(total=600),
            ) as response:
                if response.status != 200:
                    _log(f"  {api.building_id}: turn_on answered HTTP {response.status}")
    return sum(len(api.climates) for api in apis)


async def _steady_state(
    args: argparse.Namespace, pids: dict[str, int], tap: measure.OfficeTap, what: str
) -> dict[str, Any]:
    """Usage and messages over the window, after settling; ``what`` names the state."""
    _log(f"settling {args.settle:.0f} s, then {args.window:.0f} s of steady state, {what} ...")
    await asyncio.sleep(args.settle)
    meter = measure.ProcessMeter(pids)
    machine0 = psutil.cpu_times()
    live0 = tap.live_counts()
    started = time.monotonic()
    meter.start()
    while (left := args.window - (time.monotonic() - started)) > 0:
        await asyncio.sleep(min(SAMPLE_EVERY, left))
        meter.sample()
    usage = meter.stop()
    wall = time.monotonic() - started
    live = tap.live_counts() - live0
    machine1 = psutil.cpu_times()
    idle = (machine1.idle - machine0.idle) + (machine1.iowait - machine0.iowait)
    spent = sum(machine1) - sum(machine0)
    return {
        "state": what,
        "window_s": wall,
        "usage": {name: asdict(u) for name, u in usage.items()},
        "machine_busy_pct": 100.0 * (1 - idle / spent) if spent else math.nan,
        "load_average": psutil.getloadavg(),
        "messages": dict(live),
        "messages_per_s": sum(live.values()) / wall,
        # What the appliances were doing (their main state as head office last heard it).
        "appliance_states": dict(Counter(str(v) for v in tap.states.values())),
    }


async def _freshness(
    args: argparse.Namespace, apis: list[measure.HubApi], tap: measure.OfficeTap
) -> dict[str, Any] | None:
    """Freshness over ``--changes`` AC changes (ms); None without ACs."""
    import aiohttp

    if not apis or args.changes <= 0:
        return None
    _log(f"freshness: {args.changes} AC changes through the hubs ...")
    async with aiohttp.ClientSession() as session:
        fresh = await measure.freshness(
            session, tap, apis, args.changes, patience=30.0, budget=240.0
        )
    _log(
        f"  p50 {measure.percentile(fresh.delays_ms, 0.5):.0f} ms, "
        f"p95 {measure.percentile(fresh.delays_ms, 0.95):.0f} ms, {fresh.lost} lost"
    )
    return {
        "changes": len(fresh.action_ms),
        "heard": len(fresh.delays_ms),
        "lost": fresh.lost,
        "failed": fresh.failed,
        "p50_ms": measure.percentile(fresh.delays_ms, 0.5),
        "p95_ms": measure.percentile(fresh.delays_ms, 0.95),
        "max_ms": max(fresh.delays_ms, default=math.nan),
        "action_p50_ms": measure.percentile(fresh.action_ms, 0.5),
    }


def _print(results: dict[str, Any]) -> None:
    setup = results["setup"]
    provision = results["provision"]
    print()
    print(
        f"Estate: {setup['rooms']} rooms x {setup['per_room']} = {setup['appliances']} "
        f"appliances, {setup['hubs']} hubs, simulators at speed {setup['speed']}; "
        f"{setup['cores']} cores, {setup['memory_gib']} GiB"
    )
    print(f"hubs up (onboarded, MQTT, household)   {results['hubs_ready_s']:8.1f} s")
    print(
        f"provisioning, all hubs at once         {provision['wall_s']:8.1f} s  "
        f"{provision['rows_per_s']:.2f} rows/s  outcomes {provision['outcomes']}"
    )
    for building, hub in provision["per_hub"].items():
        print(
            f"  {building:<12} {hub['wall_s']:8.1f} s  {hub['rows']:5d} rows  "
            f"{hub['rows_per_s']:.2f} rows/s  failed {hub['failed']}"
        )
    print(f"head office hears all in place after   {results['in_place_after_provision_s']:8.1f} s")
    for steady in results["steady"].values():
        print(
            f"steady state, {steady['state']}, over {steady['window_s']:.0f} s: machine busy "
            f"{steady['machine_busy_pct']:.0f} % of all cores"
        )
        print(f"  {'process':<24} {'CPU % of a core':>16} {'RSS MiB mean':>13} {'max':>8}")
        for name, use in steady["usage"].items():
            print(
                f"  {name:<24} {use['cpu_pct']:16.1f} {use['rss_mean_mib']:13.0f} "
                f"{use['rss_max_mib']:8.0f}"
            )
        for kind in ("hub", "simulators"):
            uses = [u for n, u in steady["usage"].items() if n.startswith(f"{kind} ")]
            print(
                f"  {kind + ', all':<24} {sum(u['cpu_pct'] for u in uses):16.1f} "
                f"{sum(u['rss_mean_mib'] for u in uses):13.0f} "
                f"{sum(u['rss_max_mib'] for u in uses):8.0f}"
            )
        print(
            f"  broker messages on the estate tree: {steady['messages_per_s']:.1f}/s "
            f"({steady['messages']}); appliances {steady['appliance_states']}"
        )
    for state, fresh in results["freshness"].items():
        if fresh is None:
            continue
        print(
            f"freshness, {state}, hub action -> head office "
            f"({fresh['heard']}/{fresh['changes']} heard): "
            f"p50 {fresh['p50_ms']:.0f} ms, p95 {fresh['p95_ms']:.0f} ms, "
            f"max {fresh['max_ms']:.0f} ms (the action itself p50 {fresh['action_p50_ms']:.0f} ms)"
        )
    report = results["report"]
    print(
        f"head office: cold read of the estate {report['cold_read_s']:.2f} s "
        f"({report['held']} appliances); report (collect {report['wait_s']} s + render) "
        f"{report['report_s']:.2f} s, {report['report_held']} appliances"
    )
    print(f"total {results['total_s']:.0f} s")
    print(json.dumps(_rounded({"benchmark": "estate_scale", **results})))


def _rounded(value: Any) -> Any:
    """``value`` with its floats rounded to 3 decimals (nan as null), for the JSON line."""
    if isinstance(value, float):
        return None if math.isnan(value) else round(value, 3)
    if isinstance(value, dict):
        return {str(k): _rounded(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_rounded(v) for v in value]
    return value


if __name__ == "__main__":
    sys.exit(main())
