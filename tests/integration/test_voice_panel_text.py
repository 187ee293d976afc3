"""Which language a panel speaks in, how long it may speak, what its log keeps."""

from __future__ import annotations

from freezegun.api import FrozenDateTimeFactory
import pytest

from custom_components.liuzhou_appliances.voice_log import MAX_ENTRIES, VoiceLog, VoiceLogEntry
from custom_components.liuzhou_appliances.voice_panel import (
    MAX_SPOKEN_CHARS,
    announcement_language,
    conversation_language,
    spoken_text,
    translation_language,
)

BOTH = ("zh-CN", "en")


@pytest.mark.parametrize(
    ("languages", "text", "home", "expected"),
    [
        (BOTH, "洗衣完成", "en", "zh-CN"),
        (BOTH, "Laundry done", "zh-Hans", "en"),
        (BOTH, "Laundry done", "en", "en"),
        (("en", "zh-CN"), "晚饭好了 dinner", "en", "zh-CN"),
        (("zh-CN",), "Laundry done", "en", "zh-CN"),
        (("de", "en"), "Wäsche fertig", "de", "de"),
        (("de", "fr"), "Bonjour", "it", "de"),
    ],
)
def test_announcement_language(
    languages: tuple[str, ...], text: str, home: str, expected: str
) -> None:
    """Chinese characters choose Chinese; otherwise the home's language, English, the first."""
    assert announcement_language(languages, text, home) == expected


def test_language_tags_map_to_home_assistant() -> None:
    """The panel's tags as conversation and translation languages."""
    assert conversation_language("zh-CN") == "zh-cn"
    assert conversation_language("en") == "en"
    assert translation_language("zh-CN") == "zh-Hans"
    assert translation_language("zh-TW") == "zh-Hant"
    assert translation_language("en-GB") == "en"


def test_spoken_text_is_cut_to_what_a_panel_takes() -> None:
    """Whitespace trimmed; a long answer cut with an ellipsis at exactly the limit."""
    assert spoken_text("  好的 ") == "好的"
    long = "长" * (MAX_SPOKEN_CHARS + 5)
    cut = spoken_text(long)
    assert len(cut) == MAX_SPOKEN_CHARS
    assert cut.endswith("…")
    assert spoken_text("x" * MAX_SPOKEN_CHARS) == "x" * MAX_SPOKEN_CHARS


def test_voice_log_keeps_nothing_unless_enabled() -> None:
    """Off (the default choice): nothing is kept."""
    log = VoiceLog(enabled=False)
    log.add("zh-CN", "开始洗", "好的")
    assert log.entries() == []
    assert log.summary() == {"enabled": False, "entries": 0}


def test_voice_log_keeps_the_last_entries_and_erases(freezer: FrozenDateTimeFactory) -> None:
    """On: the last MAX_ENTRIES exchanges, oldest first; erase empties it and counts."""
    freezer.move_to("2026-11-30 12:00:00+00:00")
    log = VoiceLog(enabled=True)
    for number in range(MAX_ENTRIES + 3):
        log.add("en", f"utterance {number}", f"answer {number}")
    entries = log.entries()
    assert len(entries) == MAX_ENTRIES
    assert entries[0] == VoiceLogEntry(
        at="2026-11-30T12:00:00+00:00", language="en", heard="utterance 3", answer="answer 3"
    )
    assert entries[-1].heard == f"utterance {MAX_ENTRIES + 2}"
    assert log.summary() == {"enabled": True, "entries": MAX_ENTRIES}
    assert log.erase() == MAX_ENTRIES
    assert log.entries() == []
