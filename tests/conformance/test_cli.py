"""``python -m firmware_bridge conformance``: output, exit codes, and a run as a subprocess."""

from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path
import signal
import sys

import pytest

from firmware_bridge.bridge import simulated_appliances
from firmware_bridge.conformance import CHECK_NAMES, run_cli

ROOT = Path(__file__).parents[2]
FAST_ARGS = ["--timeout", "2", "--push-timeout", "1", "--settle-timeout", "1", "--idle", "0.5"]


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


async def test_cli_against_simulate_process_passes(tmp_path: Path) -> None:
    simulate = await _spawn(
        "simulate", "--washer", "1", "--seed", "301", "--json", "--state-dir", str(tmp_path)
    )
    assert simulate.stdout is not None
    assert simulate.stderr is not None
    # Keep reading the simulator's log so a full pipe can never stall it.
    simulate_log = asyncio.create_task(simulate.stderr.read())
    try:
        record = json.loads(await asyncio.wait_for(simulate.stdout.readline(), 30))
        kit = await _spawn(
            "conformance",
            f"{record['host']}:{record['port']}",
            "--code",
            record["code"],
            "--json",
            *FAST_ARGS,
        )
        stdout, stderr = await asyncio.wait_for(kit.communicate(), 60)
    finally:
        if simulate.returncode is None:
            simulate.send_signal(signal.SIGINT)
        await asyncio.wait_for(simulate.wait(), 10)
        await simulate_log
    lines = [json.loads(line) for line in stdout.decode().splitlines()]
    checks, summary = lines[:-1], lines[-1]
    assert kit.returncode == 0, stdout.decode() + stderr.decode()
    assert [line["check"] for line in checks] == list(CHECK_NAMES)
    for line in checks:
        assert set(line) == {"check", "passed", "detail", "duration_ms"}
        assert line["passed"] is True
        assert isinstance(line["duration_ms"], float)
    assert summary["summary"] is True
    assert summary["conformant"] is True
    assert summary["passed"] == len(CHECK_NAMES)
    assert summary["failed"] == summary["skipped"] == []


async def test_text_output_and_exit_1_when_a_check_is_skipped() -> None:
    async with simulated_appliances(dishwasher=1, seed=302, zeroconf=False) as (appliance,):
        out = io.StringIO()
        argv = [f"{appliance.host}:{appliance.port}", "--code", appliance.code, "--no-discovery"]
        code = await asyncio.to_thread(run_cli, [*argv, *FAST_ARGS], stdout=out)
    lines = out.getvalue().splitlines()
    assert code == 1
    assert lines[0].startswith("SKIP discovery_record")
    assert all(line.startswith("PASS ") for line in lines[1:-1]), out.getvalue()
    assert [line.split()[1] for line in lines[:-1]] == list(CHECK_NAMES)
    total = len(CHECK_NAMES)
    assert lines[-1].startswith(f"NOT CONFORMANT: {total - 1}/{total} checks passed")
    assert lines[-1].endswith("skipped: discovery_record")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["127.0.0.1:6780"], "--code"),
        (["127.0.0.1", "--code", "12345678"], "HOST:PORT"),
        (["127.0.0.1:99999", "--code", "12345678"], "HOST:PORT"),
        (["127.0.0.1:6780", "--code", "1234"], "8 digits"),
        (["127.0.0.1:6780", "--code", "12345678", "--idle", "-1"], "seconds"),
        (["127.0.0.1:6780", "--code", "12345678", "--frobnicate"], "unrecognized"),
        ([], "HOST:PORT"),
    ],
)
def test_bad_arguments_exit_2(argv: list[str], message: str) -> None:
    err = io.StringIO()
    assert run_cli(argv, stdout=io.StringIO(), stderr=err) == 2
    assert message in err.getvalue()


def test_help_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(["--help"]) == 0
    assert "--no-discovery" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["127.0.0.1:1", "--ble", "E1:DC:A0:9A:9A:B3"], "one of them"),
        ([], "one of them"),
        (["--ble", "E1:DC:A0:9A:9A"], "is not a BLE address"),
        (["127.0.0.1:1", "--ble-transport", "usb:0"], "--ble-transport goes with --ble"),
    ],
)
def test_ble_arguments_are_checked(argv: list[str], message: str) -> None:
    err = io.StringIO()
    assert run_cli([*argv, "--code", "1234-5678"], stdout=io.StringIO(), stderr=err) == 2
    assert message in err.getvalue()
