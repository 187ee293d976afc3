"""Can a Home Assistant release install this integration? Resolve and tell.

Home Assistant installs a custom integration's manifest ``requirements`` under
its own ``homeassistant/package_constraints.txt`` (``uv pip install
--constraint``) on the Python it ships, and Home Assistant OS and Container are
Alpine (musl). So for each checked release this fetches that release's wheel
from the package index once, keeps its constraints file in a cache, and asks
``uv`` to resolve the manifest's requirements under it, wheels only, for that
release's Python on glibc and musl, amd64 and aarch64.

Usage::

    python scripts/ha_releases.py            # check every release; exit 1 if any fails
    python scripts/ha_releases.py --list     # the releases that would be checked

Releases: ``[tool.liuzhou.home-assistant] installable`` in pyproject.toml, plus
the newest release on the package index.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
import functools
import json
import os
from pathlib import Path
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
import urllib.request
import zipfile

ROOT = Path(__file__).resolve().parents[1]
MANIFEST = ROOT / "custom_components" / "liuzhou_appliances" / "manifest.json"
PYPROJECT = ROOT / "pyproject.toml"
INDEX_JSON = "https://pypi.org/pypi/homeassistant/json"

# uv's names for where Home Assistant runs: Core installs on glibc, OS and
# Container on Alpine (musl). 64-bit only: Home Assistant dropped 32-bit systems
# in 2025.12, and numpy and scipy publish no 32-bit ARM wheels.
PLATFORMS = (
    "x86_64-manylinux_2_28",
    "aarch64-manylinux_2_28",
    "x86_64-unknown-linux-musl",
    "aarch64-unknown-linux-musl",
)


class ReleaseError(Exception):
    """A release or its constraints could not be fetched or read."""


@dataclass(frozen=True)
class Release:
    """One Home Assistant release as the resolver needs it."""

    version: str
    python: str  # the oldest Python it runs on, e.g. "3.14.2"
    constraints: Path  # its package_constraints.txt, in the cache


@dataclass(frozen=True)
class Outcome:
    """The resolution of the requirements for one release on one platform."""

    release: str
    python: str
    platform: str
    ok: bool
    detail: str  # the pinned set when ok, else uv's explanation


def cache_dir() -> Path:
    """Where fetched constraints are kept (outside the checkout)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "liuzhou-hub" / "home-assistant"


def configured_releases() -> list[str]:
    """The releases pyproject.toml names as installable."""
    table = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))
    releases = table["tool"]["liuzhou"]["home-assistant"]["installable"]
    return [str(release) for release in releases]


def manifest_requirements(manifest: Path = MANIFEST) -> list[str]:
    """The ``requirements`` of the integration's manifest."""
    return [str(r) for r in json.loads(manifest.read_text(encoding="utf-8"))["requirements"]]


@functools.cache
def _project() -> dict[str, object]:
    """The index's JSON for the homeassistant project (every release and its files).

    Asked once a run: the newest release and each release's Python come from it.
    """
    try:
        with urllib.request.urlopen(INDEX_JSON, timeout=60) as answer:
            data: dict[str, object] = json.load(answer)
    except (OSError, ValueError) as err:
        raise ReleaseError(f"the package index did not answer for homeassistant: {err}") from err
    return data


def newest_release() -> str:
    """The newest Home Assistant release on the package index."""
    info = _project()["info"]
    assert isinstance(info, dict)
    return str(info["version"])


def requires_python(version: str) -> str:
    """The requires-python of the release's wheel, as the index states it."""
    releases = _project()["releases"]
    assert isinstance(releases, dict)
    for file in releases.get(version) or []:
        if file.get("packagetype") == "bdist_wheel" and file.get("requires_python"):
            return str(file["requires_python"])
    raise ReleaseError(f"the package index has no wheel of homeassistant {version}")


def oldest_python(requires_python: str) -> str:
    """The lower bound of a ``>=X.Y[.Z]`` requires-python, e.g. ``>=3.14.2`` -> ``3.14.2``."""
    match = re.search(r">=\s*(\d+\.\d+(?:\.\d+)?)", requires_python)
    if match is None:
        raise ReleaseError(f"no lower bound in requires-python {requires_python!r}")
    return match.group(1)


def fetch(version: str, cache: Path | None = None) -> Release:
    """The release's Python and constraints, from the cache or the package index.

    Raises ReleaseError when the index has no wheel for it or the wheel has no
    constraints file.
    """
    folder = (cache or cache_dir()) / version
    constraints = folder / "package_constraints.txt"
    python_file = folder / "python"
    if constraints.is_file() and python_file.is_file():
        return Release(version, python_file.read_text().strip(), constraints)
    python = oldest_python(requires_python(version))
    with tempfile.TemporaryDirectory() as tmp:
        command = [
            sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
            "--only-binary=:all:", "--python-version", python, "--dest", tmp,
            f"homeassistant=={version}",
        ]  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        wheels = list(Path(tmp).glob("homeassistant-*.whl"))
        if done.returncode or not wheels:
            raise ReleaseError(f"could not download homeassistant {version}: {done.stderr.strip()}")
        with zipfile.ZipFile(wheels[0]) as wheel:
            try:
                text = wheel.read("homeassistant/package_constraints.txt").decode()
            except KeyError as err:
                raise ReleaseError(f"homeassistant {version} has no constraints file") from err
    folder.mkdir(parents=True, exist_ok=True)
    constraints.write_text(text)
    python_file.write_text(python + "\n")
    return Release(version, python, constraints)


def uv() -> str:
    """The uv next to this Python (the test environment has it), else on PATH."""
    beside = Path(sys.executable).with_name("uv")
    found = str(beside) if beside.is_file() else shutil.which("uv")
    if found is None:
        raise ReleaseError("uv is not installed (./scripts/setup installs it)")
    return found


def resolve(release: Release, platform: str, requirements: list[str]) -> Outcome:
    """Resolve the requirements as this release would install them, wheels only."""
    with tempfile.TemporaryDirectory() as tmp:
        wanted = Path(tmp) / "requirements.txt"
        wanted.write_text("\n".join(requirements) + "\n")
        command = [
            uv(), "pip", "compile", "--quiet", "--no-header", "--no-annotate",
            "--python-version", release.python, "--python-platform", platform,
            "--only-binary", ":all:", "--constraint", str(release.constraints), str(wanted),
        ]  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True, check=False)
    ok = done.returncode == 0
    detail = done.stdout if ok else done.stderr
    return Outcome(release.version, release.python, platform, ok, detail.strip())


def check(versions: list[str], requirements: list[str]) -> list[Outcome]:
    """Every release on every platform."""
    outcomes: list[Outcome] = []
    for version in versions:
        release = fetch(version)
        outcomes.extend(resolve(release, platform, requirements) for platform in PLATFORMS)
    return outcomes


def releases_to_check() -> list[str]:
    """The configured releases and the newest on the index, without repeats."""
    releases = configured_releases()
    newest = newest_release()
    return releases if newest in releases else [*releases, newest]


def main(argv: list[str] | None = None) -> int:
    """Print one line per release and platform; exit 1 if any cannot install."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--list", action="store_true", help="only list the releases")
    args = parser.parse_args(argv)
    try:
        versions = releases_to_check()
        if args.list:
            print("\n".join(versions))
            return 0
        outcomes = check(versions, manifest_requirements())
    except ReleaseError as err:
        print(f"ha_releases: {err}", file=sys.stderr)
        return 2
    for outcome in outcomes:
        verdict = "installs" if outcome.ok else "CANNOT INSTALL"
        where = f"Python {outcome.python}, {outcome.platform}"
        print(f"Home Assistant {outcome.release} ({where}): {verdict}")
        if not outcome.ok:
            print("    " + outcome.detail.replace("\n", "\n    "))
    return 0 if all(outcome.ok for outcome in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
