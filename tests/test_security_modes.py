"""Files and folders holding paid images are private by default: folders 0700, files 0600
(issue 12, item 3); ``IMAGEWIDGETS_PRIVATE_FILES=0`` is the one setting that relaxes it."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from imagewidgets import Client, Session
from imagewidgets.api import results

LOW = {"size": "1024x1024", "quality": "low"}


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _tree(root: Path) -> tuple[list[Path], list[Path]]:
    folders = [root, *sorted(p for p in root.rglob("*") if p.is_dir())]
    files = sorted(p for p in root.rglob("*") if p.is_file())
    return folders, files


def test_client_saves_are_private(tmp_path):
    img = Client(save_dir=tmp_path / "paid" / "images").generate("a fox", **LOW)
    folders, files = _tree(tmp_path / "paid")
    assert {p.suffix for p in files} == {".png", ".json"} and img.path in files
    assert {mode(p) for p in folders} == {0o700}
    assert {mode(p) for p in files} == {0o600}


def test_the_default_save_folder_is_private(tmp_path, monkeypatch):
    monkeypatch.setenv("IMAGEWIDGETS_HOME", str(tmp_path / "home"))
    img = Client().generate("a fox", **LOW)
    assert mode(img.path) == 0o600 and mode(img.path.parent) == 0o700 and mode(tmp_path / "home") == 0o700


def test_a_session_store_is_private_index_and_all(tmp_path):
    s = Session("harbour", folder=tmp_path / "store", client=Client(save_dir=None))
    s.imagine("a lighthouse", **LOW)
    folders, files = _tree(tmp_path / "store")
    names = {p.name for p in files}
    assert "index.db" in names and any(n.endswith(".png") for n in names)
    assert {mode(p) for p in folders} == {0o700}
    assert {mode(p) for p in files} == {0o600}, {p.name: oct(mode(p)) for p in files}


def test_the_offline_state_folder_is_private(tmp_path):
    from imagewidgets.offline.state import FolderState

    state = FolderState(tmp_path / "state")
    state.put("files", "file-abc", {"id": "file-abc"}, b"\x89PNG...")
    folders, files = _tree(tmp_path / "state")
    assert {mode(p) for p in folders} == {0o700} and {mode(p) for p in files} == {0o600}


def test_one_setting_relaxes_it(tmp_path, monkeypatch):
    monkeypatch.setenv("IMAGEWIDGETS_PRIVATE_FILES", "0")
    img = Client(save_dir=tmp_path / "shared" / "images").generate("a fox", **LOW)
    usual = 0o666 & ~results._UMASK
    assert mode(img.path) == usual and mode(img.path.with_suffix(".json")) == usual
    assert mode(img.path.parent) == 0o777 & ~results._UMASK


def test_a_folder_that_exists_keeps_its_mode(tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir(mode=0o755)
    mine.chmod(0o755)
    Client(save_dir=mine).generate("a fox", **LOW)
    assert mode(mine) == 0o755  # the user's own folder: only what we create is ours to restrict


def test_files_the_user_names_get_the_usual_mode(tmp_path):
    img = Client(save_dir=None).generate("a fox", **LOW)
    assert mode(img.save(tmp_path / "kite.png")) == 0o666 & ~results._UMASK


@pytest.mark.parametrize("value,private", [("1", True), ("", True), ("0", False), ("no", False), ("off", False)])
def test_the_setting_reads_as_documented(monkeypatch, value, private):
    monkeypatch.setenv("IMAGEWIDGETS_PRIVATE_FILES", value)
    assert results.private_files() is private
