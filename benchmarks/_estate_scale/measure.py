"""What the estate scale benchmark measures once the estate is up.

* ``ProcessMeter``: CPU (% of one core, the process and its children) and RSS
  (MiB, sampled) of named processes over a window, read with psutil.
* ``OfficeTap``: head office's own subscription to the estate tree (paho, the
  ``office`` credential): counts the live messages by kind (the broker's message
  rate on the tree), keeps each appliance's last state, and tells a waiter when an
  appliance's state becomes the one it waits for (freshness).
* ``freshness``: turns ACs on or off through their hub's ``climate`` actions and
  times each change until head office's subscription sees it.
* ``report_time``: head office's report of the whole estate (fleet.estate_report),
  cold, timed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
import json
import math
import statistics
import threading
import time
from typing import TYPE_CHECKING, Any

import psutil

from custom_components.liuzhou_appliances.estate_topics import (
    EstateTopicError,
    estate_filter,
    parse_topic,
)
from fleet import estate_report
from fleet.estate_mqtt import BrokerSettings, connect
from fleet.estate_report import EstateView

if TYPE_CHECKING:
    import aiohttp
    import paho.mqtt.client as mqtt

MIB = 1024 * 1024


def _cpu_seconds(process: psutil.Process) -> float:
    """User and system CPU time of ``process`` and its children still running (s)."""
    total = 0.0
    for member in [process, *process.children(recursive=True)]:
        try:
            times = member.cpu_times()
        except psutil.Error:
            continue
        total += times.user + times.system
    return total


def _rss(process: psutil.Process) -> float:
    """Resident memory of ``process`` and its children (MiB)."""
    total = 0
    for member in [process, *process.children(recursive=True)]:
        try:
            total += member.memory_info().rss
        except psutil.Error:
            continue
    return total / MIB


@dataclass(slots=True)
class Usage:
    """One process's use over a window: CPU (% of one core) and RSS (MiB)."""

    cpu_pct: float
    rss_mean_mib: float
    rss_max_mib: float


class ProcessMeter:
    """CPU and memory of named processes over a window (``start``, ``sample``..., ``stop``)."""

    def __init__(self, pids: Mapping[str, int]) -> None:
        """``pids``: a name for each process measured (a hub, the broker ...)."""
        self._processes = {name: psutil.Process(pid) for name, pid in pids.items()}
        self._cpu0: dict[str, float] = {}
        self._rss: dict[str, list[float]] = {name: [] for name in pids}
        self._started = 0.0

    def start(self) -> None:
        """The window begins now."""
        self._started = time.monotonic()
        self._cpu0 = {name: _cpu_seconds(p) for name, p in self._processes.items()}
        self.sample()

    def sample(self) -> None:
        """Read every process's RSS once."""
        for name, process in self._processes.items():
            self._rss[name].append(_rss(process))

    def stop(self) -> dict[str, Usage]:
        """The window ends now: each process's usage over it."""
        self.sample()
        wall = time.monotonic() - self._started
        return {
            name: Usage(
                cpu_pct=100.0 * (_cpu_seconds(process) - self._cpu0[name]) / wall,
                rss_mean_mib=statistics.fmean(self._rss[name]),
                rss_max_mib=max(self._rss[name]),
            )
            for name, process in self._processes.items()
        }


@dataclass(slots=True)
class _Waiter:
    appliance_id: str
    state: str
    event: threading.Event = field(default_factory=threading.Event)
    at: float | None = None


class OfficeTap:
    """Head office's subscription to the whole estate tree, counting and watching it."""

    def __init__(self, settings: BrokerSettings, estate: str) -> None:
        """Connects at once (BrokerError if it cannot); ``close`` ends it."""
        self.estate = estate
        self.view = EstateView(estate)
        self._lock = threading.Lock()
        self._live: Counter[str] = Counter()
        self._waiters: list[_Waiter] = []
        self.states: dict[str, str | None] = {}  # appliance id -> its last main state
        self._client: mqtt.Client = connect(settings)
        self._client.on_message = self._on_message
        self._client.subscribe(estate_filter(estate), qos=1)

    def _on_message(self, _client: Any, _userdata: Any, message: mqtt.MQTTMessage) -> None:
        now = time.perf_counter()
        self.view.add(message.topic, message.payload)
        try:
            topic = parse_topic(message.topic)
        except EstateTopicError:
            return
        with self._lock:
            if not message.retain:
                self._live[topic.kind] += 1
            if topic.kind != "state" or topic.appliance_id is None:
                return
            try:
                state = json.loads(message.payload).get("state")
            except (ValueError, AttributeError):
                return
            self.states[topic.appliance_id] = state
            for waiter in self._waiters:
                if waiter.appliance_id == topic.appliance_id and waiter.state == state:
                    waiter.at = now
                    waiter.event.set()

    def live_counts(self) -> Counter[str]:
        """Live (not retained) messages received so far, by kind (state, summary ...)."""
        with self._lock:
            return Counter(self._live)

    def placed(self) -> dict[str, int]:
        """Appliances heard with their floor and room, per building whose hub is online."""
        data = self.view.as_dict()
        return {
            name: sum(1 for a in building["appliances"] if a["floor"] and a["room"])
            for name, building in data["buildings"].items()
            if building["hub"] == "online"
        }

    def wait_for(self, appliance_id: str, state: str) -> _Waiter:
        """A waiter whose event is set when ``appliance_id`` is next heard in ``state``."""
        waiter = _Waiter(appliance_id, state)
        with self._lock:
            self._waiters.append(waiter)
        return waiter

    def forget(self, waiter: _Waiter) -> None:
        """Stop watching for ``waiter``."""
        with self._lock:
            self._waiters.remove(waiter)

    def close(self) -> None:
        """Disconnect."""
        self._client.loop_stop()
        self._client.disconnect()


@dataclass(frozen=True, slots=True)
class HubApi:
    """A hub's HTTP base address, its long-lived token and its ACs (appliance id -> entity)."""

    building_id: str
    base: str
    token: str
    climates: Mapping[str, str]


@dataclass(slots=True)
class Freshness:
    """Freshness over a run of changes (ms): to head office, and the action's own time."""

    delays_ms: list[float]
    action_ms: list[float]
    lost: int
    failed: int  # actions the hub refused or did not answer


async def freshness(
    session: aiohttp.ClientSession,
    tap: OfficeTap,
    hubs: Sequence[HubApi],
    changes: int,
    patience: float,
    budget: float,
) -> Freshness:
    """Turn ``changes`` ACs (round robin over the hubs) on or off, each from its last state.

    Each change is ``climate.turn_on``/``turn_off`` on the hub (a real command to
    the appliance, acknowledged before the action returns), timed from just before
    the call until head office's subscription hears the appliance's new state. A
    change not heard within ``patience`` s is counted as lost. One at a time; no
    change is started after ``budget`` s (an overloaded estate then reports fewer).
    """
    import asyncio

    import aiohttp

    per_hub = [sorted(hub.climates.items()) for hub in hubs]
    delays: list[float] = []
    actions: list[float] = []
    lost = failed = 0
    began = time.monotonic()
    for n in range(changes):
        if time.monotonic() - began > budget:
            break
        hub = hubs[n % len(hubs)]
        appliances = per_hub[n % len(hubs)]
        appliance_id, entity_id = appliances[(n // len(hubs)) % len(appliances)]
        target = "off" if tap.states.get(appliance_id) == "on" else "on"
        waiter = tap.wait_for(appliance_id, target)
        started = time.perf_counter()
        try:
            async with session.post(
                f"{hub.base}/api/services/climate/turn_{target}",
                json={"entity_id": entity_id},
                headers={"Authorization": f"Bearer {hub.token}"},
                timeout=aiohttp.ClientTimeout(total=patience),
            ) as response:
                ok = response.status == 200
        except (aiohttp.ClientError, TimeoutError):
            ok = False
        actions.append((time.perf_counter() - started) * 1000)
        if not ok:  # the hub refused or did not answer: nothing to wait for
            tap.forget(waiter)
            failed += 1
            continue
        heard = await asyncio.to_thread(waiter.event.wait, patience)
        tap.forget(waiter)
        if heard and waiter.at is not None:
            delays.append((waiter.at - started) * 1000)
        else:
            lost += 1
        await asyncio.sleep(0.5)  # the hub's refresh after one change is not the next's
    return Freshness(delays, actions, lost, failed)


def percentile(values: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile of ``values`` (nan when empty)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = min(len(ordered), max(1, math.ceil(fraction * len(ordered))))
    return ordered[rank - 1]


@dataclass(slots=True)
class ReportTime:
    """Head office's cold read of the estate (s until every appliance is held) and report."""

    cold_read_s: float
    held: int
    report_s: float
    report_held: int
    wait_s: float


def report_time(
    settings: BrokerSettings, estate: str, expected: int, deadline: float = 120.0
) -> ReportTime:
    """Time head office's view of the whole estate, as fleet.estate_report builds it.

    First a new subscription is timed until its EstateView holds ``expected``
    appliances; then ``estate_report.collect`` with a listening time of twice that
    (at least 1 s), ``as_dict`` and ``render`` are timed, as ``python -m
    fleet.estate_report`` runs them.
    """
    view = EstateView(estate)
    started = time.perf_counter()
    client = connect(settings)
    client.on_message = lambda _c, _u, message: view.add(message.topic, message.payload)
    client.subscribe(estate_filter(estate), qos=1)
    held = 0
    try:
        while time.perf_counter() - started < deadline:
            held = sum(len(b.appliances) for b in view.buildings.values())
            if held >= expected:
                break
            time.sleep(0.005)
    finally:
        client.loop_stop()
        client.disconnect()
    cold = time.perf_counter() - started
    wait = max(1.0, round(2 * cold, 1))
    started = time.perf_counter()
    report = estate_report.collect(settings, estate, wait)
    data = report.as_dict()
    estate_report.render(data)
    report_s = time.perf_counter() - started
    report_held = sum(len(b["appliances"]) for b in data["buildings"].values())
    return ReportTime(cold, held, report_s, report_held, wait)
