"""``./scripts/bench estate`` in a tiny form, end to end, on a real Mosquitto."""

from __future__ import annotations

import json
import os
from pathlib import Path
import subprocess
import sys

REPO = Path(__file__).resolve().parents[2]


def test_estate_bench_tiny_run() -> None:
    """1500 appliances (more than Mosquitto's default queue), few changes: nothing lost."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("COV_CORE")}
    args = ["--appliances", "1500", "--changes", "300", "--paced-changes", "50"]
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.estate", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=100,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["benchmark"] == "estate"
    assert result["appliances"] == 1500
    assert result["delivered_ratio"] == 1.0
    assert result["paced_lost"] == 0
    assert 0 < result["fresh_p50_ms"] <= result["fresh_p95_ms"] <= result["fresh_max_ms"]
    assert result["cold_read_s"] > 0
