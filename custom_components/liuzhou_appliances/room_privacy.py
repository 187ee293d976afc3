"""A guest's data: what the hub holds about a room's stay (access) and its erasure at check-out.

What the integration holds about a stay, per room:

- the voice panel logs of the room's appliances (``voice_log.py``, when switched on);
- the preferences recorded during the stay (values the guest chose, ``room_runtime.py``);
- the planned washer and dishwasher runs (``energy_runtime/planned_runs.py``);
- the energy controllers' memory of the guest's own setpoints (``user_settings``);
- the booking's arrival time.

``stay_export`` returns all of it (the ``export_stay`` action);
``async_erase_stay`` erases it at check-out and counts what it erased, by
kind; ``room_runtime`` writes the audit line (when, which room, the counts,
never the data) to the rooms' Store (the last ``MAX_AUDIT`` lines) and to the
logbook. Diagnostics show none of it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Final

from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util

from .energy_runtime import async_keep_runtime
from .link.model import ApplianceType
from .room_occupancy import HouseDefaults, RoomState, settings_for
from .room_record import ApplianceParts, RoomRecord

MAX_AUDIT: Final = 500
# The kinds of stay data, as the audit line and the export name them.
ERASED_KINDS: Final = (
    "voice_log_entries",
    "preferences",
    "planned_runs",
    "energy_settings",
    "booking",
)


def stay_export(
    area_id: str,
    name: str,
    record: RoomRecord,
    appliances: Sequence[tuple[str, ApplianceParts]],
) -> dict[str, Any]:
    """Everything held about the room's current stay, JSON-ready.

    ``appliances``: (device id, runtime) of the room's loaded appliances.
    Shape: ``{"area_id", "room", "state", "since", "arrival", "appliances":
    [{"device_id", "name", "preferences", "voice_log", "planned_run",
    "energy_settings"}]}``; times are ISO 8601.
    """
    exported = []
    for device_id, runtime in appliances:
        coordinator = runtime.coordinator
        energy = runtime.energy
        exported.append(
            {
                "device_id": device_id,
                "name": coordinator.config_entry.title,
                "preferences": dict(record.preferences.get(coordinator.appliance_id, {})),
                "voice_log": [
                    {"at": e.at, "language": e.language, "heard": e.heard, "answer": e.answer}
                    for e in (runtime.panel.log.entries() if runtime.panel else ())
                ],
                "planned_run": energy.runs.export_runtime(),
                "energy_settings": dict(energy.user_settings),
            }
        )
    return {
        "area_id": area_id,
        "room": name,
        "state": str(record.state),
        "since": record.since,
        "arrival": record.arrival,
        "appliances": exported,
    }


def async_erase_stay(
    hass: HomeAssistant,
    record: RoomRecord,
    appliances: Sequence[tuple[str, ApplianceParts]],
    defaults: HouseDefaults,
) -> dict[str, int]:
    """Erase the stay's data (after the house defaults were sent); the counts by kind.

    The energy controllers' memory of the guest's setpoints becomes the house
    defaults. The caller writes the audit line from the counts.
    """
    counts = dict.fromkeys(ERASED_KINDS, 0)
    counts["preferences"] = sum(len(chosen) for chosen in record.preferences.values())
    record.preferences = {}
    if record.arrival is not None:
        counts["booking"] = 1
        record.arrival = None
    now = dt_util.utcnow()
    for _device_id, runtime in appliances:
        if runtime.panel is not None:
            counts["voice_log_entries"] += runtime.panel.log.erase()
        energy = runtime.energy
        if energy.runs.plan is not None:
            counts["planned_runs"] += 1
            energy.runs.forget_plan()
        if energy.user_settings:
            counts["energy_settings"] += len(energy.user_settings)
            # The controller's idea of "the user's setpoint" becomes the house default.
            kind = ApplianceType(runtime.coordinator.declaration.type)
            reset = settings_for(RoomState.CHECK_OUT, kind, defaults, now=now).writes
            energy.user_settings = {key: reset[key] for key in energy.user_settings if key in reset}
    async_keep_runtime(hass)  # the erased plans leave the kept runtime state too
    return counts


def audit_summary(counts: dict[str, int]) -> str:
    """The counts in words, e.g. "3 voice log entries, 0 preferences, ..."."""
    return ", ".join(f"{count} {kind.replace('_', ' ')}" for kind, count in counts.items())


def audit_line(at: datetime, area_id: str, counts: dict[str, int]) -> dict[str, Any]:
    """One audit line: when, which room, how many items of each kind; never the data."""
    return {"at": at.isoformat(timespec="seconds"), "area_id": area_id, "erased": dict(counts)}
