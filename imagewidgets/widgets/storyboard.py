"""StoryboardStrip: a storyboard's panels side by side with their captions, a "redo" button under
each (``board.redo(n)``: the panel draws again, with the board's pins) and a pin toggle (pin the
panel's picture as a character, or unpin it).

    strip = StoryboardStrip(board)      # what %%storyboard shows
    strip.redo(2)                       # what the second panel's "redo" button does
"""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as W

from ._util import one_line, reported
from .gallery import thumbnail

__all__ = ["StoryboardStrip"]


class StoryboardStrip(W.VBox):
    """The panels of ``board`` (a ``Storyboard``), each with its number and caption, a redo button
    and a pin toggle. Shown where widgets are not, it is the board's static strip."""

    def __init__(self, board: Any, *, thumb_size: int = 256, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.board = board
        self.thumb_size = thumb_size
        self.output = W.Output()
        self.pictures: list[W.Image] = []
        self.captions: list[W.HTML] = []
        self.redo_buttons: list[W.Button] = []
        self.pin_toggles: list[W.ToggleButton] = []
        cells = []
        for n in range(1, len(board) + 1):
            picture = W.Image(format="jpeg", layout=W.Layout(width=f"{thumb_size}px"))
            caption = W.HTML()
            caption.add_class("iw-panel-caption")
            redo = W.Button(description=f"redo #{n}", icon="refresh", tooltip="draw this panel again (with the pins)")
            redo.add_class("iw-panel-redo")
            redo.on_click(lambda _b, n=n: self._clicked(n))
            pin = W.ToggleButton(description="pin", icon="thumb-tack",
                                 tooltip="send this panel's picture with every later turn, as a character")
            pin.add_class("iw-panel-pin")
            pin.observe(lambda change, n=n: self._pin_toggled(n, change["new"]), names=["value"])
            self.pictures.append(picture)
            self.captions.append(caption)
            self.redo_buttons.append(redo)
            self.pin_toggles.append(pin)
            cell = W.VBox([picture, caption, W.HBox([redo, pin])], layout=W.Layout(margin="0 8px 8px 0"))
            cell.add_class("iw-panel")
            cells.append(cell)
        self.status = W.Label()
        self.status.add_class("iw-storyboard-status")
        pins = ", ".join(board.pin_names) or "none"
        self.children = [W.HTML(f"<small>📌 pins carried: {html.escape(pins)}</small>"),
                         W.HBox(cells, layout=W.Layout(flex_flow="row wrap")), self.status, self.output]
        self.add_class("iw-storyboard")
        self._syncing = False
        for n in range(1, len(board) + 1):
            self._show(n)

    def redo(self, number: int) -> Any:
        """Draw panel ``number`` (from 1) again; returns its new turn."""
        self.status.value = f"drawing panel {number} again…"
        try:
            turn = self.board.redo(number)
        except Exception as e:
            self.status.value = f"panel {number}: {one_line(e)}"
            raise
        self._show(number)
        self.status.value = f"panel {number} redrawn ({turn.id})"
        return turn

    @reported
    def _clicked(self, number: int) -> None:
        self.redo(number)

    @reported
    def _pin_toggled(self, number: int, on: bool) -> None:
        if self._syncing:
            return
        session, turn = self.board.session, self.board.panel(number)
        if on:
            session.pin(turn, name=f"panel {number}", role="character")
        else:
            session.unpin(turn)
        self._show(number)

    def _show(self, number: int) -> None:
        turn = self.board[number - 1]
        panel = self.board.panels[number - 1]
        self.captions[number - 1].value = f"<b>{number}.</b> {html.escape(panel.prompt)}"
        if turn is not None and turn.image is not None:
            data, fmt, w, h = thumbnail(turn.image, self.thumb_size)
            self.pictures[number - 1].format = fmt
            self.pictures[number - 1].value = data
        pinned = turn is not None and any(p.turn_id == turn.id for p in self.board.session.pins())
        self._syncing = True
        try:
            self.pin_toggles[number - 1].value = pinned
        finally:
            self._syncing = False

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        bundle = super()._repr_mimebundle_(**kwargs)
        data, meta = bundle if isinstance(bundle, tuple) else (bundle, {})
        if isinstance(data, dict):
            data["text/html"] = self.board.html()
        return data, meta

    def __repr__(self) -> str:
        return f"<StoryboardStrip of {len(self.board)} panels>"
