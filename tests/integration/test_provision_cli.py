"""``python -m fleet.provision`` end to end: Home Assistant's own HTTP and websocket
API on a test server, real simulated appliances, the roster uploaded and provisioned."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
import io
import json
from pathlib import Path
import re
from typing import TYPE_CHECKING

from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
import pytest

from custom_components.liuzhou_appliances import provisioning
from custom_components.liuzhou_appliances.const import DOMAIN
from custom_components.liuzhou_appliances.link.model import ApplianceType
from fleet.provision import TOKEN_ENV, CliError, async_run, main, read_token

from .conftest import closed_port

if TYPE_CHECKING:
    from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

    from firmware_bridge.bridge import SimulatedProduct

StartSimulated = Callable[..., Awaitable["SimulatedProduct"]]


@pytest.fixture
async def ha_url(hass: HomeAssistant, hass_client: ClientSessionGenerator) -> str:
    """Home Assistant's API on a local test server, with the integration and file upload."""
    assert await async_setup_component(hass, "http", {})
    assert await async_setup_component(hass, "websocket_api", {})
    assert await async_setup_component(hass, "file_upload", {})
    assert await async_setup_component(hass, DOMAIN, {})
    client = await hass_client()
    return str(client.make_url("/")).rstrip("/")


async def _unload_all(hass: HomeAssistant) -> None:
    for entry in hass.config_entries.async_entries(DOMAIN):
        if entry.state.recoverable:
            await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()


async def test_cli_provisions_and_reports(
    hass: HomeAssistant,
    ha_url: str,
    hass_access_token: str,
    start_simulated: StartSimulated,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(provisioning, "RETRY_DELAYS", (0.05, 0.05))
    ac = await start_simulated(ApplianceType.ROOM_AIR_CONDITIONER, index=0)
    fridge = await start_simulated(ApplianceType.REFRIGERATOR, index=1)
    roster = tmp_path / "tower.yaml"
    roster.write_text(
        "appliances:\n"
        f"  - {{building: Tower A, floor: 3, room: '301', appliance: '{ac.host}:{ac.port}',"
        f" code: '{ac.code}'}}\n"
        f"  - {{building: Tower A, floor: 3, room: '302', appliance: '{fridge.host}:{fridge.port}',"
        f" code: '{fridge.code}', name: Minibar}}\n",
        encoding="utf-8",
    )
    out, err = io.StringIO(), io.StringIO()
    status = await async_run(ha_url, hass_access_token, roster, out=out, err=err)
    assert status == 0, err.getvalue()
    text = out.getvalue()
    assert "[1/2] line " in text
    assert "[2/2] line " in text
    assert "Tower A / 3 / 302" in text
    assert "2 paired" in text
    assert "Created floors: Tower A / 3" in text
    assert ac.code not in text
    assert fridge.code not in text
    assert {e.title for e in hass.config_entries.async_entries(DOMAIN)} >= {"Minibar"}
    # The uploaded roster (with its codes) is gone once read.
    uploads = hass.data["file_upload"]
    assert uploads.files == {}
    assert not any(uploads.temp_dir.iterdir())

    # Again, as JSON: nothing to do, exit 0; a failing line makes it 1.
    roster.write_text(
        roster.read_text(encoding="utf-8")
        + f"  - {{building: Tower A, floor: 3, room: '303', appliance: '127.0.0.1:{closed_port()}',"
        " code: '12345678'}\n",
        encoding="utf-8",
    )
    out, err = io.StringIO(), io.StringIO()
    status = await async_run(ha_url, hass_access_token, roster, as_json=True, out=out, err=err)
    assert status == 1
    report = json.loads(out.getvalue())
    assert report["summary"] == {"already_present": 2, "unreachable": 1}
    assert "[3/3]" in err.getvalue()
    assert "(cannot_connect), trying again in 0 s" in err.getvalue()
    await _unload_all(hass)


async def test_cli_refusals(
    hass: HomeAssistant, ha_url: str, hass_access_token: str, tmp_path: Path
) -> None:
    roster = tmp_path / "rooms.csv"
    roster.write_text("building,floor\nA,1\n", encoding="utf-8")
    err = io.StringIO()
    assert await async_run(ha_url, hass_access_token, roster, out=io.StringIO(), err=err) == 2
    assert "missing column(s)" in err.getvalue()
    roster.write_text("building,floor,room,appliance,code\nA,1,1,x:1,12345678\n", encoding="utf-8")
    err = io.StringIO()
    assert await async_run(ha_url, "not-a-token", roster, out=io.StringIO(), err=err) == 3
    assert "refused the token" in err.getvalue()
    err = io.StringIO()
    status = await async_run(
        f"http://127.0.0.1:{closed_port()}", "t", roster, out=io.StringIO(), err=err
    )
    assert status == 3
    assert "cannot reach" in err.getvalue()


async def test_cli_in_simplified_chinese(
    hass: HomeAssistant,
    ha_url: str,
    hass_access_token: str,
    start_simulated: StartSimulated,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """--language zh-Hans: progress, report and messages in Chinese, the reason a
    line failed in the integration's own words; the JSON report the same as ever."""
    monkeypatch.setattr(provisioning, "RETRY_DELAYS", (0.05, 0.05))
    ac = await start_simulated(ApplianceType.ROOM_AIR_CONDITIONER, index=0)
    roster = tmp_path / "tower.csv"
    roster.write_text(
        "building,floor,room,appliance,code\n"
        f"A栋,3,301,{ac.host}:{ac.port},{ac.code}\n"
        f"A栋,3,302,127.0.0.1:{closed_port()},12345678\n",
        encoding="utf-8",
    )
    out, err = io.StringIO(), io.StringIO()
    status = await async_run(
        ha_url, hass_access_token, roster, language="zh-Hans", out=out, err=err
    )
    assert status == 1, err.getvalue()
    text = out.getvalue()
    cannot_connect = "无法连接到电器。请确认电器已通电并已连上家里的网络，且地址填写正确"
    assert f"{roster}：待部署 2 台电器" in text
    assert "第 2 行 A栋 / 3 / 301" in text
    assert f"：无法连接（{cannot_connect}），0 秒后重试" in text
    assert "\n报告\n" in text
    assert "  第    2 行  已配对       A栋 / 3 / 301" in text
    row = rf"^  第    3 行  无法连接     A栋 / 3 / 302 .*  {cannot_connect}$"
    assert re.search(row, text, re.M), text
    assert "已创建楼层：A栋 / 3" in text
    assert re.search(r"^已配对 1，无法连接 1，用时 [\d.]+ 秒；1 行未成功$", text, re.M), text
    # Nothing of the English report: the outcome column is named, not keyed.
    assert not re.search(r"^  line\s+\d+", text, re.M)
    assert ac.code not in text

    # --json: the report as ever (keys, not names), progress in Chinese on stderr.
    out, err = io.StringIO(), io.StringIO()
    status = await async_run(
        ha_url, hass_access_token, roster, as_json=True, language="zh-Hans", out=out, err=err
    )
    assert status == 1
    report = json.loads(out.getvalue())
    assert report["summary"] == {"already_present": 1, "unreachable": 1}
    assert [row["reason"] for row in report["rows"] if "reason" in row] == ["cannot_connect"]
    assert "：已存在" in err.getvalue()

    # The command's own messages.
    err = io.StringIO()
    status = await async_run(
        ha_url, "not-a-token", roster, language="zh-Hans", out=io.StringIO(), err=err
    )
    assert status == 3
    assert "Home Assistant 拒绝了该访问令牌（需要管理员的令牌）" in err.getvalue()
    err = io.StringIO()
    url = f"http://127.0.0.1:{closed_port()}"
    status = await async_run(url, "t", roster, language="zh-Hans", out=io.StringIO(), err=err)
    assert status == 3
    assert f"无法连接 {url} 上的 Home Assistant：" in err.getvalue()
    with pytest.raises(CliError, match="没有访问令牌：请使用 --token-file 或设置"):
        read_token(None, {}, language="zh-Hans")
    await _unload_all(hass)


def test_token_from_file_or_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("abc\n", encoding="utf-8")
    assert read_token(token_file, {}) == "abc"
    assert read_token(None, {TOKEN_ENV: " xyz "}) == "xyz"
    with pytest.raises(CliError, match="no access token"):
        read_token(None, {})
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    assert main([str(tmp_path / "absent.csv")]) == 2
    with pytest.raises(SystemExit):
        main(["roster.csv", "--token", "secret"])  # there is no such option
