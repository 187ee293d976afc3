"""The integration installs its sentences on set-up, follows renames, keeps edits and
removes its files with the last appliance; Assist reads the changes at once."""

from __future__ import annotations

from pathlib import Path

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
import yaml

from custom_components.liuzhou_appliances.compat import assist_language_directory
from custom_components.liuzhou_appliances.link.model import ApplianceType
from custom_components.liuzhou_appliances.voice.install import SHIPPED
from custom_components.liuzhou_appliances.voice.sentence_files import SUBDIRECTORY
from tests.integration.conftest import PairedAppliance, StartAppliance

from .conftest import Converse, device_of


def _ours(hass: HomeAssistant, language: str) -> Path:
    directory = assist_language_directory(language)  # zh-CN from Home Assistant 2026
    return Path(hass.config.path("custom_sentences", directory, SUBDIRECTORY))


def _names(hass: HomeAssistant, language: str) -> list[str]:
    text = (_ours(hass, language) / "generated_lists.yaml").read_text(encoding="utf-8")
    names: list[str] = yaml.safe_load(text)["lists"]["lz_name"]["values"]
    return names


async def _remove(hass: HomeAssistant, machine: PairedAppliance) -> None:
    """Delete the appliance's entry as the user would."""
    await hass.config_entries.async_remove(machine.entry.entry_id)
    await hass.async_block_till_done()
    # A removed entry is gone: the fixture must not unload it at teardown.
    machine.entry.mock_state(hass, ConfigEntryState.FAILED_UNLOAD)


async def test_installed_on_setup_and_renames_reach_assist(
    voice_hass: HomeAssistant, start_appliance: StartAppliance, converse: Converse
) -> None:
    hass = voice_hass
    washer = await start_appliance(ApplianceType.LAUNDRY_WASHER)
    await hass.async_block_till_done()
    for language in ("en", "zh-cn"):
        shipped = [p.name for p in (SHIPPED / language).glob("*.yaml")]
        assert "common.yaml" in shipped
        assert sorted(p.name for p in _ours(hass, language).glob("*.yaml")) == sorted(
            [*shipped, "generated_lists.yaml"]
        )
    response = await converse("start Blue Heron", "en")
    assert washer.simulator.values()["operational_state"] == "stopped"
    dr.async_get(hass).async_update_device(device_of(hass, washer).id, name_by_user="Blue Heron")
    await hass.async_block_till_done()
    assert "Blue Heron" in _names(hass, "en")
    response = await converse("start Blue Heron", "en")
    assert response.speech["plain"]["speech"].startswith("Started the washer")
    assert washer.simulator.values()["operational_state"] == "running"


async def test_edited_file_is_kept_and_removed_files_go_with_the_last_appliance(
    voice_hass: HomeAssistant, start_appliance: StartAppliance
) -> None:
    hass = voice_hass
    washer = await start_appliance(ApplianceType.LAUNDRY_WASHER)
    dishwasher = await start_appliance(ApplianceType.DISHWASHER)
    await hass.async_block_till_done()
    edited = _ours(hass, "zh-cn") / "wet_cycle.yaml"
    text = edited.read_text(encoding="utf-8") + "# 我自己的句子\n"
    edited.write_text(text, encoding="utf-8")
    await _remove(hass, washer)
    # One appliance left: the files stay, the name list follows.
    assert (_ours(hass, "en") / "wet_cycle.yaml").exists()
    assert len(_names(hass, "en")) == 1
    await _remove(hass, dishwasher)
    assert not _ours(hass, "en").exists()
    assert edited.read_text(encoding="utf-8") == text
    assert sorted(p.name for p in _ours(hass, "zh-cn").iterdir()) == ["wet_cycle.yaml"]
