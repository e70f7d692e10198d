"""LiveImage: partial frames drawn on an ipycanvas canvas as they stream, then the final image.

Each frame goes to the browser as the encoded bytes it arrived in (an ``ipywidgets.Image``): the
browser decodes it, Python never does. It is decoded onto an off-screen canvas first and only
then drawn on the visible one, so the picture on screen stays until the next is ready (double
buffering: the canvas never blinks); a frame that arrives while the browser is still busy waits,
and a newer one replaces it (the final picture is always drawn). The canvas adds what a plain
image cannot: the next frame fades in over the last, and overlays that are drawn, not baked into
pixels — the masked edit's outline, "partial 2 of 3" with the time so far, and on a cut stream a
"stopped — newest frame kept" band. Its box is as wide as the final image will be shown
(``api.results.shown_width``) or ``width`` px, keeps the picture's aspect ratio, draws at the
image's own resolution, and a click on the final image shows it at full size.
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
from ..api.results import shown_width
from ._util import one_line, reported

__all__ = ["LiveImage"]

#: image format -> the ``format`` trait of ``ipywidgets.Image`` (it builds the MIME type ``image/<format>``)
_WIDGET_FORMAT = {"svg": "svg+xml", "jpg": "jpeg"}

#: canvas size before the first frame says the picture's own (a 16:9 placeholder)
_IDLE_SIZE = (1024, 576)
_FADE_STEPS = 4
_OUTLINE = (0, 229, 255, 255)  # cyan: visible on light and dark pictures
_BAND = "rgba(192, 57, 43, 0.85)"
#: how long a frame waits for the browser's answer to the previous one before it is sent anyway
#: (a closed page never answers)
_ACK_TIMEOUT_S = 3.0
#: ipycanvas batches every canvas's commands in one process-wide cache (``hold_canvas``): one
#: thread at a time fills it, or two widgets' commands would be mixed into one message
_DRAWING = threading.RLock()


class _Slot:
    """One frame in the browser: its bytes as they arrived (an ``ipywidgets.Image``) and the
    picture decoded from them on an off-screen canvas (a ``Canvas`` model nobody displays)."""

    def __init__(self) -> None:
        self.image = W.Image(format="png")
        self.buffer = Canvas(width=1, height=1)

    def load(self, data: bytes, format: str, w: int, h: int) -> None:
        with self.image.hold_sync():  # format and bytes in one message
            self.image.format = _WIDGET_FORMAT.get(format, format)
            # via b"": traitlets compares old and new values, and two memoryviews of one length are
            # compared element by element in Python (40 ms for 2 MB); against b"" it is instant
            self.image.value = b""
            self.image.value = data
        if (self.buffer.width, self.buffer.height) != (w, h):
            with self.buffer.hold_sync():
                self.buffer.width, self.buffer.height = w, h

    def decode(self) -> None:
        """The draw commands that decode the bytes onto the off-screen canvas (inside ``hold_canvas``):
        the browser decodes there while the visible canvas keeps its picture."""
        b = self.buffer
        b.clear_rect(0, 0, b.width, b.height)
        b.draw_image(self.image, 0, 0, b.width, b.height)

    def close(self) -> None:
        self.image.close()
        self.buffer.close()


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
    the session stores it. ``fade_ms=0`` turns the fade off (the browser plays it: one message,
    during which other canvases' drawing waits).

    Double buffered: a frame is decoded by the browser on an off-screen canvas, and only then drawn
    (faded in over the picture on screen), so the canvas never shows a blank between two frames.
    While the browser is still busy with one frame, newer ones wait in Python and only the newest
    is sent when it is done (the final picture always is): a slow browser skips stale frames
    instead of falling behind. ``width`` px fixes the box's width; without it the box takes the
    width the final image will be shown at (``api.results.shown_width``: the image's own, 512 px
    at most), so the final image replaces the live view without a jump. ``label=False`` leaves out
    the status line under the canvas (the counter is drawn on the canvas anyway).
    """

    status = Enum(("idle", "running", "done", "cancelled", "failed"), default_value="idle")
    frame = Int(0, help="partial frames shown in this run (k of 'partial k of n')")
    total = Int(None, allow_none=True, help="partial frames asked for (n), when known")
    elapsed_s = Float(0.0, help="seconds since the run started")
    in_line = Unicode("", help="the class gateway's line while the request waits there ('3rd in line, about 40 s')")

    def __init__(self, *, width: Optional[int] = None, cancel_button: bool = True,
                 tick_s: Optional[float] = 0.5, fade_ms: float = 160, label: bool = True,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # `width` px when given (a row beside other widgets); else the final image's width once the
        # picture's size is known (the notebook's width until then); never wider than the output
        self._fixed_width = width
        self.layout.width = f"{width}px" if width else "100%"
        self.layout.max_width = "100%"
        w, h = _IDLE_SIZE
        # CSS: the box's width; height follows the canvas's own ratio
        self.canvas = Canvas(width=w, height=h, layout=W.Layout(width="100%", height="auto"))
        self.canvas.add_class("iw-live-canvas")
        self.canvas.on_mouse_down(self._clicked)
        self.canvas.on_client_ready(self._reload)  # a new view (page reload) starts blank
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
        self._lock = threading.RLock()  # state and drawing: the stream, the ticker and acks share them
        # slots take turns, so each frame's bytes go to the browser once and no widget is made per
        # frame. Four: a stream's three partial frames and its final never share one, so a frame
        # still queued in a browser that fell behind is never overwritten by a newer one's bytes
        self._slots = [_Slot() for _ in range(4)]
        self._turn = 0
        self._front: Optional[_Slot] = None  # the frame on screen (once the browser has drawn what was sent)
        self._pending: Optional[tuple[bytes, str, Optional[tuple[int, int]]]] = None  # the newest, not sent yet
        self._newest: Optional[bytes] = None  # the bytes of the newest frame shown (sent or waiting)
        self._outline: Optional[W.Image] = None  # the mask's outline, a transparent PNG
        self._outline_buffer = Canvas(width=1, height=1)  # ...decoded once, off screen
        # the browser's "done": the last command of each frame's message paints the frame's number
        # on this 1x1 canvas, and the browser sends its pixels back once the message is processed
        self._ack = Canvas(width=1, height=1, sync_image_data=True)
        self._ack.observe(self._acked, names=["image_data"])
        self._seq = 0
        self._in_flight: Optional[tuple[int, float]] = None  # (number, monotonic time sent)
        self._acks_seen = False  # no answers while the kernel runs a cell: frames then go out unpaced
        self._retry: Optional[threading.Timer] = None
        self._band: Optional[str] = None
        self._final: Optional[tuple[bytes, str, int, int]] = None
        status_row = W.HBox([self.label, self.cancel_button]) if cancel_button else self.label
        self.children = [self.canvas, *([status_row] if label or cancel_button else []), self.full, self.output]
        self.add_class("iw-live")

    # ------------------------------------------------------------------ running a request
    def run(self, fn: Callable[..., Any], *args: Any, events: bool = True, **kwargs: Any) -> Future:
        """Call ``fn(*args, on_event=self.on_event, cancel=<event>, **kwargs)`` in a thread; a Future
        of its return value. ``events=False`` for callables that take no ``on_event``/``cancel``
        (e.g. ``session.vary``). A ``mask=`` among the arguments is outlined on the frames; a
        ``size="WxH"`` sizes the box for the picture before its first frame."""
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
            self.expect(kwargs.get("size"))
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
        return self._front.image if self._front is not None else W.Image(format="png")

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

    def expect(self, size: Any) -> None:
        """Size the box for a picture of ``size`` ("WxH") before its first frame: the width the
        final image will be shown at, the picture's ratio. Other values (None, "auto") wait for
        the first frame. The picture on screen, if any, stays until that frame."""
        wh = parse_size(size) if isinstance(size, str) else None
        if wh is None:
            return
        with self._lock:
            self._fit(wh)
            if self._front is None and (self.canvas.width, self.canvas.height) != wh:
                self._resize(wh)
                self._refresh()

    def set_mask(self, mask: Any) -> None:
        """Outline the transparent part of ``mask`` (a MaskPainter, path, bytes, PIL image...) on
        every frame: where a masked edit may change the picture. ``None`` removes it."""
        with self._lock:
            self._outline = None if mask is None else _outline_image(mask)
            if self._outline is not None:
                wh = _header_size(bytes(self._outline.value)) or (1, 1)
                ob = self._outline_buffer
                if (ob.width, ob.height) != wh:
                    with ob.hold_sync():
                        ob.width, ob.height = wh
                if ob.comm is not None:
                    with _DRAWING, hold_canvas():
                        self._decode_outline()
            self._refresh()

    def show_turn(self, turn: Any) -> None:
        """Show a stored turn's image as a final picture (the studio's and the gallery's preview of
        the selected turn; a click shows it at full size). Ignored while a request runs."""
        image = getattr(turn, "image", None)
        if image is None or not getattr(image, "data", None) or self.running:
            return
        with self._lock:
            self.start()
            self.status = "done"
            self._final = (image.data, image.format, image.width, image.height)
            self.cancel_button.disabled = True
            self._relabel(image)
            self.label.value = f"{turn.kind} · {image.width}x{image.height} {image.format} · {turn.id}"
            self.show(image.data, image.format, size=f"{image.width}x{image.height}")

    def close(self) -> None:
        """Close the view and every widget model it made (frames, outline, full-size image)."""
        with self._lock:
            self._pending = None
            if self._retry is not None:
                self._retry.cancel()
        for slot in self._slots:
            slot.close()
        for widget in (self._outline, self._outline_buffer, self._ack, *self.full.children, self.canvas,
                       self.label, self.cancel_button, self.full, self.output):
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
                self.frame, self.total = event.index + 1, event.total
                self.show(event.data, event.format, size=event.size)  # relabels as it is drawn
                if self._pending is not None:  # waits for the browser: the line under it says it now
                    self._relabel()
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
        """Draw encoded image bytes, unchanged, fading in over the frame on screen once the browser
        has decoded them; while it is busy with an earlier frame, this one waits (and a newer one
        replaces it)."""
        with self._lock:
            self._newest = data
            self._pending = (data, format, parse_size(size or "") or _header_size(data))
            self._pump()

    # ------------------------------------------------------------------ frames to the browser
    def _pump(self) -> None:
        """Send the waiting frame, unless the browser is still busy with the last one sent (then the
        browser's answer, or a timeout when none comes, sends it)."""
        with self._lock:
            if self._pending is None or self.canvas.comm is None:
                return
            # the browser's answers are handled by the kernel's main thread: a frame shown from it
            # (a cell streaming in the foreground, as the magics do) cannot wait for one
            paced = self._acks_seen and threading.current_thread() is not threading.main_thread()
            if self._in_flight is not None and paced:
                waited = time.monotonic() - self._in_flight[1]
                if waited < _ACK_TIMEOUT_S:
                    self._retry_in(_ACK_TIMEOUT_S - waited)
                    return
            data, fmt, wh = self._pending
            self._pending = None
            self._send_frame(data, fmt, wh)

    def _retry_in(self, delay: float) -> None:
        if self._retry is not None and self._retry.is_alive():
            return
        self._retry = threading.Timer(delay, self._pump)
        self._retry.daemon = True
        self._retry.start()

    def _send_frame(self, data: bytes, format: str, wh: Optional[tuple[int, int]]) -> None:
        """One message: decode the frame off screen, fade it in over the picture on screen, then
        the acknowledgement. The visible canvas is never cleared in between."""
        self._turn = (self._turn + 1) % len(self._slots)
        if self._slots[self._turn] is self._front:
            self._turn = (self._turn + 1) % len(self._slots)
        slot = self._slots[self._turn]
        w, h = wh or (self.canvas.width, self.canvas.height)
        slot.load(data, format, w, h)
        back = self._front
        if (self.canvas.width, self.canvas.height) != (w, h):
            self._resize((w, h))  # the browser clears it: nothing to fade over
            back = None
        self._fit((w, h))
        self._front = slot
        if self.status == "running":
            self._relabel()  # the counter drawn on this frame says which it is
        self._seq += 1
        steps = _FADE_STEPS if back is not None and self.fade_ms > 0 else 1
        with _DRAWING, hold_canvas():
            slot.decode()
            for step in range(1, steps):
                self._compose(back, step / steps)
                self.canvas.sleep(self.fade_ms / steps)  # shows this step, then waits, in the browser
            self._compose()
            a = self._ack
            a.fill_style = f"rgb({(self._seq >> 16) & 255}, {(self._seq >> 8) & 255}, {self._seq & 255})"
            a.fill_rect(0, 0, 1, 1)
        self._in_flight = (self._seq, time.monotonic())

    @reported
    def _acked(self, change: Any) -> None:
        """The browser processed a frame's message (its number came back as the ack canvas's pixel)."""
        seq = _ack_number(change["new"])
        with self._lock:
            self._acks_seen = True
            if self._in_flight is not None and seq == self._in_flight[0] & 0xFFFFFF:
                self._in_flight = None
        self._pump()

    # ------------------------------------------------------------------ drawing
    def _fit(self, wh: tuple[int, int]) -> None:
        if self._fixed_width is None:
            self.layout.width = f"{shown_width(wh[0])}px"

    def _resize(self, wh: tuple[int, int]) -> None:
        with self.canvas.hold_sync():
            self.canvas.width, self.canvas.height = wh

    def _refresh(self) -> None:
        """Redraw with the overlays as they are now, unless a newer frame is waiting to be sent
        (it is drawn with them)."""
        if self._pending is None:
            self._redraw()

    def _redraw(self) -> None:
        """The picture on screen and the overlays, in one message (no decoding: the frames are
        decoded off screen already)."""
        if self.canvas.comm is None:  # closed
            return
        with self._lock, _DRAWING, hold_canvas():
            self._compose()

    def _reload(self) -> None:
        """A new page made new canvases: decode the frame on screen and the outline again, then draw."""
        if self.canvas.comm is None:
            return
        with self._lock, _DRAWING, hold_canvas():
            if self._front is not None:
                self._front.decode()
            if self._outline is not None:
                self._decode_outline()
            self._compose()

    def _decode_outline(self) -> None:
        ob = self._outline_buffer
        ob.clear_rect(0, 0, ob.width, ob.height)
        ob.draw_image(self._outline, 0, 0, ob.width, ob.height)

    def _compose(self, back: Optional[_Slot] = None, alpha: Optional[float] = None) -> None:
        """Draw commands (inside ``hold_canvas``): ``back`` under the frame on screen at ``alpha``,
        then the overlays. Canvas to canvas: nothing is decoded here. The browser shows the result
        once the whole message is drawn, so the old picture stays until then."""
        c = self.canvas
        w, h = c.width, c.height
        c.clear_rect(0, 0, w, h)  # the off-screen copy only: the page keeps showing the last picture
        c.global_alpha = 1.0
        if self._front is None:
            c.fill_style = "#eceff1"
            c.fill_rect(0, 0, w, h)
        else:
            if alpha is not None and back is not None:
                c.draw_image(back.buffer, 0, 0, w, h)
                c.global_alpha = alpha
            c.draw_image(self._front.buffer, 0, 0, w, h)
            c.global_alpha = 1.0
        if self._outline is not None and self.status in ("running", "cancelled", "failed"):
            c.draw_image(self._outline_buffer, 0, 0, w, h)
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
            if first is not None and getattr(first, "data", None) and not getattr(first, "partial", False) \
                    and self._newest != first.data:  # not on screen yet (bytes compare: a memcmp)
                self.show(first.data, first.format, size=f"{first.width}x{first.height}")
            else:
                self._refresh()

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
                    if self._in_flight is None or not self._acks_seen:  # else: drawn with the next frame
                        self._refresh()

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


def _ack_number(png: Any) -> Optional[int]:
    """The frame number the browser painted on the 1x1 ack canvas (its PNG sent back), or None."""
    if not png:
        return None
    try:
        from PIL import Image

        with Image.open(io.BytesIO(bytes(png))) as im:
            pixel = im.convert("RGB").getpixel((0, 0))
    except Exception:  # not the ack's picture: ignore it
        return None
    if not isinstance(pixel, tuple) or len(pixel) < 3:
        return None
    r, g, b = (int(v) for v in pixel[:3])
    return (r << 16) | (g << 8) | b


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

    from ..api.inputs import ImageInput

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
