"""The vector primitives a scene is made of, shared by the raster and the SVG backends."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

RGB = tuple[int, int, int]
RGBA = tuple[int, int, int, int]
Point = tuple[float, float]


@dataclass(frozen=True, slots=True)
class Ellipse:
    cx: float
    cy: float
    rx: float
    ry: float
    fill: RGBA


@dataclass(frozen=True, slots=True)
class Polygon:
    points: tuple[Point, ...]
    fill: RGBA


@dataclass(frozen=True, slots=True)
class Rect:
    x0: float
    y0: float
    x1: float
    y1: float
    fill: RGBA
    radius: float = 0.0


@dataclass(frozen=True, slots=True)
class Ring:
    cx: float
    cy: float
    rx: float
    ry: float
    width: float
    colour: RGBA


Shape = Ellipse | Polygon | Rect | Ring


@dataclass(frozen=True)
class Background:
    top: RGB
    bottom: RGB
    bands: int = 0  # 0: smooth gradient; n: n flat bands (the low-quality poster look)
    glow: tuple[float, float, float, RGB] | None = None  # cx, cy, radius, colour
    grain: int = 0  # amplitude of the film-grain texture (raster only)


@dataclass(frozen=True)
class TextBlock:
    lines: tuple[str, ...]
    size: int
    x: float  # left of the first line's text
    y: float  # top of the first line
    line_height: float
    ink: RGBA
    panel: RGBA
    box: tuple[float, float, float, float]
    radius: float


@dataclass(frozen=True)
class Scene:
    width: int
    height: int
    background: Background | None  # None: transparent
    shapes: tuple[Shape, ...]
    texts: tuple[TextBlock, ...]
    clip: tuple[float, float, float, float] | None = None  # shapes are clipped to this box


def rgba(c: RGB, alpha: int = 255) -> RGBA:
    return (c[0], c[1], c[2], alpha)


def translate(shapes: list[Shape], dx: float, dy: float) -> list[Shape]:
    out: list[Shape] = []
    for s in shapes:
        if isinstance(s, Polygon):
            out.append(replace(s, points=tuple((x + dx, y + dy) for x, y in s.points)))
        elif isinstance(s, Rect):
            out.append(replace(s, x0=s.x0 + dx, y0=s.y0 + dy, x1=s.x1 + dx, y1=s.y1 + dy))
        else:
            out.append(replace(s, cx=s.cx + dx, cy=s.cy + dy))
    return out


def rotate(shapes: list[Shape], angle: float, cx: float, cy: float) -> list[Shape]:
    """Rotate polygons about (cx, cy); ellipses and rings move their centres (they stay axis-aligned)."""
    if angle == 0:
        return shapes
    ca, sa = math.cos(angle), math.sin(angle)

    def turn(x: float, y: float) -> Point:
        return (cx + (x - cx) * ca - (y - cy) * sa, cy + (x - cx) * sa + (y - cy) * ca)

    out: list[Shape] = []
    for s in shapes:
        if isinstance(s, Polygon):
            out.append(replace(s, points=tuple(turn(x, y) for x, y in s.points)))
        elif isinstance(s, Rect):
            pts = ((s.x0, s.y0), (s.x1, s.y0), (s.x1, s.y1), (s.x0, s.y1))
            out.append(Polygon(tuple(turn(x, y) for x, y in pts), s.fill))
        else:
            nx, ny = turn(s.cx, s.cy)
            out.append(replace(s, cx=nx, cy=ny))
    return out


def ellipse_points(cx: float, cy: float, rx: float, ry: float, angle: float, n: int) -> tuple[Point, ...]:
    ca, sa = math.cos(angle), math.sin(angle)
    pts = []
    for i in range(n):
        u = 2 * math.pi * i / n
        x, y = rx * math.cos(u), ry * math.sin(u)
        pts.append((cx + x * ca - y * sa, cy + x * sa + y * ca))
    return tuple(pts)


def star_points(cx: float, cy: float, r_out: float, r_in: float, spikes: int,
                angle: float = -math.pi / 2) -> tuple[Point, ...]:
    pts = []
    for i in range(spikes * 2):
        r = r_out if i % 2 == 0 else r_in
        u = angle + math.pi * i / spikes
        pts.append((cx + r * math.cos(u), cy + r * math.sin(u)))
    return tuple(pts)
