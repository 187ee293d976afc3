"""``./scripts/bench scale`` in its tiniest form, end to end, in processes of its own."""

from __future__ import annotations

import json
import os
from pathlib import Path
import subprocess
import sys

REPO = Path(__file__).resolve().parents[2]


def test_scale_bench_tiniest_run() -> None:
    """3 synthetic appliances, 2 s window, no baseline: every figure is there and sensible."""
    # Coverage of this suite must not follow the benchmark's children.
    env = {k: v for k, v in os.environ.items() if not k.startswith("COV_CORE")}
    args = ["--appliances", "3", "--push-rate", "30", "--simulators", "0"]
    args += ["--window", "2", "--warmup", "0.5", "--no-baseline"]
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.scale", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=100,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["benchmark"] == "scale"
    assert result["baseline_commit"] is None
    [config] = result["configs"]
    assert (config["appliances"], config["source"], config["recorder"]) == (3, "synthetic", False)
    assert "baseline" not in config
    current = config["current"]
    assert "failed" not in current, current
    assert current["connected_entries"] == 3
    assert current["setup_retried"] == 0
    assert current["setup_s"] > 0
    assert current["entities"] > 3
    assert current["pushes_per_s"] > 0
    assert current["appliance_pushes_per_s"] > 0
    assert current["state_changed_per_s"] > 0
    assert current["commands"] > 0
    assert current["command_errors"] == 0
    assert 0 < current["command_p50_ms"] <= current["command_p99_ms"]
    assert 0 < current["cpu_pct"] < 200
    assert current["rss_end_mb"] > 50
    assert current["lag_p99_ms"] is not None
    assert current["disconnects"] == current["sessions_dropped"] == 0
    assert "current" in done.stdout  # the table
