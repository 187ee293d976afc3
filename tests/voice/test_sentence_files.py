"""The sentence files in custom_sentences: installed, updated unless edited, removed."""

from __future__ import annotations

from pathlib import Path

from custom_components.liuzhou_appliances.voice.sentence_files import (
    SUBDIRECTORY,
    installed_body,
    remove,
    render,
    sync,
)

BODY = "language: en\nintents: {}\n"


def _path(root: Path, language: str = "en", name: str = "a.yaml") -> Path:
    return root / language / SUBDIRECTORY / name


def test_render_then_read_back_gives_the_body() -> None:
    assert installed_body(render(BODY)) == BODY


def test_an_edited_or_foreign_file_is_not_ours() -> None:
    assert installed_body(render(BODY) + "# mine\n") is None
    assert installed_body(render(BODY).replace("intents", "lists")) is None
    assert installed_body(BODY) is None


def test_sync_installs_then_leaves_an_unchanged_file_alone(tmp_path: Path) -> None:
    report = sync(tmp_path, {"en": {"a.yaml": BODY}, "zh-cn": {"a.yaml": BODY}})
    assert sorted(report.written) == [f"en/{SUBDIRECTORY}/a.yaml", f"zh-cn/{SUBDIRECTORY}/a.yaml"]
    assert installed_body(_path(tmp_path).read_text(encoding="utf-8")) == BODY
    again = sync(tmp_path, {"en": {"a.yaml": BODY}, "zh-cn": {"a.yaml": BODY}})
    assert not again.changed


def test_a_new_version_replaces_an_unedited_file(tmp_path: Path) -> None:
    sync(tmp_path, {"en": {"a.yaml": BODY}})
    report = sync(tmp_path, {"en": {"a.yaml": BODY + "lists: {}\n"}})
    assert report.written == [f"en/{SUBDIRECTORY}/a.yaml"]
    assert installed_body(_path(tmp_path).read_text(encoding="utf-8")) == BODY + "lists: {}\n"


def test_an_edited_file_is_kept_through_updates_and_removal(tmp_path: Path) -> None:
    sync(tmp_path, {"en": {"a.yaml": BODY, "b.yaml": BODY}})
    edited = _path(tmp_path).read_text(encoding="utf-8") + "# my own sentence\n"
    _path(tmp_path).write_text(edited, encoding="utf-8")
    report = sync(tmp_path, {"en": {"a.yaml": BODY + "lists: {}\n", "b.yaml": BODY}})
    assert report.kept_edited == [f"en/{SUBDIRECTORY}/a.yaml"]
    assert not report.changed
    assert _path(tmp_path).read_text(encoding="utf-8") == edited
    removal = remove(tmp_path, ["en"])
    assert removal.removed == [f"en/{SUBDIRECTORY}/b.yaml"]
    assert removal.kept_edited == [f"en/{SUBDIRECTORY}/a.yaml"]
    assert _path(tmp_path).read_text(encoding="utf-8") == edited


def test_a_file_we_no_longer_ship_is_removed(tmp_path: Path) -> None:
    sync(tmp_path, {"en": {"a.yaml": BODY, "old.yaml": BODY}})
    report = sync(tmp_path, {"en": {"a.yaml": BODY}})
    assert report.removed == [f"en/{SUBDIRECTORY}/old.yaml"]
    assert not _path(tmp_path, name="old.yaml").exists()


def test_removal_takes_our_directories_but_not_the_users(tmp_path: Path) -> None:
    sync(tmp_path, {"en": {"a.yaml": BODY}, "zh-cn": {"a.yaml": BODY}})
    own = tmp_path / "zh-cn" / "my_sentences.yaml"
    own.write_text(BODY, encoding="utf-8")
    remove(tmp_path, ["en", "zh-cn"])
    assert not (tmp_path / "en").exists()
    assert not (tmp_path / "zh-cn" / SUBDIRECTORY).exists()
    assert own.read_text(encoding="utf-8") == BODY
