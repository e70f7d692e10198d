"""Whole small creatures for the offline pictures: birds that are not a flock of ticks (owl,
penguin, duck), crawlers, swimmers and beasts told apart by their outline.

Same contract as every motif (``_canvas.Builder``): ``builder(ctx, colour, rng, slot) -> shapes``,
random numbers drawn before the animation phase is used, more detail at higher ``level``. The
table (``_motifs.BUILDERS``) gathers this module's ``BUILDERS``.
"""

from __future__ import annotations

import math

from ._canvas import Ctx, Rng, Slot
from ._kit import EYE_WHITE, INK, PINK, arc_points, band, bar, eyes, legs
from ._prompt import BLACK, WHITE, mix
from ._shapes import RGB, Ellipse, Point, Polygon, Ring, Shape, ellipse_points, rgba, rotate, translate

__all__ = ["BUILDERS", "NATURAL"]

ORANGE: RGB = (245, 150, 40)


def owl(c: Ctx, col: RGB, rng: Rng, slot: Slot) -> list[Shape]:
    """An egg-shaped body, ear tufts and two huge round eyes over a small beak."""
    cx, cy, r = slot
    dark, light = mix(col, BLACK, 0.3), mix(col, WHITE, 0.55)
    blink = 1.0 if math.sin(c.phase) < 0.95 else 0.2
    out: list[Shape] = []
    for sgn in (-1, 1):
        out.append(Polygon(((cx + sgn * r * 0.35, cy - r * 0.75), (cx + sgn * r * 0.8, cy - r * 1.2),
                            (cx + sgn * r * 0.75, cy - r * 0.5)), rgba(dark)))
    out.append(Ellipse(cx, cy, r * 0.8, r * 1.0, rgba(col)))
    out.append(Ellipse(cx, cy + r * 0.35, r * 0.5, r * 0.55, rgba(light)))
    if c.level >= 1:
        for k in range(3):
            for j in (-1, 0, 1):
                x, y = cx + j * r * 0.2, cy + r * (0.2 + 0.2 * k)
                out.append(Polygon(((x - r * 0.07, y), (x, y + r * 0.06), (x + r * 0.07, y), (x, y + r * 0.03)),
                                   rgba(dark)))
    for sgn in (-1, 1):
        out.append(Ellipse(cx + sgn * r * 0.8, cy + r * 0.15, r * 0.22, r * 0.6, rgba(dark)))
        ex, ey = cx + sgn * r * 0.32, cy - r * 0.35
        out.append(Ellipse(ex, ey, r * 0.33, r * 0.33, rgba(EYE_WHITE)))
        out.append(Ellipse(ex, ey, r * 0.22, r * 0.22 * blink, rgba(ORANGE)))
        out.append(Ellipse(ex, ey, r * 0.11, r * 0.11 * blink, rgba(INK)))
    out.append(Polygon(((cx - r * 0.1, cy - r * 0.18), (cx + r * 0.1, cy - r * 0.18), (cx, cy + r * 0.05)),
                       rgba((230, 160, 50))))
    out += [Ellipse(cx + sgn * r * 0.25, cy + r * 1.0, r * 0.14, r * 0.07, rgba(ORANGE)) for sgn in (-1, 1)]
    return out


def penguin(c: Ctx, col: RGB, rng: Rng, slot: Slot) -> list[Shape]:
    """A dark body, a white front and face, an orange beak and feet; it waddles."""
    cx, cy, r = slot
    body = mix(col, INK, 0.65)
    out: list[Shape] = [Ellipse(cx + sgn * r * 0.25, cy + r * 1.0, r * 0.22, r * 0.09, rgba(ORANGE)) for sgn in (-1, 1)]
    for sgn in (-1, 1):
        out.append(Polygon(ellipse_points(cx + sgn * r * 0.62, cy + r * 0.15, r * 0.14, r * 0.5, -sgn * 0.35, 20),
                           rgba(body)))
    out.append(Ellipse(cx, cy, r * 0.62, r * 1.0, rgba(body)))
    out.append(Ellipse(cx, cy + r * 0.22, r * 0.45, r * 0.72, rgba(EYE_WHITE)))
    out.append(Ellipse(cx, cy - r * 0.48, r * 0.36, r * 0.26, rgba(EYE_WHITE)))
    out += eyes(cx, cy - r * 0.52, r * 0.32, r * 0.06, 0.0, white=False)
    out.append(Polygon(((cx - r * 0.1, cy - r * 0.4), (cx + r * 0.1, cy - r * 0.4), (cx, cy - r * 0.22)), rgba(ORANGE)))
    return rotate(out, 0.08 * math.sin(c.phase), cx, cy + r)


def duck(c: Ctx, col: RGB, rng: Rng, slot: Slot) -> list[Shape]:
    """A round body afloat, a round head and a flat orange bill."""
    cx, cy, r = slot
    bob = r * 0.04 * math.sin(c.phase)
    out: list[Shape] = [Polygon(((cx - r * 0.75, cy + r * 0.1), (cx - r * 1.15, cy - r * 0.2), (cx - r * 0.6, cy + r * 0.45)),
                                rgba(col)),
                        Ellipse(cx - r * 0.05, cy + r * 0.3, r * 0.85, r * 0.5, rgba(col)),
                        Polygon(ellipse_points(cx - r * 0.15, cy + r * 0.22, r * 0.45, r * 0.22, -0.2, 20),
                                rgba(mix(col, BLACK, 0.15))),
                        Ellipse(cx + r * 0.45, cy - r * 0.3, r * 0.38, r * 0.36, rgba(col)),
                        Polygon(ellipse_points(cx + r * 0.92, cy - r * 0.22, r * 0.3, r * 0.1, 0.1, 20), rgba(ORANGE)),
                        Ellipse(cx + r * 0.55, cy - r * 0.38, r * 0.07, r * 0.07, rgba(INK))]
    if c.level >= 1:
        out.append(Polygon(ellipse_points(cx, cy + r * 0.78, r * 1.2, r * 0.08, 0, 24), rgba((90, 150, 210), 150)))
    return translate(out, 0, bob)


def frog(c: Ctx, col: RGB, rng: Rng, slot: Slot) -> list[Shape]:
    """A wide green head with two eye bumps on top and a wide smile."""
    cx, cy, r = slot
    light = mix(col, (230, 240, 150), 0.5)
    out: list[Shape] = [Ellipse(cx, cy + r * 0.45, r * 0.85, r * 0.55, rgba(mix(col, BLACK, 0.1)))]
    out += [Ellipse(cx + sgn * r * 0.55, cy + r * 0.95, r * 0.3, r * 0.12, rgba(col)) for sgn in (-1, 1)]
    out.append(Ellipse(cx, cy + r * 0.55, r * 0.5, r * 0.35, rgba(light)))
    out.append(Ellipse(cx, cy, r * 0.95, r * 0.52, rgba(col)))
    for sgn in (-1, 1):
        out.append(Ellipse(cx + sgn * r * 0.48, cy - r * 0.48, r * 0.3, r * 0.3, rgba(col)))
        out.append(Ellipse(cx + sgn * r * 0.48, cy - r * 0.5, r * 0.2, r * 0.2, rgba(EYE_WHITE)))
        out.append(Ellipse(cx + sgn * r * 0.48 + r * 0.02 * math.cos(c.phase), cy - r * 0.5, r * 0.1, r * 0.12, rgba(INK)))
        out.append(Ellipse(cx + sgn * r * 0.6, cy + r * 0.12, r * 0.12, r * 0.07, rgba(PINK, 160)))
    out.append(band(arc_points(cx, cy + r * 0.02, r * 0.55, r * 0.22, 0.2, math.pi - 0.2, 14), r * 0.05, INK))
    return out


def snake(c: Ctx, col: RGB, rng: Rng, slot: Slot) -> list[Shape]:
    """A long S of a body, thin at the tail, with a forked red tongue."""
    cx, cy, r = slot
    n = 24
    path: list[Point] = [(cx - r * 1.3 + r * 2.2 * i / (n - 1),
                          cy + r * 0.35 * math.sin(2 * math.pi * 1.2 * i / (n - 1) + c.phase) + r * 0.2 * (1 - i / n))
                         for i in range(n)]
    widths = [r * (0.06 + 0.22 * i / (n - 1)) for i in range(n)]
    out: list[Shape] = [band(path, widths, col)]
    if c.level >= 1:
        for i in range(3, n - 2, 3):
            x, y = path[i]
            w = widths[i] * 0.35
            out.append(Polygon(((x - w, y), (x, y - w), (x + w, y), (x, y + w)), rgba(mix(col, (250, 220, 80), 0.6))))
    hx, hy = path[-1]
    out.append(Ellipse(hx + r * 0.12, hy, r * 0.3, r * 0.2, rgba(col)))
    out.append(Ellipse(hx + r * 0.2, hy - r * 0.08, r * 0.05, r * 0.05, rgba(INK)))
    tongue = (220, 40, 50)
    out.append(bar(hx + r * 0.38, hy + r * 0.04, hx + r * 0.6, hy + r * 0.04, r * 0.03, tongue))
    out += [bar(hx + r * 0.58, hy + r * 0.04, hx + r * 0.68, hy + r * (0.04 + 0.07 * s), r * 0.03, tongue) for s in (-1, 1)]
    return out


def turtle(c: Ctx, col: RGB, rng: Rng, slot: Slot) -> list[Shape]:
    """A domed shell of plates on four stubby legs, its head out in front."""
    cx, cy, r = slot
    skin = mix(col, (170, 200, 120), 0.6)
    peek = r * 0.06 * math.sin(c.phase)
    out: list[Shape] = [Ellipse(cx + sgn * r * 0.6, cy + r * 0.12, r * 0.2, r * 0.16, rgba(skin)) for sgn in (-1, 1)]
    out.append(Ellipse(cx + r * 1.12 + peek, cy - r * 0.12, r * 0.3, r * 0.22, rgba(skin)))
    out.append(Ellipse(cx + r * 1.22 + peek, cy - r * 0.18, r * 0.05, r * 0.05, rgba(INK)))
    dome = arc_points(cx, cy, r * 0.95, r * 0.8, math.pi, 2 * math.pi, 28)
    out.append(Polygon(tuple(dome), rgba(col)))
    out.append(Polygon(tuple(arc_points(cx, cy, r * 1.02, r * 0.12, 0, math.pi, 16)), rgba(mix(col, BLACK, 0.3))))
    plate = rgba(mix(col, (240, 220, 140), 0.35))
    for x, y, s in ((0, -0.42, 0.22), (-0.45, -0.2, 0.17), (0.45, -0.2, 0.17), (-0.2, -0.12, 0.12), (0.2, -0.12, 0.12)):
        out.append(Polygon(ellipse_points(cx + r * x, cy + r * y, r * s * 1.2, r * s, 0, 6), plate))
    return out


def snail(c: Ctx, col: RGB, rng: Rng, slot: Slot) -> list[Shape]:
    """A spiral shell on a soft body with two eye stalks."""
    cx, cy, r = slot
    body = (215, 190, 150)
    stretch = r * 0.05 * math.sin(c.phase)
    foot = [(cx - r * 1.0, cy + r * 0.55), (cx - r * 0.2, cy + r * 0.58), (cx + r * 0.6, cy + r * 0.5),
            (cx + r * 0.95 + stretch, cy + r * 0.2), (cx + r * 1.0 + stretch, cy - r * 0.1)]
    out: list[Shape] = [band(foot, [r * 0.12, r * 0.26, r * 0.26, r * 0.24, r * 0.22], body)]
    for sgn, lean in ((-1, 0.0), (1, 0.12)):
        tx, ty = cx + r * (0.95 + lean) + stretch, cy - r * 0.75
        out.append(bar(cx + r * 0.95 + stretch, cy - r * 0.1, tx, ty, r * 0.05, body))
        out.append(Ellipse(tx, ty, r * 0.07, r * 0.07, rgba(INK)))
    out.append(Ellipse(cx - r * 0.1, cy - r * 0.1, r * 0.68, r * 0.66, rgba(col)))
    for k in range(1, 4):  # the spiral: rings that close in on a point off the centre
        f = 1 - k / 4
        out.append(Ring(cx - r * 0.1 + r * 0.12 * (1 - f), cy - r * 0.1 + r * 0.06 * (1 - f), r * 0.68 * f, r * 0.66 * f,
                        r * 0.06, rgba(mix(col, BLACK, 0.35))))
    return out


def _stripes(cx: float, cy: float, rx: float, ry: float, xs: list[tuple[float, float]], colour: RGB) -> list[Shape]:
    """Vertical bands of an ellipse (a bee's stripes), clipped to its outline."""
    out: list[Shape] = []
    for a, b in xs:
        top = [(cx + rx * u, cy - ry * math.sqrt(max(0.0, 1 - u * u))) for u in (a + (b - a) * i / 6 for i in range(7))]
        bottom = [(x, 2 * cy - y) for x, y in reversed(top)]
        out.append(Polygon(tuple(top + bottom), rgba(colour)))
    return out


def bee(c: Ctx, col: RGB, rng: Rng, slot: Slot) -> list[Shape]:
    """A yellow body with black stripes, a sting, and two buzzing wings."""
    cx, cy, r = slot
    flap = 0.55 + 0.45 * abs(math.sin(3 * c.phase))
    out: list[Shape] = [Polygon(((cx - r * 0.72, cy - r * 0.08), (cx - r * 1.0, cy), (cx - r * 0.72, cy + r * 0.08)),
                                rgba(INK)),
                        Ellipse(cx, cy, r * 0.78, r * 0.52, rgba(col))]
    out += _stripes(cx, cy, r * 0.78, r * 0.52, [(-0.55, -0.35), (-0.1, 0.1), (0.35, 0.55)], INK)
    out.append(Ellipse(cx + r * 0.85, cy - r * 0.05, r * 0.32, r * 0.3, rgba(INK)))
    out.append(Ellipse(cx + r * 0.95, cy - r * 0.12, r * 0.08, r * 0.08, rgba(EYE_WHITE)))
    out += [bar(cx + r * 0.95, cy - r * 0.3, cx + r * (1.05 + 0.15 * s), cy - r * 0.75, r * 0.03, INK) for s in (0, 1)]
    for dx in (-0.25, 0.15):
        out.append(Ellipse(cx + r * dx, cy - r * 0.6 * flap - r * 0.2, r * 0.28, r * 0.42 * flap,
                           rgba((235, 245, 255), 190)))
    return out


def butterfly(c: Ctx, col: RGB, rng: Rng, slot: Slot) -> list[Shape]:
    """Four wings, the upper pair bigger, with spots; they open and close."""
    cx, cy, r = slot
    open_ = 0.65 + 0.35 * abs(math.cos(c.phase))
    light = mix(col, WHITE, 0.5)
    out: list[Shape] = []
    for sgn in (-1, 1):
        out.append(Polygon(ellipse_points(cx + sgn * r * 0.55 * open_, cy - r * 0.35, r * 0.6 * open_, r * 0.48,
                                          -sgn * 0.5, 28), rgba(col)))
        out.append(Polygon(ellipse_points(cx + sgn * r * 0.4 * open_, cy + r * 0.42, r * 0.36 * open_, r * 0.3,
                                          sgn * 0.5, 24), rgba(mix(col, BLACK, 0.2))))
        out.append(Ellipse(cx + sgn * r * 0.62 * open_, cy - r * 0.42, r * 0.16 * open_, r * 0.16, rgba(light)))
        if c.level >= 1:
            out.append(Ellipse(cx + sgn * r * 0.42 * open_, cy + r * 0.45, r * 0.08 * open_, r * 0.08, rgba(light)))
        out.append(bar(cx, cy - r * 0.55, cx + sgn * r * 0.3, cy - r * 1.05, r * 0.03, INK))
        out.append(Ellipse(cx + sgn * r * 0.3, cy - r * 1.05, r * 0.05, r * 0.05, rgba(INK)))
    out.append(Ellipse(cx, cy, r * 0.08, r * 0.6, rgba(INK)))
    return out


def octopus(c: Ctx, col: RGB, rng: Rng, slot: Slot) -> list[Shape]:
    """A round head over eight curling arms."""
    cx, cy, r = slot
    out: list[Shape] = []
    for k in range(8):
        x0 = cx + r * (-0.6 + 1.2 * k / 7)
        side = (k - 3.5) / 3.5
        path = [(x0 + side * r * 0.9 * (i / 9) ** 1.3 + r * 0.1 * math.sin(c.phase + k + i * 0.6),
                 cy + r * 0.1 + r * 0.9 * i / 9) for i in range(10)]
        out.append(band(path, [r * (0.2 - 0.017 * i) for i in range(10)], mix(col, BLACK, 0.12 * (k % 2))))
    out.append(Ellipse(cx, cy - r * 0.35, r * 0.72, r * 0.68, rgba(col)))
    if c.level >= 1:
        out += [Ellipse(cx + r * x, cy - r * 0.75 + r * y, r * 0.08, r * 0.08, rgba(mix(col, WHITE, 0.35)))
                for x, y in ((-0.3, 0.0), (0.25, -0.05), (0.05, 0.15))]
    out += eyes(cx, cy - r * 0.25, r * 0.55, r * 0.15, r * 0.03 * math.cos(c.phase))
    return out


def whale(c: Ctx, col: RGB, rng: Rng, slot: Slot) -> list[Shape]:
    """A big rounded body with a pale belly, tail flukes raised, and a spout."""
    cx, cy, r = slot
    spout = 0.7 + 0.3 * math.sin(c.phase)
    out: list[Shape] = [Polygon(((cx - r * 0.9, cy + r * 0.05), (cx - r * 1.35, cy - r * 0.55), (cx - r * 1.1, cy - r * 0.2),
                                 (cx - r * 0.85, cy - r * 0.6), (cx - r * 0.7, cy - r * 0.05)), rgba(col)),
                        Polygon(ellipse_points(cx + r * 0.1, cy, r * 1.0, r * 0.52, 0, 36), rgba(col)),
                        Polygon(tuple(arc_points(cx + r * 0.15, cy + r * 0.05, r * 0.85, r * 0.42, 0.1, math.pi - 0.3, 16)),
                                rgba(mix(col, WHITE, 0.55))),
                        Ellipse(cx + r * 0.7, cy - r * 0.05, r * 0.06, r * 0.06, rgba(INK))]
    water = (170, 215, 245)
    out.append(bar(cx + r * 0.4, cy - r * 0.5, cx + r * 0.4, cy - r * (0.5 + 0.45 * spout), r * 0.06, water))
    out += [Ellipse(cx + r * (0.4 + 0.2 * s), cy - r * (0.95 * spout + 0.05), r * 0.12, r * 0.08, rgba(water))
            for s in (-1, 1)]
    return out


def crab(c: Ctx, col: RGB, rng: Rng, slot: Slot) -> list[Shape]:
    """A wide shell, two raised pincers and eyes on stalks, legs to the sides."""
    cx, cy, r = slot
    snap = 0.25 + 0.15 * math.sin(2 * c.phase)
    dark = mix(col, BLACK, 0.25)
    out: list[Shape] = []
    for sgn in (-1, 1):
        for k in range(3):
            y = cy + r * (0.05 + 0.18 * k)
            out.append(band([(cx + sgn * r * 0.6, y), (cx + sgn * r * 1.05, y - r * 0.1), (cx + sgn * r * 1.2, y + r * 0.3)],
                            r * 0.07, dark))
        out.append(band([(cx + sgn * r * 0.5, cy - r * 0.1), (cx + sgn * r * 0.85, cy - r * 0.35),
                         (cx + sgn * r * 0.95, cy - r * 0.65)], r * 0.12, col))
        px, py = cx + sgn * r * 0.95, cy - r * 0.75
        out.append(Polygon(((px, py + r * 0.1), (px - sgn * r * 0.15, py - r * 0.45), (px + sgn * r * 0.2, py - r * 0.3)),
                           rgba(col)))
        out.append(Polygon(((px, py + r * 0.1), (px + sgn * r * 0.35, py - r * 0.1 - r * snap),
                            (px + sgn * r * 0.25, py + r * 0.05)), rgba(col)))
        out.append(bar(cx + sgn * r * 0.15, cy - r * 0.3, cx + sgn * r * 0.2, cy - r * 0.6, r * 0.05, dark))
        out.append(Ellipse(cx + sgn * r * 0.2, cy - r * 0.62, r * 0.1, r * 0.1, rgba(EYE_WHITE)))
        out.append(Ellipse(cx + sgn * r * 0.2, cy - r * 0.62, r * 0.05, r * 0.05, rgba(INK)))
    out.append(Ellipse(cx, cy, r * 0.7, r * 0.45, rgba(col)))
    out.append(band(arc_points(cx, cy + r * 0.05, r * 0.25, r * 0.12, 0.3, math.pi - 0.3, 10), r * 0.04, INK))
    return out


def ladybird(c: Ctx, col: RGB, rng: Rng, slot: Slot) -> list[Shape]:
    """A red dome with black spots, a black head and a line down the middle."""
    cx, cy, r = slot
    crawl = r * 0.03 * math.sin(2 * c.phase)
    out: list[Shape] = [bar(cx + sgn * r * 0.6, cy + r * y, cx + sgn * r * 1.0, cy + r * (y + 0.15) + crawl * sgn, r * 0.06, INK)
                        for sgn in (-1, 1) for y in (-0.2, 0.15, 0.5)]
    out.append(Ellipse(cx, cy - r * 0.7, r * 0.42, r * 0.32, rgba(INK)))
    out += [bar(cx + sgn * r * 0.15, cy - r * 0.95, cx + sgn * r * 0.35, cy - r * 1.25, r * 0.04, INK) for sgn in (-1, 1)]
    out.append(Ellipse(cx, cy + r * 0.12, r * 0.78, r * 0.75, rgba(col)))
    out.append(bar(cx, cy - r * 0.6, cx, cy + r * 0.87, r * 0.05, INK))
    out += [Ellipse(cx + sgn * r * x, cy + r * y, r * s, r * s, rgba(INK))
            for sgn in (-1, 1) for x, y, s in ((0.35, -0.2, 0.15), (0.45, 0.3, 0.13), (0.2, 0.55, 0.1))]
    out += [Ellipse(cx + sgn * r * 0.18, cy - r * 0.78, r * 0.08, r * 0.08, rgba(EYE_WHITE)) for sgn in (-1, 1)]
    return out


def hedgehog(c: Ctx, col: RGB, rng: Rng, slot: Slot) -> list[Shape]:
    """A dome of spines with a pointed pale face and a black nose."""
    cx, cy, r = slot
    n = 23
    spines: list[Point] = []
    for i in range(n):
        a = math.pi + math.pi * i / (n - 1)
        rr = r * (1.05 if i % 2 == 0 else 0.78) * (1 + 0.03 * math.sin(c.phase + i))
        spines.append((cx - r * 0.1 + rr * math.cos(a) * 1.1, cy + r * 0.4 + rr * math.sin(a)))
    face = (225, 195, 150)
    out: list[Shape] = [Polygon(tuple(spines), rgba(mix(col, BLACK, 0.25)))]
    out.append(Polygon(tuple(arc_points(cx - r * 0.1, cy + r * 0.4, r * 0.95, r * 0.65, math.pi, 2 * math.pi, 20)),
                       rgba(col)))
    out.append(Polygon(((cx + r * 0.5, cy - r * 0.1), (cx + r * 1.35, cy + r * 0.3), (cx + r * 0.7, cy + r * 0.45),
                        (cx + r * 0.4, cy + r * 0.42)), rgba(face)))
    out.append(Ellipse(cx + r * 1.33, cy + r * 0.3, r * 0.08, r * 0.07, rgba(INK)))
    out.append(Ellipse(cx + r * 0.78, cy + r * 0.12, r * 0.06, r * 0.06, rgba(INK)))
    out += [Ellipse(cx + r * x, cy + r * 0.45, r * 0.12, r * 0.07, rgba(face)) for x in (-0.55, 0.25)]
    return out


def giraffe(c: Ctx, col: RGB, rng: Rng, slot: Slot) -> list[Shape]:
    """A very long spotted neck over a small body on four long legs."""
    cx, cy, r = slot
    spots = [(rng.uniform(-0.55, 0.35), rng.uniform(0.45, 0.75)) for _ in range(5)]
    spot = mix(col, (120, 60, 20), 0.65)
    nod = r * 0.05 * math.sin(c.phase)
    out: list[Shape] = legs([cx - r * 0.65, cx - r * 0.45, cx + r * 0.05, cx + r * 0.25], cy + r * 0.7, cy + r * 1.45,
                            r * 0.1, mix(col, BLACK, 0.1))
    out.append(Ellipse(cx - r * 0.2, cy + r * 0.6, r * 0.6, r * 0.3, rgba(col)))
    neck = [(cx + r * 0.15, cy + r * 0.55), (cx + r * 0.35, cy - r * 0.2), (cx + r * 0.5 + nod, cy - r * 0.95)]
    out.append(band(neck, [r * 0.3, r * 0.22, r * 0.18], col))
    out += [Ellipse(cx + r * x, cy + r * y, r * 0.1, r * 0.08, rgba(spot)) for x, y in spots]
    out += [Ellipse(cx + r * (0.2 + 0.1 * k), cy + r * (0.35 - 0.4 * k), r * 0.07, r * 0.06, rgba(spot)) for k in range(3)]
    hx, hy = cx + r * 0.62 + nod, cy - r * 1.0
    out.append(Polygon(ellipse_points(hx, hy, r * 0.3, r * 0.15, 0.35, 20), rgba(col)))
    out += [bar(hx - r * 0.12 + r * 0.1 * k, hy - r * 0.1, hx - r * 0.14 + r * 0.1 * k, hy - r * 0.32, r * 0.04, spot)
            for k in (0, 1)]
    out.append(Ellipse(hx - r * 0.05, hy - r * 0.04, r * 0.04, r * 0.04, rgba(INK)))
    return out


def dinosaur(c: Ctx, col: RGB, rng: Rng, slot: Slot, wings: bool = False) -> list[Shape]:
    """A long-necked dinosaur: a bulky body on pillar legs, neck up, tail down (``wings``: a dragon)."""
    cx, cy, r = slot
    sway = r * 0.06 * math.sin(c.phase)
    dark = mix(col, BLACK, 0.25)
    out: list[Shape] = legs([cx - r * 0.5, cx - r * 0.25, cx + r * 0.2, cx + r * 0.45], cy + r * 0.4, cy + r * 1.0,
                            r * 0.18, dark)
    if wings:
        out.append(Polygon(((cx - r * 0.35, cy + r * 0.1), (cx - r * 1.0, cy - r * 1.3), (cx - r * 0.55, cy - r * 0.85),
                            (cx - r * 0.25, cy - r * 1.35), (cx + r * 0.0, cy - r * 0.8), (cx + r * 0.3, cy - r * 1.15),
                            (cx + r * 0.3, cy + r * 0.1)), rgba(mix(col, (120, 20, 40), 0.45))))
    out.append(band([(cx - r * 0.5, cy + r * 0.2), (cx - r * 1.0, cy + r * 0.45), (cx - r * 1.35, cy + r * 0.35 + sway)],
                    [r * 0.35, r * 0.18, r * 0.05], col))
    out.append(Ellipse(cx, cy + r * 0.2, r * 0.7, r * 0.42, rgba(col)))
    neck = [(cx + r * 0.45, cy + r * 0.05), (cx + r * 0.75, cy - r * 0.45), (cx + r * 0.85 + sway, cy - r * 0.95)]
    out.append(band(neck, [r * 0.3, r * 0.2, r * 0.16], col))
    out.append(Polygon(ellipse_points(cx + r * 0.98 + sway, cy - r * 1.0, r * 0.24, r * 0.13, 0.2, 18), rgba(col)))
    out.append(Ellipse(cx + r * 1.0 + sway, cy - r * 1.05, r * 0.04, r * 0.04, rgba(INK)))
    if wings:  # fire from the mouth, flickering
        f = 1 + 0.2 * math.sin(3 * c.phase)
        mx, my = cx + r * 1.2 + sway, cy - r * 1.0
        out.append(Polygon(((mx, my - r * 0.06), (mx + r * 0.7 * f, my - r * 0.3), (mx + r * 0.55 * f, my),
                            (mx + r * 0.7 * f, my + r * 0.3), (mx, my + r * 0.06)), rgba((255, 150, 30))))
        out.append(Polygon(((mx, my - r * 0.03), (mx + r * 0.4 * f, my - r * 0.12), (mx + r * 0.4 * f, my + r * 0.12),
                            (mx, my + r * 0.03)), rgba((255, 235, 140))))
    if wings or c.level >= 2:
        out += [Polygon(((cx + r * x - r * 0.07, cy - r * 0.2 + r * 0.02 * k), (cx + r * x, cy - r * 0.38),
                         (cx + r * x + r * 0.07, cy - r * 0.2)), rgba(dark)) for k, x in enumerate((-0.3, -0.05, 0.2))]
    return out


def dragon(c: Ctx, col: RGB, rng: Rng, slot: Slot) -> list[Shape]:
    """A dinosaur with bat wings and spines on its back."""
    return dinosaur(c, col, rng, slot, wings=True)


BUILDERS = {
    "owl": owl, "penguin": penguin, "duck": duck, "frog": frog, "snake": snake, "turtle": turtle, "snail": snail,
    "bee": bee, "butterfly": butterfly, "octopus": octopus, "whale": whale, "crab": crab, "ladybird": ladybird,
    "hedgehog": hedgehog, "giraffe": giraffe, "dinosaur": dinosaur, "dragon": dragon,
}
NATURAL: dict[str, RGB] = {
    "owl": (150, 105, 70), "penguin": (35, 35, 45), "duck": (250, 215, 60), "frog": (80, 170, 70),
    "snake": (90, 160, 60), "turtle": (110, 140, 60), "snail": (200, 130, 70), "bee": (250, 200, 40),
    "butterfly": (90, 140, 230), "octopus": (205, 85, 140), "whale": (55, 95, 165), "crab": (222, 72, 50),
    "ladybird": (222, 40, 40), "hedgehog": (125, 92, 62), "giraffe": (236, 190, 85), "dinosaur": (100, 170, 90),
    "dragon": (190, 50, 50),
}
