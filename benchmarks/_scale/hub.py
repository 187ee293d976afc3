"""The hub process of ``./scripts/bench scale``: one Home Assistant, every appliance added.

``python -m benchmarks._scale.hub --roster PATH ... --config-dir DIR`` runs a
test Home Assistant (``async_test_home_assistant``), optionally with the
recorder on a sqlite file, adds one config entry per appliance of the
rosters (the key the appliance holds), sets the integration up as Home
Assistant does at start (every entry at once) and measures:

* set-up: from setting up the integration until every entry is loaded and
  every enabled entity of the integration has a state other than
  unavailable; entries seen in SETUP_RETRY or that needed more than one
  connect attempt count as retried;
* then, after a short warm-up, over the window: this process's CPU time
  (every thread: the recorder's too) over wall time, RSS, event-loop lag
  (a task sleeping 20 ms records how late it wakes), the round trip of a
  blocking ``climate.set_temperature`` on one appliance, pushes handed to
  Home Assistant (the coordinators' counters), disconnects and
  ``state_changed`` events.

Prints one JSON line, the figures or ``{"failed": reason}``, and exits
without tearing Home Assistant down (the benchmark removes the config dir).
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable, Iterator
import contextlib
import cProfile
import json
import logging
import os
import resource
import sys
import time
from typing import Any

from homeassistant import loader
from homeassistant.config_entries import ConfigEntry, ConfigEntryState
from homeassistant.const import CONF_HOST, CONF_PORT, EVENT_STATE_CHANGED, STATE_UNAVAILABLE
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er, issue_registry as ir
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_test_home_assistant,
)

from custom_components.liuzhou_appliances.config_flow import async_get_hub_id
from custom_components.liuzhou_appliances.const import (
    CONF_APPLIANCE_ID,
    CONF_HUB_ID,
    CONF_KEY,
    DOMAIN,
)

from .child import code_origin, exit_when_orphaned, raise_file_limit

LAG_PERIOD = 0.02
POLL = 0.25
PAGE = os.sysconf("SC_PAGE_SIZE")


class Failed(Exception):
    """The configuration could not be measured (the reason is the message)."""


def rss_mb() -> float:
    """This process's resident set size now."""
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * PAGE / 2**20


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def stats_of(entry: ConfigEntry[Any]) -> Any:
    """The entry's ConnectionStats, or None while it is not loaded."""
    coordinator = getattr(getattr(entry, "runtime_data", None), "coordinator", None)
    return getattr(coordinator, "stats", None)


def total(entries: list[ConfigEntry[Any]], counter: str) -> int:
    return sum(getattr(stats_of(entry), counter, 0) for entry in entries)


async def lag_sampler(samples: list[float]) -> None:
    """Record how late a 20 ms sleep wakes, for ever."""
    loop = asyncio.get_running_loop()
    while True:
        before = loop.time()
        await asyncio.sleep(LAG_PERIOD)
        samples.append(max(0.0, loop.time() - before - LAG_PERIOD))


async def start_recorder(hass: HomeAssistant, db_path: str) -> None:
    """The recorder on a sqlite file, its commit interval left at the default."""
    from homeassistant.components import recorder
    from homeassistant.helpers import recorder as recorder_helper

    recorder_helper.async_initialize_recorder(hass)
    config = {"recorder": {recorder.CONF_DB_URL: f"sqlite:///{db_path}"}}
    if not await async_setup_component(hass, "recorder", config):
        raise Failed("the recorder did not set up")
    await hass.data[recorder_helper.DATA_RECORDER].db_connected


def add_entries(hass: HomeAssistant, appliances: list[dict[str, Any]], hub_id: str) -> list[Any]:
    entries = []
    for appliance in appliances:
        entry = MockConfigEntry(
            domain=DOMAIN,
            title=f"LZ {appliance['id']}",
            unique_id=appliance["id"],
            data={
                CONF_HOST: appliance["host"],
                CONF_PORT: appliance["port"],
                CONF_APPLIANCE_ID: appliance["id"],
                CONF_KEY: appliance["key"],
                CONF_HUB_ID: hub_id,
            },
        )
        entry.add_to_hass(hass)
        entries.append(entry)
    return entries


def unavailable_entities(hass: HomeAssistant) -> tuple[int, int]:
    """(enabled entities of the integration, how many have no state or are unavailable)."""
    entities = [
        e.entity_id
        for e in er.async_get(hass).entities.values()
        if e.platform == DOMAIN and e.disabled_by is None
    ]
    missing = 0
    for entity_id in entities:
        state = hass.states.get(entity_id)
        if state is None or state.state == STATE_UNAVAILABLE:
            missing += 1
    return len(entities), missing


async def set_up(
    hass: HomeAssistant, entries: list[Any], deadline: float, say: Callable[[str], None]
) -> dict[str, Any]:
    """Set the integration up (all entries at once) until every entity is available."""
    retried: set[str] = set()
    started = time.monotonic()
    cpu = time.process_time()
    task = asyncio.create_task(async_setup_component(hass, DOMAIN, {}))
    last_report = started
    while True:
        await asyncio.sleep(POLL)
        loaded = 0
        for entry in entries:
            if entry.state is ConfigEntryState.SETUP_RETRY:
                retried.add(entry.entry_id)
            elif entry.state is ConfigEntryState.LOADED:
                loaded += 1
        entities, missing = unavailable_entities(hass) if loaded == len(entries) else (0, -1)
        now = time.monotonic()
        if loaded == len(entries) and missing == 0 and task.done():
            break
        if now - last_report >= 10:
            last_report = now
            say(f"set-up: {loaded}/{len(entries)} loaded after {now - started:.0f} s")
        if now - started > deadline:
            task.cancel()
            states: dict[str, int] = {}
            for entry in entries:
                states[entry.state.name] = states.get(entry.state.name, 0) + 1
            raise Failed(
                f"set-up incomplete after {deadline:g} s: entries {states}, "
                f"{len(retried)} retried"
                + (f", {missing} of {entities} entities unavailable" if missing > 0 else "")
                + f"; open files: {open_file_limits(hass)}"
            )
    if not task.result():
        raise Failed("the integration did not set up")
    limits = open_file_limits(hass)
    elapsed = time.monotonic() - started
    for entry in entries:
        if getattr(stats_of(entry), "connect_attempts", 1) > 1:
            retried.add(entry.entry_id)
    return {
        "setup_s": round(elapsed, 3),
        "setup_cpu_s": round(time.process_time() - cpu, 3),
        "setup_retried": len(retried),
        "entities": entities,
    } | limits


def open_file_limits(hass: HomeAssistant) -> dict[str, Any]:
    """The soft open file limit now, and whether a repair issue says it is too low."""
    issues = ir.async_get(hass).issues
    return {
        "open_files_soft": resource.getrlimit(resource.RLIMIT_NOFILE)[0],
        "open_file_issue": any(
            domain == DOMAIN and "open_file" in issue_id for domain, issue_id in issues
        ),
    }


def climate_entity(hass: HomeAssistant, entries: list[Any]) -> str:
    registry = er.async_get(hass)
    for entry in entries:
        for entity in er.async_entries_for_config_entry(registry, entry.entry_id):
            if entity.domain == "climate":
                return entity.entity_id
    raise Failed("no climate entity to send commands to")


async def commands(hass: HomeAssistant, entity_id: str, rate: float, out: dict[str, Any]) -> None:
    """Blocking climate.set_temperature calls, ``rate`` a second at most, one at a time."""
    n = 0
    while True:
        n += 1
        started = time.perf_counter()
        try:
            await hass.services.async_call(
                "climate",
                "set_temperature",
                {"entity_id": entity_id, "temperature": 20.0 + 0.5 * (n % 16)},
                blocking=True,
            )
            out["times"].append(time.perf_counter() - started)
        except Exception as err:
            out["errors"] += 1
            out["last_error"] = repr(err)
        await asyncio.sleep(max(0.0, 1 / rate - (time.perf_counter() - started)))


async def measure(
    hass: HomeAssistant, entries: list[Any], args: argparse.Namespace, lag: list[float]
) -> dict[str, Any]:
    """The steady-state window."""
    target = climate_entity(hass, entries)
    changed = [0]

    @callback
    def on_state_changed(_event: Event[Any]) -> None:
        changed[0] += 1

    unsubscribe = hass.bus.async_listen(EVENT_STATE_CHANGED, on_state_changed)
    await asyncio.sleep(args.warmup)
    command_out: dict[str, Any] = {"times": [], "errors": 0, "last_error": None}
    pushes, disconnects, changed[0] = total(entries, "pushes"), total(entries, "disconnects"), 0
    lag.clear()
    rss_peak = rss_mb()
    window_start, cpu = time.monotonic(), time.process_time()
    command_task = asyncio.create_task(commands(hass, target, args.command_rate, command_out))
    while time.monotonic() - window_start < args.window:
        await asyncio.sleep(min(0.5, args.window - (time.monotonic() - window_start)))
        rss_peak = max(rss_peak, rss_mb())
    window_end = time.monotonic()
    wall = window_end - window_start
    cpu_s = time.process_time() - cpu
    command_task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await command_task
    unsubscribe()
    times = command_out["times"]
    connected = sum(1 for e in entries if getattr(stats_of(e), "connects", 0) > 0)
    return {
        "window_start": window_start,
        "window_end": window_end,
        "window_s": round(wall, 3),
        "cpu_pct": round(100 * cpu_s / wall, 2),
        "rss_peak_mb": round(rss_peak, 1),
        "rss_end_mb": round(rss_mb(), 1),
        "rss_max_lifetime_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "lag_p99_ms": round(percentile(lag, 0.99) * 1000, 2) if lag else None,
        "lag_max_ms": round(max(lag) * 1000, 2) if lag else None,
        "command_p50_ms": round(percentile(times, 0.5) * 1000, 2) if times else None,
        "command_p99_ms": round(percentile(times, 0.99) * 1000, 2) if times else None,
        "commands": len(times),
        "command_errors": command_out["errors"],
        "command_last_error": command_out["last_error"],
        "pushes_per_s": round((total(entries, "pushes") - pushes) / wall, 1),
        "disconnects": total(entries, "disconnects") - disconnects,
        "state_changed_per_s": round(changed[0] / wall, 1),
        "connected_entries": connected,
    }


@contextlib.contextmanager
def profiled(prefix: str | None, phase: str) -> Iterator[None]:
    """With a prefix, profile this phase (every coroutine of the loop) to PREFIX-PHASE.pstats."""
    if prefix is None:
        yield
        return
    profile = cProfile.Profile()
    profile.enable()
    try:
        yield
    finally:
        profile.disable()
        profile.dump_stats(f"{prefix}-{phase}.pstats")


def finish(result: dict[str, Any]) -> None:
    """Print the JSON line and end the process.

    Tearing thousands of entries down measures nothing, so Home Assistant is
    not stopped: the process just ends (the benchmark removes its files).
    """
    print(json.dumps(result), flush=True)
    sys.stderr.flush()
    os._exit(0)


def read_rosters(paths: list[str]) -> list[dict[str, Any]]:
    """Every appliance of the appliance processes' rosters."""
    appliances: list[dict[str, Any]] = []
    for path in paths:
        with open(path, encoding="utf-8") as roster:
            appliances.extend(json.load(roster)["appliances"])
    return appliances


async def run(
    args: argparse.Namespace, appliances: list[dict[str, Any]], say: Callable[[str], None]
) -> None:
    asyncio.create_task(exit_when_orphaned())  # noqa: RUF006 - runs until the process ends
    lag: list[float] = []
    async with async_test_home_assistant(config_dir=args.config_dir) as hass:
        try:
            # Load custom integrations from sys.path (the test harness blocks them).
            hass.data.pop(loader.DATA_CUSTOM_COMPONENTS)
            # No multicast here: discovery is not measured.
            hass.config.components.add("zeroconf")
            if args.recorder:
                await start_recorder(hass, os.path.join(args.config_dir, "home-assistant_v2.db"))
            entries = add_entries(hass, appliances, await async_get_hub_id(hass))
            sampler = asyncio.create_task(lag_sampler(lag))
            with profiled(args.profile, "setup"):
                result = await set_up(hass, entries, args.setup_deadline, say)
            result["setup_lag_max_ms"] = round(max(lag) * 1000, 2) if lag else None
            say(f"set-up done in {result['setup_s']:.1f} s; measuring {args.window:.0f} s")
            with profiled(args.profile, "window"):
                result |= await measure(hass, entries, args, lag)
            sampler.cancel()
            result["origin"] = code_origin()
        except Failed as err:
            result = {"failed": str(err)}
        except Exception as err:
            logging.getLogger(__name__).exception("the hub failed")
            result = {"failed": f"{type(err).__name__}: {err}"}
        finish(result)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks._scale.hub")
    parser.add_argument("--roster", action="append", required=True)
    parser.add_argument("--config-dir", required=True)
    parser.add_argument("--recorder", action="store_true")
    parser.add_argument("--window", type=float, default=20.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--setup-deadline", type=float, default=300.0)
    parser.add_argument("--command-rate", type=float, default=5.0)
    parser.add_argument("--profile", help="write cProfile stats to PROFILE-setup/-window.pstats")
    parser.add_argument("--open-files", help="SOFT[:HARD] open file limits to start with")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    if args.open_files:
        soft, _, hard = args.open_files.partition(":")
        current_hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        resource.setrlimit(resource.RLIMIT_NOFILE, (int(soft), int(hard or current_hard)))
    else:
        raise_file_limit()

    def say(text: str) -> None:
        print(f"[hub] {text}", file=sys.stderr, flush=True)

    try:
        asyncio.run(run(args, read_rosters(args.roster), say))
    except Exception as err:
        logging.getLogger(__name__).exception("the hub failed")
        finish({"failed": f"{type(err).__name__}: {err}"})


if __name__ == "__main__":
    main()
