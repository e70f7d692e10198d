"""How the magics show what they make: one output area per call, where partial frames replace each
other live and the final image lands, and a guard so the returned image is not shown again as
``Out[n]``.
"""

from __future__ import annotations

import base64
import uuid
from typing import Any

from ..api.images import MIME_TYPES
from ..api.models import parse_size
from ..api.results import shown_width

__all__ = ["LiveView", "OutGuard", "frame_bundle"]


class LiveView:
    """One output area per magic call: partial frames replace each other in it, then the final image.

    In a notebook kernel the frames go to a ``LiveImage`` (the canvas view the studio uses: fades,
    the mask's outline, "partial k of n"); the final image then replaces the widget in the same
    output, so a saved notebook keeps a plain image. In a terminal (no widgets) each frame is
    published as the encoded bytes that arrived (base64 for the JSON message). Frames are never
    decoded and re-encoded."""

    def __init__(self, shell: Any, *, mask: Any = None) -> None:
        self.shell = shell
        self.mask = mask
        self.display_id: str | None = None
        self.widget: Any = None  # the LiveImage, once the first frame arrived in a notebook kernel

    @property
    def _widgets(self) -> bool:
        """A kernel with a front-end that renders widgets (not a terminal, not a plain shell)."""
        return getattr(self.shell, "kernel", None) is not None

    def _publish(self, data: dict, metadata: dict | None = None) -> None:
        update = self.display_id is not None
        if not update:
            self.display_id = uuid.uuid4().hex
        self.shell.display_pub.publish(data=data, metadata=metadata or {},
                                       transient={"display_id": self.display_id}, update=update)

    def on_event(self, event: Any) -> None:
        from ..api.results import PartialImageEvent

        if getattr(event, "type", None) == "queue":  # the class's line: replaced by the first frame
            if self.widget is not None:
                self.widget.on_event(event)
            else:
                self._publish({"text/plain": f"waiting: {event.text}"})
            return
        if not isinstance(event, PartialImageEvent):
            return
        if self._widgets:
            if self.widget is None:
                from ..widgets.live import LiveImage

                # no status line: the counter is on the canvas, and the final image that replaces
                # the view is then the same size as it (the box takes the final's width and ratio)
                self.widget = LiveImage(cancel_button=False, tick_s=None, label=False)
                self.widget.start()
                self.widget.expect(event.size)
                if self.mask is not None:
                    self.widget.set_mask(self.mask)
                self.show(self.widget)
            self.widget.on_event(event)
            return
        data, metadata = frame_bundle(event)
        self._publish(data, metadata)

    def show(self, obj: Any, preview: Any = None) -> None:
        """Show ``obj``; an image (or set) with ``preview`` (a ``Preview`` or its spelling)."""
        if preview is not None and hasattr(obj, "display_bundle"):
            data, metadata = obj.display_bundle(preview)
        else:
            data, metadata = self.shell.display_formatter.format(obj)
        if data:
            self._publish(data, metadata)
        if self.widget is not None and obj is not self.widget:  # the final image replaced the view
            self.widget.close()
            self.widget = None


def frame_bundle(event: Any) -> tuple[dict, dict]:
    """The display data of one partial frame: its encoded bytes as they arrived (base64 for JSON)."""
    of = f" of {event.total}" if event.total else ""
    data: dict[str, Any] = {"text/plain": f"<partial image {event.index + 1}{of}>"}
    metadata: dict[str, Any] = {}
    mime = MIME_TYPES.get(event.format, "image/png")
    wh = parse_size(event.size or "")
    if event.format in ("png", "jpeg", "gif"):
        data[mime] = base64.b64encode(event.data).decode()
        if wh:
            metadata[mime] = {"width": shown_width(wh[0])}
    elif event.format == "svg":
        data[mime] = event.data.decode("utf-8", "replace")
    else:  # webp: no standard renderer in Jupyter; an <img> with a data URL shows it
        width = f' width="{shown_width(wh[0])}"' if wh else ""
        data["text/html"] = f'<img src="data:{mime};base64,{base64.b64encode(event.data).decode()}"{width}/>'
    return data, metadata


class OutGuard:
    """Keeps an image a magic has shown already from being shown again as ``Out[n]``.

    The displayhook still runs (``_`` and ``Out[n]`` are set); only its format data is empty for
    objects marked by ``shown()`` in the current cell."""

    def __init__(self, shell: Any) -> None:
        self.shell = shell
        self._shown: list[Any] = []
        self._hook: Any = None

    def shown(self, obj: Any) -> None:
        self._shown.append(obj)

    def forget(self, *_: Any) -> None:
        self._shown.clear()

    def install(self) -> None:
        hook = self._hook = self.shell.displayhook
        original, prompt = hook.compute_format_data, hook.write_output_prompt

        # The hook writes its "Out[n]:" prompt before it formats the result; the prompt waits here
        # until the result is known, so a shown image leaves no empty "Out[n]:" in a terminal.
        def compute_format_data(result: Any) -> tuple[dict, dict]:
            if any(result is r for r in self._shown):
                return {}, {}
            prompt()
            return original(result)

        hook.compute_format_data = compute_format_data
        hook.write_output_prompt = lambda: None
        for event in ("pre_run_cell", "post_run_cell"):
            self.shell.events.register(event, self.forget)

    def uninstall(self) -> None:
        for name in ("compute_format_data", "write_output_prompt"):
            if self._hook is not None and name in vars(self._hook):
                delattr(self._hook, name)
        for event in ("pre_run_cell", "post_run_cell"):
            try:
                self.shell.events.unregister(event, self.forget)
            except ValueError:
                pass
