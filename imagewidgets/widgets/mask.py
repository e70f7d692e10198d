"""MaskPainter: paint where an edit should go (a mask) or sketch a guide (markup) over an image.

The mask and the markup live in Python at the image's full resolution; the canvas only shows a
(possibly smaller) view of them and reports mouse events.
"""

from __future__ import annotations

import functools
from typing import Any, Iterable, Optional

import ipywidgets as W
import numpy as np
from ipycanvas import MultiCanvas, hold_canvas
from PIL import Image, ImageChops, ImageColor
from traitlets import Enum, Int, Unicode, observe, validate

from ..api.errors import ParamError
from ..api.images import ImageLike, load_image, to_png_bytes
from ._extend import ExtendControl
from ._raster import Box, Layers, View, as_points, order_box
from ._util import reported

__all__ = ["MaskPainter"]

_IMAGE, _OVERLAY, _CURSOR = 0, 1, 2  # canvas layers, bottom to top; the top one gets the mouse
_CURSOR_COLOUR = "#00b3ff"


class MaskPainter(W.VBox):
    """Paint a mask (where the model may edit) or a markup sketch over an image, in a notebook.

    Example::

        painter = MaskPainter("photo.png"); painter   # draw where the edit goes
        s.edit("add a red balloon", mask=painter)

    The painter stands in for a mask wherever an image is expected: ``painter.mask`` (alias
    ``painter.mask_png``) is a PNG the size of the image, RGBA, with alpha 0 where painted
    ("edit here") and 255 elsewhere, and the image's own pixels as RGB.

    Modes: in ``"mask"`` mode strokes paint the mask (shown as translucent magenta); in
    ``"markup"`` mode they draw an opaque sketch in ``color`` on a separate transparent layer
    (``painter.markup``), for models that take ``markup`` instead of a mask.

    Units: ``brush`` is the brush *diameter in screen (CSS) pixels*, so it looks the same
    whatever the image's resolution; a 2048x1024 image shown at 512x256 paints strokes 4x wider
    in the image. The canvas is shown at exactly ``max_view`` CSS pixels at most (never
    stretched) and draws ``pixel_ratio`` canvas pixels per CSS pixel (default 2: crisp on HiDPI
    screens, whose device pixel ratio is 2; 1 sends a quarter of the pixels). The Python drawing methods (``paint_circle``, ``paint_rect``, ...) take
    *image* pixel coordinates and radii. Rectangles are ``(x0, y0, x1, y1)`` with the end
    exclusive, like slices. Drawing methods act on the layer of the current ``mode``.
    """

    mode = Enum(("mask", "markup"), default_value="mask", help="which layer strokes draw on")
    tool = Enum(("brush", "rectangle"), default_value="brush")
    action = Enum(("paint", "erase"), default_value="paint")
    brush = Int(32, help="brush diameter in canvas pixels")
    color = Unicode("#ff0000", help="markup colour (any CSS colour PIL understands)")

    def __init__(self, image: ImageLike, *, max_view: int = 512, brush: int = 32, history: int = 50,
                 model: Optional[str] = None, pixel_ratio: float = 2, **kwargs: Any) -> None:
        if not isinstance(max_view, int) or max_view < 16:
            raise ParamError("max_view", max_view, "an int of at least 16")
        if not isinstance(pixel_ratio, (int, float)) or not 1 <= pixel_ratio <= 4:
            raise ParamError("pixel_ratio", pixel_ratio, "a number from 1 to 4")
        super().__init__(**kwargs)
        self.max_view = max_view
        self.pixel_ratio = pixel_ratio
        self.output = W.Output()
        self._history_limit = history
        self._drag: Optional[str] = None  # "stroke" or "rectangle" while a mouse button is down
        self._last: Optional[tuple[float, float]] = None  # view coordinates
        self._anchor: Optional[tuple[float, float]] = None  # rectangle start, view coordinates
        self.brush = brush

        self.canvas = MultiCanvas(3, width=1, height=1)
        self.canvas.on_mouse_down(self._on_mouse_down)
        self.canvas.on_mouse_move(self._on_mouse_move)
        self.canvas.on_mouse_up(self._on_mouse_up)
        self.canvas.on_mouse_out(self._on_mouse_out)
        self.canvas.on_client_ready(self._on_client_ready)
        #: (width, height) of the picture before ``extend``, or None when not extended
        self.extended_from: Optional[tuple[int, int]] = None
        self._original: Optional[Image.Image] = None
        self._extend = ExtendControl(self, model)
        self.children = [self._build_toolbar(), self._extend.box, self.canvas, self.output]
        self.set_image(image)

    # ------------------------------------------------------------------ results
    @property
    def image(self) -> Image.Image:
        """The image being painted on (a PIL image)."""
        return self._doc.image

    @property
    def mask(self) -> bytes:
        """The mask as the API wants it: PNG, RGBA, the image's size, alpha 0 where painted."""
        rgba = self._doc.image.convert("RGB")
        rgba.putalpha(ImageChops.invert(self._doc.layers["mask"]))
        return to_png_bytes(rgba)

    @property
    def mask_png(self) -> bytes:
        """Same bytes as :attr:`mask` (what ``imagewidgets.images.image_bytes`` looks for)."""
        return self.mask

    @property
    def mask_array(self) -> np.ndarray:
        """The mask as a bool array of shape (height, width); True where painted."""
        return np.asarray(self._doc.layers["mask"]) > 0

    @property
    def markup(self) -> Optional[bytes]:
        """The sketch as a transparent RGBA PNG the image's size, or None if nothing is drawn."""
        return to_png_bytes(self._doc.layers["markup"]) if self.has_markup else None

    @property
    def has_mask(self) -> bool:
        """Whether any pixel of the mask is painted."""
        return self._doc.layers["mask"].getbbox() is not None

    @property
    def has_markup(self) -> bool:
        return self._doc.layers["markup"].getchannel("A").getbbox() is not None

    @property
    def can_undo(self) -> bool:
        return self._doc.history.can_undo

    @property
    def can_redo(self) -> bool:
        return self._doc.history.can_redo

    def __repr__(self) -> str:
        w, h = self._doc.size
        return (
            f"MaskPainter({w}x{h}, view {self._view.css_width}x{self._view.css_height}, mode={self.mode!r}, "
            f"{self._doc.masked_fraction():.1%} masked, markup={'yes' if self.has_markup else 'no'})"
        )

    # ------------------------------------------------------------------ Python drawing API
    def set_image(self, image: ImageLike) -> None:
        """Paint on a new image; the mask, markup and history start empty."""
        self._original, self.extended_from = None, None
        self._show(load_image(image))

    def extend(self, size: str, anchor: str = "center") -> None:
        """Show the picture on a larger ``size`` canvas ("WxH"), kept at ``anchor`` (center, left,
        right, top, bottom or a corner); the new area is painted as the mask, so
        ``s.extend(mask=painter)`` (or ``s.edit(..., image=painter.image, mask=painter)``) fills it."""
        from ..api.outpaint import extend_canvas, plan_extend

        original = self._original if self._original is not None else self._doc.image
        plan = plan_extend(original.size, size=size, anchor=anchor)
        canvas, _ = extend_canvas(to_png_bytes(original), plan)
        self._show(load_image(canvas))
        self._original, self.extended_from = original, original.size
        self._whole("mask", lambda img: _outside_box(img.size, plan.box))
        self._update_controls()

    def unextend(self) -> None:
        """Back to the picture as it was before ``extend`` (mask and markup start empty)."""
        if self._original is not None:
            self.set_image(self._original)

    def _show(self, image: Image.Image) -> None:
        self._doc = Layers(image, self._history_limit)
        self._drag = self._anchor = self._last = None
        self._view = View(self._doc.size, self.max_view, self.pixel_ratio)
        self.canvas.width, self.canvas.height = self._view.width, self._view.height
        # shown at its CSS size, never stretched by the box around it (stretching blurs)
        self.canvas.layout.width = f"{self._view.css_width}px"
        self.canvas.layout.height = f"{self._view.css_height}px"
        self.canvas.layout.min_width = self.canvas.layout.max_width = self.canvas.layout.width
        self._redraw(whole=True)
        self._update_controls()

    def paint_circle(self, x: float, y: float, r: float) -> None:
        """Paint a disc of radius ``r`` centred on image pixel (x, y)."""
        self.paint_stroke([(x, y)], r)

    def erase_circle(self, x: float, y: float, r: float) -> None:
        self.erase_stroke([(x, y)], r)

    def paint_stroke(self, points: Iterable, r: float) -> None:
        """Paint line segments through image points ``[(x, y), ...]`` with round ends of radius ``r``."""
        self._stroke(points, r, erase=False)

    def erase_stroke(self, points: Iterable, r: float) -> None:
        self._stroke(points, r, erase=True)

    def paint_rect(self, x0: float, y0: float, x1: float, y1: float) -> None:
        """Fill the image rectangle (mask mode), or outline it with the brush width (markup mode)."""
        self._rect(order_box(x0, y0, x1, y1), erase=False)

    def erase_rect(self, x0: float, y0: float, x1: float, y1: float) -> None:
        self._rect(order_box(x0, y0, x1, y1), erase=True)

    def clear(self) -> None:
        """Empty the layer of the current mode (undoable)."""
        blank = 0 if self.mode == "mask" else (0, 0, 0, 0)
        self._whole(self.mode, lambda img: Image.new(img.mode, img.size, blank))

    def invert(self) -> None:
        """Swap painted and unpainted in the mask, whatever the mode (undoable)."""
        self._whole("mask", ImageChops.invert)

    def undo(self) -> bool:
        """Undo the last change; False when there is nothing to undo."""
        return self._shown(self._doc.undo())

    def redo(self) -> bool:
        """Redo the last undone change; False when there is nothing to redo."""
        return self._shown(self._doc.redo())

    # ------------------------------------------------------------------ edits
    def _fill(self, erase: bool):
        if self.mode == "mask":
            return 0 if erase else 255
        return (0, 0, 0, 0) if erase else ImageColor.getrgb(self.color)[:3] + (255,)

    def _shown(self, box: Optional[Box]) -> bool:
        """Redraw ``box`` and refresh the toolbar; True if there was a box."""
        if box is not None:
            self._redraw(box)
        self._update_controls()
        return box is not None

    def _stroke(self, points: Iterable, r: float, *, erase: bool) -> None:
        pts, r = as_points(points), _positive("r", r)
        self._doc.begin(self.mode)
        self._redraw(self._doc.stroke(pts, r, self._fill(erase)))
        self._commit()

    def _rect(self, box: Box, *, erase: bool) -> None:
        self._doc.begin(self.mode)
        if self.mode == "markup" and not erase:
            width = max(1, round(self.brush * self._per_css_px))
            self._redraw(self._doc.outline_rect(box, width, self._fill(False)))
        else:
            self._redraw(self._doc.fill_rect(box, self._fill(erase)))
        self._commit()

    def _whole(self, layer: str, change) -> None:
        self._doc.begin(layer)
        self._redraw(self._doc.replace(change))
        self._commit()

    def _commit(self) -> None:
        self._doc.commit()
        self._update_controls()

    # ------------------------------------------------------------------ browser events
    @reported(cleanup="_abort_drag")
    def _on_mouse_down(self, x: float, y: float) -> None:
        self._end_drag()  # a drag whose mouse_up never arrived
        self._last = (x, y)
        if self.tool == "rectangle":
            self._drag, self._anchor = "rectangle", (x, y)
        else:
            self._drag = "stroke"
            self._doc.begin(self.mode)
            self._stroke_to(x, y)
        self._draw_cursor(x, y)

    @reported(cleanup="_abort_drag")
    def _on_mouse_move(self, x: float, y: float) -> None:
        if self._drag == "stroke" and self._doc.active is not None:
            self._stroke_to(x, y)
        self._last = (x, y) if self._drag else None
        self._draw_cursor(x, y)

    @reported(cleanup="_abort_drag")
    def _on_mouse_up(self, x: float, y: float) -> None:
        if self._drag == "stroke" and self._doc.active is not None:
            self._stroke_to(x, y)
        self._end_drag(x, y)
        self._draw_cursor(x, y)

    @reported(cleanup="_abort_drag")
    def _on_mouse_out(self, x: float, y: float) -> None:
        self._end_drag(x, y)
        self._draw_cursor(None, None)

    @reported(cleanup="_abort_drag")
    def _on_client_ready(self) -> None:
        self._redraw(whole=True)  # a new browser view starts blank

    def _stroke_to(self, x: float, y: float) -> None:
        """Draw the segment from the last point to (x, y), both in view coordinates."""
        px, py = self._last if self._last is not None else (x, y)
        pts = [self._view.to_image(px, py), self._view.to_image(x, y)]
        radius = self.brush / 2 * self._per_css_px
        self._redraw(self._doc.stroke(pts, radius, self._fill(self.action == "erase")))
        self._last = (x, y)

    def _end_drag(self, x: Optional[float] = None, y: Optional[float] = None) -> None:
        drag, anchor, last = self._drag, self._anchor, self._last
        self._drag = self._anchor = self._last = None
        if drag == "rectangle" and anchor is not None:
            if x is None or y is None:
                x, y = last or anchor
            (ax, ay), (bx, by) = self._view.to_image(*anchor), self._view.to_image(x, y)
            self._rect(order_box(ax, ay, bx, by), erase=self.action == "erase")
        elif drag == "stroke":
            self._commit()

    def _abort_drag(self) -> None:
        """After an error: keep (and make undoable) what was drawn, forget the gesture."""
        self._drag = self._anchor = self._last = None
        try:
            self._commit()
        except Exception:  # pragma: no cover - the first error is already reported
            pass

    # ------------------------------------------------------------------ canvas
    @property
    def _per_css_px(self) -> float:
        """Image pixels per screen (CSS) pixel: the brush is measured on screen."""
        return self._view.scale * self._view.pixel_ratio

    def _redraw(self, box: Optional[Box] = None, *, whole: bool = False) -> None:
        """Show the image region ``box`` (image pixels; None = nothing changed) on the canvas,
        or the image and everything over it if ``whole``."""
        view = self._view
        vbox = (0, 0, view.width, view.height) if whole else box and view.to_view_box(box)
        if vbox is None:
            return
        # all pixel work before hold_canvas(): an error inside it would leave ipycanvas holding
        overlay = view.overlay_rgba(self._doc.layers["mask"], self._doc.layers["markup"], vbox)
        picture = view.image_rgba(self._doc.image) if whole else None
        with hold_canvas():
            if picture is not None:
                self.canvas[_IMAGE].clear()
                self.canvas[_IMAGE].put_image_data(picture, 0, 0)
            # put_image_data composites, so the old overlay must go first
            self.canvas[_OVERLAY].clear_rect(vbox[0], vbox[1], vbox[2] - vbox[0], vbox[3] - vbox[1])
            self.canvas[_OVERLAY].put_image_data(overlay, vbox[0], vbox[1])

    def _draw_cursor(self, x: Optional[float], y: Optional[float]) -> None:
        top = self.canvas[_CURSOR]
        with hold_canvas():
            top.clear()
            if x is None:
                return
            top.stroke_style = _CURSOR_COLOUR
            top.line_width = self._view.pixel_ratio
            if self._drag == "rectangle" and self._anchor is not None and y is not None:
                ax, ay = self._anchor
                top.stroke_rect(min(ax, x), min(ay, y), abs(x - ax), abs(y - ay))
            elif self.tool == "brush":
                top.stroke_circle(x, y, max(self.brush / 2 * self._view.pixel_ratio, 1))

    # ------------------------------------------------------------------ toolbar
    def _build_toolbar(self) -> W.Widget:
        small = W.Layout(width="auto")
        self._tool_buttons = W.ToggleButtons(
            options=[("brush", "brush"), ("rectangle", "rectangle")], style={"button_width": "auto"}
        )
        self._action_buttons = W.ToggleButtons(
            options=[("paint", "paint"), ("eraser", "erase")], style={"button_width": "auto"}
        )
        self._mode_buttons = W.ToggleButtons(
            options=[("mask", "mask"), ("markup", "markup")],
            tooltips=["paint where the model may edit", "sketch a guide for the model"],
            style={"button_width": "auto"},
        )
        self._size_slider = W.IntSlider(min=1, max=max(256, self.brush), description="size", layout=W.Layout(width="220px"),
                                        tooltip="brush diameter in screen pixels")
        self._color_picker = W.ColorPicker(concise=True, layout=small)
        for name, widget in (("tool", self._tool_buttons), ("action", self._action_buttons),
                             ("mode", self._mode_buttons), ("brush", self._size_slider),
                             ("color", self._color_picker)):
            W.link((self, name), (widget, "value"))
        self._undo_button = W.Button(description="undo", icon="undo", layout=small)
        self._redo_button = W.Button(description="redo", icon="repeat", layout=small)
        self._clear_button = W.Button(description="clear", icon="trash", layout=small)
        self._invert_button = W.Button(description="invert", icon="adjust", layout=small)
        for button, action in ((self._undo_button, self.undo), (self._redo_button, self.redo),
                               (self._clear_button, self.clear), (self._invert_button, self.invert)):
            button.on_click(self._button_handler(action))
        self._status = W.Label()
        return W.VBox([
            W.HBox([self._mode_buttons, self._tool_buttons, self._action_buttons]),
            W.HBox([self._size_slider, self._color_picker, self._undo_button, self._redo_button,
                    self._clear_button, self._invert_button, self._status]),
        ])

    def _button_handler(self, action):
        @reported(cleanup="_abort_drag")
        def handler(painter, _button):
            action()

        return functools.partial(handler, self)

    @validate("brush")
    def _valid_brush(self, proposal):
        return max(1, int(proposal["value"]))

    @observe("mode", "tool")
    def _on_mode(self, change) -> None:
        if hasattr(self, "_doc"):
            self._drag = self._anchor = self._last = None
            self._commit()

    def _update_controls(self) -> None:
        if not hasattr(self, "_status") or not hasattr(self, "_doc"):
            return
        self._color_picker.disabled = self.mode != "markup"
        self._invert_button.disabled = self.mode != "mask"
        self._undo_button.disabled = not self.can_undo
        self._redo_button.disabled = not self.can_redo
        w, h = self._doc.size
        view = self._view
        shown = "" if (view.css_width, view.css_height) == (w, h) else f", shown at {view.css_width}x{view.css_height}"
        grown = f" (extended from {self.extended_from[0]}x{self.extended_from[1]})" if self.extended_from else ""
        self._status.value = f"{w}x{h}{grown}{shown} · {self._doc.masked_fraction():.1%} masked"
        self._extend.update(self.extended_from or (w, h), self.extended_from is not None)


def _outside_box(size: tuple[int, int], box: tuple[int, int, int, int]) -> Image.Image:
    """A mask layer painted (255) everywhere but ``box``: the new area of an extended canvas."""
    layer = Image.new("L", size, 255)
    layer.paste(0, box)
    return layer


def _positive(name: str, value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ParamError(name, value, "a positive number") from None
    if not number > 0:
        raise ParamError(name, value, "a positive number")
    return number
