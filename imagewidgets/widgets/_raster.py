"""Pixel work behind MaskPainter: the full-resolution layers (mask, markup) with their undo
history, strokes and rectangles rasterised into them, and the downscaled view shown on canvas.

Nothing here knows about widgets; everything takes and returns PIL images and boxes.
A box is ``(x0, y0, x1, y1)`` in pixels with the end exclusive, like a slice.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import Iterable, Optional, Sequence

import numpy as np
from PIL import Image, ImageChops, ImageDraw

Box = tuple[int, int, int, int]

#: How the painted mask shows over the image: magenta at about half opacity.
MASK_TINT = (255, 0, 255)
MASK_OPACITY = 140


def fit_view(width: int, height: int, max_view: int) -> tuple[int, int]:
    """The canvas size showing a ``width`` x ``height`` image with its longer side at most
    ``max_view`` (never enlarged)."""
    scale = max(width, height) / max_view
    if scale <= 1:
        return width, height
    return max(1, round(width / scale)), max(1, round(height / scale))


def union(a: Optional[Box], b: Optional[Box]) -> Optional[Box]:
    if a is None:
        return b
    if b is None:
        return a
    return (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))


def clip(box: Box, width: int, height: int) -> Optional[Box]:
    """``box`` cut to the image, or None when nothing of it is inside."""
    x0, y0 = max(0, box[0]), max(0, box[1])
    x1, y1 = min(width, box[2]), min(height, box[3])
    return (x0, y0, x1, y1) if x0 < x1 and y0 < y1 else None


def draw_stroke(img: Image.Image, points: Sequence[tuple[float, float]], radius: float, fill) -> Optional[Box]:
    """Draw line segments through ``points`` with round caps and joins of ``radius`` onto ``img``.

    Every point gets a disc and every pair of neighbours a band as wide as the disc, so a fast
    drag that reported few points still leaves a continuous stroke. Pixel values are replaced,
    not blended (an RGBA fill of alpha 0 erases). Returns the changed box, or None.
    """
    radius = max(float(radius), 0.5)
    draw = ImageDraw.Draw(img)
    width = max(1, round(2 * radius))
    pts = [(float(x), float(y)) for x, y in points]
    for (ax, ay), (bx, by) in zip(pts, pts[1:]):
        if (ax, ay) != (bx, by):
            draw.line([(ax, ay), (bx, by)], fill=fill, width=width)
    for x, y in pts:
        draw.ellipse([x - radius, y - radius, x + radius, y + radius], fill=fill)
    xs = [p[0] for p in pts]
    ys = [p[1] for p in pts]
    pad = radius + 2  # PIL rounds wide lines and ellipse edges outward by up to a pixel
    box = (
        math.floor(min(xs) - pad),
        math.floor(min(ys) - pad),
        math.ceil(max(xs) + pad) + 1,
        math.ceil(max(ys) + pad) + 1,
    )
    return clip(box, *img.size)


def fill_rect(img: Image.Image, box: Box, fill) -> Optional[Box]:
    """Set every pixel of ``box`` (end exclusive) to ``fill``; returns the changed box or None."""
    cut = clip(box, *img.size)
    if cut is not None:
        img.paste(fill, cut)
    return cut


def outline_rect(img: Image.Image, box: Box, width: int, fill) -> Optional[Box]:
    """Draw the outline of ``box`` with lines ``width`` pixels wide, inside the box."""
    x0, y0, x1, y1 = box
    if x1 <= x0 or y1 <= y0:
        return None
    ImageDraw.Draw(img).rectangle([x0, y0, x1 - 1, y1 - 1], outline=fill, width=max(1, int(width)))
    return clip(box, *img.size)


def order_box(x0: float, y0: float, x1: float, y1: float) -> Box:
    """Integer box from two corners in any order (rounded to the nearest pixel edge)."""
    return (round(min(x0, x1)), round(min(y0, y1)), round(max(x0, x1)), round(max(y0, y1)))


class View:
    """The mapping between the full-resolution image and its (possibly smaller) canvas."""

    def __init__(self, size: tuple[int, int], max_view: int, pixel_ratio: float = 1.0) -> None:
        self.image_size = size
        #: the size on screen, in CSS pixels
        self.css_width, self.css_height = fit_view(size[0], size[1], max_view)
        #: the canvas' own pixels: the screen size times the pixel ratio, so a HiDPI screen shows
        #: one canvas pixel per device pixel (view coordinates are these pixels)
        self.pixel_ratio = pixel_ratio
        self.width = max(1, round(self.css_width * pixel_ratio))
        self.height = max(1, round(self.css_height * pixel_ratio))
        self.sx = size[0] / self.width
        self.sy = size[1] / self.height

    @property
    def scale(self) -> float:
        """Image pixels per view pixel (1.0 when the image fits)."""
        return (self.sx + self.sy) / 2

    def to_image(self, x: float, y: float) -> tuple[float, float]:
        return x * self.sx, y * self.sy

    def to_view_box(self, box: Box) -> Optional[Box]:
        """The view pixels that show any of the image pixels in ``box`` (one pixel of margin)."""
        vb = (
            math.floor(box[0] / self.sx) - 1,
            math.floor(box[1] / self.sy) - 1,
            math.ceil(box[2] / self.sx) + 1,
            math.ceil(box[3] / self.sy) + 1,
        )
        return clip(vb, self.width, self.height)

    def _source(self, vbox: Box) -> tuple[float, float, float, float]:
        return (vbox[0] * self.sx, vbox[1] * self.sy, vbox[2] * self.sx, vbox[3] * self.sy)

    def shrink(self, img: Image.Image, vbox: Box) -> Image.Image:
        """The part of ``img`` under view box ``vbox``, at view resolution (area-averaged)."""
        size = (vbox[2] - vbox[0], vbox[3] - vbox[1])
        return img.resize(size, Image.Resampling.BOX, box=self._source(vbox))

    def image_rgba(self, image: Image.Image) -> np.ndarray:
        """The whole image at view size as an RGBA array (RGBA goes to the browser as PNG, exact)."""
        return np.asarray(self.shrink(image.convert("RGBA"), (0, 0, self.width, self.height)))

    def overlay_rgba(self, mask: Image.Image, markup: Image.Image, vbox: Box) -> np.ndarray:
        """What covers the image in ``vbox``: the mask tinted, then the markup sketch on top."""
        coverage = np.asarray(self.shrink(mask, vbox), dtype=np.uint16)
        tint = np.empty(coverage.shape + (4,), dtype=np.uint8)
        tint[..., :3] = MASK_TINT
        tint[..., 3] = (coverage * MASK_OPACITY // 255).astype(np.uint8)
        sketch = self.shrink(markup, vbox)
        if sketch.getchannel("A").getbbox() is None:
            return tint
        return np.asarray(Image.alpha_composite(Image.fromarray(tint, "RGBA"), sketch))


@dataclass(frozen=True)
class Step:
    """One undoable change: the region of a layer before and after it."""

    layer: str
    box: Box
    before: Image.Image
    after: Image.Image


class History:
    """Bounded undo/redo of :class:`Step`; memory is proportional to the regions changed."""

    def __init__(self, limit: int = 50) -> None:
        self._undo: deque[Step] = deque(maxlen=limit)
        self._redo: list[Step] = []

    def record(self, layer: str, snapshot: Image.Image, current: Image.Image, box: Optional[Box]) -> bool:
        """Record the change of ``layer`` from ``snapshot`` to ``current`` inside ``box``.

        Returns False (and records nothing) when no pixel changed.
        """
        if box is None:
            return False
        before, after = snapshot.crop(box), current.crop(box)
        if ImageChops.difference(before, after).getbbox() is None:
            return False
        self._undo.append(Step(layer, box, before, after))
        self._redo.clear()
        return True

    def undo(self) -> Optional[Step]:
        if not self._undo:
            return None
        step = self._undo.pop()
        self._redo.append(step)
        return step

    def redo(self) -> Optional[Step]:
        if not self._redo:
            return None
        step = self._redo.pop()
        self._undo.append(step)
        return step

    def clear(self) -> None:
        self._undo.clear()
        self._redo.clear()

    @property
    def can_undo(self) -> bool:
        return bool(self._undo)

    @property
    def can_redo(self) -> bool:
        return bool(self._redo)


def as_points(points: Iterable) -> list[tuple[float, float]]:
    """``[(x, y), ...]`` from any iterable of pairs (lists, tuples, an (n, 2) array)."""
    out = [(float(p[0]), float(p[1])) for p in points]
    if not out:
        raise ValueError("a stroke needs at least one point")
    return out


class Layers:
    """The image with its full-resolution ``mask`` (L, 255 = painted) and ``markup`` (RGBA)
    layers, and an undo history.

    A change is ``begin(layer)``, any number of drawing calls (each returns the box it changed,
    for the caller to redraw), then ``commit()``, which makes it one undoable step.
    """

    def __init__(self, image: Image.Image, history: int = 50) -> None:
        self.image = image
        self.layers = {
            "mask": Image.new("L", image.size, 0),
            "markup": Image.new("RGBA", image.size, (0, 0, 0, 0)),
        }
        self.history = History(history)
        self._layer: Optional[str] = None
        self._snapshot: Optional[Image.Image] = None
        self._box: Optional[Box] = None

    @property
    def size(self) -> tuple[int, int]:
        return self.image.size

    @property
    def active(self) -> Optional[str]:
        """The layer of the change in progress, or None."""
        return self._layer

    def begin(self, layer: str) -> None:
        self.commit()  # a change never finished (say, a lost mouse_up) ends here
        self._layer, self._snapshot, self._box = layer, self.layers[layer].copy(), None

    def commit(self) -> bool:
        """End the change in progress; True if it changed pixels (and so can be undone)."""
        layer, snapshot, box = self._layer, self._snapshot, self._box
        self._layer = self._snapshot = self._box = None
        if layer is None or snapshot is None:
            return False
        return self.history.record(layer, snapshot, self.layers[layer], box)

    def _touched(self, box: Optional[Box]) -> Optional[Box]:
        self._box = union(self._box, box)
        return box

    @property
    def _in_progress(self) -> str:
        """The layer of the change in progress (drawing outside ``begin``/``commit`` is a bug)."""
        if self._layer is None:
            raise RuntimeError("no change in progress: call begin(layer) first")
        return self._layer

    def stroke(self, points: Sequence[tuple[float, float]], radius: float, fill) -> Optional[Box]:
        return self._touched(draw_stroke(self.layers[self._in_progress], points, radius, fill))

    def fill_rect(self, box: Box, fill) -> Optional[Box]:
        return self._touched(fill_rect(self.layers[self._in_progress], box, fill))

    def outline_rect(self, box: Box, width: int, fill) -> Optional[Box]:
        return self._touched(outline_rect(self.layers[self._in_progress], box, width, fill))

    def replace(self, change) -> Box:
        """Replace the whole layer by ``change(layer)`` (a new image of the same size and mode)."""
        layer = self._in_progress
        self.layers[layer] = change(self.layers[layer])
        whole = (0, 0) + self.size
        self._touched(whole)
        return whole

    def undo(self) -> Optional[Box]:
        """Undo the last step; the box it restored, or None if there was nothing to undo."""
        self.commit()
        return self._apply(self.history.undo(), "before")

    def redo(self) -> Optional[Box]:
        self.commit()
        return self._apply(self.history.redo(), "after")

    def _apply(self, step: Optional[Step], which: str) -> Optional[Box]:
        if step is None:
            return None
        self.layers[step.layer].paste(getattr(step, which), step.box[:2])
        return step.box

    def masked_fraction(self) -> float:
        w, h = self.size
        return self.layers["mask"].histogram()[255] / (w * h)
