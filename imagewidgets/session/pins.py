"""A session's pinned references (table ``pins``, ``migrations.m007``): named pictures sent with
every later turn so a character, a style or a place stays itself.

The pin's image is a file of the store: the pinned turn's own image, or (for a picture from
elsewhere) a copy saved under ``images/<session>/pins/<sha256>.<ext>`` before the pin is recorded.
Which pins a turn carried is recorded in the turn's ``inputs`` (role ``"pin"``, ``replay.py``).

    >>> s.pin(s.turns[0], name="Milo", role="character")     # doctest: +SKIP
    >>> s.pins()                                             # doctest: +SKIP
    [<Pin 'Milo' character turn_3f0c…>]
"""

from __future__ import annotations

import html
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..api.errors import ParamError
from ..api.pins import Pin, check_name, check_role
from ..api.inputs import ImageInput

if TYPE_CHECKING:  # pragma: no cover
    from .store import Store

__all__ = ["PinRecord", "PinBoard", "PinList", "PIN_FORMATS"]

#: what a pinned picture may be: the formats every image model takes as an input image
PIN_FORMATS = ("png", "jpeg", "webp")


@dataclass(frozen=True)
class PinRecord:
    """One pin of a session: its name and role, the stored file, and the turn it came from (if any)."""

    session: str
    name: str
    role: str
    path: Path
    sha256: str
    turn_id: str | None
    created: float

    @property
    def image(self) -> ImageInput:
        """The pinned picture as it is sent (read from the store)."""
        return ImageInput.coerce(self.path, "pin")

    def pin(self) -> Pin:
        return Pin(self.name, self.role, self.image)

    def __repr__(self) -> str:
        src = f" {self.turn_id}" if self.turn_id else ""
        return f"<Pin {self.name!r} {self.role}{src}>"


class PinList(list):
    """``session.pins()``: a list of ``PinRecord`` that shows itself as a row of thumbnails."""

    def _repr_html_(self) -> str:
        if not self:
            return "<i>no pins: session.pin(turn, name=..., role='character')</i>"
        import base64

        cells = []
        for p in self:
            data = base64.b64encode(p.path.read_bytes()).decode() if p.path.is_file() else ""
            fmt = p.path.suffix.lstrip(".").replace("jpg", "jpeg")
            cells.append(f'<figure style="display:inline-block;margin:4px;text-align:center">'
                         f'<img src="data:image/{fmt};base64,{data}" style="width:96px;height:96px;object-fit:cover"/>'
                         f'<figcaption>📌 {html.escape(p.name)} · {html.escape(p.role)}</figcaption></figure>')
        return '<div class="imagewidgets-pins">' + "".join(cells) + "</div>"


class PinBoard:
    """The pins of one session in a store: ``add``, ``remove``, ``list``."""

    def __init__(self, store: "Store", session: str) -> None:
        self.store = store
        self.session = session

    def add(self, data: bytes, fmt: str, *, name: str, role: str, turn_id: str | None = None,
            path: Path | None = None) -> PinRecord:
        """Pin a picture (``path``: its file in the store already, a turn's image); a pin of the same
        name is replaced."""
        import hashlib

        name, role = check_name(name), check_role(role)
        if fmt not in PIN_FORMATS:
            raise ParamError("image", f"<{fmt} image>", ", ".join(PIN_FORMATS),
                             hint="a pinned picture is sent as an input image: png, jpeg or webp")
        sha = hashlib.sha256(data).hexdigest()
        if path is None or not Path(path).is_file():
            path = self.store.save_pin_image(self.session, data, fmt, sha)
        rel = Path(path).resolve().relative_to(self.store.folder).as_posix()
        now = time.time()
        with self.store.transaction() as db:
            db.execute("INSERT OR REPLACE INTO pins (session, name, role, path, sha256, turn_id, created) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?)", (self.session, name, role, rel, sha, turn_id, now))
        return PinRecord(self.session, name, role, self.store.folder / rel, sha, turn_id, now)

    def remove(self, names: list[str]) -> list[PinRecord]:
        gone = [p for p in self.list() if p.name in names]
        with self.store.transaction() as db:
            for p in gone:
                db.execute("DELETE FROM pins WHERE session = ? AND name = ?", (self.session, p.name))
        return gone

    def list(self) -> PinList:
        rows = self.store.query("SELECT * FROM pins WHERE session = ? ORDER BY created, name", (self.session,))
        out = PinList()
        for r in rows:
            path = (self.store.folder / r["path"]).resolve()
            if not path.is_relative_to(self.store.folder):  # the index is data: never a path outside
                continue
            try:  # nor a name that could end the instruction it is quoted in
                check_name(r["name"]), check_role(r["role"])
            except ParamError:
                continue
            out.append(PinRecord(r["session"], r["name"], r["role"], path, r["sha256"], r["turn_id"], r["created"]))
        return out


def pin_picture(session: Any, value: Any = None, *, name: str | None = None, role: str = "character") -> PinRecord:
    """``Session.pin``: a turn (or its id, or an image the session returned; ``None`` the current
    turn) pins its stored file; any other image is copied into the store first."""
    turn = session.current if value is None else (session.turn_of(value) or session.turn_of_image(value))
    board = session.pinboard
    if turn is not None:
        img = turn.image
        if img is None:
            raise ParamError("turn", turn.id, "a turn with an image", hint=f"turn {turn.id} is {turn.status}")
        data, fmt, path, turn_id = img.data, img.format, img.path, turn.id
    elif value is None:
        raise ParamError("image", None, "a turn or an image to pin", hint="imagine something first, or pass an image")
    else:
        from ..api.images import image_bytes

        data, fmt = image_bytes(value, "image")
        path, turn_id = None, None
    if name is None:
        name = f"pin {len(board.list()) + 1}"
    return board.add(data, fmt, name=name, role=role, turn_id=turn_id, path=path)


def unpin_pictures(session: Any, what: Any = None) -> list[PinRecord]:
    """``Session.unpin``: ``None`` every pin; a name, a list of names or a ``PinRecord``; a turn
    (or its id) the pins made from it. An unknown name is a ``ParamError`` listing the pins."""
    board = session.pinboard
    pins = board.list()
    if what is None:
        return board.remove([p.name for p in pins])
    turn = session.turn_of(what)
    if turn is not None:
        return board.remove([p.name for p in pins if p.turn_id == turn.id])
    items = list(what) if isinstance(what, (list, tuple)) else [what]
    names = [getattr(i, "name", i) for i in items]
    known = {p.name for p in pins}
    for n in names:
        if n not in known:
            raise ParamError("name", n, ", ".join(sorted(known)) or "a pin (there are none)")
    return board.remove(names)
