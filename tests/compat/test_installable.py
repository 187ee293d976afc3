"""Every supported Home Assistant release can install the manifest's requirements.

Resolved with uv under each release's own package constraints, for its Python,
glibc and musl, amd64 and aarch64 (scripts/ha_releases.py). Needs the package
index; each release's constraints are fetched once and cached.
"""

from __future__ import annotations

from pathlib import Path

from awesomeversion import AwesomeVersion
import pytest

from scripts import ha_releases

RELEASES = ha_releases.configured_releases()


def test_the_check_fails_for_the_pins_that_broke_installation() -> None:
    """The exact pins we shipped before: rejected by 2026.11 for the reasons users saw."""
    release = ha_releases.fetch("2026.11.0")
    platform = "x86_64-unknown-linux-musl"
    cases = {
        "cryptography==44.0.1": "cryptography==50.0.2",  # Home Assistant's own pin
        "numpy==2.2.2": "numpy==2.3.2",  # its constraint
        "scipy==1.15.2": "no usable wheels",  # nothing for Python 3.14
    }
    for pin, reason in cases.items():
        outcome = ha_releases.resolve(release, platform, [pin])
        assert not outcome.ok, pin
        assert reason in outcome.detail, outcome.detail


def test_the_newest_release_is_found_and_checked() -> None:
    newest = ha_releases.newest_release()
    assert AwesomeVersion(newest) >= AwesomeVersion(RELEASES[-1])
    assert newest in ha_releases.releases_to_check()


def test_constraints_come_from_the_cache_once_fetched(tmp_path: Path) -> None:
    first = ha_releases.fetch(RELEASES[0], cache=tmp_path)
    assert first.constraints.is_relative_to(tmp_path)
    assert "numpy==" in first.constraints.read_text()
    first.constraints.write_text("numpy==1.0.0\n")  # a cached file is used as it is
    again = ha_releases.fetch(RELEASES[0], cache=tmp_path)
    assert again == first
    assert again.constraints.read_text() == "numpy==1.0.0\n"


@pytest.mark.parametrize(
    ("requires", "python"), [(">=3.14.2", "3.14.2"), (">=3.13.0", "3.13.0"), (">= 3.12", "3.12")]
)
def test_oldest_python(requires: str, python: str) -> None:
    assert ha_releases.oldest_python(requires) == python


@pytest.mark.parametrize("requires", ["", "<4", "==3.13.*"])
def test_oldest_python_without_a_lower_bound_is_an_error(requires: str) -> None:
    with pytest.raises(ha_releases.ReleaseError, match="no lower bound"):
        ha_releases.oldest_python(requires)


def test_unknown_release_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ha_releases.ReleaseError, match=r"no wheel of homeassistant 1999\.1\.0"):
        ha_releases.fetch("1999.1.0", cache=tmp_path)


def test_every_release_installs_us_on_every_platform(capsys: pytest.CaptureFixture[str]) -> None:
    """The configured releases and the newest on the index, as ./scripts/test runs it."""
    status = ha_releases.main([])
    output = capsys.readouterr().out
    assert status == 0, output
    lines = output.splitlines()
    checked = ha_releases.releases_to_check()
    assert len(lines) == len(checked) * len(ha_releases.PLATFORMS)
    for version in checked:
        for platform in ha_releases.PLATFORMS:
            assert any(
                line.startswith(f"Home Assistant {version} ") and f"{platform}): installs" in line
                for line in lines
            ), (version, platform)
