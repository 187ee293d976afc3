"""The ``provision`` action: pair and place every appliance a roster lists.

The roster (roster.py) comes from a file under the configuration directory
(``path``) or from a file uploaded through Home Assistant's file upload
(``file_id``, removed once read; the command line uses it). Its text is never
action data: Home Assistant records an action's data in the ``call_service``
event, and the roster holds pairing codes.

Each good row is paired through the config flow's ``provision`` step (the same
pairing as by hand), then placed (provision_places.py). An appliance already
paired is not paired again; only its place is put right. Rows are worked on a
few at a time, each one ending in one outcome; one failing row stops nothing
else, and a failed pairing leaves no entry, floor or area behind. A pairing
that failed for a passing reason (nothing answered in time, the appliance busy
with another pairing, a short rate limit) is tried again, one row at a time,
after RETRY_DELAYS; a wrong code never is (it would cost one of the
appliance's guesses). A
``liuzhou_appliances_provision_progress`` event is fired per row; the
response is the report (docs/fleet.md). Codes are used once and never stored,
logged, fired or returned.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass
import logging
from pathlib import Path
import time
from typing import Any, Final

from homeassistant.config_entries import SOURCE_USER, ConfigEntry
from homeassistant.const import CONF_HOST, CONF_NAME, CONF_PORT
from homeassistant.core import HomeAssistant, ServiceCall, ServiceResponse, SupportsResponse
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import config_validation as cv
import voluptuous as vol

from .const import (
    CONF_ADDRESS,
    CONF_APPLIANCE_ID,
    CONF_PAIRING_CODE,
    DOMAIN,
    HOUSEHOLD_UNIQUE_ID,
)
from .provision_places import Created, async_place_device
from .roster import WARNINGS, Roster, RosterError, RosterRow, Target, load_roster
from .service_error import service_error

_LOGGER = logging.getLogger(__name__)

SERVICE_PROVISION: Final = "provision"
EVENT_PROVISION_PROGRESS: Final = f"{DOMAIN}_provision_progress"
SOURCE_PROVISION: Final = "provision"
ATTR_PATH: Final = "path"
ATTR_FILE_ID: Final = "file_id"
ATTR_FORMAT: Final = "format"
# Appliances paired at once: pairing is quick, setting up an entry less so.
PARALLEL: Final = 4
# Seconds before the second and third try of a pairing that failed for a passing
# reason. Found at scale: a hub pairing hundreds of appliances while other work
# wants its cores sees steps time out; a later try, alone, pairs most of them.
RETRY_DELAYS: tuple[float, ...] = (5.0, 20.0)
# A rate limit longer than this (s) is not waited out: the report says when to retry.
MAX_RATE_LIMIT_WAIT: Final = 60.0

# Outcomes of a row (docs/fleet.md).
PAIRED: Final = "paired"
ALREADY_PRESENT: Final = "already_present"
UNREACHABLE: Final = "unreachable"
WRONG_CODE: Final = "wrong_code"
FAILED: Final = "failed"
DUPLICATE_APPLIANCE: Final = "duplicate_appliance"
FAILURES: Final = frozenset(
    {UNREACHABLE, WRONG_CODE, FAILED, "bad_row", "duplicate_row", "duplicate_appliance"}
)

# Pairing errors worth another try (config_flow's keys): passing, not the code.
_PASSING_ERRORS: Final = frozenset(
    {"cannot_connect", "ble_cannot_connect", "ble_no_connection_slot", "busy", "timed_out"}
)

_UNREACHABLE_ERRORS: Final = frozenset(
    {
        "cannot_connect",
        "ble_cannot_connect",
        "ble_not_in_range",
        "ble_no_connection_slot",
        "no_bluetooth_adapter",
    }
)

PROVISION_SCHEMA: Final = vol.Schema(
    {
        vol.Exclusive(ATTR_PATH, "roster"): cv.string,
        vol.Exclusive(ATTR_FILE_ID, "roster"): cv.string,
        vol.Optional(ATTR_FORMAT): vol.In(["csv", "yaml"]),
    }
)


def async_setup_provisioning(hass: HomeAssistant) -> None:
    """Register ``liuzhou_appliances.provision``."""
    hass.services.async_register(
        DOMAIN,
        SERVICE_PROVISION,
        _async_provision,
        schema=PROVISION_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )


async def _async_provision(call: ServiceCall) -> ServiceResponse:
    """Read the roster, provision every row, answer the report."""
    hass = call.hass
    started = time.perf_counter()
    roster = await _async_read(hass, call.data)
    household_created = await _async_ensure_household(hass)
    run = _Run(hass, roster)
    report = await run.async_work()
    summary = Counter(row["outcome"] for row in report)
    seconds = round(time.perf_counter() - started, 3)
    _LOGGER.info(
        "Provisioned %d roster rows in %.1f s: %s",
        len(report),
        seconds,
        ", ".join(f"{count} {outcome}" for outcome, count in sorted(summary.items())),
    )
    response: dict[str, Any] = {
        "rows": report,
        "warnings": [
            {"line": p.line, "kind": str(p.kind), "reason": p.reason}
            for p in roster.problems
            if p.kind in WARNINGS
        ],
        "created": {
            "household": household_created,
            # Sorted: rows are worked on a few at a time, so creation order varies.
            "entries": sorted(run.entries),
            "floors": sorted(run.created.floors),
            "areas": sorted(run.created.areas),
            "labels": sorted(run.created.labels),
        },
        "summary": dict(summary),
        "failed": sum(count for outcome, count in summary.items() if outcome in FAILURES),
        "seconds": seconds,
    }
    return response


async def _async_read(hass: HomeAssistant, data: dict[str, Any]) -> Roster:
    """The roster the call names; ServiceValidationError if there is none to read."""
    fmt = data.get(ATTR_FORMAT)
    if (file_id := data.get(ATTR_FILE_ID)) is not None:
        if "file_upload" not in hass.config.components:
            raise service_error("roster_unreadable", detail="file upload is not set up")
        reader = _uploaded_reader(hass, file_id, fmt)
    elif (path := data.get(ATTR_PATH)) is not None:
        reader = _path_reader(hass, path, fmt)
    else:
        raise service_error("roster_missing")
    try:
        return await hass.async_add_executor_job(reader)
    except RosterError as err:
        raise service_error("roster_unreadable", detail=str(err)) from None


def _path_reader(hass: HomeAssistant, path: str, fmt: str | None) -> Any:
    def read() -> Roster:
        config_dir = Path(hass.config.config_dir).resolve()
        full = (config_dir / path).resolve()
        if not full.is_relative_to(config_dir):
            raise RosterError(f"{path} is not inside the configuration directory")
        return load_roster(str(full), fmt)

    return read


def _uploaded_reader(hass: HomeAssistant, file_id: str, fmt: str | None) -> Any:
    from homeassistant.components.file_upload import process_uploaded_file

    def read() -> Roster:
        try:
            with process_uploaded_file(hass, file_id) as path:  # removed on leaving
                return load_roster(str(path), fmt)
        except ValueError as err:
            if isinstance(err, RosterError):
                raise
            raise RosterError(f"no uploaded file {file_id}") from None

    return read


async def _async_ensure_household(hass: HomeAssistant) -> bool:
    """Create the household entry through its own flow, with its defaults, if absent."""
    if hass.config_entries.async_entry_for_domain_unique_id(DOMAIN, HOUSEHOLD_UNIQUE_ID):
        return False
    flows = hass.config_entries.flow
    result = await flows.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await flows.async_configure(result["flow_id"], {"next_step_id": "household_energy"})
    result = await flows.async_configure(result["flow_id"], {})
    if result["type"] is not FlowResultType.CREATE_ENTRY:
        raise HomeAssistantError(translation_domain=DOMAIN, translation_key="household_not_created")
    _LOGGER.info("Created the household entry for the rooms and floors")
    return True


@dataclass(slots=True)
class _Outcome:
    outcome: str
    reason: str | None = None
    entry: ConfigEntry | None = None
    # RATE_LIMITED: seconds until the appliance takes a pairing again.
    retry_after: float | None = None

    def retry_in(self, attempt: int) -> float | None:
        """Seconds to wait before trying again after ``attempt`` tries; None: do not."""
        if attempt > len(RETRY_DELAYS):
            return None
        if self.reason == "rate_limited" and self.retry_after is not None:
            if self.retry_after > MAX_RATE_LIMIT_WAIT:
                return None
            return max(self.retry_after, RETRY_DELAYS[attempt - 1])
        return RETRY_DELAYS[attempt - 1] if self.reason in _PASSING_ERRORS else None


class _Run:
    """One roster's provisioning: the rows in flight, what was created, the report."""

    def __init__(self, hass: HomeAssistant, roster: Roster) -> None:
        self.hass = hass
        self.roster = roster
        self.created = Created()
        self.entries: list[str] = []
        self.total = len(roster.rows) + sum(p.kind not in WARNINGS for p in roster.problems)
        self.done = 0
        self._slots = asyncio.Semaphore(PARALLEL)
        # Tries again go one at a time, beside the first tries: what failed for want
        # of time is not made to compete with as much again.
        self._retry_slot = asyncio.Semaphore(1)
        # appliance id -> the line that placed it: one appliance listed twice under
        # two names (its id and its address) is placed once.
        self._placed: dict[str, int] = {}

    async def async_work(self) -> list[dict[str, Any]]:
        """Every line's report, in file order (bad lines answered without pairing)."""
        report = [
            self._finish({"line": p.line, "outcome": str(p.kind), "reason": p.reason})
            for p in self.roster.problems
            if p.kind not in WARNINGS
        ]
        report += await asyncio.gather(*(self._async_row(row) for row in self.roster.rows))
        return sorted(report, key=lambda r: int(r["line"]))

    def _finish(self, line: dict[str, Any]) -> dict[str, Any]:
        self.done += 1
        self.hass.bus.async_fire(
            EVENT_PROVISION_PROGRESS, {**line, "done": self.done, "total": self.total}
        )
        _LOGGER.debug("Roster line %s: %s", line["line"], line["outcome"])
        return line

    async def _async_row(self, row: RosterRow) -> dict[str, Any]:
        attempt = 1
        async with self._slots:
            result = await self._async_pair(row)
        while (wait := result.retry_in(attempt)) is not None:
            self._retrying(row, result, attempt, wait)
            await asyncio.sleep(wait)
            attempt += 1
            async with self._retry_slot:
                result = await self._async_pair(row)
        line: dict[str, Any] = {
            "line": row.line,
            "outcome": result.outcome,
            "building": row.building,
            "floor": row.floor,
            "room": row.room,
            "appliance": str(row.target),
        }
        if result.reason is not None:
            line["reason"] = result.reason
        if result.outcome is not ALREADY_PRESENT or attempt > 1:
            line["attempts"] = attempt
        if (entry := result.entry) is not None and (
            earlier := self._placed.setdefault(str(entry.unique_id), row.line)
        ) != row.line:
            # Found by pairing: the roster could not tell an id from an address.
            line |= {
                "outcome": DUPLICATE_APPLIANCE,
                "reason": f"appliance {entry.unique_id} is already listed at line {earlier}",
                "appliance_id": entry.unique_id,
            }
        elif entry is not None:
            device_id, area_id, changes = async_place_device(
                self.hass, row, str(entry.unique_id), entry.entry_id, self.created
            )
            line |= {
                "entry_id": entry.entry_id,
                "appliance_id": entry.unique_id,
                "name": entry.title,
                "device_id": device_id,
                "area_id": area_id,
                "changes": changes,
            }
        return self._finish(line)

    def _retrying(self, row: RosterRow, result: _Outcome, attempt: int, wait: float) -> None:
        """Say that a row's try failed and when it is tried again (``done`` unchanged)."""
        _LOGGER.debug(
            "Roster line %s: %s (%s), trying again in %.0f s",
            row.line,
            result.outcome,
            result.reason,
            wait,
        )
        self.hass.bus.async_fire(
            EVENT_PROVISION_PROGRESS,
            {
                "line": row.line,
                "outcome": result.outcome,
                "reason": result.reason,
                "building": row.building,
                "floor": row.floor,
                "room": row.room,
                "appliance": str(row.target),
                "attempt": attempt,
                "retry_in": wait,
                "done": self.done,
                "total": self.total,
            },
        )

    async def _async_pair(self, row: RosterRow) -> _Outcome:
        """Pair the row's appliance unless it is paired already."""
        if (known := _known_entry(self.hass, row.target)) is not None:
            return _Outcome(ALREADY_PRESENT, entry=known)
        data: dict[str, Any] = {CONF_PAIRING_CODE: row.code}
        if row.name:
            data[CONF_NAME] = row.name
        target = row.target
        if target.appliance_id is not None:
            data[CONF_APPLIANCE_ID] = target.appliance_id
        elif target.ble_address is not None:
            data[CONF_ADDRESS] = target.ble_address
        else:
            data[CONF_HOST], data[CONF_PORT] = target.host, target.port
        result = await self.hass.config_entries.flow.async_init(
            DOMAIN, context={"source": SOURCE_PROVISION}, data=data
        )
        if result["type"] is FlowResultType.CREATE_ENTRY:
            entry = result["result"]
            self.entries.append(entry.title)
            return _Outcome(PAIRED, entry=entry)
        reason = result.get("reason")
        placeholders = result.get("description_placeholders") or {}
        if reason == "already_configured":
            return _Outcome(ALREADY_PRESENT, entry=_known_entry(self.hass, target))
        if reason == "not_discovered":
            return _Outcome(UNREACHABLE, "not_discovered")
        if reason == "provision_failed":
            error = placeholders.get("error", "unknown")
            if error == "wrong_code":
                return _Outcome(WRONG_CODE, error)
            if error in _UNREACHABLE_ERRORS:
                return _Outcome(UNREACHABLE, error)
            retry_after = placeholders.get("retry_after")
            return _Outcome(FAILED, error, retry_after=float(retry_after) if retry_after else None)
        return _Outcome(FAILED, str(reason))


def _known_entry(hass: HomeAssistant, target: Target) -> ConfigEntry | None:
    """The appliance entry a row's target names, if it is paired already."""
    for entry in hass.config_entries.async_entries(DOMAIN, include_ignore=False):
        if entry.unique_id in (None, HOUSEHOLD_UNIQUE_ID):
            continue
        if target.appliance_id is not None:
            if entry.unique_id == target.appliance_id:
                return entry
        elif target.ble_address is not None:
            if str(entry.data.get(CONF_ADDRESS, "")).upper() == target.ble_address:
                return entry
        elif (str(entry.data.get(CONF_HOST, "")).lower(), entry.data.get(CONF_PORT)) == (
            str(target.host).lower(),
            target.port,
        ):
            return entry
    return None
