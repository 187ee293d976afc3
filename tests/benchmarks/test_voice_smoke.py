"""``./scripts/bench voice`` in its tiniest form, end to end, in a process of its own."""

from __future__ import annotations

import json
import os
from pathlib import Path
import subprocess
import sys

REPO = Path(__file__).resolve().parents[2]


def test_voice_bench_one_round() -> None:
    """One round per language: every figure is there, each path answered and acted."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("COV_CORE")}
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.voice", "--rounds", "1"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["rounds"] == 1
    for language in ("en", "zh-cn"):
        for key in ("assist_median_ms", "button_median_ms", "panel_median_ms"):
            assert result[f"{language}_{key}"] > 0, (language, key)
