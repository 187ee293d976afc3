"""Head office's view of the estate: ``python -m fleet.estate_report`` (docs/estate.md).

Subscribes to ``liuzhou/<estate>/#`` for ``--wait`` seconds, which brings
every retained state, summary and hub status (and the events and acks sent
meanwhile), and prints each building: hub online or not, appliances by state,
faults, energy and cost per building and per floor, in English or, with
``--language zh-Hans``, Simplified Chinese; ``--json`` prints the same as one
object. Payloads that do not decode are counted and skipped, never fatal.
Exit status: 0, or 2 when the broker cannot be reached or refuses us.
"""

from __future__ import annotations

import argparse
from collections import Counter
from dataclasses import asdict, dataclass, field
import json
import sys
import threading
import time
from typing import Any

import paho.mqtt.client as mqtt

from custom_components.liuzhou_appliances.estate_topics import (
    Ack,
    ApplianceEvent,
    ApplianceState,
    BuildingSummary,
    EstateTopicError,
    check_segment,
    decode_ack,
    decode_event,
    decode_state,
    decode_status,
    decode_summary,
    estate_filter,
    parse_topic,
)

from .estate_mqtt import BrokerError, BrokerSettings, connect
from .estate_texts import state_name, texts
from .languages import LANGUAGES


@dataclass(slots=True)
class BuildingView:
    """What head office has heard from one building."""

    status: str | None = None
    appliances: dict[str, ApplianceState] = field(default_factory=dict)
    summary: BuildingSummary | None = None
    events: list[ApplianceEvent] = field(default_factory=list)
    acks: list[Ack] = field(default_factory=list)


@dataclass(slots=True)
class EstateView:
    """Every building heard from, and the messages skipped (topic, why)."""

    estate: str
    buildings: dict[str, BuildingView] = field(default_factory=dict)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, topic: str, payload: bytes) -> None:
        """File one message under its building; a bad one goes to ``skipped``."""
        with self._lock:
            try:
                self._add(topic, payload)
            except EstateTopicError as err:
                self.skipped.append((topic, str(err)))

    def _add(self, topic: str, payload: bytes) -> None:
        parsed = parse_topic(topic)
        if parsed.building is None:
            return  # a command to every building: not a building's own message
        building = self.buildings.setdefault(parsed.building, BuildingView())
        if parsed.kind == "state":
            if not payload:  # an emptied retained message: the appliance was removed
                building.appliances.pop(str(parsed.appliance_id), None)
                return
            state = decode_state(payload)
            if state.appliance_id != parsed.appliance_id:
                raise EstateTopicError("state names another appliance than its topic")
            building.appliances[state.appliance_id] = state
        elif parsed.kind == "status":
            building.status = decode_status(payload)
        elif parsed.kind == "summary":
            building.summary = decode_summary(payload)
        elif parsed.kind == "event":
            event = decode_event(payload)
            if all(e.event_id != event.event_id for e in building.events):
                building.events.append(event)
        elif parsed.kind == "ack":
            building.acks.append(decode_ack(payload))

    def as_dict(self) -> dict[str, Any]:
        """The view as plain data (the ``--json`` output)."""
        with self._lock:
            return {
                "estate": self.estate,
                "buildings": {
                    name: _building_dict(view) for name, view in sorted(self.buildings.items())
                },
                "skipped": [{"topic": t, "reason": r} for t, r in self.skipped],
            }


def _building_dict(view: BuildingView) -> dict[str, Any]:
    states = sorted(view.appliances.values(), key=lambda s: (s.floor or "", s.room or "", s.name))
    by_state = Counter(s.state if s.online else "offline" for s in states)
    floors: dict[str, dict[str, Any]] = {}
    for state in states:
        floor = floors.setdefault(
            state.floor or "", {"appliances": 0, "energy_kwh": 0.0, "cost": 0.0}
        )
        floor["appliances"] += 1
        floor["energy_kwh"] += state.energy_kwh or 0.0
        floor["cost"] += state.cost or 0.0
    for floor in floors.values():
        floor["energy_kwh"] = round(floor["energy_kwh"], 3)
        floor["cost"] = round(floor["cost"], 2)
    return {
        "hub": view.status or "unknown",
        "appliances": [asdict(s) for s in states],
        "by_state": dict(sorted((str(k), v) for k, v in by_state.items())),
        "faults": [
            {"appliance_id": s.appliance_id, "name": s.name, "room": s.room, "faults": s.faults}
            for s in states
            if s.faults
        ],
        "floors": floors,
        "energy_kwh": round(sum(s.energy_kwh or 0.0 for s in states), 3),
        "cost": round(sum(s.cost or 0.0 for s in states), 2),
        "summary": asdict(view.summary) if view.summary is not None else None,
        "events": [asdict(e) for e in view.events],
        "acks": [asdict(a) for a in view.acks],
    }


def collect(settings: BrokerSettings, estate: str, wait: float) -> EstateView:
    """Read the estate's tree for ``wait`` seconds; BrokerError if the broker fails us."""
    check_segment(estate, "estate")
    view = EstateView(estate)
    client = connect(settings)

    def _on_message(_client: mqtt.Client, _userdata: object, message: mqtt.MQTTMessage) -> None:
        view.add(message.topic, message.payload)

    client.on_message = _on_message
    try:
        client.subscribe(estate_filter(estate), qos=1)
        time.sleep(wait)
    finally:
        client.loop_stop()
        client.disconnect()
    return view


def render(data: dict[str, Any], language: str = "en") -> str:
    """The view as text, one block per building, in ``language`` (fleet.estate_texts)."""
    said = texts(language)
    lines = [said["estate"].format(estate=data["estate"], count=len(data["buildings"]))]
    for name, building in data["buildings"].items():
        lines.append("")
        lines.append(
            said["building"].format(
                name=name,
                hub=state_name(building["hub"], language),
                appliances=len(building["appliances"]),
                energy=building["energy_kwh"],
                cost=building["cost"],
            )
        )
        states = said["list"].join(
            f"{state_name(state, language)} {count}"
            for state, count in building["by_state"].items()
        )
        lines.append(said["by_state"].format(states=states or "-"))
        for floor, totals in building["floors"].items():
            lines.append(
                said["floor"].format(
                    floor=floor or said["no_floor"],
                    appliances=totals["appliances"],
                    energy=totals["energy_kwh"],
                    cost=totals["cost"],
                )
            )
        for fault in building["faults"]:
            lines.append(
                said["fault"].format(
                    name=fault["name"],
                    room=fault["room"] or said["no_room"],
                    faults=said["list"].join(fault["faults"]),
                )
            )
    if data["skipped"]:
        lines.append("")
        lines.append(said["skipped"].format(count=len(data["skipped"])))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """The command line; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m fleet.estate_report", description=__doc__)
    BrokerSettings.add_arguments(parser)
    parser.add_argument("--estate", required=True, help="the estate id (a topic segment)")
    parser.add_argument("--wait", type=float, default=3.0, help="seconds to listen (default 3)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    parser.add_argument(
        "--language",
        choices=LANGUAGES,
        default="en",
        help="language of the text report (zh-Hans: Simplified Chinese); JSON is the same in both",
    )
    args = parser.parse_args(argv)
    try:
        view = collect(BrokerSettings.from_args(args), args.estate, args.wait)
    except (BrokerError, EstateTopicError) as err:
        print(f"estate_report: {err}", file=sys.stderr)
        return 2
    data = view.as_dict()
    text = render(data, args.language) if not args.json else None
    print(json.dumps(data, ensure_ascii=False, indent=2) if text is None else text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
