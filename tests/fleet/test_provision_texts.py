"""fleet.provision_texts: every text in both languages, outcomes by name, reasons
in the integration's own words, English exactly as the report always printed it."""

from __future__ import annotations

import io
import json
import string
from typing import Any

import pytest

from fleet.languages import LANGUAGES, TRANSLATIONS
from fleet.provision import print_report, progress_line
from fleet.provision_texts import (
    OUTCOME_WIDTH,
    OUTCOMES,
    column,
    outcome_name,
    reason_text,
    texts,
)


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_every_english_text_has_a_chinese_one_with_the_same_fields() -> None:
    english, chinese = texts("en"), texts("zh-Hans")
    assert set(chinese) == set(english)
    for key, template in english.items():
        assert _fields(chinese[key]) == _fields(template), key
    assert set(OUTCOME_WIDTH) == set(LANGUAGES)
    with pytest.raises(ValueError, match="zh-Hans"):
        texts("fr")


@pytest.mark.parametrize("outcome", OUTCOMES)
def test_every_outcome_has_a_name_in_both_languages(outcome: str) -> None:
    assert outcome_name(outcome, "en") == outcome  # English prints the key
    chinese = outcome_name(outcome, "zh-Hans")
    assert chinese != outcome
    assert all(ord(c) > 0x2E80 for c in chinese), chinese
    assert len({outcome_name(o, "zh-Hans") for o in OUTCOMES}) == len(OUTCOMES)


def test_reasons_are_the_integrations_own_texts() -> None:
    errors = json.loads((TRANSLATIONS / "zh-Hans.json").read_text(encoding="utf-8"))
    errors = errors["config"]["error"]
    for key in ("cannot_connect", "wrong_code", "busy", "timed_out"):
        assert reason_text(key, "zh-Hans") == errors[key].rstrip("。")
        assert reason_text(key, "en") == key
    # A text needing a value the report lacks keeps the sentence before it.
    assert reason_text("rate_limited", "zh-Hans") == "配对码错误次数过多"
    assert reason_text("different_appliance", "zh-Hans") == "different_appliance"
    # The appliance id a roster line names fills not_discovered's text.
    said = reason_text("not_discovered", "zh-Hans", {"appliance": "lz-ac-9"})
    assert "lz-ac-9" in said
    assert "{" not in said
    # No translation: the key (or the roster's own words) as it is.
    assert reason_text("missing code", "zh-Hans") == "missing code"


def test_columns_pad_by_display_width_in_chinese_only() -> None:
    assert column("A栋", 6, "en") == "A栋    "  # characters, as it always was
    assert column("A栋", 6, "zh-Hans") == "A栋   "  # 栋 takes two columns
    assert column("longer than that", 4, "zh-Hans") == "longer than that"


REPORT: dict[str, Any] = {
    "rows": [
        {
            "line": 2,
            "outcome": "paired",
            "building": "Tower A",
            "floor": "3",
            "room": "301",
            "appliance": "10.0.0.5:8000",
            "changes": ["area", "label"],
        },
        {
            "line": 3,
            "outcome": "unreachable",
            "reason": "cannot_connect",
            "building": "Tower A",
            "floor": "3",
            "room": "302",
            "appliance": "10.0.0.6:8000",
        },
        {"line": 4, "outcome": "bad_row", "reason": "missing code"},
    ],
    "warnings": [{"line": 5, "kind": "unknown_column", "reason": "unknown column 'x'"}],
    "created": {"household": True, "floors": ["Tower A / 3"], "areas": [], "labels": []},
    "summary": {"paired": 1, "unreachable": 1, "bad_row": 1},
    "failed": 2,
    "seconds": 1.5,
}


def test_english_report_is_unchanged() -> None:
    out = io.StringIO()
    print_report(REPORT, out)
    assert out.getvalue() == (
        "\nReport\n"
        "  line    2  paired              Tower A / 3 / 301            10.0.0.5:8000  area, label\n"
        "  line    3  unreachable         Tower A / 3 / 302            10.0.0.6:8000  "
        "cannot_connect\n"
        "  line    4  bad_row                                            missing code\n"
        "  line    5  warning: unknown column 'x'\n"
        "Created the household entry (rooms and floors belong to it).\n"
        "Created floors: Tower A / 3\n"
        "1 bad_row, 1 paired, 1 unreachable in 1.5 s; 2 failed\n"
    )


def test_chinese_report_and_progress() -> None:
    out = io.StringIO()
    print_report(REPORT, out, "zh-Hans")
    lines = out.getvalue().splitlines()
    assert lines[1] == "报告"
    assert lines[2] == (
        "  第    2 行  已配对       Tower A / 3 / 301            10.0.0.5:8000  区域，标签"
    )
    assert lines[3].startswith("  第    3 行  无法连接     Tower A / 3 / 302")
    assert lines[3].endswith("无法连接到电器。请确认电器已通电并已连上家里的网络，且地址填写正确")
    assert lines[5] == "  第    5 行  警告：unknown column 'x'"
    assert lines[-2] == "已创建楼层：Tower A / 3"
    assert lines[-1] == "错误行 1，已配对 1，无法连接 1，用时 1.5 秒；2 行未成功"
    event = {**REPORT["rows"][1], "retry_in": 5.0, "attempt": 1, "done": 1, "total": 3}
    assert progress_line(event, "zh-Hans") == (
        "[1/3] 第 3 行 Tower A / 3 / 302 10.0.0.6:8000：无法连接（无法连接到电器。"
        "请确认电器已通电并已连上家里的网络，且地址填写正确），5 秒后重试"
    )
    done = {"line": 4, "outcome": "paired", "appliance": "lz-1", "done": 3, "total": 8}
    assert progress_line(done) == "[3/8] line 4 lz-1: paired"
    assert progress_line(done, "zh-Hans") == "[3/8] 第 4 行 lz-1：已配对"
