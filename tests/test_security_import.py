"""``Session.from_json`` on a crafted file (issue 12, item 1): ids, names and formats from the file
never form a path, the bytes must decode as the format they claim, and an invalid document
imports nothing and raises one error naming the field."""

from __future__ import annotations

import base64
import copy
import json
from pathlib import Path

import pytest

from imagewidgets import Session, SessionFileError
from tests.test_security_server import bomb_png

LOW = {"size": "1024x1024", "quality": "low"}


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> dict:
    """A genuine two-turn export (an image, then an edit of it) as a dict."""
    from imagewidgets import Client

    folder = tmp_path_factory.mktemp("source")
    s = Session("harbour", folder=folder / "store", client=Client(save_dir=None))
    s.imagine("a lighthouse", **LOW)
    s.edit("add a boat", **LOW)
    return json.loads(s.export(folder / "session.json").read_text())


def _write(tmp_path: Path, doc: dict) -> Path:
    path = tmp_path / "crafted.json"
    path.write_text(json.dumps(doc))
    return path


def _files_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def _import_refused(tmp_path: Path, doc: dict, field: str, **kwargs) -> None:
    """The import raises naming ``field``, writes no image anywhere and leaves no session behind."""
    path = _write(tmp_path, doc)
    before = set(_files_under(tmp_path))
    with pytest.raises(ValueError) as info:
        Session.from_json(path, folder=tmp_path / "store", **kwargs)
    assert isinstance(info.value, SessionFileError), info.value
    assert info.value.field == field and field in str(info.value)
    written = set(_files_under(tmp_path)) - before
    assert not [p for p in written if p.suffix in (".png", ".jpg", ".webp", ".gif", ".svg", ".txt", "")], written
    if (tmp_path / "store" / "index.db").exists():
        from imagewidgets.session.store import Store

        assert Store(tmp_path / "store").sessions() == []


def test_a_genuine_export_still_imports(exported, tmp_path):
    s = Session.from_json(_write(tmp_path, exported), folder=tmp_path / "store")
    assert [t.id for t in s.turns] == [t["id"] for t in exported["turns"]]
    assert all(t.image is not None and Path(t.image.path).is_relative_to(tmp_path / "store") for t in s.turns)


@pytest.mark.parametrize("evil", ["../../outside/x", "<absolute>", "turn_../../x", "turn_0123456789ab/x"])
def test_a_turn_id_that_is_a_path_is_refused(exported, tmp_path, evil):
    if evil == "<absolute>":
        evil = str(tmp_path / "absolute" / "evil")
    doc = copy.deepcopy(exported)
    old = doc["turns"][0]["id"]
    doc["turns"][0]["id"] = evil
    doc["turns"][1]["parent_id"] = evil
    doc["current_id"] = doc["current_id"] if doc["current_id"] != old else evil
    _import_refused(tmp_path, doc, "turns[0].id")
    assert not (tmp_path.parent / "outside").exists() and not (tmp_path / "absolute").exists()


@pytest.mark.parametrize("evil", ["../../../x", "png/../../x", "txt", "PNG", 5])
def test_an_image_format_outside_the_table_is_refused(exported, tmp_path, evil):
    doc = copy.deepcopy(exported)
    doc["turns"][1]["images"][0]["format"] = evil
    _import_refused(tmp_path, doc, "turns[1].images[0].format")


@pytest.mark.parametrize("name", ["../../outside", "/etc/passwd-like", "a/b", "..", "x" * 500, 7, "tab\there"])
def test_a_session_name_that_is_a_path_is_refused(exported, tmp_path, name):
    doc = copy.deepcopy(exported)
    doc["name"] = name
    _import_refused(tmp_path, doc, "name")


def test_a_current_id_outside_the_file_is_refused(exported, tmp_path):
    doc = copy.deepcopy(exported)
    doc["current_id"] = "../../../etc/x"
    _import_refused(tmp_path, doc, "current_id")


def _data(mime: str, data: bytes) -> str:
    return f"data:{mime};base64," + base64.b64encode(data).decode()


@pytest.mark.parametrize("url", [
    _data("text/plain", b"#!/bin/sh\necho owned\n"),
    _data("image/png", b"#!/bin/sh\necho owned\n"),
    _data("image/png", b"\x89PNG\r\n\x1a\n" + b"not really"),
    _data("image/png", bomb_png()),
    "data:image/png;base64,@@@not-base64@@@",
    "file:///etc/passwd",
], ids=["text-plain", "script-as-png", "corrupt-png", "bomb", "bad-base64", "file-url"])
def test_image_bytes_must_decode_as_their_format(exported, tmp_path, url):
    doc = copy.deepcopy(exported)
    doc["turns"][1]["images"][0]["data_url"] = url
    _import_refused(tmp_path, doc, "turns[1].images[0].data_url")


def test_jpeg_bytes_labelled_png_are_refused(exported, tmp_path):
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buf, format="JPEG")
    doc = copy.deepcopy(exported)
    doc["turns"][0]["images"][0]["data_url"] = _data("image/png", buf.getvalue())
    _import_refused(tmp_path, doc, "turns[0].images[0].data_url")


def test_one_bad_turn_imports_nothing(exported, tmp_path):
    doc = copy.deepcopy(exported)  # the first turn is fine; the second is not
    doc["turns"][1]["status"] = "pwned"
    _import_refused(tmp_path, doc, "turns[1].status")
    assert not (tmp_path / "store" / "images").exists()


@pytest.mark.parametrize("field,value", [("kind", ["generate"]), ("prompt", {"x": 1}), ("cost", "free"),
                                         ("parent_id", "turn_ffffffffffff"), ("params", [1])])
def test_wrong_types_in_a_turn_are_refused_naming_the_field(exported, tmp_path, field, value):
    doc = copy.deepcopy(exported)
    doc["turns"][1][field] = value
    _import_refused(tmp_path, doc, f"turns[1].{field}")


def test_an_id_already_in_the_store_is_refused_not_overwritten(exported, tmp_path):
    path = _write(tmp_path, exported)
    first = Session.from_json(path, folder=tmp_path / "store")
    pictures = {p: p.read_bytes() for p in _files_under(tmp_path / "store" / "images")}
    doc = copy.deepcopy(exported)
    doc["name"] = "another"
    with pytest.raises(SessionFileError) as info:
        Session.from_json(_write(tmp_path, doc), folder=tmp_path / "store")
    assert info.value.field == "turns[0].id"
    assert {p: p.read_bytes() for p in _files_under(tmp_path / "store" / "images")} == pictures
    assert first.store.sessions() == ["harbour"]


def test_a_file_that_is_not_json_is_one_clear_error(tmp_path):
    path = tmp_path / "x.json"
    path.write_bytes(b"[" * 100_000)
    with pytest.raises(SessionFileError, match="not readable JSON"):
        Session.from_json(path, folder=tmp_path / "store")
