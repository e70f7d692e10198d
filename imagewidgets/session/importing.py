"""Reading a ``session.json`` back (``Session.from_json``): a file from anywhere, so nothing in it
is trusted.

    >>> s = Session.from_json("harbour.json", folder="elsewhere")       # doctest: +SKIP

The whole document is checked before anything is written (all or nothing): ids against the
store's pattern, the session name against the store's rule, every image's ``format`` against the
table of formats and its bytes decoded by Pillow as that format, within the pixel budget. The
first broken rule raises ``SessionFileError`` naming the field (``turns[2].images[0].format``).
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..api.errors import ParamError, SessionFileError
from ..api.images import MIME_TYPES, inspect_image
from ..api.results import ImageResult
from ..api.usage import Usage
from .store import IMAGE_FORMATS, TURN_ID, check_session_name, open_store
from .turns import STATUSES, Turn

__all__ = ["import_json", "JSON_FORMAT", "JSON_VERSION"]

JSON_FORMAT = "imagewidgets.session"
JSON_VERSION = 1

_KINDS = ("generate", "edit", "vary", "respond")
_APIS = ("images", "responses")
_TEXT_FIELDS = ("prompt", "model", "response_id", "call_id", "revised_prompt", "error", "replay_key", "backend",
                "note")
_NUMBER_FIELDS = ("cost", "created", "elapsed_s")
_IMAGE_TEXT = ("model", "prompt", "revised_prompt", "response_id", "call_id", "request_id")
_MAX_IMAGES_PER_TURN = 100


@dataclass
class _Checked:
    """A turn that passed every check, with its decoded images, ready to write."""

    turn: Turn
    images: list[tuple[ImageResult, int, bool]]


class _Reader:
    """Checks one document; ``fail`` raises the one error naming the field."""

    def __init__(self, path: str) -> None:
        self.path = path

    def fail(self, field: str, problem: str) -> SessionFileError:
        return SessionFileError(self.path, field, problem)

    def text(self, d: dict, key: str, where: str, *, required: bool = False) -> str | None:
        value = d.get(key)
        if value is None and not required:
            return None
        if not isinstance(value, str):
            raise self.fail(f"{where}.{key}", f"must be text, not {type(value).__name__}")
        return value

    def number(self, d: dict, key: str, where: str) -> float | None:
        value = d.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.fail(f"{where}.{key}", f"must be a number, not {type(value).__name__}")
        return value

    def turn_id(self, value: Any, field: str) -> str:
        if not isinstance(value, str) or not TURN_ID.fullmatch(value):
            raise self.fail(field, f"is {_short(value)}, not a turn id of the form turn_ and 12 hex digits")
        return value

    def usage(self, value: Any, field: str) -> Usage | None:
        if value is None:
            return None
        known = set(Usage.__dataclass_fields__)
        if not isinstance(value, dict) or set(value) - known or not all(
                isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in value.values()):
            raise self.fail(field, "must be an object of token counts (" + ", ".join(sorted(known)) + ")")
        return Usage(**value)

    def choice(self, d: dict, key: str, where: str, allowed: tuple[str, ...]) -> str:
        value = d.get(key)
        if value not in allowed:
            raise self.fail(f"{where}.{key}", f"is {_short(value)}; allowed: {', '.join(allowed)}")
        return value

    def image(self, meta: Any, where: str) -> tuple[ImageResult, int, bool]:
        if not isinstance(meta, dict):
            raise self.fail(where, "must be an object")
        fmt = meta.get("format")
        if fmt not in IMAGE_FORMATS:
            raise self.fail(f"{where}.format", f"is {_short(fmt)}; allowed: {', '.join(IMAGE_FORMATS)}")
        url = meta.get("data_url")
        prefix = f"data:{MIME_TYPES[fmt]};base64,"
        if not isinstance(url, str) or not url.startswith(prefix):
            raise self.fail(f"{where}.data_url", f"must be a data URL starting {prefix!r}")
        try:
            data = base64.b64decode(url[len(prefix):], validate=True)
        except (binascii.Error, ValueError):
            raise self.fail(f"{where}.data_url", "is not valid base64") from None
        try:
            found, width, height = inspect_image(data, "data_url")
        except ParamError as e:
            raise self.fail(f"{where}.data_url", f"is not a {fmt} image that decodes ({e.hint or e.allowed})") from None
        if found != fmt:
            raise self.fail(f"{where}.data_url", f"holds {found} bytes, not {fmt}")
        index = meta.get("index", 0)
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < _MAX_IMAGES_PER_TURN:
            raise self.fail(f"{where}.index", f"must be a whole number from 0 to {_MAX_IMAGES_PER_TURN - 1}")
        params = meta.get("params") or {}
        if not isinstance(params, dict):
            raise self.fail(f"{where}.params", "must be an object")
        extra: dict[str, Any] = {k: self.text(meta, k, where) for k in _IMAGE_TEXT}
        extra["cost"] = self.number(meta, "cost", where)
        created = self.number(meta, "created", where)
        extra["created"] = int(created) if created is not None else None
        result = ImageResult(data=data, format=fmt, width=width, height=height, params=params,
                             usage=self.usage(meta.get("usage"), f"{where}.usage"),
                             **{k: v for k, v in extra.items() if v is not None})
        return result, index, meta.get("partial") is True

    def turn(self, d: Any, where: str, name: str, ids: set[str]) -> _Checked:
        if not isinstance(d, dict):
            raise self.fail(where, "must be an object")
        turn_id = self.turn_id(d.get("id"), f"{where}.id")
        parent = d.get("parent_id")
        if parent is not None and self.turn_id(parent, f"{where}.parent_id") not in ids:
            raise self.fail(f"{where}.parent_id", f"names {parent}, which is not a turn of this file")
        replayed = d.get("replayed_from")
        if replayed is not None:
            self.turn_id(replayed, f"{where}.replayed_from")
        params, inputs = d.get("params") or {}, d.get("inputs") or []
        if not isinstance(params, dict):
            raise self.fail(f"{where}.params", "must be an object")
        if not isinstance(inputs, list) or not all(isinstance(i, dict) for i in inputs):
            raise self.fail(f"{where}.inputs", "must be a list of objects (the input images' fingerprints)")
        images = d.get("images") or []
        if not isinstance(images, list) or len(images) > _MAX_IMAGES_PER_TURN:
            raise self.fail(f"{where}.images", f"must be a list of at most {_MAX_IMAGES_PER_TURN} images")
        group = d.get("group_id")
        if group is not None and not isinstance(group, str):
            raise self.fail(f"{where}.group_id", f"must be text, not {type(group).__name__}")
        picked = d.get("picked") or 0
        if isinstance(picked, bool) or not isinstance(picked, int):
            raise self.fail(f"{where}.picked", "must be a whole number")
        fields: dict[str, Any] = {k: self.text(d, k, where) for k in _TEXT_FIELDS}
        fields.update({k: self.number(d, k, where) for k in _NUMBER_FIELDS})
        turn = Turn(
            id=turn_id, session=name, parent_id=parent, replayed_from=replayed, group_id=group, picked=picked,
            kind=self.choice(d, "kind", where, _KINDS), api=self.choice(d, "api", where, _APIS),
            status=self.choice(d, "status", where, STATUSES), params=params, inputs=inputs,
            usage=self.usage(d.get("usage"), f"{where}.usage"), **fields,
        )
        if turn.created is None:
            turn.created = 0.0
        return _Checked(turn, [self.image(m, f"{where}.images[{i}]") for i, m in enumerate(images)])


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def read_document(path: str | Path, name: str | None = None) -> tuple[str, list[_Checked], str | None]:
    """Check the whole export; returns (session name, checked turns, current turn id). Raises
    ``SessionFileError`` on the first broken rule; nothing is written."""
    where = str(path)
    reader = _Reader(where)
    try:
        doc = json.loads(Path(path).read_text("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as e:
        raise reader.fail("the file", f"is not readable JSON ({type(e).__name__})") from None
    if not isinstance(doc, dict) or doc.get("format") != JSON_FORMAT:
        raise reader.fail("format", f"must be {JSON_FORMAT!r}: this is not an imagewidgets session export")
    if doc.get("version") != JSON_VERSION:
        raise reader.fail("version", f"is {_short(doc.get('version'))}; this version of imagewidgets reads {JSON_VERSION}")
    session_name = name if name is not None else doc.get("name")
    problem = check_session_name(session_name, from_file=True)
    if problem or not isinstance(session_name, str):
        raise reader.fail("name" if name is None else "the name given", f"is {_short(session_name)}: it {problem}")
    turns = doc.get("turns")
    if not isinstance(turns, list):
        raise reader.fail("turns", "must be a list")
    ids: set[str] = set()
    checked = []
    for i, d in enumerate(turns):  # a parent comes before its children (as exported)
        c = reader.turn(d, f"turns[{i}]", session_name, ids)
        if c.turn.id in ids:
            raise reader.fail(f"turns[{i}].id", f"repeats {c.turn.id}")
        ids.add(c.turn.id)
        checked.append(c)
    current = None if doc.get("current_id") is None else reader.turn_id(doc.get("current_id"), "current_id")
    if current is not None and current not in ids:
        raise reader.fail("current_id", f"names {current}, which is not a turn of this file")
    return session_name, checked, current


def import_json(path: str | Path, *, name: str | None = None, folder: str | Path | None = None
                ) -> tuple[str, Path]:
    """Import a ``session.json`` into a store folder; returns (session name, store folder) for
    ``Session.from_json`` to open. Checked whole first: an invalid file imports nothing."""
    session_name, checked, current = read_document(path, name)
    store = open_store(folder)
    for i, c in enumerate(checked):
        owner = store.turn(c.turn.id)
        if owner is not None:
            raise SessionFileError(str(path), f"turns[{i}].id", f"{c.turn.id} is already a turn of session "
                                   f"{owner.session!r} in {store.folder} (import into another folder)")
    store.ensure_session(session_name)
    for c in checked:
        store.save_turn(c.turn)
        for result, index, partial in c.images:
            store.save_image(c.turn, result, index, partial=partial)
    if current:
        store.set_current(session_name, current)
    return session_name, store.folder
