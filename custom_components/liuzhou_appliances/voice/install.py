"""Our sentences in Home Assistant: installed into ``custom_sentences`` and read again.

Shipped files (``sentences/<language>/*.yaml``) are installed as they are;
``generated_lists.yaml`` per language holds the lists that depend on the
appliances present (their names, lists the domains generate). A sync runs
after each appliance's set-up and when one of our devices is renamed or moved;
syncs asked for while one runs are merged into one more run. When anything
changed, Assist's default agent reloads its sentences (``conversation.reload``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
import logging
from pathlib import Path
import re
from typing import Any, Final

from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import device_registry as dr
from homeassistant.util.hass_dict import HassKey
import yaml

from custom_components.liuzhou_appliances.compat import assist_language_directory
from custom_components.liuzhou_appliances.const import CONF_APPLIANCE_ID, DOMAIN

from .domains import LIST_FACTORIES
from .sentence_files import SyncReport, remove, sync
from .targets import our_appliances

_LOGGER = logging.getLogger(__package__)

SHIPPED: Final = Path(__file__).parent.parent / "sentences"
GENERATED: Final = "generated_lists.yaml"
CUSTOM_SENTENCES: Final = "custom_sentences"
# The name list must have a value; this one nobody says.
_NO_NAME: Final = "liuzhou appliance without name"
# hassil template syntax; kept out of names so a name is only ever literal text.
_TEMPLATE_CHARACTERS: Final = re.compile(r"[\[\]{}()<>|;]")
# The files' language line, set to the directory's language variant when installed.
_LANGUAGE_LINE: Final = re.compile(r"^language: .*$", re.MULTILINE)

DATA_INSTALLER: HassKey[SentenceInstaller] = HassKey(f"{DOMAIN}_sentences")


def shipped_languages() -> list[str]:
    """The languages we ship sentences for (directory names: ``en``, ``zh-cn``)."""
    return sorted(path.name for path in SHIPPED.iterdir() if path.is_dir())


def _shipped_bodies() -> dict[str, dict[str, str]]:
    """language -> file name -> text of the shipped sentence files (executor)."""
    return {
        language: {
            path.name: path.read_text(encoding="utf-8")
            for path in sorted((SHIPPED / language).glob("*.yaml"))
        }
        for language in shipped_languages()
    }


def spoken_name(name: str) -> str:
    """A device name as a literal hassil list value (template characters become spaces)."""
    return " ".join(_TEMPLATE_CHARACTERS.sub(" ", name).split())


def generated_lists(hass: HomeAssistant, language: str) -> dict[str, Any]:
    """The generated hassil lists: ``lz_name`` (our appliances' names) and the domains'."""
    appliances = our_appliances(hass)
    names = sorted(
        {
            spoken
            for appliance in appliances
            for name in (appliance.device.name_by_user, appliance.device.name)
            if name and (spoken := spoken_name(name))
        }
    )
    lists: dict[str, Any] = {"lz_name": {"values": names or [_NO_NAME]}}
    for factory in LIST_FACTORIES:
        lists.update(factory(appliances, language))
    return lists


def _generated_body(language: str, lists: Mapping[str, Any]) -> str:
    document = {"language": language, "lists": dict(lists)}
    return str(yaml.safe_dump(document, allow_unicode=True, sort_keys=True))


class SentenceInstaller:
    """Keeps our files in ``<config>/custom_sentences`` current (one per hub)."""

    def __init__(self, hass: HomeAssistant) -> None:
        """Nothing runs until ``async_request``."""
        self.hass = hass
        self._task: asyncio.Task[None] | None = None
        self._again = False
        self._reported_edits: set[str] = set()

    @property
    def directory(self) -> Path:
        """``<config>/custom_sentences``."""
        return Path(self.hass.config.path(CUSTOM_SENTENCES))

    @callback
    def async_request(self) -> None:
        """Sync soon; a request while a sync runs makes it run once more."""
        if self._task is not None and not self._task.done():
            self._again = True
            return
        self._task = self.hass.async_create_task(self._async_run(), f"{DOMAIN} sentences")

    async def _async_run(self) -> None:
        while True:
            self._again = False
            try:
                await self.async_sync()
            except OSError as err:
                _LOGGER.warning("Could not install the Assist sentences: %s", err)
            if not self._again:
                return

    async def async_sync(self) -> SyncReport:
        """Install or update the files now; reload Assist's sentences if any changed.

        Only with Assist (the conversation integration) loaded: the manifest sets
        it up before us (``after_dependencies``) where it is configured at all.
        """
        if "conversation" not in self.hass.config.components or not any(
            entry.data.get(CONF_APPLIANCE_ID)
            for entry in self.hass.config_entries.async_entries(DOMAIN)
        ):
            return SyncReport()  # no Assist, or the last appliance was removed meanwhile
        shipped = await self.hass.async_add_executor_job(_shipped_bodies)
        files = {}
        for language, bodies in shipped.items():
            variant = assist_language_directory(language)
            lists = generated_lists(self.hass, language)
            files[variant] = {
                name: _LANGUAGE_LINE.sub(f"language: {variant}", body, count=1)
                for name, body in {**bodies, GENERATED: _generated_body(language, lists)}.items()
            }
        report = await self.hass.async_add_executor_job(sync, self.directory, files)
        self._log_edits(report)
        if report.changed:
            _LOGGER.debug("Assist sentences written: %s", report.written)
            await self._async_reload()
        return report

    async def async_remove(self) -> SyncReport:
        """Remove our unedited files (the last appliance is gone); reload if any went."""
        if self._task is not None:
            self._task.cancel()
        languages = shipped_languages()
        if "conversation" in self.hass.config.components:
            languages += [assist_language_directory(language) for language in languages]
        report = await self.hass.async_add_executor_job(
            remove, self.directory, sorted(set(languages))
        )
        self._log_edits(report)
        if report.changed:
            await self._async_reload()
        return report

    def _log_edits(self, report: SyncReport) -> None:
        for path in report.kept_edited:
            if path not in self._reported_edits:
                self._reported_edits.add(path)
                _LOGGER.info(
                    "Keeping %s/%s as edited; delete it to get the current version",
                    CUSTOM_SENTENCES,
                    path,
                )

    async def _async_reload(self) -> None:
        """Have the default conversation agent read the sentences again (all languages)."""
        if not self.hass.services.has_service("conversation", "reload"):
            return
        # No language: the agent keeps intents per language tag said (zh-Hans, zh-cn ...).
        try:
            await self.hass.services.async_call("conversation", "reload", {}, blocking=True)
        except (HomeAssistantError, OSError) as err:
            _LOGGER.warning("Assist did not reload its sentences: %s", err)


def installer(hass: HomeAssistant) -> SentenceInstaller:
    """The hub's installer, created on first use."""
    if (found := hass.data.get(DATA_INSTALLER)) is None:
        found = hass.data[DATA_INSTALLER] = SentenceInstaller(hass)
    return found


@callback
def async_listen_device_changes(hass: HomeAssistant) -> None:
    """Sync the name list when one of our devices is renamed, moved or removed."""

    @callback
    def _changed(event: Event[dr.EventDeviceRegistryUpdatedData]) -> None:
        data = event.data
        if data["action"] == "update" and not (
            {"name", "name_by_user", "area_id"} & set(data.get("changes", {}))
        ):
            return
        if data["action"] != "remove":
            device = dr.async_get(hass).async_get(data["device_id"])
            if device is None or not any(domain == DOMAIN for domain, _ in device.identifiers):
                return
        if DATA_INSTALLER in hass.data:  # installed by an appliance's set-up before
            installer(hass).async_request()

    hass.bus.async_listen(dr.EVENT_DEVICE_REGISTRY_UPDATED, _changed)
