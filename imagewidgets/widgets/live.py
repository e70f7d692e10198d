"""LiveImage: partial frames on screen as they stream, each replacing the last, then the final image.

Frames go to the browser as the encoded bytes they arrived in (an ``ipywidgets.Image``): nothing
is decoded or re-encoded on the way.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future
from typing import Any, Callable, Optional

import ipywidgets as W
from traitlets import Enum, Float, Int

from ._util import one_line, reported

__all__ = ["LiveImage"]

#: image format -> the ``format`` trait of ``ipywidgets.Image`` (it builds the MIME type ``image/<format>``)
_WIDGET_FORMAT = {"svg": "svg+xml", "jpg": "jpeg"}


class LiveImage(W.VBox):
    """Shows an image request while it streams: "partial k of n" and the time so far, then the result.

    Run a request in a background thread (the kernel stays free, comm messages keep flowing)::

        live = LiveImage(); live
        live.run(session.imagine, "a fox in the snow", partial_images=3)   # -> Future
        live.watch(session, "edit", "make it night")                      # same, by method name
        live.wait()                                                       # the result (tests)

    or use it only as the callback of a call you make yourself::

        session.imagine("a fox", partial_images=2, on_event=live.on_event, cancel=live.cancel_event)

    The Cancel button (``live.cancel()``) stops the stream; the newest frame stays on screen and
    the session stores it.
    """

    status = Enum(("idle", "running", "done", "cancelled", "failed"), default_value="idle")
    frame = Int(0, help="partial frames shown in this run (k of 'partial k of n')")
    total = Int(None, allow_none=True, help="partial frames asked for (n), when known")
    elapsed_s = Float(0.0, help="seconds since the run started")

    def __init__(self, *, width: int = 512, cancel_button: bool = True, tick_s: Optional[float] = 0.5,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.image = W.Image(format="png", width=str(width))
        self.image.add_class("iw-live-image")
        self.label = W.Label("idle")
        self.label.add_class("iw-live-label")
        self.cancel_button = W.Button(description="Cancel", icon="stop", disabled=True,
                                      tooltip="stop the stream and keep the newest frame")
        self.cancel_button.add_class("iw-cancel")
        self.cancel_button.on_click(lambda _button: self.cancel())
        self.output = W.Output()
        self.output.add_class("iw-live-log")
        self.tick_s = tick_s
        #: the last run's result (ImageResult, ImageSet or what the callable returned) and error
        self.result: Any = None
        self.error: Optional[BaseException] = None
        self.cancel_event = threading.Event()
        self._future: Optional[Future] = None
        self._t0: Optional[float] = None
        self._lock = threading.RLock()  # the label is written by the stream and by the ticker
        self.children = [self.image, W.HBox([self.label, self.cancel_button]) if cancel_button else self.label,
                         self.output]
        self.add_class("iw-live")

    # ------------------------------------------------------------------ running a request
    def run(self, fn: Callable[..., Any], *args: Any, events: bool = True, **kwargs: Any) -> Future:
        """Call ``fn(*args, on_event=self.on_event, cancel=<event>, **kwargs)`` in a thread; a Future
        of its return value. ``events=False`` for callables that take no ``on_event``/``cancel``
        (e.g. ``session.vary``)."""
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
    def start(self) -> None:
        """Reset for a new run (``run`` does this; call it before passing ``on_event`` yourself)."""
        with self._lock:
            self._t0 = time.monotonic()
            self.result = self.error = None
            self.frame, self.total, self.elapsed_s = 0, None, 0.0
            self.status = "running"
            self.cancel_button.disabled = False
            self._relabel()

    @reported
    def on_event(self, event: Any) -> None:
        """Show one stream event: a partial frame (``event.data``, as it arrived) or a completed image.
        Usable directly as a Session's ``on_event`` callback."""
        kind = getattr(event, "type", None)
        if kind == "partial_image":
            self.show(event.data, event.format)
            with self._lock:
                if self._t0 is None or self.status != "running":
                    self.start()
                self.frame, self.total = event.index + 1, event.total
                self._relabel()
        elif kind == "completed":
            self.show(event.result.data, event.result.format)

    def show(self, data: bytes, format: str = "png") -> None:
        """Put encoded image bytes on screen, unchanged; one comm message."""
        image = self.image
        with image.hold_sync():
            image.format = _WIDGET_FORMAT.get(format, format)
            image.value = data

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
        if first is not None and getattr(first, "data", None):
            self.show(first.data, first.format)
        with self._lock:
            self.result, self.error = result, error
            self.elapsed_s = self._elapsed()
            if error is not None:
                self.status = "failed"
            elif self.cancel_event.is_set() and getattr(first, "partial", False):
                self.status = "cancelled"
            else:
                self.status = "done"
            self.cancel_button.disabled = True
            self._relabel(first)

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

    def _elapsed(self) -> float:
        return time.monotonic() - self._t0 if self._t0 is not None else 0.0

    def _relabel(self, first: Any = None) -> None:
        t = f"{self._elapsed():.1f} s"
        of = f" of {self.total}" if self.total else ""
        if self.status == "running":
            text = f"partial {self.frame}{of} · {t}" if self.frame else f"waiting for the first frame · {t}"
        elif self.status == "cancelled":
            text = f"cancelled · kept partial {self.frame}{of} · {t}"
        elif self.status == "failed":
            text = f"failed · {one_line(self.error)}" if self.error else "failed"
        elif self.status == "done":
            what = f"{first.width}x{first.height} {first.format} · " if getattr(first, "width", 0) else ""
            text = f"final · {what}{t}"
        else:
            text = "idle"
        self.label.value = text


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
