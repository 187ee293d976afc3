"""Scale benchmark: one Home Assistant with many appliances, side by side with a baseline.

``./scripts/bench scale [--appliances 200,2000 --push-rate 1000,4000
--recorder off|on|both --window 20 --simulators 20 --baseline REF | --no-baseline
--quick]`` measures, per configuration (how many appliances, how many pushes a
second in all, Home Assistant's recorder off or on), with the integration of
this checkout ("current") and of commit REF ("baseline", default 79df7d8):

How. The appliances run in processes of their own (``_scale/appliances.py``):
up to ``--simulators`` appliances the physics simulators of firmware_bridge
(a mix of the four types, pushing as their physics change), beyond that
synthetic air conditioners (one ``ApplianceServer`` each, a realistic
capability set) whose temperature and power change ``--push-rate`` times a
second in all, spread evenly. The hub is a test Home Assistant in another
process (``_scale/hub.py``) with one config entry per appliance holding the
key the appliance holds; with the recorder on, history goes to a sqlite file.
Both are started with the code tree under test first on their path
(``git archive REF custom_components`` for the baseline), so the link library
on both ends is the one measured. Runs of a configuration alternate current
and baseline.

The figures (hub process unless said otherwise):

* ``setup_s``: from setting the integration up (every entry at once, as at
  Home Assistant's start) until every entry is loaded and every enabled entity
  available; ``setup_retried``: entries seen in SETUP_RETRY or needing more
  than one connect attempt; ``setup_cpu_s``, ``setup_lag_max_ms`` alongside.
* Over the measurement window, after a warm-up: ``cpu_pct`` (CPU time of the
  hub process, every thread, over wall time; 100 = one core), ``rss_peak_mb``
  and ``rss_end_mb``, ``lag_p99_ms`` and ``lag_max_ms`` (how late a task
  sleeping 20 ms wakes: the event loop's responsiveness),
  ``command_p50_ms``/``command_p99_ms`` (a blocking ``climate.set_temperature``
  on one appliance, ``--command-rate`` a second), ``pushes_per_s`` (pushes the
  coordinators handed to Home Assistant), ``state_changed_per_s``,
  ``disconnects`` (hub side), and from the appliance processes
  ``appliance_pushes_per_s`` (sent), ``sessions_dropped`` (connections that
  ended, e.g. "outbound queue full" for a hub too slow to read) and
  ``appliance_cpu_pct`` (if near 100 the appliance side limited the rate).

Prints a table per configuration (current, baseline, and the ratio
current/baseline: below 1 means the current code needs less) and ends with
one JSON line holding every figure. A configuration that cannot be
measured (set-up never completes within ``--setup-deadline``, a process
fails) is reported as failed with the reason; every child process is ended
at the end, on failure and on Ctrl-C. ``--profile DIR`` writes the hub's
cProfile statistics of set-up and window there (one pair per run; open with
``python -m pstats``); profiling slows the hub, so its figures are not
comparable with unprofiled ones.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
import json
from pathlib import Path
import shutil
import sys
import tempfile
import time
from typing import Any

from benchmarks._scale.supervise import REPO, BaselineError, extract_baseline, interruptible
from benchmarks._scale.variant import Config, Options, run_variant

DEFAULT_BASELINE = "79df7d8"
# (appliances, pushes/s, recorder), about 15 minutes with the baseline on a 2-core machine:
# 2000 appliances take about 5 minutes to set up there, so the default stops at 1000.
DEFAULT_MATRIX = [(20, 0.0, False), (200, 500.0, False), (200, 500.0, True)]
DEFAULT_MATRIX += [(200, 2000.0, False), (1000, 1000.0, False)]
QUICK_MATRIX = [(3, 0.0, False), (50, 200.0, False)]

# (key, label, format); the ratio is shown for every numeric figure.
ROWS: list[tuple[str, str, str]] = [
    ("setup_s", "set-up until all entities available (s)", "{:.2f}"),
    ("setup_retried", "entries that needed a retry", "{:d}"),
    ("setup_cpu_s", "CPU during set-up (s)", "{:.2f}"),
    ("open_files_soft", "open file limit after set-up (soft)", "{:d}"),
    ("setup_lag_max_ms", "event-loop lag during set-up, max (ms)", "{:.1f}"),
    ("entities", "entities", "{:d}"),
    ("cpu_pct", "hub CPU, % of one core", "{:.1f}"),
    ("rss_peak_mb", "RSS peak in window (MB)", "{:.0f}"),
    ("rss_end_mb", "RSS at end (MB)", "{:.0f}"),
    ("lag_p99_ms", "event-loop lag p99 (ms)", "{:.2f}"),
    ("lag_max_ms", "event-loop lag max (ms)", "{:.1f}"),
    ("command_p50_ms", "command round trip p50 (ms)", "{:.2f}"),
    ("command_p99_ms", "command round trip p99 (ms)", "{:.2f}"),
    ("commands", "commands sent", "{:d}"),
    ("command_errors", "commands failed", "{:d}"),
    ("pushes_per_s", "pushes delivered to HA per s", "{:.0f}"),
    ("appliance_pushes_per_s", "pushes sent by appliances per s", "{:.0f}"),
    ("state_changed_per_s", "state_changed events per s", "{:.0f}"),
    ("disconnects", "disconnects (hub side)", "{:d}"),
    ("sessions_dropped", "sessions dropped (appliance side)", "{:d}"),
    ("appliance_cpu_pct", "appliance processes CPU, % of one core", "{:.1f}"),
]


def _numbers(text: str, kind: Callable[[str], Any]) -> list[Any]:
    return [kind(part) for part in text.split(",") if part.strip()]


def matrix(args: argparse.Namespace) -> list[Config]:
    """The configurations to measure, in order."""
    if args.quick and args.appliances is None and args.push_rate is None:
        plan = QUICK_MATRIX
    elif args.appliances is None and args.push_rate is None and args.recorder is None:
        plan = DEFAULT_MATRIX
    else:
        counts = _numbers(args.appliances or "200,2000", int)
        rates = _numbers(args.push_rate or "1000", float)
        recorders = {"off": [False], "on": [True], "both": [False, True]}[args.recorder or "off"]
        plan = [(n, rate, rec) for rec in recorders for n in counts for rate in rates]
    configs: list[Config] = []
    for count, rate, recorder in plan:
        config = Config(count, rate, recorder, simulators=count <= args.simulators)
        if config.simulators:
            config = Config(count, 0.0, recorder, simulators=True)
        if config not in configs:
            configs.append(config)
    return configs


def ratios(current: dict[str, Any], baseline: dict[str, Any]) -> dict[str, float | None]:
    """current / baseline for every figure both have as a number."""
    out: dict[str, float | None] = {}
    for key, _, _ in ROWS:
        a, b = current.get(key), baseline.get(key)
        if isinstance(a, int | float) and isinstance(b, int | float):
            out[key] = round(a / b, 3) if b else None
    return out


def _cell(value: Any, fmt: str) -> str:
    if value is None:
        return "-"
    if fmt == "{:d}" and isinstance(value, float):
        fmt = "{:.0f}"
    return fmt.format(value)


def print_table(entry: dict[str, Any]) -> None:
    """One configuration's block: figure, current, baseline, ratio."""
    current, baseline = entry["current"], entry.get("baseline")
    print(f"\n== {entry['label']}")
    for name, run in (("current", current), ("baseline", baseline)):
        if run is not None and "failed" in run:
            print(f"   {name} FAILED: {run['failed']}")
    width = max(len(label) for _, label, _ in ROWS)
    head = f"   {'figure':<{width}}  {'current':>10}"
    print(head + (f"  {'baseline':>10}  {'ratio':>6}" if baseline is not None else ""))
    for key, label, fmt in ROWS:
        line = f"   {label:<{width}}  {_cell(current.get(key), fmt):>10}"
        if baseline is not None:
            ratio = entry.get("ratio", {}).get(key)
            line += f"  {_cell(baseline.get(key), fmt):>10}  {_cell(ratio, '{:.2f}'):>6}"
        print(line)
    for name, run in (("current", current), ("baseline", baseline)):
        if run and run.get("command_last_error"):
            print(f"   {name}: last command error {run['command_last_error']}")
        if run and run.get("appliance_pushes_skipped"):
            skipped = run["appliance_pushes_skipped"]
            print(f"   {name}: appliances fell behind and skipped {skipped} pushes")


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="./scripts/bench scale", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--appliances", help="comma-separated counts, e.g. 200,2000,4000")
    parser.add_argument("--push-rate", help="pushes per second in all, e.g. 1000,4000")
    parser.add_argument("--recorder", choices=("off", "on", "both"))
    parser.add_argument("--window", type=float, help="measurement window (s), default 20")
    parser.add_argument("--warmup", type=float, help="after set-up, before the window (s)")
    parser.add_argument(
        "--simulators",
        type=int,
        default=20,
        help="use the physics simulators up to this many appliances (default 20)",
    )
    parser.add_argument("--baseline", default=DEFAULT_BASELINE, help="git commit to compare")
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--quick", action="store_true", help="a 1-2 minute smoke run")
    parser.add_argument(
        "--setup-deadline",
        type=float,
        default=0.0,
        help="seconds until a set-up counts as failed (default 120 + 0.25 per appliance)",
    )
    parser.add_argument("--command-rate", type=float, default=5.0)
    parser.add_argument("--appliance-procs", type=int, default=0, help="0: 1, or 2 above 1000")
    parser.add_argument("--speed", type=float, default=60.0, help="physics simulators' speed")
    parser.add_argument(
        "--open-files",
        help="start the hub with these open file limits, SOFT[:HARD] (e.g. 1024 or 1024:1024); "
        "by default it starts at the hard limit",
    )
    parser.add_argument(
        "--profile",
        type=Path,
        help="write the hub's cProfile stats of set-up and window to this directory",
    )
    args = parser.parse_args(argv)
    if args.window is None:
        args.window = 5.0 if args.quick else 20.0
    if args.warmup is None:
        args.warmup = 1.0 if args.quick else 3.0
    return args


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Measure every configuration; return the whole result (what the JSON line holds)."""
    configs = matrix(args)
    options = Options(
        window=args.window,
        warmup=args.warmup,
        setup_deadline=args.setup_deadline,
        command_rate=args.command_rate,
        appliance_procs=args.appliance_procs,
        speed=args.speed,
        profile=args.profile,
        open_files=args.open_files,
    )
    started = time.monotonic()
    result: dict[str, Any] = {
        "benchmark": "scale",
        "window_s": args.window,
        "warmup_s": args.warmup,
        "command_rate": args.command_rate,
        "baseline_ref": None if args.no_baseline else args.baseline,
        "baseline_commit": None,
        "configs": [],
    }
    scratch = Path(tempfile.mkdtemp(prefix="liuzhou-scale-"))
    try:
        baseline_root: Path | None = None
        if not args.no_baseline:
            baseline_root = scratch / "baseline"
            baseline_root.mkdir()
            result["baseline_commit"] = extract_baseline(args.baseline, baseline_root)
        trees = [("current", REPO)]
        if baseline_root is not None:
            trees.append(("baseline", baseline_root))
        for number, config in enumerate(configs):
            entry: dict[str, Any] = {"label": config.label, **config.as_dict()}
            # Alternate which goes first, so that drift of the machine favours neither.
            order = trees if number % 2 == 0 else trees[::-1]
            for name, root in order:
                _say(f"[{number + 1}/{len(configs)}] {config.label}: {name}")
                workdir = scratch / f"run{number}-{name}"
                entry[name] = run_variant(config, options, name, root, workdir, _say)
                shutil.rmtree(workdir, ignore_errors=True)
            if "baseline" in entry:
                entry["ratio"] = ratios(entry["current"], entry["baseline"])
            result["configs"].append(entry)
            print_table(entry)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    result["elapsed_s"] = round(time.monotonic() - started, 1)
    return result


def main(argv: list[str] | None = None) -> int:
    """Run, print the tables and the JSON line."""
    args = parse_args(argv)
    try:
        with interruptible():
            result = run(args)
    except BaselineError as err:
        print(f"scale: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("scale: interrupted; every child process was ended", file=sys.stderr)
        return 130
    print(f"\nall done in {result['elapsed_s']:.0f} s")
    print(json.dumps(result))
    failed = any("failed" in c.get(n, {}) for c in result["configs"] for n in ("current",))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
