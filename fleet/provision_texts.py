"""fleet.provision's texts in English (the default) and Simplified Chinese.

``texts(language)`` gives the templates the command's progress lines, report
and messages are made of; ``outcome_name(outcome, language)`` a line's outcome
as a person reads it; ``reason_text(reason, language, row)`` why a line failed
(the integration's own translation of a pairing error, config.error then
config.abort in translations/<language>.json; the key itself where there is
none or it needs a value the report does not carry); ``column(text, width,
language)`` a report column. fleet.languages lists what ``--language`` takes.

In English every text is the raw key, exactly as before ``--language`` existed:
scripts and tests read the outcome column of the English report.
"""

from __future__ import annotations

from functools import cache
import re
import string
from typing import Any, Final
import unicodedata

from .languages import integration_strings, pick

# A line's outcomes (custom_components/liuzhou_appliances/provisioning.py and
# roster.py's ProblemKind, plus fleet.provision's other_building).
OUTCOMES: Final = (
    "paired",
    "already_present",
    "unreachable",
    "wrong_code",
    "failed",
    "duplicate_row",
    "duplicate_appliance",
    "bad_row",
    "other_building",
)

# Display columns of the report's outcome column.
OUTCOME_WIDTH: Final = {"en": 19, "zh-Hans": 12}

# Fields: roster, count, error, url, status, detail, path, variable, done, total,
# line, where, outcome, reason, seconds, summary, failed, names.
_TEXTS: Final[dict[str, dict[str, str]]] = {
    "en": {
        "to_provision": "{roster}: {count} appliances to provision",
        "others_skipped": "{roster}: {count} lines of other buildings skipped",
        "roster_error": "{roster}: {error}",
        "building_needs_csv": "{roster}: --building needs a CSV roster",
        "unreachable": "cannot reach Home Assistant at {url}: {error}",
        "token_refused_upload": "Home Assistant refused the token (an administrator's is needed)",
        "token_refused": "Home Assistant refused the token",
        "upload_refused": "upload refused: HTTP {status}",
        "no_progress": "cannot follow the progress: {detail}",
        "roster_refused": "Home Assistant refused the roster: {detail}",
        "token_unreadable": "cannot read {path}: {error}",
        "no_token": "no access token: use --token-file or set {variable}",
        "progress": "[{done}/{total}] line {line}",
        "progress_outcome": ": {outcome}",
        "progress_reason": " ({reason})",
        "progress_retry": ", trying again in {seconds:.0f} s",
        "report": "\nReport",
        "row": "  line {line:>4}  ",
        "warning": "  line {line:>4}  warning: {reason}",
        "created_household": "Created the household entry (rooms and floors belong to it).",
        "created_floors": "Created floors: {names}",
        "created_areas": "Created areas: {names}",
        "created_labels": "Created labels: {names}",
        "summary_part": "{count} {outcome}",
        "summary": "{summary} in {seconds} s; {failed} failed",
        "list": ", ",
    },
    "zh-Hans": {
        "to_provision": "{roster}：待部署 {count} 台电器",
        "others_skipped": "{roster}：跳过其他楼栋的 {count} 行",
        "roster_error": "{roster}：{error}",
        "building_needs_csv": "{roster}：--building 只适用于 CSV 清单",
        "unreachable": "无法连接 {url} 上的 Home Assistant：{error}",
        "token_refused_upload": "Home Assistant 拒绝了该访问令牌（需要管理员的令牌）",
        "token_refused": "Home Assistant 拒绝了该访问令牌",
        "upload_refused": "上传被拒绝：HTTP {status}",
        "no_progress": "无法跟踪进度：{detail}",
        "roster_refused": "Home Assistant 拒绝了该清单：{detail}",
        "token_unreadable": "无法读取 {path}：{error}",
        "no_token": "没有访问令牌：请使用 --token-file 或设置 {variable}",
        "progress": "[{done}/{total}] 第 {line} 行",
        "progress_outcome": "：{outcome}",
        "progress_reason": "（{reason}）",
        "progress_retry": "，{seconds:.0f} 秒后重试",
        "report": "\n报告",
        "row": "  第 {line:>4} 行  ",
        "warning": "  第 {line:>4} 行  警告：{reason}",
        "created_household": "已创建家庭条目（房间和楼层归属于它）。",
        "created_floors": "已创建楼层：{names}",
        "created_areas": "已创建区域：{names}",
        "created_labels": "已创建标签：{names}",
        "summary_part": "{outcome} {count}",
        "summary": "{summary}，用时 {seconds} 秒；{failed} 行未成功",
        "list": "，",
    },
}

# Outcomes and a placed appliance's changes (provision_places.py) by name.
_NAMES: Final[dict[str, dict[str, str]]] = {
    "en": {},
    "zh-Hans": {
        "paired": "已配对",
        "already_present": "已存在",
        "unreachable": "无法连接",
        "wrong_code": "配对码错误",
        "failed": "失败",
        "duplicate_row": "重复行",
        "duplicate_appliance": "重复电器",
        "bad_row": "错误行",
        "other_building": "其他楼栋",
        "area": "区域",
        "floor": "楼层",
        "label": "标签",
    },
}


def texts(language: str) -> dict[str, str]:
    """The command's templates in ``language``; ValueError for one not in LANGUAGES."""
    return pick(_TEXTS, language)


def outcome_name(outcome: str, language: str) -> str:
    """``outcome`` (or a change: area, floor, label) in ``language``, else the key."""
    return _NAMES.get(language, {}).get(outcome, outcome)


def reason_text(reason: str, language: str, row: dict[str, Any] | None = None) -> str:
    """Why a line failed in ``language``: the integration's text for the key, else ``reason``.

    ``row`` (the report's line or progress event) fills ``{appliance_id}`` from
    its ``appliance``. A text wanting a value the report does not carry (the
    seconds of a rate limit) keeps its sentences before that one, or is the key
    if none is left; the closing full stop is left off (the reason stands in
    brackets).
    """
    text = _pairing_errors(language).get(reason)
    if text is None:
        return reason
    values = {"appliance_id": str((row or {}).get("appliance", ""))}
    known = {k for k, v in values.items() if v}
    kept = ""
    for sentence in re.findall(r"[^。]+。?", text):
        fields = {f for _, f, _, _ in string.Formatter().parse(sentence) if f is not None}
        if not fields <= known:
            break
        kept += sentence.format(**values)
    return kept.rstrip("。") or reason


def column(text: str, width: int, language: str) -> str:
    """``text`` padded to ``width``: characters in English (as it always was), display
    columns in Chinese (a wide character, such as 配, takes two)."""
    if language == "en":
        return f"{text:<{width}}"
    shown = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
    return text + " " * max(width - shown, 0)


@cache
def _pairing_errors(language: str) -> dict[str, str]:
    """The integration's config.abort and config.error texts (error wins); {} for English."""
    if language == "en":
        return {}
    try:
        config = integration_strings(language)["config"]
        found: dict[str, str] = {**config.get("abort", {}), **config.get("error", {})}
    except (KeyError, TypeError, AttributeError):
        return {}
    return found
