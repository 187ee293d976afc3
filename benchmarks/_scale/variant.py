"""One measured run: appliance processes, then the hub, for one configuration and code tree."""

from __future__ import annotations

from dataclasses import dataclass
import json
from pathlib import Path
import time
from typing import Any

from .supervise import Children

APPLIANCES_MODULE = "benchmarks._scale.appliances"
HUB_MODULE = "benchmarks._scale.hub"
# Importing Home Assistant and the integration, before any set-up starts.
HUB_START_ALLOWANCE = 90.0


@dataclass(frozen=True)
class Config:
    """What is measured: how many appliances, of which kind, how busy, with history or not."""

    appliances: int
    push_rate: float  # pushes per second in all (synthetic appliances only)
    recorder: bool
    simulators: bool  # the physics simulators instead of synthetic appliances

    @property
    def label(self) -> str:
        kind = "physics simulators" if self.simulators else "synthetic"
        rate = "pushes as the physics go" if self.simulators else f"{self.push_rate:g} pushes/s"
        history = "recorder on" if self.recorder else "recorder off"
        return f"{self.appliances} appliances ({kind}), {rate}, {history}"

    @property
    def slug(self) -> str:
        """A file name part: e.g. 2000-synthetic-1000-off."""
        kind = "sim" if self.simulators else f"synthetic-{self.push_rate:g}"
        return f"{self.appliances}-{kind}-{'on' if self.recorder else 'off'}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "appliances": self.appliances,
            "push_rate": None if self.simulators else self.push_rate,
            "recorder": self.recorder,
            "source": "simulators" if self.simulators else "synthetic",
        }


@dataclass(frozen=True)
class Options:
    """How each run is done."""

    window: float
    warmup: float
    setup_deadline: float  # 0: 120 s plus 0.25 s per appliance
    command_rate: float
    appliance_procs: int  # 0: one up to 1000 appliances, two above
    speed: float  # the physics simulators' speed
    profile: Path | None = None  # where the hub's cProfile stats go, if anywhere
    open_files: str | None = None  # "SOFT[:HARD]" for the hub; None: raised to the hard limit


def _split(total: int, parts: int) -> list[int]:
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


def _window_figures(timelines: list[list[list[float]]], start: float, end: float) -> dict[str, Any]:
    """The appliance processes' figures over the hub's window (the same monotonic clock)."""
    pushes = cpu = 0.0
    ended = 0.0
    sessions_min = 0.0
    for rows in timelines:
        inside = [row for row in rows if start <= row[0] <= end]
        if len(inside) < 2:
            return {"appliance_note": "too few appliance samples inside the window"}
        first, last = inside[0], inside[-1]
        span = last[0] - first[0]
        pushes += (last[1] - first[1]) / span
        cpu += (last[2] - first[2]) / span
        ended += last[4] - first[4]
        sessions_min += min(row[3] for row in inside)
    return {
        "appliance_pushes_per_s": round(pushes, 1),
        "appliance_cpu_pct": round(100 * cpu, 1),
        "sessions_dropped": int(ended),
        "sessions_open_min": int(sessions_min),
    }


def run_variant(
    config: Config, options: Options, name: str, code_root: Path, workdir: Path, say: Any
) -> dict[str, Any]:
    """Measure ``config`` with the integration under ``code_root`` (the run ``name``).

    Every child process started for it has ended when this returns.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    children = Children()
    started = time.monotonic()
    try:
        return _run(config, options, name, code_root, workdir, children, say)
    finally:
        children.stop_all()
        left = children.alive()
        say(f"  took {time.monotonic() - started:.0f} s" + (f"; {left} left!" if left else ""))


def _run(
    config: Config,
    options: Options,
    name: str,
    code_root: Path,
    workdir: Path,
    children: Children,
    say: Any,
) -> dict[str, Any]:
    procs = options.appliance_procs or (1 if config.appliances <= 1000 else 2)
    procs = 1 if config.simulators else max(1, min(procs, config.appliances))
    appliance_children = []
    first = 0
    for number, count in enumerate(_split(config.appliances, procs)):
        roster = workdir / f"roster{number}.json"
        args = ["--count", str(count), "--first", str(first), "--roster", str(roster)]
        if config.simulators:
            args += ["--mode", "simulators", "--speed", str(options.speed)]
        else:
            rate = config.push_rate * count / config.appliances
            args += ["--mode", "synthetic", "--rate", str(rate)]
        child = children.start(f"appliances{number}", APPLIANCES_MODULE, args, code_root, workdir)
        appliance_children.append((child, roster))
        first += count
    for child, roster in appliance_children:
        if child.wait_line("READY", 60.0 + config.appliances / 20) is None:
            return {"failed": f"{child.name} did not start:\n{child.tail()}"}
        origin = json.loads(roster.read_text(encoding="utf-8"))["origin"]
        if Path(origin).resolve() != code_root.resolve():
            return {"failed": f"{child.name} ran the integration of {origin}, not {code_root}"}
    say(f"  {config.appliances} appliances listening; starting Home Assistant")

    deadline = options.setup_deadline or 120.0 + 0.25 * config.appliances
    hub_args = ["--config-dir", str(workdir / "config")]
    (workdir / "config").mkdir(exist_ok=True)
    for _, roster in appliance_children:
        hub_args += ["--roster", str(roster)]
    hub_args += [
        "--window",
        str(options.window),
        "--warmup",
        str(options.warmup),
        "--setup-deadline",
        str(deadline),
        "--command-rate",
        str(options.command_rate),
    ]
    if config.recorder:
        hub_args.append("--recorder")
    if options.open_files:
        hub_args += ["--open-files", options.open_files]
    if options.profile is not None:
        options.profile.mkdir(parents=True, exist_ok=True)
        hub_args += ["--profile", str(options.profile / f"{config.slug}-{name}")]
    hub = children.start("hub", HUB_MODULE, hub_args, code_root, workdir)
    timeout = HUB_START_ALLOWANCE + deadline + options.warmup + options.window + 30
    line = hub.wait_line("{", timeout)
    if line is None:
        return {"failed": f"the hub gave no result within {timeout:.0f} s:\n{hub.tail()}"}
    result: dict[str, Any] = json.loads(line)
    if "failed" in result:
        result["failed"] += "\n" + hub.tail(8)
        return result
    if Path(result["origin"]).resolve() != code_root.resolve():
        return {"failed": f"the hub ran the integration of {result['origin']}, not {code_root}"}

    timelines = []
    for child, _ in appliance_children:
        child.send("quit")
        answer = child.wait_line("{", 60.0)
        if answer is None:
            result["appliance_note"] = f"{child.name} gave no timeline:\n{child.tail()}"
            return result
        data = json.loads(answer)
        timelines.append(data["timeline"])
        result["appliance_pushes_skipped"] = result.get("appliance_pushes_skipped", 0) + int(
            data["skipped"]
        )
    result |= _window_figures(timelines, result.pop("window_start"), result.pop("window_end"))
    return result
