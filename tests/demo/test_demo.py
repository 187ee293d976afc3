"""The README's main command, run as a newcomer runs it: ``./scripts/demo``.

The real script, from an empty state directory, on free ports: its ready line,
then Home Assistant's HTTP API says every appliance entry and the household
entry are loaded with available entities, named after their types in the
server's language, and a command set in Home Assistant comes back from the
simulated air conditioner; Assist understands a request in that language; the
Energy dashboard lists every appliance. Ctrl-C ends it with exit 0 and nothing
left listening. A second run over the same state does it all again. A run with
``--language zh-Hans`` sets up a Chinese home.
"""

from __future__ import annotations

from collections.abc import Iterator
import json
import os
from pathlib import Path
import queue
import re
import signal
import socket
import subprocess
import threading
import time
from typing import Any, cast
import urllib.error
import urllib.parse
import urllib.request

import pytest

from scripts import demo
from scripts.ports import free_port_block, listening

ROOT = Path(__file__).resolve().parents[2]
APPLIANCES = 4  # one of each type, the demo's default
READY_WITHIN = 240.0  # seconds; Home Assistant starts in 20-40 s here
STOP_WITHIN = 60.0

# What a new home is called in each language: the appliances, the household entry, areas.
HOME = {
    "en": {
        "appliances": {"Air conditioner", "Refrigerator", "Washing machine", "Dishwasher"},
        "household": "Household energy",
        "owner": "Demo Owner",
        "areas": {
            "Air conditioner": "Bedroom",
            "Refrigerator": "Kitchen",
            "Dishwasher": "Kitchen",
            "Washing machine": "Balcony",
        },
        "turn_on": ("turn on the air conditioner", "Turned on"),
        "panel": ("ac-1> en: turn on the air conditioner", "en", "Turned on"),
        # The Done-when, through Assist: (sentence, Assist's response type).
        "assist": (
            ("start the washer", "action_done"),
            ("when will the washer be done", "query_answer"),
            ("set the freezer to minus 20 degrees", "action_done"),
            ("put the air conditioner in sleep mode", "action_done"),
            ("how much did the air conditioner cost today", "query_answer"),
        ),
    },
    "zh-Hans": {
        "appliances": {"空调", "冰箱", "洗衣机", "洗碗机"},
        "household": "家庭能源",
        "owner": "演示用户",
        "areas": {"空调": "卧室", "冰箱": "厨房", "洗碗机": "厨房", "洗衣机": "阳台"},
        "turn_on": ("打开空调", "空调已打开"),
        "panel": ("ac-1> 打开空调", "zh-CN", "空调已打开"),
        "assist": (
            ("洗衣机开始洗", "action_done"),
            ("洗衣机还要多久", "query_answer"),
            ("冷冻室调到零下二十度", "action_done"),
            ("空调开睡眠模式", "action_done"),
            ("空调今天花了多少钱", "query_answer"),
        ),
    },
}

pytestmark = pytest.mark.timeout(900)


class DemoRun:
    """``./scripts/demo`` as a child process, its output read line by line."""

    def __init__(self, state_dir: Path, port: int, base_port: int, *options: str) -> None:
        self.state_dir = state_dir
        self.port = port
        self.base_port = base_port
        self.output: list[str] = []
        self._lines: queue.Queue[str | None] = queue.Queue()
        self.process = subprocess.Popen(
            [
                "./scripts/demo",
                "--state-dir",
                str(state_dir),
                "--port",
                str(port),
                "--base-port",
                str(base_port),
                *options,
            ],
            cwd=ROOT,
            stdin=subprocess.PIPE,  # lines typed at the voice panels (scripts/demo_panels.py)
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._lines.put(line.rstrip("\n"))
        self._lines.put(None)

    def wait_for(self, pattern: str, within: float) -> re.Match[str]:
        """The first output line matching ``pattern``; fails with the output so far."""
        deadline = time.monotonic() + within
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self._lines.get(timeout=left)
            except queue.Empty:
                break
            if line is None:
                pytest.fail("the demo exited before " + pattern + ":\n" + "\n".join(self.output))
            self.output.append(line)
            if match := re.search(pattern, line):
                return match
        pytest.fail(f"no {pattern!r} within {within} s:\n" + "\n".join(self.output))

    def type(self, line: str) -> None:
        """Type ``line`` and Enter in the demo's terminal."""
        assert self.process.stdin is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    def interrupt(self) -> int:
        """Ctrl-C, as a terminal sends it; the exit code."""
        os.killpg(self.process.pid, signal.SIGINT)
        try:
            code = self.process.wait(timeout=STOP_WITHIN)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            pytest.fail(f"the demo did not stop within {STOP_WITHIN} s after Ctrl-C")
        while (line := self._lines.get(timeout=10)) is not None:
            self.output.append(line)
        return code

    def end(self) -> None:
        """After a failed check: Ctrl-C, so the demo stops its own children, then SIGKILL.

        Home Assistant and the simulators run in sessions of their own (a
        terminal's Ctrl-C reaches only the demo, which stops them in order), so
        killing the demo outright would leave them running.
        """
        if self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGINT)
        try:
            self.process.wait(timeout=STOP_WITHIN)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
            subprocess.run(["pkill", "-KILL", "-f", str(self.state_dir)], check=False)


class HomeAssistantApi:
    """Home Assistant's REST API with the login the demo created."""

    def __init__(self, base: str, credentials: dict[str, Any]) -> None:
        self.base = base
        tokens = self._request(
            "POST",
            "/auth/token",
            form={
                "grant_type": "refresh_token",
                "refresh_token": credentials["refresh_token"],
                "client_id": credentials["client_id"],
            },
        )
        self.token = tokens["access_token"]

    def _request(
        self,
        method: str,
        path: str,
        body: Any = None,
        form: dict[str, str] | None = None,
    ) -> Any:
        headers = {}
        data = None
        if form is not None:
            data = urllib.parse.urlencode(form).encode()
        elif body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if getattr(self, "token", None):
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(self.base + path, data, headers, method=method)
        with urllib.request.urlopen(request, timeout=30) as response:
            text = response.read().decode()
        return json.loads(text) if text.strip()[:1] in ("{", "[") else text

    def get(self, path: str) -> Any:
        return self._request("GET", path)

    def post(self, path: str, body: Any) -> Any:
        return self._request("POST", path, body)

    def entries(self) -> list[dict[str, Any]]:
        entries = self.get("/api/config/config_entries/entry?domain=liuzhou_appliances")
        return [e for e in entries if e["domain"] == "liuzhou_appliances"]

    def integration_states(self) -> dict[str, dict[str, Any]]:
        template = "{{ integration_entities('liuzhou_appliances') | list | tojson }}"
        ids = self.post("/api/template", {"template": template})  # JSON text, decoded
        return {entity_id: self.get(f"/api/states/{entity_id}") for entity_id in ids}


def _check_home_assistant(run: DemoRun, state_dir: Path, language: str = "en") -> None:
    credentials = json.loads((state_dir / "credentials.json").read_text())
    api = HomeAssistantApi(f"http://127.0.0.1:{run.port}", credentials)
    home = HOME[language]
    config = api.get("/api/config")
    assert (config["language"], config["time_zone"], config["country"]) == (
        language,
        "Asia/Shanghai",
        "CN",
    )
    assert config["unit_system"]["temperature"] == "°C"
    assert config["unit_system"]["length"] == "km"
    assert {"assist_pipeline", "conversation", "energy"} <= set(config["components"])
    entries = api.entries()
    assert len(entries) == APPLIANCES + 1, entries  # the appliances and the household
    assert {entry["state"] for entry in entries} == {"loaded"}, entries
    assert {entry["title"] for entry in entries} == {*home["appliances"], home["household"]}
    template = (
        "{% set ns = namespace(pairs=[]) %}"
        "{% for e in integration_entities('liuzhou_appliances') %}"
        "{% set ns.pairs = ns.pairs + [[device_attr(e, 'name'), area_name(e)]] %}"
        "{% endfor %}{{ ns.pairs | tojson }}"
    )
    areas = dict(api.post("/api/template", {"template": template}))  # device: area
    # The appliances' devices and the household entry's own, named in the home's language,
    # and the household's device for each room (an area holding appliances), in its area.
    appliance_areas = home["areas"]
    assert isinstance(appliance_areas, dict)
    rooms = set(appliance_areas.values())
    assert set(areas) == {*home["appliances"], home["household"], *rooms}, areas
    assert {name: area for name, area in areas.items() if area} == {
        **appliance_areas,
        **{room: room for room in rooms},
    }
    states = api.integration_states()
    assert states, "the integration created no entities"
    unavailable = sorted(e for e, s in states.items() if s["state"] == "unavailable")
    assert not unavailable, unavailable
    # A command travels to the simulated air conditioner; the value comes back from it.
    climate = next(e for e in states if e.startswith("climate."))
    wanted = 21.5 if states[climate]["attributes"].get("temperature") != 21.5 else 22.5
    api.post("/api/services/climate/set_temperature", {"entity_id": climate, "temperature": wanted})
    deadline = time.monotonic() + 20
    while api.get(f"/api/states/{climate}")["attributes"].get("temperature") != wanted:
        assert time.monotonic() < deadline, "the air conditioner never reported the new setpoint"
        time.sleep(0.5)
    # Assist, in the home's language, finds the appliance by the name it was given.
    request, answer = home["turn_on"]
    said = api.post("/api/conversation/process", {"text": request, "language": language})
    assert said["response"]["response_type"] == "action_done", said
    assert answer in said["response"]["speech"]["plain"]["speech"], said
    assert [target["id"] for target in said["response"]["data"]["success"]] == [climate]
    # Start the washer, ask when it finishes, set the freezer to -20 °C, put the AC in
    # sleep mode, ask what the AC cost today: each done or answered, in the home's language.
    for sentence, kind in cast(tuple[tuple[str, str], ...], home["assist"]):
        said = api.post("/api/conversation/process", {"text": sentence, "language": language})
        assert said["response"]["response_type"] == kind, (sentence, said)
    freezer = next(e for e in states if e.startswith("number.") and "freezer" in e)
    deadline = time.monotonic() + 20
    while float(api.get(f"/api/states/{freezer}")["state"]) != -20:
        assert time.monotonic() < deadline, "the fridge never reported the freezer at -20 °C"
        time.sleep(0.5)
    # A line typed at the demo is heard by the AC's voice panel; Assist's answer comes back.
    line, panel_language, panel_answer = cast(tuple[str, str, str], home["panel"])
    run.type(line)
    reply = run.wait_for(rf"^\[panel\] ac-1 replies \[{panel_language}\]: (.+)$", 30)
    assert panel_answer in reply.group(1), reply.group(0)


def _check_saved(state_dir: Path, language: str = "en") -> None:
    """What Home Assistant wrote when it stopped: the Energy dashboard, the owner's name and
    language."""
    storage = state_dir / "config" / ".storage"
    energy = json.loads((storage / "energy").read_text())["data"]
    sensors = [device["stat_consumption"] for device in energy["device_consumption"]]
    assert len(sensors) == len(set(sensors)) == APPLIANCES, sensors
    assert all(re.fullmatch(r"sensor\.\w+_energy", sensor) for sensor in sensors), sensors
    registry = json.loads((storage / "core.entity_registry").read_text())["data"]["entities"]
    ours = {e["entity_id"]: e for e in registry if e["platform"] == "liuzhou_appliances"}
    assert all(ours[sensor]["unique_id"].endswith("_energy") for sensor in sensors)
    (user_data,) = storage.glob("frontend.user_data_*")
    assert json.loads(user_data.read_text())["data"]["language"]["language"] == language
    # The owner is named in the home's language.
    users = json.loads((storage / "auth").read_text(encoding="utf-8"))["data"]["users"]
    assert [user["name"] for user in users if not user["system_generated"]] == [
        HOME[language]["owner"]
    ]


def _check_stopped(run: DemoRun) -> None:
    code = run.interrupt()
    assert code == 0, "\n".join(run.output)
    assert run.output[-1].endswith("stopped")
    ports = [run.port, *range(run.base_port, run.base_port + APPLIANCES)]
    assert not [port for port in ports if listening(port)], "still listening after Ctrl-C"
    with pytest.raises(ProcessLookupError):
        os.killpg(run.process.pid, 0)  # nothing of its process group is left


@pytest.fixture
def runs() -> Iterator[list[DemoRun]]:
    started: list[DemoRun] = []
    yield started
    for run in started:
        run.end()


def test_demo_from_an_empty_state_then_again(tmp_path: Path, runs: list[DemoRun]) -> None:
    state_dir = tmp_path / "demo"
    port = free_port_block(1)
    base_port = free_port_block(APPLIANCES)

    first = DemoRun(state_dir, port, base_port)
    runs.append(first)
    first.wait_for(r"^\[demo\] starting simulated appliances", READY_WITHIN)
    codes = [first.wait_for(r"pairing code (\d{4}-\d{4})$", 60).group(1) for _ in range(APPLIANCES)]
    assert len(set(codes)) == APPLIANCES
    first.wait_for(rf"{re.escape(demo.READY)} http://127\.0\.0\.1:{port}$", READY_WITHIN)
    assert sum(": paired" in line for line in first.output) == APPLIANCES
    assert not any("Traceback" in line for line in first.output)
    _check_home_assistant(first, state_dir)
    _check_stopped(first)
    _check_saved(state_dir)

    second = DemoRun(state_dir, port, base_port)
    runs.append(second)
    second.wait_for(rf"{re.escape(demo.READY)} http://127\.0\.0\.1:{port}$", READY_WITHIN)
    assert sum(": already paired" in line for line in second.output) == APPLIANCES
    assert any("household energy: already set up" in line for line in second.output)
    assert any("Energy dashboard: 4 appliances already there" in line for line in second.output)
    _check_home_assistant(second, state_dir)
    _check_stopped(second)
    _check_saved(state_dir)


def test_demo_in_chinese(tmp_path: Path, runs: list[DemoRun]) -> None:
    """``--language zh-Hans``: server and owner in Chinese, appliances named in Chinese."""
    state_dir = tmp_path / "demo"
    port = free_port_block(1)
    base_port = free_port_block(APPLIANCES)
    run = DemoRun(state_dir, port, base_port, "--language", "zh-Hans")
    runs.append(run)
    run.wait_for(rf"{re.escape(demo.READY)} http://127\.0\.0\.1:{port}$", READY_WITHIN)
    assert any(line.endswith(": paired as 空调 in 卧室") for line in run.output), run.output
    _check_home_assistant(run, state_dir, "zh-Hans")
    _check_stopped(run)
    _check_saved(state_dir, "zh-Hans")
    home_log = (state_dir / "home-assistant.log").read_text(encoding="utf-8")
    failed = re.findall(r".*(?:Setup failed for|Error during setup of).*", home_log)
    assert not failed, failed


def test_help_answers_at_once_and_describes_every_option() -> None:
    started = time.monotonic()
    done = subprocess.run(
        ["./scripts/demo", "--help"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert time.monotonic() - started < 10  # no set-up, no Home Assistant import
    assert "scripts/setup" not in done.stdout + done.stderr
    options = re.findall(r"^  (--[\w-]+)", done.stdout, re.M)
    assert set(options) >= {
        "--host",
        "--port",
        "--base-port",
        "--ac",
        "--fridge",
        "--washer",
        "--dishwasher",
        "--seed",
        "--speed",
        "--module",
        "--language",
        "--state-dir",
    }
    for option in options:
        described = re.search(rf"^  {option}(?: \S+)?\s+(\S.*)$", done.stdout, re.M)
        follows = re.search(rf"^  {option}(?: \S+)?\n\s{{10,}}(\S.*)$", done.stdout, re.M)
        assert described or follows, f"{option} has no description"


def test_a_missed_deadline_is_one_line_naming_the_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Home Assistant that never answers: one line, what and where to look, exit 1."""
    monkeypatch.setattr(demo, "HTTP_DEADLINE", 2)
    busy = socket.socket()  # something that accepts connections and never answers
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    port = int(busy.getsockname()[1])
    # "Home Assistant" that starts and then hangs.
    monkeypatch.setattr(demo, "_home_assistant_command", lambda _config: ["sleep", "600"])
    one_ac = ["--ac", "1", "--fridge", "0", "--washer", "0", "--dishwasher", "0"]
    where = ["--state-dir", str(tmp_path), "--port", str(port)]
    try:
        code = demo.main([*where, "--base-port", str(free_port_block(1)), *one_ac])
    finally:
        busy.close()
    out = capsys.readouterr().out
    assert code == 1
    errors = [line for line in out.splitlines() if "error:" in line]
    assert errors == [
        f"[demo] error: Home Assistant did not answer on http://127.0.0.1:{port} within 2 s; "
        f"see {tmp_path / 'home-assistant.log'}"
    ]
    assert "Traceback" not in out
