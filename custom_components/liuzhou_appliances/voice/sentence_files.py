"""The sentence files in ``<config>/custom_sentences``: install, update, keep edits, remove.

No Home Assistant import: plain file work, run in the executor. Each installed
file starts with a header holding the SHA-256 of the body we wrote; a file
whose body no longer matches its header (or that has no header) was edited by
the user and is never overwritten or removed.

Layout: ``<config>/custom_sentences/<language>/liuzhou_appliances/<file>.yaml``
(Home Assistant reads every ``*.yaml`` below the language directory).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
import hashlib
import logging
from pathlib import Path
import re
from typing import Final

_LOGGER = logging.getLogger(__package__)

SUBDIRECTORY: Final = "liuzhou_appliances"
_HEADER: Final = (
    "# Installed by the Liuzhou Appliances integration; sha256 {digest}\n"
    "# Updated with the integration unless you edit this file: an edited file is kept as is\n"
    "# (delete it to get the current version back).\n"
)
_DIGEST: Final = re.compile(
    r"^# Installed by the Liuzhou Appliances integration; sha256 ([0-9a-f]{64})\n"
)


def _digest(body: str) -> str:
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def render(body: str) -> str:
    """The file as installed: the header with the body's digest, then the body."""
    return _HEADER.format(digest=_digest(body)) + body


def installed_body(text: str) -> str | None:
    """The body of a file we installed and nobody edited since, else None (edited or foreign)."""
    match = _DIGEST.match(text)
    if match is None:
        return None
    header_end = len(_HEADER.format(digest=match[1]))
    body = text[header_end:]
    if text[:header_end] != _HEADER.format(digest=match[1]) or _digest(body) != match[1]:
        return None
    return body


@dataclass(slots=True)
class SyncReport:
    """What a sync or removal did, as paths relative to ``custom_sentences``."""

    written: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    kept_edited: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        """Whether Home Assistant has to read the sentences again."""
        return bool(self.written or self.removed)


def _our_directory(custom_sentences: Path, language: str) -> Path:
    return custom_sentences / language / SUBDIRECTORY


def sync(custom_sentences: Path, files: Mapping[str, Mapping[str, str]]) -> SyncReport:
    """Make ``custom_sentences/<language>/liuzhou_appliances/<name>`` hold ``files``.

    ``files``: language -> file name -> body. Missing files are written, our
    unedited files with another body are replaced, our unedited files no longer
    in ``files`` are removed; edited files are left alone (and reported).
    OSError propagates (a read-only configuration directory).
    """
    report = SyncReport()
    for language, bodies in files.items():
        directory = _our_directory(custom_sentences, language)
        directory.mkdir(parents=True, exist_ok=True)
        for name, body in bodies.items():
            path = directory / name
            relative = str(path.relative_to(custom_sentences))
            if path.exists():
                current = installed_body(path.read_text(encoding="utf-8"))
                if current is None:
                    report.kept_edited.append(relative)
                    continue
                if current == body:
                    continue
            path.write_text(render(body), encoding="utf-8")
            report.written.append(relative)
        for path in sorted(directory.glob("*.yaml")):
            if path.name not in bodies:
                _remove_if_ours(custom_sentences, path, report)
    return report


def remove(custom_sentences: Path, languages: list[str]) -> SyncReport:
    """Remove our unedited files of ``languages`` and our directories once empty."""
    report = SyncReport()
    for language in languages:
        directory = _our_directory(custom_sentences, language)
        if not directory.is_dir():
            continue
        for path in sorted(directory.glob("*.yaml")):
            _remove_if_ours(custom_sentences, path, report)
        for emptied in (directory, directory.parent, custom_sentences):
            try:
                emptied.rmdir()
            except OSError:
                break  # not empty (the user's own sentences): keep it and its parents
    return report


def _remove_if_ours(custom_sentences: Path, path: Path, report: SyncReport) -> None:
    relative = str(path.relative_to(custom_sentences))
    if installed_body(path.read_text(encoding="utf-8")) is None:
        report.kept_edited.append(relative)
        return
    path.unlink()
    report.removed.append(relative)
