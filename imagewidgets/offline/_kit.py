"""Small drawing helpers the animal and object motifs share: thick lines, bands along a path, eyes.

Pure geometry (lists of shapes); nothing here draws random numbers or reads the animation phase.
"""

from __future__ import annotations

import math

from ._shapes import RGB, Ellipse, Point, Polygon, Shape, rgba

__all__ = ["EYE_WHITE", "INK", "PINK", "bar", "band", "eyes", "arc_points", "legs"]

INK: RGB = (28, 26, 30)
EYE_WHITE: RGB = (250, 250, 245)
PINK: RGB = (238, 130, 150)


def bar(x0: float, y0: float, x1: float, y1: float, width: float, colour: RGB, alpha: int = 255) -> Polygon:
    """A straight stroke ``width`` wide from (x0, y0) to (x1, y1)."""
    dx, dy = x1 - x0, y1 - y0
    n = math.hypot(dx, dy) or 1.0
    ox, oy = -dy / n * width / 2, dx / n * width / 2
    return Polygon(((x0 + ox, y0 + oy), (x1 + ox, y1 + oy), (x1 - ox, y1 - oy), (x0 - ox, y0 - oy)),
                   rgba(colour, alpha))


def band(path: list[Point], widths: list[float] | float, colour: RGB, alpha: int = 255) -> Polygon:
    """A stroke along ``path`` (a snake, a tentacle, a trunk), ``widths`` per point or one width."""
    ws = widths if isinstance(widths, list) else [widths] * len(path)
    left: list[Point] = []
    right: list[Point] = []
    for i, (x, y) in enumerate(path):
        ax, ay = path[max(i - 1, 0)]
        bx, by = path[min(i + 1, len(path) - 1)]
        dx, dy = bx - ax, by - ay
        n = math.hypot(dx, dy) or 1.0
        ox, oy = -dy / n * ws[i] / 2, dx / n * ws[i] / 2
        left.append((x + ox, y + oy))
        right.append((x - ox, y - oy))
    return Polygon(tuple(left + right[::-1]), rgba(colour, alpha))


def arc_points(cx: float, cy: float, rx: float, ry: float, a0: float, a1: float, n: int = 16) -> list[Point]:
    """Points on an ellipse from angle ``a0`` to ``a1`` (radians, y down)."""
    return [(cx + rx * math.cos(a0 + (a1 - a0) * i / (n - 1)), cy + ry * math.sin(a0 + (a1 - a0) * i / (n - 1)))
            for i in range(n)]


def eyes(cx: float, cy: float, sep: float, r: float, look: float = 0.0, *, white: bool = True,
         tall: float = 1.0, pupil: RGB = INK) -> list[Shape]:
    """Two eyes ``sep`` apart around (cx, cy): whites of radius ``r`` and pupils looking by ``look``."""
    out: list[Shape] = []
    for sgn in (-1, 1):
        x = cx + sgn * sep / 2
        if white:
            out.append(Ellipse(x, cy, r, r * tall, rgba(EYE_WHITE)))
            out.append(Ellipse(x + look, cy, r * 0.55, r * 0.6 * tall, rgba(pupil)))
            out.append(Ellipse(x + look - r * 0.2, cy - r * 0.25, r * 0.17, r * 0.17, rgba(EYE_WHITE)))
        else:
            out.append(Ellipse(x + look, cy, r, r * tall, rgba(pupil)))
            out.append(Ellipse(x + look - r * 0.3, cy - r * 0.3, r * 0.3, r * 0.3, rgba(EYE_WHITE)))
    return out


def legs(xs: list[float], top: float, bottom: float, width: float, colour: RGB, step: float = 0.0) -> list[Shape]:
    """Straight legs at ``xs`` from ``top`` to ``bottom``; ``step`` swings alternate ones (walking)."""
    return [bar(x, top, x + (step if i % 2 else -step), bottom, width, colour) for i, x in enumerate(xs)]
