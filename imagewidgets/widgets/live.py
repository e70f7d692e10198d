"""LiveImage: partial frames drawn on an ipycanvas canvas as they stream, then the final image.

Each frame goes to the browser as the encoded bytes it arrived in (an ``ipywidgets.Image``,
drawn with ``Canvas.draw_image``): the browser decodes it, Python never does. The canvas adds what
a plain image cannot: the next frame fades in over the last, and overlays that are drawn, not
baked into pixels — the masked edit's outline, "partial 2 of 3" with the time so far, and on a cut
stream a "stopped — newest frame kept" band. It fills the notebook's width (or ``width`` px)
keeping the picture's aspect ratio, draws at the image's own resolution, and a click on the
final image shows it at full size.
"""

from __future__ import annotations

import io
import threading
import time
from concurrent.futures import Future
from typing import Any, Callable, Optional

import ipywidgets as W
from ipycanvas import Canvas, hold_canvas
from traitlets import Enum, Float, Int, Unicode

from ..api.models import parse_size
from ._util import one_line, reported

__all__ = ["LiveImage"]

#: image format -> the ``format`` trait of ``ipywidgets.Image`` (it builds the MIME type ``image/<format>``)
_WIDGET_FORMAT = {"svg": "svg+xml", "jpg": "jpeg"}

#: canvas size before the first frame says the picture's own (a 16:9 placeholder)
_IDLE_SIZE = (1024, 576)
_FADE_STEPS = 4
_OUTLINE = (0, 229, 255, 255)  # cyan: visible on light and dark pictures
_BAND = "rgba(192, 57, 43, 0.85)"


class LiveImage(W.VBox):
    """Shows an image request while it streams: the frames on a canvas, "partial k of n" and the
    time so far, then the result.

    Run a request in a background thread (the kernel stays free, comm messages keep flowing)::

        live = LiveImage(); live
        live.run(session.imagine, "a fox in the snow", partial_images=3)   # -> Future
        live.watch(session, "edit", "make it night", mask=painter)        # outlines the mask
        live.wait()                                                       # the result (tests)

    or use it only as the callback of a call you make yourself::

        session.imagine("a fox", partial_images=2, on_event=live.on_event, cancel=live.cancel_event)

    The Cancel button (``live.cancel()``) stops the stream; the newest frame stays on screen and
    the session stores it. ``fade_ms=0`` turns the fade off; a new frame always skips the rest of
    a running fade.
    """

    status = Enum(("idle", "running", "done", "cancelled", "failed"), default_value="idle")
    frame = Int(0, help="partial frames shown in this run (k of 'partial k of n')")
    total = Int(None, allow_none=True, help="partial frames asked for (n), when known")
    elapsed_s = Float(0.0, help="seconds since the run started")
    in_line = Unicode("", help="the class gateway's line while the request waits there ('3rd in line, about 40 s')")

    def __init__(self, *, width: Optional[int] = None, cancel_button: bool = True,
                 tick_s: Optional[float] = 0.5, fade_ms: float = 160, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # `width` px when given (a row beside other widgets), else the notebook's width
        self.layout.width = f"{width}px" if width else "100%"
        w, h = _IDLE_SIZE
        # CSS: the notebook's width (or `width` px at most); height follows the canvas's own ratio
        self.canvas = Canvas(width=w, height=h, layout=W.Layout(width="100%", height="auto"))
        self.canvas.add_class("iw-live-canvas")
        self.canvas.on_mouse_down(self._clicked)
        self.canvas.on_client_ready(self._redraw)  # a new view (page reload) starts blank
        self.label = W.Label("idle", layout=W.Layout(flex="1 1 auto", width="auto"))  # the room the row has
        self.label.add_class("iw-live-label")
        self.cancel_button = W.Button(description="Cancel", icon="stop", disabled=True,
                                      tooltip="stop the stream and keep the newest frame")
        self.cancel_button.add_class("iw-cancel")
        self.cancel_button.on_click(lambda _button: self.cancel())
        self.full = W.Box(layout=W.Layout(overflow="auto", display="none"))
        self.full.add_class("iw-live-full")
        self.output = W.Output()
        self.output.add_class("iw-live-log")
        self.tick_s = tick_s
        self.fade_ms = fade_ms
        #: the last run's result (ImageResult, ImageSet or what the callable returned) and error
        self.result: Any = None
        self.error: Optional[BaseException] = None
        self.cancel_event = threading.Event()
        self._future: Optional[Future] = None
        self._t0: Optional[float] = None
        self._lock = threading.RLock()  # state and drawing: the stream, the ticker and fades share them
        self._buffers = [W.Image(format="png") for _ in range(3)]
        self._front: Optional[W.Image] = None  # the frame on screen
        self._back: Optional[W.Image] = None  # the frame it fades in over
        self._fade_gen = 0  # a new frame bumps it: a running fade stops
        self._outline: Optional[W.Image] = None  # the mask's outline, a transparent PNG
        self._band: Optional[str] = None
        self._shown: Optional[bytes] = None  # the bytes of the frame on screen
        self._final: Optional[tuple[bytes, str, int, int]] = None
        status_row = W.HBox([self.label, self.cancel_button]) if cancel_button else self.label
        self.children = [self.canvas, status_row, self.full, self.output]
        self.add_class("iw-live")

    # ------------------------------------------------------------------ running a request
    def run(self, fn: Callable[..., Any], *args: Any, events: bool = True, **kwargs: Any) -> Future:
        """Call ``fn(*args, on_event=self.on_event, cancel=<event>, **kwargs)`` in a thread; a Future
        of its return value. ``events=False`` for callables that take no ``on_event``/``cancel``
        (e.g. ``session.vary``). A ``mask=`` among the arguments is outlined on the frames."""
        with self._lock:
            if self._future is not None and not self._future.done():
                raise RuntimeError("a request is already running here; cancel() or wait() first")
            future: Future = Future()
            future.set_running_or_notify_cancel()
            self._future = future
            self.cancel_event = threading.Event()
            if events:
                kwargs.setdefault("on_event", self.on_event)
                kwargs.setdefault("cancel", self.cancel_event)
            self.start()
            self.set_mask(kwargs.get("mask"))
        threading.Thread(target=self._work, args=(fn, args, kwargs, future), daemon=True,
                         name="imagewidgets-live").start()
        if self.tick_s:
            threading.Thread(target=self._tick, args=(future,), daemon=True, name="imagewidgets-tick").start()
        return future

    def watch(self, session: Any, method: str, *args: Any, **kwargs: Any) -> Future:
        """``run(getattr(session, method), ...)``: ``live.watch(s, "imagine", "a fox", partial_images=3)``."""
        return self.run(getattr(session, method), *args, events=method != "vary", **kwargs)

    def wait(self, timeout: Optional[float] = None) -> Any:
        """Block until the current run ends; its result (or raise its error)."""
        if self._future is None:
            return self.result
        return self._future.result(timeout)

    @property
    def running(self) -> bool:
        return self._future is not None and not self._future.done()

    def cancel(self) -> None:
        """Stop the stream at the next frame; the newest frame is kept (on screen and in the store)."""
        self.cancel_event.set()

    # ------------------------------------------------------------------ what a run shows
    @property
    def image(self) -> W.Image:
        """The frame on screen (an ``ipywidgets.Image`` holding the bytes as they arrived)."""
        return self._front if self._front is not None else W.Image(format="png")

    def start(self) -> None:
        """Reset for a new run (``run`` does this; call it before passing ``on_event`` yourself)."""
        with self._lock:
            self._t0 = time.monotonic()
            self.result = self.error = None
            self.frame, self.total, self.elapsed_s, self.in_line = 0, None, 0.0, ""
            self.status = "running"
            self._band, self._final, self._outline = None, None, None
            self.full.children, self.full.layout.display = (), "none"
            self.cancel_button.disabled = False
            self._relabel()

    def set_mask(self, mask: Any) -> None:
        """Outline the transparent part of ``mask`` (a MaskPainter, path, bytes, PIL image...) on
        every frame: where a masked edit may change the picture. ``None`` removes it."""
        with self._lock:
            self._outline = None if mask is None else _outline_image(mask)
            self._redraw()

    def show_turn(self, turn: Any) -> None:
        """Show a stored turn's image as a final picture (the studio's and the gallery's preview of
        the selected turn; a click shows it at full size). Ignored while a request runs."""
        image = getattr(turn, "image", None)
        if image is None or not getattr(image, "data", None) or self.running:
            return
        with self._lock:
            self.start()
            self.show(image.data, image.format, size=f"{image.width}x{image.height}")
            self.status = "done"
            self._final = (image.data, image.format, image.width, image.height)
            self.cancel_button.disabled = True
            self._relabel(image)
            self.label.value = f"{turn.kind} · {image.width}x{image.height} {image.format} · {turn.id}"
            self._redraw()

    def close(self) -> None:
        """Close the view and every widget model it made (frames, outline, full-size image)."""
        with self._lock:
            self._fade_gen += 1  # a running fade stops drawing
        for frame in self._buffers:
            frame.close()
        for widget in (self._outline, *self.full.children, self.canvas, self.label, self.cancel_button,
                       self.full, self.output):
            if widget is not None:
                widget.close()
        super().close()

    @reported
    def on_event(self, event: Any) -> None:
        """Show one stream event: a partial frame (``event.data``, as it arrived) or a completed image.
        Usable directly as a Session's ``on_event`` callback."""
        kind = getattr(event, "type", None)
        if kind == "partial_image":
            with self._lock:
                if self._t0 is None or self.status != "running":
                    self.start()
                gen = self._swap(event.data, event.format, event.size)
                self.frame, self.total = event.index + 1, event.total
                self._relabel()
                self._draw_new(gen)
        elif kind == "completed":
            result = event.result
            self.show(result.data, result.format, size=f"{result.width}x{result.height}")
        elif kind == "queue":  # the class gateway's line, before the first frame
            with self._lock:
                if self._t0 is None or self.status != "running":
                    self.start()
                self.in_line = event.text
                self._relabel()

    def show(self, data: bytes, format: str = "png", *, size: Optional[str] = None) -> None:
        """Draw encoded image bytes, unchanged, fading in over the frame on screen."""
        with self._lock:
            self._draw_new(self._swap(data, format, size))

    def _swap(self, data: bytes, format: str, size: Optional[str]) -> int:
        """Make ``data`` the frame on screen; the previous one becomes the frame it fades in over.
        Returns the fade's number. Three ``ipywidgets.Image`` models take turns (the frame on
        screen, the one fading out, the next), so each frame's bytes go to the browser once and no
        widget is made per frame."""
        source = next(b for b in self._buffers if b is not self._front and b is not self._back)
        with source.hold_sync():  # format and bytes in one message
            source.format = _WIDGET_FORMAT.get(format, format)
            # via b"": traitlets compares old and new values, and two memoryviews of one length are
            # compared element by element in Python (40 ms for 2 MB); against b"" it is instant
            source.value = b""
            source.value = data
        self._shown = data
        self._fade_gen += 1
        wh = parse_size(size or "") or _header_size(data)
        if wh and (self.canvas.width, self.canvas.height) != wh:
            self.canvas.width, self.canvas.height = wh  # the browser clears it: nothing to fade over
            self._front = None
        self._back, self._front = self._front, source
        return self._fade_gen

    def _draw_new(self, gen: int) -> None:
        fade = self.fade_ms > 0 and self._back is not None
        self._redraw(alpha=1 / _FADE_STEPS if fade else None)
        if fade:
            threading.Thread(target=self._fade, args=(gen,), daemon=True, name="imagewidgets-fade").start()

    # ------------------------------------------------------------------ drawing
    def _fade(self, gen: int) -> None:
        for step in range(2, _FADE_STEPS + 1):
            time.sleep(self.fade_ms / 1000 / _FADE_STEPS)
            with self._lock:
                if gen != self._fade_gen:
                    return  # a newer frame took over
                self._redraw(alpha=step / _FADE_STEPS if step < _FADE_STEPS else None)

    def _redraw(self, alpha: Optional[float] = None) -> None:
        """Everything on the canvas, in one message: the frame(s), then the overlays."""
        c = self.canvas
        if c.comm is None:  # closed
            return
        w, h = c.width, c.height
        with self._lock, hold_canvas():
            c.clear()
            c.global_alpha = 1.0
            if self._front is None:
                c.fill_style = "#eceff1"
                c.fill_rect(0, 0, w, h)
            else:
                if alpha is not None and self._back is not None:
                    c.draw_image(self._back, 0, 0, w, h)
                    c.global_alpha = alpha
                c.draw_image(self._front, 0, 0, w, h)
                c.global_alpha = 1.0
            if self._outline is not None and self.status in ("running", "cancelled", "failed"):
                c.draw_image(self._outline, 0, 0, w, h)
            self._draw_counter(w, h)
            if self._band:
                self._draw_band(w, h)

    def _draw_counter(self, w: int, h: int) -> None:
        if self.status != "running":
            return
        text = self.label.value
        size = max(14, h // 28)
        c = self.canvas
        c.font = f"{size}px sans-serif"
        c.text_baseline = "top"
        c.fill_style = "rgba(0, 0, 0, 0.6)"
        c.fill_rect(0, 0, min(w, int(size * 0.6 * len(text)) + size), int(size * 1.6))
        c.fill_style = "#ffffff"
        c.fill_text(text, size // 2, int(size * 0.3))

    def _draw_band(self, w: int, h: int) -> None:
        size = max(16, h // 22)
        c = self.canvas
        c.fill_style = _BAND
        c.fill_rect(0, h - int(size * 2.2), w, int(size * 2.2))
        c.font = f"bold {size}px sans-serif"
        c.text_baseline = "middle"
        c.text_align = "center"
        c.fill_style = "#ffffff"
        c.fill_text(self._band or "", w // 2, h - int(size * 1.1))
        c.text_align = "start"

    @reported
    def _clicked(self, x: float, y: float) -> None:
        """A click on the final image shows it at full resolution below (again: hides it)."""
        if self._final is None:
            return
        if self.full.layout.display != "none":
            self.full.layout.display = "none"
            return
        data, fmt, w, h = self._final
        if not self.full.children:
            full = W.Image(value=data, format=_WIDGET_FORMAT.get(fmt, fmt),
                           layout=W.Layout(width=f"{w}px", max_width="none"))
            full.add_class("iw-live-full-image")
            self.full.children = (full,)
        self.full.layout.display = None

    # ------------------------------------------------------------------ internals
    def _work(self, fn: Callable[..., Any], args: tuple, kwargs: dict, future: Future) -> None:
        try:
            out = fn(*args, **kwargs)
        except BaseException as e:  # noqa: BLE001 - handed to the future, shown in the label
            self._finish(error=e)
            future.set_exception(e)
        else:
            try:
                self._finish(result=out)
            finally:
                future.set_result(out)

    @reported
    def _finish(self, result: Any = None, error: Optional[BaseException] = None) -> None:
        first = _first_image(result)
        if first is not None and getattr(first, "data", None) and not getattr(first, "partial", False) \
                and self._shown != first.data:  # not on screen yet (bytes compare: a memcmp)
            self.show(first.data, first.format, size=f"{first.width}x{first.height}")
        with self._lock:
            self.result, self.error = result, error
            self.elapsed_s = self._elapsed()
            if error is not None:
                self.status = "failed"
                if self.frame:  # a stream cut after some frames: the newest is kept
                    self._band = "stopped — newest frame kept"
            elif self.cancel_event.is_set() and getattr(first, "partial", False):
                self.status = "cancelled"
                self._band = "cancelled — newest frame kept"
            else:
                self.status = "done"
                if first is not None and getattr(first, "data", None):
                    self._final = (first.data, first.format, first.width, first.height)
            self.cancel_button.disabled = True
            self._relabel(first)
            self._redraw()

    def _tick(self, future: Future) -> None:
        while True:
            try:
                future.result(self.tick_s)
                return
            except Exception:  # a timeout (still running), or the run failed
                if future.done():
                    return
            with self._lock:
                if self.status == "running":
                    self.elapsed_s = self._elapsed()
                    self._relabel()
                    self._redraw()

    def _elapsed(self) -> float:
        return time.monotonic() - self._t0 if self._t0 is not None else 0.0

    def _relabel(self, first: Any = None) -> None:
        t = f"{self._elapsed():.1f} s"
        of = f" of {self.total}" if self.total else ""
        if self.status == "running":
            text = (f"partial {self.frame}{of} · {t}" if self.frame else f"{self.in_line} · {t}" if self.in_line
                    else f"waiting for the first frame · {t}")
        elif self.status == "cancelled":
            text = f"cancelled · kept partial {self.frame}{of} · {t}"
        elif self.status == "failed":
            text = f"failed · {one_line(self.error)}" if self.error else "failed"
        elif self.status == "done":
            what = f"{first.width}x{first.height} {first.format} · " if getattr(first, "width", 0) else ""
            text = f"final · {what}{t}"
        else:
            text = "idle"
        if self.status == "done" and self._final is not None:
            text += " · click the picture for full size"
        self.label.value = text
        self.label.tooltip = text  # the whole line, also when the layout cuts it


def _header_size(data: bytes) -> Optional[tuple[int, int]]:
    """Width and height from the image's header (Pillow reads the header only, no pixels)."""
    try:
        from PIL import Image

        with Image.open(io.BytesIO(data)) as im:
            return im.size
    except Exception:  # SVG or a truncated frame: keep the canvas as it is
        return None


def _outline_image(mask: Any) -> Optional[W.Image]:
    """A transparent PNG the size of ``mask`` with the border of its transparent region drawn."""
    import numpy as np
    from PIL import Image

    from ..api.requests import ImageInput

    data = ImageInput.coerce(mask, "mask").data
    if data is None:  # a file id or URL: nothing to outline here
        return None
    with Image.open(io.BytesIO(data)) as im:
        alpha = np.asarray(im.convert("RGBA"))[:, :, 3]
    inside = alpha == 0
    edge = np.zeros_like(inside)
    edge[1:, :] |= inside[1:, :] != inside[:-1, :]
    edge[:, 1:] |= inside[:, 1:] != inside[:, :-1]
    thick = max(1, min(alpha.shape) // 256)  # about 4 px on a 1024-px image
    for _ in range(thick):  # grow the line so it survives the canvas being shown smaller
        grown = edge.copy()
        grown[1:, :] |= edge[:-1, :]
        grown[:-1, :] |= edge[1:, :]
        grown[:, 1:] |= edge[:, :-1]
        grown[:, :-1] |= edge[:, 1:]
        edge = grown
    rgba = np.zeros((*alpha.shape, 4), dtype=np.uint8)
    rgba[edge] = _OUTLINE
    out = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(out, format="PNG", optimize=False)
    return W.Image(value=out.getvalue(), format="png")


def _first_image(result: Any) -> Any:
    """The first image of what a session call returns (ImageResult, ImageSet, Turn or None)."""
    if result is None:
        return None
    if hasattr(result, "data"):
        return result
    image = getattr(result, "image", None)  # a Turn
    if image is not None:
        return image
    try:
        return result[0]
    except (TypeError, LookupError):
        return None
