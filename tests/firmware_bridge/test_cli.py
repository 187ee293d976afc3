"""``python -m firmware_bridge`` as a subprocess, the way other tools use it."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
import signal
import sys
import types

import pytest

from custom_components.liuzhou_appliances.link.client import ApplianceClient, pair
from custom_components.liuzhou_appliances.link.errors import ErrorCode, LinkError
from custom_components.liuzhou_appliances.link.model import ApplianceType
from firmware_bridge.cli import main
from firmware_bridge.mcu import SimulatedSerialMcu
from firmware_bridge.simulators import create_simulator

from .conftest import PtyMasterLink

ROOT = Path(__file__).parents[2]
HUB = "hub-cli-test"


async def _spawn(*args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "firmware_bridge",
        *args,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def _stop(process: asyncio.subprocess.Process) -> int:
    if process.returncode is None:
        process.send_signal(signal.SIGINT)
    try:
        return await asyncio.wait_for(process.wait(), 5)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise


async def test_simulate_json_pair_and_sigint(tmp_path: Path) -> None:
    process = await _spawn(
        "simulate", "--ac", "1", "--fridge", "1", "--washer", "1", "--dishwasher", "1",
        "--seed", "21", "--json", "--speed", "60", "--state-dir", str(tmp_path),
        "--module", "mcu",
    )  # fmt: skip
    assert process.stdout is not None
    assert process.stderr is not None
    try:
        lines = [
            json.loads(await asyncio.wait_for(process.stdout.readline(), 20)) for _ in range(4)
        ]
        assert sorted(record["type"] for record in lines) == sorted(map(str, ApplianceType))
        for record in lines:
            assert {"type", "id", "host", "port", "code", "model", "firmware"} <= set(record)
            assert record["host"] == "127.0.0.1"
        assert len({record["port"] for record in lines}) == 4
        washer = next(r for r in lines if r["type"] == "laundry_washer")
        result = await pair(washer["host"], washer["port"], washer["code"], hub_id=HUB)
        client = ApplianceClient(washer["host"], washer["port"], result.key, hub_id=HUB)
        await client.connect()
        assert client.hello is not None
        assert client.hello.appliance_id == washer["id"]
        # An MCU-class network module: the int8 wet_cycle file, and its version declared.
        assert client.declaration is not None
        assert [(m.id, m.version) for m in client.declaration.models] == [("wet_cycle", "1-int8")]
        state = await client.read()
        assert state["operational_state"] == "stopped"
        await client.disconnect()
    finally:
        loop = asyncio.get_running_loop()
        started = loop.time()
        code = await _stop(process)
        elapsed = loop.time() - started
    stderr = (await process.stderr.read()).decode()
    assert code == 0, stderr
    assert elapsed < 5
    # State saved on the way out; same seed and dir -> same ids next time.
    assert len(list(tmp_path.glob("*.state.json"))) == 4
    assert (tmp_path / f"{washer['id']}.key").exists()


async def test_sigusr1_presses_the_simulated_pairing_buttons(tmp_path: Path) -> None:
    process = await _spawn(
        "simulate", "--washer", "1", "--seed", "22", "--json", "--no-zeroconf",
        "--state-dir", str(tmp_path),
    )  # fmt: skip
    assert process.stdout is not None
    assert process.stderr is not None
    try:
        washer = json.loads(await asyncio.wait_for(process.stdout.readline(), 20))
        await pair(washer["host"], washer["port"], washer["code"], hub_id=HUB)
        with pytest.raises(LinkError) as caught:  # paired: closed until the button
            await pair(washer["host"], washer["port"], washer["code"], hub_id=HUB)
        assert caught.value.code is ErrorCode.INVALID_STATE
        process.send_signal(signal.SIGUSR1)
        line = b""
        while b"pairing button pressed" not in line:
            line = await asyncio.wait_for(process.stderr.readline(), 20)
            assert line, "the simulator exited"
        assert washer["id"].encode() in line
        again = await pair(washer["host"], washer["port"], washer["code"], hub_id=HUB)
        assert again.hello.appliance_id == washer["id"]
    finally:
        assert await _stop(process) == 0


async def test_simulate_table_without_json(tmp_path: Path) -> None:
    process = await _spawn(
        "simulate", "--fridge", "2", "--no-zeroconf", "--state-dir", str(tmp_path)
    )
    assert process.stdout is not None
    try:
        header = (await asyncio.wait_for(process.stdout.readline(), 20)).decode()
        rows = [(await asyncio.wait_for(process.stdout.readline(), 5)).decode() for _ in range(2)]
    finally:
        assert await _stop(process) == 0
    assert header.split()[:5] == ["TYPE", "ID", "HOST", "PORT", "CODE"]
    assert all(row.startswith("refrigerator") for row in rows)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["simulate"], "nothing to simulate"),
        (["simulate", "--ac", "-1"], "--ac"),
        (["simulate", "--ac", "1", "--speed", "0"], "speed"),
        (["simulate", "--ac", "1", "--host", "localhost"], "IPv4"),
        (["simulate", "--ac", "x"], "whole number"),
        (["simulate", "--washer", "1", "--module", "arm"], "--module: invalid choice: 'arm'"),
        (["bridge", "--serial", "/dev/null"], "required"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_bad_arguments_exit_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    assert message in capsys.readouterr().err


def test_bridge_checks_its_declaration(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"schema": 1, "type": "toaster"}))
    base = ["bridge", "--serial", "/dev/null", "--id", "lz-x-1", "--code", "12345678"]
    with pytest.raises(SystemExit) as exited:
        main([*base, "--declaration", str(bad)])
    assert exited.value.code == 2
    assert "type must be one of" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main([*base, "--declaration", str(tmp_path / "missing.json")])
    assert "cannot read" in capsys.readouterr().err


def test_conformance_is_dispatched(monkeypatch: pytest.MonkeyPatch) -> None:
    received: list[list[str]] = []

    def run_cli(argv: list[str]) -> int:
        received.append(argv)
        return 3

    kit = types.ModuleType("firmware_bridge.conformance")
    kit.run_cli = run_cli  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "firmware_bridge.conformance", kit)
    assert main(["conformance", "--host", "127.0.0.1", "--port", "1"]) == 3
    assert received == [["--host", "127.0.0.1", "--port", "1"]]


async def test_bridge_serves_an_mcu_on_a_serial_port(tmp_path: Path) -> None:
    """The hardware path: the bridge process opens a tty; a simulated MCU sits on the other side."""
    simulator = create_simulator(ApplianceType.REFRIGERATOR, seed=8, index=0)
    declaration_file = tmp_path / "fridge.json"
    declaration_file.write_text(json.dumps(simulator.declaration.to_dict()))
    master, slave = os.openpty()
    mcu = SimulatedSerialMcu(simulator, PtyMasterLink(master), speed=0)
    await mcu.start()
    process = await _spawn(
        "bridge", "--serial", os.ttyname(slave), "--declaration", str(declaration_file),
        "--id", "lz-fr-bridge01", "--code", "2468-1357", "--port", "0",
        "--host", "127.0.0.1", "--no-zeroconf", "--state-dir", str(tmp_path / "state"),
    )  # fmt: skip
    assert process.stdout is not None
    assert process.stderr is not None
    try:
        line = (await asyncio.wait_for(process.stdout.readline(), 20)).decode()
        assert line.startswith("lz-fr-bridge01 serving on 127.0.0.1:"), line
        port = int(line.rsplit(":", 1)[1])
        result = await pair("127.0.0.1", port, "24681357", hub_id=HUB)
        client = ApplianceClient("127.0.0.1", port, result.key, hub_id=HUB)
        await client.connect()
        assert client.hello is not None
        assert client.hello.firmware == simulator.identity.firmware
        await client.write({"mode": "eco"})
        assert simulator.values()["mode"] == "eco"
        await client.disconnect()
    finally:
        code = await _stop(process)
        await mcu.stop()
        os.close(slave)
    assert code == 0, (await process.stderr.read()).decode()
    assert (tmp_path / "state" / "lz-fr-bridge01.key").exists()
