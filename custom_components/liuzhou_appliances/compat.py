"""The few places where supported Home Assistant releases differ (2025.4 and newer).

Each shim takes the newer release's API when it exists and serves the same
behaviour on older releases, so the rest of the integration is written once,
against the newest API. Remove a shim when the oldest supported release
(``hacs.json``'s minimum) has the API itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from homeassistant import config_entries
from homeassistant.components.climate import ClimateEntity
from homeassistant.config_entries import ConfigFlowResult


class _ReloadingOptionsFlow(config_entries.OptionsFlow):
    """Before 2025.8: store changed options, then reload the entry.

    Home Assistant 2025.8 added ``OptionsFlowWithReload``; from 2026.6 it warns,
    and from 2026.12 it fails, when an entry has an update listener and its
    flows reload it too, so reloading on options must not need a listener.
    The options are stored before the reload is scheduled, so the reloaded
    entry reads the new ones; the flow manager then finds nothing changed.
    """

    def async_create_entry(
        self,
        *,
        title: str | None = None,
        data: Mapping[str, Any],
        description: str | None = None,
        description_placeholders: Mapping[str, str] | None = None,
    ) -> ConfigFlowResult:
        entry = self.config_entry
        if self.hass.config_entries.async_update_entry(entry, options=data):
            self.hass.config_entries.async_schedule_reload(entry.entry_id)
        return super().async_create_entry(
            title=title,
            data=data,
            description=description,
            description_placeholders=description_placeholders,
        )


# An options flow whose changed options reload the entry, on every supported release.
if TYPE_CHECKING or not hasattr(config_entries, "OptionsFlowWithReload"):
    OptionsFlowWithReload = _ReloadingOptionsFlow
else:
    OptionsFlowWithReload = config_entries.OptionsFlowWithReload

NATIVE_CLIMATE_TEMPERATURES = hasattr(ClimateEntity, "native_current_temperature")
"""True from Home Assistant 2026.11, whose climate entities report ``native_*`` temperatures."""


class NativeTemperatureClimateEntity(ClimateEntity):
    """A climate entity written against the ``native_*`` temperature members.

    Home Assistant 2026.11 renamed ``temperature_unit``, ``current_temperature``
    and ``target_temperature`` to ``native_*`` (the old names warn, and break in
    2027.11). Subclasses set ``_attr_native_temperature_unit`` and implement the
    native members; on older releases this class serves the old names from them.
    """

    if not NATIVE_CLIMATE_TEMPERATURES:  # Home Assistant < 2026.11
        _attr_native_temperature_unit: str

        @property
        def native_temperature_unit(self) -> str:
            """The unit the appliance reports temperatures in."""
            return self._attr_native_temperature_unit

        @property
        def native_current_temperature(self) -> float | None:
            """The measured temperature, in the native unit."""
            return None

        @property
        def native_target_temperature(self) -> float | None:
            """The setpoint, in the native unit."""
            return None

        @property
        def temperature_unit(self) -> str:
            """The pre-2026.11 name of ``native_temperature_unit``."""
            return self.native_temperature_unit

        @property
        def current_temperature(self) -> float | None:
            """The pre-2026.11 name of ``native_current_temperature``."""
            return self.native_current_temperature

        @property
        def target_temperature(self) -> float | None:
            """The pre-2026.11 name of ``native_target_temperature``."""
            return self.native_target_temperature


def assist_language_directory(language: str) -> str:
    """The ``custom_sentences`` directory Assist reads for ``language`` (e.g. ``zh-cn``).

    It is the sentence set's language variant: ``zh-cn`` up to home-assistant-intents
    2025, ``zh-CN`` in Home Assistant 2026 (a case-sensitive file system tells them
    apart). Called only while the conversation integration is loaded, so its
    requirement is installed; ``language`` itself when no variant matches.
    """
    # Imported here: conversation's requirement, not ours.
    from home_assistant_intents import get_languages  # type: ignore[import-untyped]
    from homeassistant.util.language import matches

    variants = matches(language, set(get_languages()))
    return variants[0] if variants else language
