"""The MaskPainter's "extend" control: pick a larger canvas (sizes from the model table) and where
the picture stays; the painter then shows the new canvas with the new area painted as the mask."""

from __future__ import annotations

from typing import Any

import ipywidgets as W

from ..api.models import DEFAULT_MODEL
from ..api.outpaint import ANCHORS, extend_sizes

__all__ = ["ExtendControl"]


class ExtendControl:
    """A size box (the model's sizes that fit, or any ``WxH``), an anchor choice and an "extend"
    button calling ``painter.extend(size, anchor)``; "undo extend" goes back to the picture."""

    def __init__(self, painter: Any, model: str | None = None) -> None:
        self.painter = painter
        self.model = model or DEFAULT_MODEL
        self.size = W.Combobox(placeholder="WxH", description="extend to", ensure_option=False,
                               layout=W.Layout(width="220px"), style={"description_width": "70px"})
        self.size.add_class("iw-extend-size")
        self.anchor = W.Dropdown(options=ANCHORS, value="center", description="keep at",
                                 layout=W.Layout(width="190px"), style={"description_width": "60px"},
                                 tooltip="where the picture stays on the larger canvas")
        self.anchor.add_class("iw-extend-anchor")
        self.button = W.Button(description="extend", icon="expand", layout=W.Layout(width="auto"),
                               tooltip="show the picture on the larger canvas; the new area becomes the mask")
        self.button.add_class("iw-extend")
        self.back = W.Button(description="undo extend", icon="compress", layout=W.Layout(width="auto"))
        self.button.on_click(lambda _b: self._run(lambda: painter.extend(self.size.value, self.anchor.value)))
        self.back.on_click(lambda _b: self._run(painter.unextend))
        self.box = W.HBox([self.size, self.anchor, self.button, self.back])

    def _run(self, action: Any) -> None:
        try:
            action()
        except Exception as e:  # a user's typo: one line in the painter's output, not a traceback
            self.painter.output.append_stderr(f"{type(e).__name__}: {e}\n")

    def update(self, original_size: tuple[int, int], extended: bool) -> None:
        """Offer the sizes the model makes that an image of ``original_size`` can grow to."""
        sizes = extend_sizes(original_size, self.model)
        self.size.options = tuple(sizes)
        if not self.size.value and sizes:
            self.size.value = sizes[0]
        self.back.disabled = not extended
