"""Gallery: a session's turns as small thumbnails with prompt, cost and lineage; click one to
branch from it (``session.checkout``). Shows a page (newest 50, paging, search by prompt text)
read from the store, with thumbnails from the store's disk cache: a session of 10,000 turns
opens as fast as one of 50."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any, Callable, Optional

import ipywidgets as W
from ipycanvas import Canvas
from traitlets import Unicode

from ._util import reported, style_sheet

__all__ = ["Gallery", "thumbnail", "css_size"]

_THUMBS: "OrderedDict[tuple, tuple[bytes, str, int, int]]" = OrderedDict()
_THUMBS_MAX = 1024
_THUMBS_LOCK = threading.Lock()


def thumbnail(image: Any, size: int = 128) -> tuple[bytes, str, int, int]:
    """``(bytes, widget format, width, height)`` of a small copy of ``image`` (an ImageResult),
    made once and cached: PNG where there is transparency, JPEG otherwise; SVG stays SVG."""
    key = (str(image.path) if getattr(image, "path", None) else id(image), size)
    with _THUMBS_LOCK:
        if key in _THUMBS:
            _THUMBS.move_to_end(key)
            return _THUMBS[key]
    thumb = _make_thumbnail(image, size)
    with _THUMBS_LOCK:
        _THUMBS[key] = thumb
        while len(_THUMBS) > _THUMBS_MAX:
            _THUMBS.popitem(last=False)
    return thumb


def _make_thumbnail(image: Any, size: int) -> tuple[bytes, str, int, int]:
    from ..session.thumbs import make_thumbnail

    t = make_thumbnail(image.data, image.format, size, image.width, image.height)
    return t.data, t.format, t.width, t.height


class Gallery(W.VBox):
    """Thumbnails of a session's turns, newest added as they are stored, with their lineage.

    Clicking a thumbnail makes that turn current (``session.checkout``), so the next edit
    branches from it. A turn shows ``↳ from #k`` when it continues another one; a branch
    (a second child of a turn) is indented one step further than its parent's main line.

        gallery = Gallery(session); gallery
        gallery.select(turn)            # what a click does
        gallery.selected                # id of the turn the next edit continues from
        Gallery(session, preview=True)  # and the selected turn's picture (click: full size)
    """

    selected = Unicode(None, allow_none=True, help="id of the current turn (the base of the next edit)")

    def __init__(self, session: Any = None, *, thumb_size: int = 128, indent_px: int = 24, per_page: int = 50,
                 preview: bool = False, pixel_ratio: int = 2,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if session is None:
            from ..session.session import default_session

            session = default_session()
        self.session = session
        self.thumb_size = thumb_size
        #: thumbnail pixels per CSS pixel: 2 keeps them sharp on HiDPI screens (as the mask painter)
        self.pixel_ratio = max(1, int(pixel_ratio))
        self.indent_px = indent_px
        self.per_page = per_page
        self.page = 1
        self.output = W.Output()
        self.output.add_class("iw-gallery-log")
        #: turn id -> the clickable thumbnail canvas
        self.thumbs: dict[str, Canvas] = {}
        self._rows: dict[tuple[str, str], W.HBox] = {}  # (turn id, status) -> its row
        #: turn id -> its caption: a button that reads as text (a click picks the turn, as on the thumbnail)
        self._captions: dict[str, W.Button] = {}
        #: turn id -> its pin toggle (on: the turn's picture goes with every later turn)
        self.pin_toggles: dict[str, W.ToggleButton] = {}
        self._syncing = False
        self._select_callbacks: list[Callable[[Any], None]] = []
        self._pin_callbacks: list[Callable[[], None]] = []
        self._lock = threading.RLock()  # turns arrive from the thread that ran the request
        self.header = W.Label()
        self.search = W.Text(placeholder="search prompts", continuous_update=False,
                             layout=W.Layout(width="180px"))
        self.newer = W.Button(description="◀ newer", layout=W.Layout(width="80px"), tooltip="the newer page")
        self.older = W.Button(description="older ▶", layout=W.Layout(width="80px"), tooltip="the older page")
        self.page_label = W.Label()
        self.pager = W.HBox([self.search, self.newer, self.page_label, self.older],
                            layout=W.Layout(flex_flow="row wrap"))  # a narrow column: wraps, never cut
        self.pager.add_class("iw-gallery-pager")
        self.search.observe(self._searched, names=["value"])
        self.newer.on_click(lambda _: self.go(self.page - 1))
        self.older.on_click(lambda _: self.go(self.page + 1))
        self.rows = W.VBox()
        #: ``preview=True``: the selected turn's picture in the same canvas view streams use
        self.preview: Any = None
        if preview:
            from .live import LiveImage

            self.preview = LiveImage(cancel_button=False, tick_s=None, fade_ms=0)
            self.on_select(self.preview.show_turn)
        self.children = [self.header, self.pager, self.rows, *([self.preview] if self.preview else []), self.output,
                         style_sheet()]
        self.add_class("iw-gallery")
        session.on_turn(self._on_turn)
        self.refresh()

    # ------------------------------------------------------------------ public
    def select(self, turn: Any) -> Any:
        """Make ``turn`` (a Turn or its id) the base of the next edit; returns the Turn."""
        turn = self.session.checkout(turn)
        with self._lock:
            self.selected = turn.id
            self._highlight()
        for callback in list(self._select_callbacks):
            self._call(callback, turn)
        return turn

    def pin(self, turn: Any, on: bool = True, *, name: Optional[str] = None, role: str = "character") -> None:
        """Pin ``turn``'s picture (as ``name``, default ``"#k"`` as the gallery numbers it) or unpin
        it: what its pin toggle does."""
        turn = self.session.turn(turn)
        if on:
            number = self._view.numbers.get(turn.id) if getattr(self, "_view", None) else None
            self.session.pin(turn, name=name or f"#{number or turn.id}", role=role)
        else:
            self.session.unpin(turn)
        self._sync_pins()
        for callback in list(self._pin_callbacks):
            self._call(lambda _t, cb=callback: cb(), None)

    def on_pins(self, callback: Callable[[], None]) -> None:
        """``callback()`` after a pin toggle pinned or unpinned a picture (and once now)."""
        self._pin_callbacks.append(callback)
        self._call(lambda _t: callback(), None)

    def on_select(self, callback: Callable[[Any], None]) -> None:
        """``callback(turn)`` after a thumbnail is clicked (or ``select`` is called)."""
        self._select_callbacks.append(callback)

    def go(self, page: int) -> None:
        """Show page ``page`` (1: the newest turns)."""
        self.page = max(1, page)
        self.refresh()

    @reported
    def refresh(self) -> None:
        """Bring the page's thumbnails, captions, order and indentation up to date with the session."""
        from ..session.views import Lineage

        with self._lock:
            view = Lineage(self.session, page=self.page, per_page=self.per_page,
                           search=self.search.value.strip() or None, thumb_px=self.thumb_size)
            self.page = view.page
            self._view = view
            keep: dict[tuple[str, str], W.HBox] = {}
            for t in view.turns:
                key = (t.id, t.status)
                keep[key] = self._rows.get(key) or self._make_row(t, view)
            order = _tree_order(view.turns)
            for turn, indent in order:
                row = keep[(turn.id, turn.status)]
                row.layout.margin = f"0 0 4px {indent * self.indent_px}px"
                caption = self._captions[turn.id]
                caption.description, caption.tooltip = _caption(turn, view.numbers)
            self.rows.children = [keep[(t.id, t.status)] for t, _ in order]
            shown = {tid for tid, _ in keep}
            for key, row in self._rows.items():  # rows of other pages (or of an older status) are closed
                if key not in keep:
                    _close(row)
                    if key[0] not in shown:
                        self._captions.pop(key[0], None)
            self._rows = keep
            self.thumbs = {tid: c for tid, c in self.thumbs.items() if tid in shown}
            self.pin_toggles = {tid: b for tid, b in self.pin_toggles.items() if tid in shown}
            current = getattr(self.session, "current", None)
            self.selected = current.id if current is not None else None
            self._highlight()
            self._sync_pins()
            n = view.session_turns
            found = f" · {view.total} matching" if view.search else ""
            self.header.value = f"{n} turn{'s' * (n != 1)} · ${view.spent_usd:.4f}{found}"
            self.page_label.value = f"page {view.page} of {view.pages}"
            self.newer.disabled = view.page <= 1
            self.older.disabled = view.page >= view.pages

    def _searched(self, change: Any) -> None:
        self.page = 1
        self.refresh()

    def close(self) -> None:
        """Close the widget and stop following the session's turns."""
        off = getattr(self.session, "off_turn", None)
        if off is not None:
            off(self._on_turn)
        super().close()

    # ------------------------------------------------------------------ internals
    def _on_turn(self, turn: Any) -> None:
        self.refresh()

    def _make_row(self, turn: Any, view: Any) -> W.HBox:
        caption = W.Button(layout=W.Layout(width="auto", max_width="420px", height="auto"))
        caption.add_class("iw-thumb-caption")
        caption.on_click(lambda _b, tid=turn.id: self._clicked(tid))
        self._captions[turn.id] = caption
        picture: W.Widget
        row = view.first_image(turn.id)
        thumb = self.session.store.thumbnail(row, self.thumb_size * self.pixel_ratio) if row else None
        if thumb is not None:
            picture = self._make_thumb(turn, thumb)
        else:
            size = f"{self.thumb_size}px"
            picture = W.Label(turn.status or "no image",
                              layout=W.Layout(width=size, height=f"{self.thumb_size // 2}px"))
        toggle = W.ToggleButton(description="pin", icon="thumb-tack", layout=W.Layout(width="70px"),
                                tooltip="send this picture with every later turn (a pinned reference)")
        toggle.add_class("iw-gallery-pin")
        toggle.disabled = thumb is None
        toggle.observe(lambda change, tid=turn.id: self._pin_toggled(tid, change["new"]), names=["value"])
        self.pin_toggles[turn.id] = toggle
        box = W.HBox([picture, caption, toggle], layout=W.Layout(align_items="center"))
        box.add_class("iw-gallery-row")
        return box

    def _make_thumb(self, turn: Any, thumb: Any) -> Canvas:
        w, h = thumb.width, thumb.height
        css_w, css_h = css_size(w, h, self.thumb_size)
        source = W.Image(value=thumb.data, format=thumb.format)
        canvas = Canvas(width=w, height=h, layout=W.Layout(width=f"{css_w}px", height=f"{css_h}px"))
        canvas.add_class("iw-thumb")
        canvas._iw_source = source  # keep the Image model alive as long as the canvas
        canvas.draw_image(source, 0, 0)
        canvas.on_client_ready(lambda: canvas.draw_image(source, 0, 0))  # a new view starts blank
        canvas.on_mouse_down(lambda x, y, tid=turn.id: self._clicked(tid))
        self.thumbs[turn.id] = canvas
        return canvas

    @reported
    def _clicked(self, turn_id: str) -> None:
        self.select(turn_id)

    @reported
    def _pin_toggled(self, turn_id: str, on: bool) -> None:
        if not self._syncing:
            self.pin(turn_id, on)

    def _sync_pins(self) -> None:
        """Each toggle on when its turn is pinned (pins change from code and magics too)."""
        pinned = {p.turn_id for p in self.session.pins()} if hasattr(self.session, "pins") else set()
        self._syncing = True
        try:
            for tid, toggle in self.pin_toggles.items():
                toggle.value = tid in pinned
        finally:
            self._syncing = False

    @reported
    def _call(self, callback: Callable[[Any], None], turn: Any) -> None:
        callback(turn)

    def _highlight(self) -> None:
        for (tid, _), row in self._rows.items():
            if tid == self.selected:
                row.add_class("iw-thumb-current")
                row.layout.border = "2px solid #1976d2"
            else:
                row.remove_class("iw-thumb-current")
                row.layout.border = "2px solid transparent"


def css_size(w: int, h: int, box: int) -> tuple[int, int]:
    """The CSS size a ``w`` x ``h`` thumbnail is shown at: fitted in ``box`` px (its longer side),
    never enlarged; a thumbnail made at twice that shows two pixels per CSS pixel."""
    scale = min(1.0, box / max(w, h, 1))
    return max(1, round(w * scale)), max(1, round(h * scale))


def _close(row: Any) -> None:
    """Close a row's widgets (and the thumbnail's image) so their comms go with them."""
    for child in row.children:
        source = getattr(child, "_iw_source", None)
        if source is not None:
            source.close()
        child.close()
    row.close()


def _tree_order(turns: list) -> list[tuple[Any, int]]:
    """Turns depth-first (children in creation order) with their indentation: a turn's first
    child continues its line, each later child (a branch) is indented one step more."""
    ids = {t.id for t in turns}
    children: dict[Optional[str], list] = {}
    for t in turns:
        parent = t.parent_id if t.parent_id in ids else None
        children.setdefault(parent, []).append(t)
    out: list[tuple[Any, int]] = []
    stack = [(t, 0) for t in reversed(children.get(None, []))]
    while stack:
        turn, indent = stack.pop()
        out.append((turn, indent))
        kids = children.get(turn.id, [])
        for i in range(len(kids) - 1, -1, -1):
            stack.append((kids[i], indent + (1 if i else 0)))
    return out


def _caption(turn: Any, number: dict[str, int]) -> tuple[str, str]:
    """``(text, tooltip)`` of a turn's caption: number, kind, lineage, cost, and the prompt (cut at 80
    characters; the whole prompt in the tooltip), on two lines."""
    bits = [f"#{number.get(turn.id, '?')} {turn.kind or ''}".rstrip()]
    if getattr(turn, "variant", None) is not None:
        bits.append(f"variant {turn.variant + 1}")
    if turn.parent_id in number:
        bits.append(f"↳ from #{number[turn.parent_id]}")
    if turn.cost is not None:
        bits.append(f"${turn.cost:.4f}")
    if getattr(turn, "pins", None):  # the pinned references this turn carried
        bits.append("📌 " + ", ".join(turn.pins))
    if turn.status and turn.status != "completed":
        bits.append(turn.status)
    prompt = " ".join((turn.prompt or "").split())  # one line: the caption's own break stays the only one
    short = prompt if len(prompt) <= 80 else prompt[:79] + "…"
    return " · ".join(bits) + ("\n" + short if short else ""), prompt or "pick this turn"
