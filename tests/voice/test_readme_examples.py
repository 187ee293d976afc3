"""Every example sentence the READMEs' Voice tables give is understood by our intents.

The examples are read from README.md (English and Chinese columns) and
README.zh-Hans.md, so a person trying one from the page gets one of this
integration's intents (its answer may still be "the washer is not running").
"""

from __future__ import annotations

from pathlib import Path
import re

from homeassistant.core import HomeAssistant
import pytest

from tests.integration.energy_helpers import add_household, at_valley_night

from .conftest import Converse, Home

pytestmark = at_valley_night

ROOT = Path(__file__).resolve().parents[2]


def _table_rows(readme: str, heading: str) -> list[list[str]]:
    """The body cells of the first table under ``heading``."""
    text = (ROOT / readme).read_text(encoding="utf-8")
    lines = text.split(heading, 1)[1].splitlines()[1:]
    section = lines[: next(i for i, line in enumerate(lines) if line.startswith("#"))]
    rows = [line for line in section if line.startswith("|")]
    body = rows[2:]  # header and rule
    return [[cell.strip() for cell in row.strip("|").split("|")] for row in body]


def _examples() -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for cells in _table_rows("README.md", "### Voice: Assist"):
        found += [(s.strip(), "en") for s in cells[1].split(";")]
        found += [(s.strip(), "zh-cn") for s in re.split("；", cells[2])]
    for cells in _table_rows("README.zh-Hans.md", "## 语音"):
        found += [(s.strip(), "zh-cn") for s in re.split("；", cells[1])]
    return sorted({example for example in found if example[0]})


EXAMPLES = _examples()


def test_the_readmes_give_examples_for_every_appliance() -> None:
    """Both tables were read: four rows each, English and Chinese examples."""
    assert len([e for e in EXAMPLES if e[1] == "en"]) >= 12
    assert len([e for e in EXAMPLES if e[1] == "zh-cn"]) >= 12


@pytest.mark.parametrize(("sentence", "language"), EXAMPLES)
async def test_a_readme_example_reaches_our_intent(
    voice_hass: HomeAssistant, home: Home, converse: Converse, sentence: str, language: str
) -> None:
    """The example is matched by one of our intents (whatever it then answers)."""
    await add_household(voice_hass)
    response = await converse(sentence, language)
    assert response.intent is not None, (sentence, response.speech)
    assert response.intent.intent_type.startswith("Liuzhou"), (
        sentence,
        response.intent.intent_type,
    )
