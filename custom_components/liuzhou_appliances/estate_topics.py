"""The estate's MQTT topic tree and JSON payloads (docs/estate.md); no Home Assistant import.

Every building's hub publishes under ``liuzhou/<estate>/<building>/`` and head
office reads the whole ``liuzhou/<estate>/#``. This module builds the topics,
parses a topic back into its parts, and encodes and decodes every payload.
Decoders raise only ``EstateTopicError`` (a ``ValueError``), whatever the bytes:
a broker carries whatever any client with the right to publish sent.

Topics (each ``<...>`` one segment, see ``SEGMENT``)::

    liuzhou/<estate>/<building>/status                        "online" | "offline", retained
    liuzhou/<estate>/<building>/appliance/<appliance_id>/state  ApplianceState, retained
    liuzhou/<estate>/<building>/appliance/<appliance_id>/event  ApplianceEvent, QoS 1
    liuzhou/<estate>/<building>/summary                       BuildingSummary, retained
    liuzhou/<estate>/command/<command_id>                     Command, every building
    liuzhou/<estate>/<building>/command/<command_id>          Command, one building
    liuzhou/<estate>/<building>/ack/<command_id>              Ack, QoS 1
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
import json
import math
import re
from typing import Any, Final, Literal

import voluptuous as vol

ROOT: Final = "liuzhou"
SCHEMA_VERSION: Final = 1
# One topic segment: an estate, building, appliance or command id. No MQTT wildcards or
# separators, no leading "$" (the broker's own topics), short enough for any broker.
SEGMENT: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}")
# "command" sits where a building would in liuzhou/<estate>/command/<id>.
RESERVED_BUILDINGS: Final = frozenset({"command"})
# Larger payloads are refused before parsing (a state is well under 1 KiB).
MAX_PAYLOAD_BYTES: Final = 64 * 1024

STATUS_ONLINE: Final = "online"
STATUS_OFFLINE: Final = "offline"

type TopicKind = Literal["status", "state", "event", "summary", "command", "ack"]
type EventKind = Literal["fault_raised", "fault_cleared"]
type CommandKind = Literal["demand_response", "house_defaults"]
type AckResult = Literal["applied", "pending", "failed"]

EVENT_KINDS: Final = ("fault_raised", "fault_cleared")
COMMAND_KINDS: Final = ("demand_response", "house_defaults")
DEMAND_RESPONSE_ACTIONS: Final = ("start", "stop")
ACK_RESULTS: Final = ("applied", "pending", "failed")


class EstateTopicError(ValueError):
    """A topic or payload that is not in the estate's documented format (the message says why)."""


def check_segment(value: str, what: str = "id") -> str:
    """``value`` if it is a valid topic segment; EstateTopicError otherwise."""
    if not isinstance(value, str) or SEGMENT.fullmatch(value) is None:
        raise EstateTopicError(f"{what} {value!r} is not 1-64 of A-Z a-z 0-9 _ . : -")
    return value


def check_building(value: str) -> str:
    """``value`` if it is a valid, unreserved building id; EstateTopicError otherwise."""
    check_segment(value, "building")
    if value in RESERVED_BUILDINGS:
        raise EstateTopicError(f"building {value!r} is reserved")
    return value


def _join(*parts: str) -> str:
    return "/".join((ROOT, *parts))


def status_topic(estate: str, building: str) -> str:
    """The hub's retained online/offline topic (also its last will)."""
    return _join(check_segment(estate, "estate"), check_building(building), "status")


def state_topic(estate: str, building: str, appliance_id: str) -> str:
    """One appliance's retained state topic."""
    return _building(estate, building, "appliance", check_segment(appliance_id), "state")


def event_topic(estate: str, building: str, appliance_id: str) -> str:
    """One appliance's event topic (faults raised and cleared)."""
    return _building(estate, building, "appliance", check_segment(appliance_id), "event")


def summary_topic(estate: str, building: str) -> str:
    """The building's retained summary topic (energy and cost per floor)."""
    return _building(estate, building, "summary")


def command_topic(estate: str, command_id: str, building: str | None = None) -> str:
    """A command's topic: to every building, or to one when ``building`` is given."""
    if building is None:
        return _join(check_segment(estate, "estate"), "command", check_segment(command_id))
    return _building(estate, building, "command", check_segment(command_id))


def ack_topic(estate: str, building: str, command_id: str) -> str:
    """The topic of a building's acknowledgements of one command."""
    return _building(estate, building, "ack", check_segment(command_id))


def _building(estate: str, building: str, *rest: str) -> str:
    return _join(check_segment(estate, "estate"), check_building(building), *rest)


def building_filter(estate: str, building: str) -> str:
    """The filter of everything a building's hub publishes (its ACL grant)."""
    return _building(estate, building, "#")


def estate_filter(estate: str) -> str:
    """The filter of the whole estate (head office subscribes to it)."""
    return _join(check_segment(estate, "estate"), "#")


def hub_command_filters(estate: str, building: str) -> tuple[str, str]:
    """The filters a building's hub subscribes to: estate-wide and its own commands."""
    return (
        _join(check_segment(estate, "estate"), "command", "+"),
        _building(estate, building, "command", "+"),
    )


@dataclass(frozen=True, slots=True)
class Topic:
    """A parsed topic: its kind and the ids it names (None where the kind has none)."""

    kind: TopicKind
    estate: str
    building: str | None = None
    appliance_id: str | None = None
    command_id: str | None = None


def parse_topic(topic: str) -> Topic:
    """The parts of an estate topic; EstateTopicError for any other topic."""
    if not isinstance(topic, str):
        raise EstateTopicError("topic is not a string")
    parts = topic.split("/")
    if len(parts) < 4 or parts[0] != ROOT:
        raise EstateTopicError(f"{topic!r} is not under {ROOT}/<estate>/")
    for part in parts[1:]:
        check_segment(part, "segment")
    estate, building, rest = parts[1], parts[2], parts[3:]
    match rest:
        case [command_id] if building == "command":
            return Topic("command", estate, command_id=command_id)
        case ["status"]:
            return Topic("status", estate, building)
        case ["summary"]:
            return Topic("summary", estate, building)
        case ["appliance", appliance_id, "state" | "event" as kind]:
            return Topic(kind, estate, building, appliance_id=appliance_id)
        case ["command" | "ack" as kind, command_id]:
            return Topic(kind, estate, building, command_id=command_id)
    raise EstateTopicError(f"{topic!r} is not a documented estate topic")


# --- payloads -------------------------------------------------------------------------------


def _finite(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise vol.Invalid("expected a number")
    try:
        number = float(value)
    except OverflowError:  # an integer beyond any float
        raise vol.Invalid("expected a finite number >= 0") from None
    if not math.isfinite(number) or number < 0:
        raise vol.Invalid("expected a finite number >= 0")
    return number


def _timestamp(value: Any) -> str:
    if not isinstance(value, str):
        raise vol.Invalid("expected an ISO 8601 time")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as err:
        raise vol.Invalid("expected an ISO 8601 time") from err
    if parsed.tzinfo is None:
        raise vol.Invalid("expected a time with its UTC offset")
    return value


def _segment(value: Any) -> str:
    if not isinstance(value, str) or SEGMENT.fullmatch(value) is None:
        raise vol.Invalid("expected an id of 1-64 of A-Z a-z 0-9 _ . : -")
    return value


_TEXT = vol.All(str, vol.Length(max=200))
_OPTIONAL_NUMBER = vol.Any(None, _finite)
_CODES = vol.All([vol.All(str, vol.Length(min=1, max=64))], vol.Length(max=64))


def now_iso() -> str:
    """The present time as the payloads carry it (UTC, ISO 8601, seconds)."""
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True, slots=True)
class ApplianceState:
    """One appliance as head office sees it: ``power_w`` W, ``energy_kwh`` kWh (the meter),
    ``cost`` in ``currency`` since the hub began counting; None where not known."""

    appliance_id: str
    type: str
    name: str
    floor: str | None
    room: str | None
    online: bool
    state: str | None
    power_w: float | None
    energy_kwh: float | None
    cost: float | None
    faults: tuple[str, ...]
    updated: str
    currency: str = "CNY"


@dataclass(frozen=True, slots=True)
class ApplianceEvent:
    """A fault raised or cleared on one appliance; ``event_id`` tells repeats apart."""

    event_id: str
    appliance_id: str
    kind: EventKind
    fault: str
    at: str


@dataclass(frozen=True, slots=True)
class FloorSummary:
    """One floor's appliances and their energy (kWh) and cost; ``floor`` None: in no floor."""

    floor: str | None
    appliances: int
    energy_kwh: float
    cost: float


@dataclass(frozen=True, slots=True)
class BuildingSummary:
    """A building's floors with their totals (kWh, ``currency``)."""

    floors: tuple[FloorSummary, ...]
    energy_kwh: float
    cost: float
    updated: str
    currency: str = "CNY"


@dataclass(frozen=True, slots=True)
class Command:
    """An estate command: demand response (``action`` start/stop, ``level``, ``duration_s``)
    or house defaults; ``appliance_ids`` narrows it (empty: every appliance)."""

    command: CommandKind
    action: str | None = None
    level: str | None = None
    duration_s: float | None = None
    appliance_ids: tuple[str, ...] = ()
    issued: str | None = None


@dataclass(frozen=True, slots=True)
class ApplianceResult:
    """One appliance's outcome: applied, pending (offline: applied when it is back, then a
    later ack) or failed with ``reason``."""

    appliance_id: str
    result: AckResult
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Ack:
    """A building's acknowledgement of a command, one result per appliance it concerns.
    ``error``: why the whole command was refused (then ``results`` is empty)."""

    command_id: str
    building: str
    results: tuple[ApplianceResult, ...]
    at: str
    error: str | None = None
    seq: int = 0  # later acks of the same command count up (a pending one resolved)


_STATE_SCHEMA = vol.Schema(
    {
        vol.Required("v"): SCHEMA_VERSION,
        vol.Required("appliance_id"): _segment,
        vol.Required("type"): _TEXT,
        vol.Required("name"): _TEXT,
        vol.Required("floor"): vol.Any(None, _TEXT),
        vol.Required("room"): vol.Any(None, _TEXT),
        vol.Required("online"): bool,
        vol.Required("state"): vol.Any(None, _TEXT),
        vol.Required("power_w"): _OPTIONAL_NUMBER,
        vol.Required("energy_kwh"): _OPTIONAL_NUMBER,
        vol.Required("cost"): _OPTIONAL_NUMBER,
        vol.Required("faults"): _CODES,
        vol.Required("updated"): _timestamp,
        vol.Optional("currency", default="CNY"): vol.All(str, vol.Length(min=1, max=8)),
    },
    extra=vol.REMOVE_EXTRA,  # later versions may add fields; readers ignore them
)
_EVENT_SCHEMA = vol.Schema(
    {
        vol.Required("v"): SCHEMA_VERSION,
        vol.Required("event_id"): _segment,
        vol.Required("appliance_id"): _segment,
        vol.Required("kind"): vol.In(EVENT_KINDS),
        vol.Required("fault"): vol.All(str, vol.Length(min=1, max=64)),
        vol.Required("at"): _timestamp,
    },
    extra=vol.REMOVE_EXTRA,
)
_FLOOR_SCHEMA = vol.Schema(
    {
        vol.Required("floor"): vol.Any(None, _TEXT),
        vol.Required("appliances"): vol.All(int, vol.Range(min=0)),
        vol.Required("energy_kwh"): _finite,
        vol.Required("cost"): _finite,
    },
    extra=vol.REMOVE_EXTRA,
)
_SUMMARY_SCHEMA = vol.Schema(
    {
        vol.Required("v"): SCHEMA_VERSION,
        vol.Required("floors"): vol.All([_FLOOR_SCHEMA], vol.Length(max=500)),
        vol.Required("energy_kwh"): _finite,
        vol.Required("cost"): _finite,
        vol.Required("updated"): _timestamp,
        vol.Optional("currency", default="CNY"): vol.All(str, vol.Length(min=1, max=8)),
    },
    extra=vol.REMOVE_EXTRA,
)
_COMMAND_SCHEMA = vol.Schema(
    vol.Any(
        {
            vol.Required("v"): SCHEMA_VERSION,
            vol.Required("command"): "demand_response",
            vol.Required("action"): vol.In(DEMAND_RESPONSE_ACTIONS),
            vol.Optional("level"): vol.All(str, vol.Length(min=1, max=32)),
            vol.Optional("duration_s"): vol.All(_finite, vol.Range(min=1, max=7 * 86400)),
            vol.Optional("appliance_ids", default=[]): vol.All([_segment], vol.Length(max=5000)),
            vol.Optional("issued"): _timestamp,
        },
        {
            vol.Required("v"): SCHEMA_VERSION,
            vol.Required("command"): "house_defaults",
            vol.Optional("appliance_ids", default=[]): vol.All([_segment], vol.Length(max=5000)),
            vol.Optional("issued"): _timestamp,
        },
    ),
    extra=vol.REMOVE_EXTRA,
)
_RESULT_SCHEMA = vol.Schema(
    {
        vol.Required("appliance_id"): _segment,
        vol.Required("result"): vol.In(ACK_RESULTS),
        vol.Optional("reason"): vol.Any(None, _TEXT),
    },
    extra=vol.REMOVE_EXTRA,
)
_ACK_SCHEMA = vol.Schema(
    {
        vol.Required("v"): SCHEMA_VERSION,
        vol.Required("command_id"): _segment,
        vol.Required("building"): _segment,
        vol.Required("results"): vol.All([_RESULT_SCHEMA], vol.Length(max=5000)),
        vol.Required("at"): _timestamp,
        vol.Optional("error"): vol.Any(None, _TEXT),
        vol.Optional("seq", default=0): vol.All(int, vol.Range(min=0)),
    },
    extra=vol.REMOVE_EXTRA,
)


def encode(payload: ApplianceState | ApplianceEvent | BuildingSummary | Command | Ack) -> bytes:
    """The payload as compact UTF-8 JSON with the schema version ``v``.

    A command leaves out its unset fields (a house-defaults command has no level).
    """
    data = asdict(payload)
    if isinstance(payload, Command):
        data = {key: value for key, value in data.items() if value is not None}
    return json.dumps(
        {"v": SCHEMA_VERSION, **data}, ensure_ascii=False, separators=(",", ":")
    ).encode()


def _decode(raw: bytes | str, schema: vol.Schema, what: str) -> dict[str, Any]:
    if isinstance(raw, str):
        raw = raw.encode("utf-8", "surrogatepass")
    if len(raw) > MAX_PAYLOAD_BYTES:
        raise EstateTopicError(f"{what}: payload of {len(raw)} bytes is over {MAX_PAYLOAD_BYTES}")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as err:  # UnicodeDecodeError is a ValueError
        raise EstateTopicError(f"{what}: not UTF-8 JSON ({err})") from None
    if not isinstance(data, dict):
        raise EstateTopicError(f"{what}: not a JSON object")
    try:
        checked: dict[str, Any] = schema(data)
    except vol.Invalid as err:
        raise EstateTopicError(f"{what}: {err}") from None
    checked.pop("v", None)
    return checked


def decode_state(raw: bytes | str) -> ApplianceState:
    """An appliance state payload; EstateTopicError if it is not one."""
    data = _decode(raw, _STATE_SCHEMA, "appliance state")
    return ApplianceState(**{**data, "faults": tuple(data["faults"])})


def decode_event(raw: bytes | str) -> ApplianceEvent:
    """An appliance event payload; EstateTopicError if it is not one."""
    return ApplianceEvent(**_decode(raw, _EVENT_SCHEMA, "appliance event"))


def decode_summary(raw: bytes | str) -> BuildingSummary:
    """A building summary payload; EstateTopicError if it is not one."""
    data = _decode(raw, _SUMMARY_SCHEMA, "building summary")
    floors = tuple(FloorSummary(**floor) for floor in data.pop("floors"))
    return BuildingSummary(floors=floors, **data)


def decode_command(raw: bytes | str) -> Command:
    """A command payload; EstateTopicError if it is not one."""
    data = _decode(raw, _COMMAND_SCHEMA, "command")
    return Command(**{**data, "appliance_ids": tuple(data["appliance_ids"])})


def decode_ack(raw: bytes | str) -> Ack:
    """An acknowledgement payload; EstateTopicError if it is not one."""
    data = _decode(raw, _ACK_SCHEMA, "ack")
    results = tuple(ApplianceResult(**result) for result in data.pop("results"))
    return Ack(results=results, **data)


def decode_status(raw: bytes | str) -> str:
    """ "online" or "offline"; EstateTopicError for anything else."""
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    if text not in (STATUS_ONLINE, STATUS_OFFLINE):
        raise EstateTopicError(f"status {text[:40]!r} is not online or offline")
    return text


DECODERS: Final[Mapping[str, Callable[[bytes | str], object]]] = {
    "status": decode_status,
    "state": decode_state,
    "event": decode_event,
    "summary": decode_summary,
    "command": decode_command,
    "ack": decode_ack,
}
