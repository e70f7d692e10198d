"""Objects of workshop prompts for the offline pictures (a robot, a house, a rocket, a cup of tea,
a birthday cake...), each an outline a thumbnail still tells apart, plus a person's face.

Same contract as every motif (``_canvas.Builder``): ``builder(ctx, colour, rng, slot) -> shapes``,
random numbers drawn before the animation phase is used, more detail at higher ``level``. The
table (``_motifs.BUILDERS``) gathers this module's ``BUILDERS``.
"""

from __future__ import annotations

import math

from ._canvas import Ctx, Rng, Slot
from ._kit import EYE_WHITE, INK, PINK, arc_points, band, bar, eyes
from ._prompt import BLACK, WHITE, mix
from ._shapes import (RGB, Ellipse, Point, Polygon, Rect, Ring, Shape, ellipse_points, rgba, rotate,
                      star_points, translate)

__all__ = ["BUILDERS", "NATURAL"]

FLAME: RGB = (255, 170, 40)
GLASS: RGB = (170, 215, 240)
GOLD: RGB = (240, 190, 50)


def _flame(x: float, y: float, h: float, c: Ctx, k: int = 0) -> list[Shape]:
    """A flickering teardrop flame standing on (x, y)."""
    f = 1 + 0.15 * math.sin(3 * c.phase + k)
    return [Polygon(((x - h * 0.3, y - h * 0.3), (x, y - h * f), (x + h * 0.3, y - h * 0.3), (x, y)), rgba(FLAME)),
            Ellipse(x, y - h * 0.28, h * 0.14, h * 0.22, rgba((255, 240, 170)))]


def person(c: Ctx, col: RGB, rng: Rng, slot: Slot) -> list[Shape]:
    """A person's face: hair, eyes, a smile, shoulders in a coloured top."""
    cx, cy, r = slot
    skin = (236, 196, 160)
    hair = mix(col, (60, 40, 30), 0.6)
    out: list[Shape] = [Rect(cx - r * 0.85, cy + r * 0.75, cx + r * 0.85, cy + r * 1.5, rgba(col), radius=r * 0.35),
                        Rect(cx - r * 0.16, cy + r * 0.5, cx + r * 0.16, cy + r * 0.85, rgba(skin)),
                        Ellipse(cx, cy - r * 0.15, r * 0.72, r * 0.78, rgba(hair)),
                        Ellipse(cx, cy + r * 0.02, r * 0.6, r * 0.66, rgba(skin)),
                        Polygon(tuple(arc_points(cx, cy - r * 0.15, r * 0.66, r * 0.55, math.pi, 2 * math.pi, 16)),
                                rgba(hair))]
    out += eyes(cx, cy + r * 0.02, r * 0.46, r * 0.07, r * 0.02 * math.cos(c.phase), white=False)
    out += [Ellipse(cx + s * r * 0.36, cy + r * 0.25, r * 0.1, r * 0.06, rgba(PINK, 140)) for s in (-1, 1)]
    out.append(band(arc_points(cx, cy + r * 0.28, r * 0.22, r * 0.13, 0.25, math.pi - 0.25, 10), r * 0.045, (170, 70, 70)))
    return out


def robot(c: Ctx, col: RGB, rng: Rng, slot: Slot) -> list[Shape]:
    """A boxy head with an antenna and screen eyes on a box of a body."""
    cx, cy, r = slot
    metal, dark = mix(col, (190, 195, 205), 0.5), mix(col, BLACK, 0.35)
    light = (255, 90, 80) if math.sin(c.phase) > 0 else (255, 210, 80)
    out: list[Shape] = [Rect(cx - r * 0.55, cy + r * 0.45, cx + r * 0.55, cy + r * 1.3, rgba(dark), radius=r * 0.08)]
    out += [bar(cx + s * r * 0.55, cy + r * 0.6, cx + s * r * 0.9, cy + r * (1.0 - 0.15 * math.sin(c.phase) * s),
                r * 0.12, metal) for s in (-1, 1)]
    out += [Rect(cx - r * 0.95, cy - r * 0.35, cx - r * 0.72, cy + r * 0.05, rgba(dark)),
            Rect(cx + r * 0.72, cy - r * 0.35, cx + r * 0.95, cy + r * 0.05, rgba(dark)),
            bar(cx, cy - r * 0.7, cx, cy - r * 1.05, r * 0.05, dark), Ellipse(cx, cy - r * 1.1, r * 0.1, r * 0.1, rgba(light)),
            Rect(cx - r * 0.75, cy - r * 0.72, cx + r * 0.75, cy + r * 0.4, rgba(metal), radius=r * 0.12)]
    for s in (-1, 1):
        out.append(Rect(cx + s * r * 0.38 - r * 0.17, cy - r * 0.42, cx + s * r * 0.38 + r * 0.17, cy - r * 0.12,
                        rgba((40, 220, 235))))
    out.append(Rect(cx - r * 0.4, cy + r * 0.08, cx + r * 0.4, cy + r * 0.25, rgba(INK)))
    out += [Rect(cx + r * x, cy + r * 0.1, cx + r * (x + 0.06), cy + r * 0.23, rgba(metal)) for x in (-0.25, -0.05, 0.15)]
    if c.level >= 1:
        out += [Ellipse(cx + r * x, cy + r * 0.8, r * 0.07, r * 0.07, rgba(tone))
                for x, tone in ((-0.25, (255, 90, 80)), (0.0, (90, 220, 120)), (0.25, (80, 160, 255)))]
    return out


def house(c: Ctx, col: RGB, rng: Rng, slot: Slot) -> list[Shape]:
    """Walls, a pointed roof, a door, lit windows and a chimney with smoke."""
    cx, cy, r = slot
    roof = mix(col, (170, 50, 40), 0.6)
    out: list[Shape] = [Rect(cx + r * 0.4, cy - r * 0.95, cx + r * 0.62, cy - r * 0.3, rgba(mix(roof, BLACK, 0.3)))]
    for k in range(3):
        t = (c.phase / (2 * math.pi) + k / 3) % 1.0
        out.append(Ellipse(cx + r * (0.51 + 0.25 * t), cy - r * (1.05 + 0.6 * t), r * (0.08 + 0.1 * t), r * (0.07 + 0.08 * t),
                           rgba((235, 235, 240), int(190 * (1 - t)))))
    out += [Rect(cx - r * 0.8, cy - r * 0.2, cx + r * 0.8, cy + r * 0.9, rgba(col)),
            Polygon(((cx - r * 1.0, cy - r * 0.15), (cx, cy - r * 1.05), (cx + r * 1.0, cy - r * 0.15)), rgba(roof)),
            Rect(cx - r * 0.18, cy + r * 0.35, cx + r * 0.18, cy + r * 0.9, rgba(mix(col, (110, 60, 30), 0.7))),
            Ellipse(cx + r * 0.1, cy + r * 0.65, r * 0.03, r * 0.03, rgba(GOLD))]
    for x in (-0.5, 0.5):
        out.append(Rect(cx + r * (x - 0.17), cy + r * 0.05, cx + r * (x + 0.17), cy + r * 0.38, rgba((255, 225, 130))))
        out.append(Rect(cx + r * (x - 0.01), cy + r * 0.05, cx + r * (x + 0.01), cy + r * 0.38, rgba(mix(col, BLACK, 0.4))))
    return out


def _wheel(x: float, y: float, r: float, c: Ctx) -> list[Shape]:
    spoke = c.phase
    return [Ellipse(x, y, r, r, rgba(INK)), Ellipse(x, y, r * 0.5, r * 0.5, rgba((190, 190, 200))),
            bar(x - r * 0.45 * math.cos(spoke), y - r * 0.45 * math.sin(spoke), x + r * 0.45 * math.cos(spoke),
                y + r * 0.45 * math.sin(spoke), r * 0.12, (120, 120, 130))]


def car(c: Ctx, col: RGB, rng: Rng, slot: Slot) -> list[Shape]:
    """A car in profile: body, cabin with windows, two wheels and a headlight."""
    cx, cy, r = slot
    out: list[Shape] = [Polygon(((cx - r * 0.6, cy - r * 0.05), (cx - r * 0.35, cy - r * 0.55), (cx + r * 0.35, cy - r * 0.55),
                                 (cx + r * 0.65, cy - r * 0.05)), rgba(mix(col, BLACK, 0.1))),
                        Polygon(((cx - r * 0.5, cy - r * 0.08), (cx - r * 0.3, cy - r * 0.45), (cx - r * 0.03, cy - r * 0.45),
                                 (cx - r * 0.03, cy - r * 0.08)), rgba(GLASS)),
                        Polygon(((cx + r * 0.03, cy - r * 0.08), (cx + r * 0.03, cy - r * 0.45), (cx + r * 0.3, cy - r * 0.45),
                                 (cx + r * 0.53, cy - r * 0.08)), rgba(GLASS)),
                        Rect(cx - r * 1.1, cy - r * 0.1, cx + r * 1.1, cy + r * 0.35, rgba(col), radius=r * 0.15),
                        Ellipse(cx + r * 1.02, cy + r * 0.05, r * 0.08, r * 0.07, rgba((255, 240, 160)))]
    return out + _wheel(cx - r * 0.62, cy + r * 0.38, r * 0.26, c) + _wheel(cx + r * 0.62, cy + r * 0.38, r * 0.26, c)


def bicycle(c: Ctx, col: RGB, rng: Rng, slot: Slot) -> list[Shape]:
    """Two thin wheels, a triangle frame, a saddle and handlebars."""
    cx, cy, r = slot
    wy, wr, w = cy + r * 0.35, r * 0.5, r * 0.07
    back, front = (cx - r * 0.72, wy), (cx + r * 0.72, wy)
    crank, seat, head = (cx - r * 0.05, wy), (cx - r * 0.3, cy - r * 0.35), (cx + r * 0.5, cy - r * 0.4)
    out: list[Shape] = [Ring(x, wy, wr, wr, r * 0.07, rgba(INK)) for x in (back[0], front[0])]
    for a, b in ((back, crank), (crank, seat), (seat, back), (seat, head), (head, crank), (head, front)):
        out.append(bar(*a, *b, w, col))
    turn = c.phase  # the pedals' angle (the loop above used ``a`` for points)
    out += [bar(crank[0], crank[1], crank[0] + r * 0.18 * math.cos(turn), crank[1] + r * 0.18 * math.sin(turn),
                w * 0.8, INK),
            Ellipse(seat[0] - r * 0.02, seat[1] - r * 0.1, r * 0.18, r * 0.06, rgba(INK)),
            bar(seat[0], seat[1], seat[0] - r * 0.02, seat[1] - r * 0.08, w, INK),
            bar(head[0], head[1], head[0] - r * 0.05, head[1] - r * 0.22, w, col),
            bar(head[0] - r * 0.2, head[1] - r * 0.24, head[0] + r * 0.1, head[1] - r * 0.2, w, INK)]
    return out


def rocket(c: Ctx, col: RGB, rng: Rng, slot: Slot) -> list[Shape]:
    """A tall body with a pointed nose, a round window, fins and a flame."""
    cx, cy, r = slot
    fin = mix(col, (200, 40, 40), 0.7)
    body = mix(col, WHITE, 0.6)
    f = 1 + 0.2 * math.sin(3 * c.phase)
    out: list[Shape] = [Polygon(((cx - r * 0.2, cy + r * 0.9), (cx, cy + r * (0.9 + 0.6 * f)), (cx + r * 0.2, cy + r * 0.9)),
                                rgba(FLAME)),
                        Polygon(((cx - r * 0.1, cy + r * 0.9), (cx, cy + r * (0.9 + 0.35 * f)), (cx + r * 0.1, cy + r * 0.9)),
                                rgba((255, 240, 170)))]
    for s in (-1, 1):
        out.append(Polygon(((cx + s * r * 0.3, cy + r * 0.3), (cx + s * r * 0.65, cy + r * 0.95), (cx + s * r * 0.3, cy + r * 0.9)),
                           rgba(fin)))
    out += [Polygon(((cx - r * 0.32, cy + r * 0.92), (cx - r * 0.32, cy - r * 0.55), (cx, cy - r * 1.25),
                     (cx + r * 0.32, cy - r * 0.55), (cx + r * 0.32, cy + r * 0.92)), rgba(body)),
            Polygon(((cx - r * 0.3, cy - r * 0.6), (cx, cy - r * 1.25), (cx + r * 0.3, cy - r * 0.6)), rgba(fin)),
            Ellipse(cx, cy - r * 0.15, r * 0.18, r * 0.18, rgba(mix(col, BLACK, 0.3))),
            Ellipse(cx, cy - r * 0.15, r * 0.13, r * 0.13, rgba(GLASS))]
    return translate(out, 0, r * 0.04 * math.sin(c.phase))


def airplane(c: Ctx, col: RGB, rng: Rng, slot: Slot) -> list[Shape]:
    """A fuselage with swept wings, a tail fin and a row of windows."""
    cx, cy, r = slot
    wing = mix(col, BLACK, 0.2)
    out: list[Shape] = [Polygon(((cx - r * 0.1, cy), (cx - r * 0.45, cy - r * 0.75), (cx - r * 0.25, cy - r * 0.75),
                                 (cx + r * 0.3, cy)), rgba(wing)),
                        Polygon(((cx - r * 0.85, cy), (cx - r * 1.15, cy - r * 0.5), (cx - r * 0.95, cy - r * 0.5),
                                 (cx - r * 0.6, cy)), rgba(wing)),
                        Polygon(ellipse_points(cx, cy, r * 1.15, r * 0.18, 0, 32), rgba(col)),
                        Polygon(((cx - r * 0.1, cy + r * 0.05), (cx - r * 0.5, cy + r * 0.7), (cx - r * 0.3, cy + r * 0.7),
                                 (cx + r * 0.3, cy + r * 0.05)), rgba(wing))]
    out += [Ellipse(cx + r * (-0.6 + 0.2 * k), cy - r * 0.04, r * 0.05, r * 0.05, rgba(GLASS)) for k in range(8)]
    return rotate(out, -0.15 + 0.05 * math.sin(c.phase), cx, cy)


def umbrella(c: Ctx, col: RGB, rng: Rng, slot: Slot) -> list[Shape]:
    """A scalloped canopy on a straight shaft with a hooked handle."""
    cx, cy, r = slot
    top = arc_points(cx, cy, r * 1.05, r * 0.85, math.pi, 2 * math.pi, 24)
    scallops: list[Point] = []
    for k in range(5, 0, -1):  # right to left, each a small arc bulging up
        x0 = cx - r * 1.05 + r * 2.1 * k / 5
        scallops += arc_points(x0 - r * 0.21, cy, r * 0.21, r * 0.12, 0, -math.pi, 6)
    out: list[Shape] = [bar(cx, cy - r * 0.85, cx, cy + r * 0.85, r * 0.06, INK),
                        band(arc_points(cx - r * 0.15, cy + r * 0.85, r * 0.15, r * 0.15, 0, math.pi, 10), r * 0.06, INK),
                        Polygon(tuple(top + scallops), rgba(col))]
    if c.level >= 1:
        out += [bar(cx, cy - r * 0.85, cx + r * x, cy - r * 0.05, r * 0.03, mix(col, BLACK, 0.3)) for x in (-0.63, -0.21, 0.21, 0.63)]
    return rotate(out, 0.08 * math.sin(c.phase), cx, cy + r * 0.85)


def cup(c: Ctx, col: RGB, rng: Rng, slot: Slot) -> list[Shape]:
    """A mug with a handle, a dark drink at the rim and curling steam."""
    cx, cy, r = slot
    out: list[Shape] = [Ring(cx + r * 0.62, cy + r * 0.2, r * 0.3, r * 0.3, r * 0.12, rgba(col)),
                        Rect(cx - r * 0.6, cy - r * 0.3, cx + r * 0.6, cy + r * 0.75, rgba(col), radius=r * 0.12),
                        Ellipse(cx, cy - r * 0.3, r * 0.6, r * 0.12, rgba(mix(col, WHITE, 0.4))),
                        Ellipse(cx, cy - r * 0.28, r * 0.5, r * 0.08, rgba((110, 65, 35)))]
    for k, x in enumerate((-0.25, 0.1, 0.4)):
        path = [(cx + r * x + r * 0.1 * math.sin(c.phase + i * 1.2 + k), cy - r * (0.45 + 0.12 * i)) for i in range(6)]
        out.append(band(path, r * 0.05, (235, 235, 240), 170))
    return out


def book(c: Ctx, col: RGB, rng: Rng, slot: Slot) -> list[Shape]:
    """An open book: a coloured cover, two pages of lines, the spine in the middle."""
    cx, cy, r = slot
    lift = r * 0.05 * math.sin(c.phase)
    out: list[Shape] = [Polygon(((cx - r * 1.05, cy - r * 0.45), (cx, cy - r * 0.3), (cx + r * 1.05, cy - r * 0.45),
                                 (cx + r * 1.05, cy + r * 0.6), (cx, cy + r * 0.75), (cx - r * 1.05, cy + r * 0.6)), rgba(col))]
    for s in (-1, 1):
        out.append(Polygon(((cx, cy - r * 0.35), (cx + s * r * 0.95, cy - r * 0.52 - lift), (cx + s * r * 0.95, cy + r * 0.5),
                            (cx, cy + r * 0.65)), rgba((250, 248, 240))))
        for k in range(5):
            y0 = cy - r * 0.3 + k * r * 0.17
            out.append(bar(cx + s * r * 0.12, y0, cx + s * r * 0.8, y0 - r * 0.12, r * 0.03, (150, 150, 160)))
    out.append(bar(cx, cy - r * 0.35, cx, cy + r * 0.65, r * 0.03, mix(col, BLACK, 0.4)))
    return out


def clock(c: Ctx, col: RGB, rng: Rng, slot: Slot) -> list[Shape]:
    """A round face with twelve marks and two hands that turn."""
    cx, cy, r = slot
    out: list[Shape] = [Ellipse(cx, cy, r * 0.95, r * 0.95, rgba(col)), Ellipse(cx, cy, r * 0.8, r * 0.8, rgba(EYE_WHITE))]
    for k in range(12):
        a = 2 * math.pi * k / 12
        inner = 0.6 if k % 3 == 0 else 0.68
        out.append(bar(cx + r * inner * math.cos(a), cy + r * inner * math.sin(a), cx + r * 0.75 * math.cos(a),
                       cy + r * 0.75 * math.sin(a), r * (0.06 if k % 3 == 0 else 0.03), INK))
    hour, minute = -math.pi / 2 + c.phase / 12 + 1.05, -math.pi / 2 + c.phase + 4.2
    out += [bar(cx, cy, cx + r * 0.38 * math.cos(hour), cy + r * 0.38 * math.sin(hour), r * 0.08, INK),
            bar(cx, cy, cx + r * 0.6 * math.cos(minute), cy + r * 0.6 * math.sin(minute), r * 0.05, INK),
            Ellipse(cx, cy, r * 0.07, r * 0.07, rgba((200, 50, 50)))]
    return out


def key(c: Ctx, col: RGB, rng: Rng, slot: Slot) -> list[Shape]:
    """A ring bow, a long shaft and teeth: an old-fashioned key."""
    cx, cy, r = slot
    out: list[Shape] = [Ring(cx - r * 0.65, cy, r * 0.35, r * 0.35, r * 0.14, rgba(col)),
                        Rect(cx - r * 0.32, cy - r * 0.07, cx + r * 1.0, cy + r * 0.07, rgba(col)),
                        Rect(cx + r * 0.7, cy + r * 0.05, cx + r * 0.8, cy + r * 0.35, rgba(col)),
                        Rect(cx + r * 0.88, cy + r * 0.05, cx + r * 0.98, cy + r * 0.27, rgba(col))]
    return rotate(out, -0.5 + 0.1 * math.sin(c.phase), cx, cy)


def guitar(c: Ctx, col: RGB, rng: Rng, slot: Slot) -> list[Shape]:
    """A figure-of-eight body with a sound hole, a long neck and strings."""
    cx, cy, r = slot
    wood = mix(col, (90, 50, 25), 0.5)
    out: list[Shape] = [Rect(cx - r * 0.08, cy - r * 1.35, cx + r * 0.08, cy - r * 0.1, rgba(wood)),
                        Rect(cx - r * 0.13, cy - r * 1.6, cx + r * 0.13, cy - r * 1.3, rgba(mix(wood, BLACK, 0.3)), radius=r * 0.04),
                        Ellipse(cx, cy + r * 0.45, r * 0.62, r * 0.55, rgba(col)),
                        Ellipse(cx, cy - r * 0.15, r * 0.45, r * 0.4, rgba(col)),
                        Ellipse(cx, cy + r * 0.05, r * 0.17, r * 0.17, rgba(INK)),
                        Rect(cx - r * 0.25, cy + r * 0.55, cx + r * 0.25, cy + r * 0.62, rgba(wood))]
    out += [bar(cx + r * x, cy - r * 1.4, cx + r * x, cy + r * 0.58, r * 0.012, (235, 235, 225)) for x in (-0.05, 0, 0.05)]
    return rotate(out, 0.5 + 0.05 * math.sin(c.phase), cx, cy)


def cake(c: Ctx, col: RGB, rng: Rng, slot: Slot) -> list[Shape]:
    """Two iced tiers on a plate, with lit candles on top."""
    cx, cy, r = slot
    icing = mix(col, WHITE, 0.65)
    out: list[Shape] = [Ellipse(cx, cy + r * 0.85, r * 1.1, r * 0.15, rgba((235, 235, 240))),
                        Rect(cx - r * 0.9, cy + r * 0.15, cx + r * 0.9, cy + r * 0.85, rgba(col), radius=r * 0.05),
                        Rect(cx - r * 0.9, cy + r * 0.15, cx + r * 0.9, cy + r * 0.3, rgba(icing)),
                        Rect(cx - r * 0.6, cy - r * 0.35, cx + r * 0.6, cy + r * 0.17, rgba(mix(col, BLACK, 0.1)), radius=r * 0.05),
                        Rect(cx - r * 0.6, cy - r * 0.35, cx + r * 0.6, cy - r * 0.22, rgba(icing))]
    out += [Ellipse(cx + r * x, cy + r * 0.3, r * 0.08, r * 0.1, rgba(icing)) for x in (-0.7, -0.35, 0, 0.35, 0.7)]
    for k, x in enumerate((-0.35, 0.0, 0.35)):
        out.append(Rect(cx + r * (x - 0.04), cy - r * 0.7, cx + r * (x + 0.04), cy - r * 0.35,
                        rgba(((240, 80, 120), (80, 160, 240), (250, 210, 60))[k])))
        out += _flame(cx + r * x, cy - r * 0.7, r * 0.25, c, k)
    return out


def apple(c: Ctx, col: RGB, rng: Rng, slot: Slot) -> list[Shape]:
    """Two round halves with a dip at the top, a stem and a leaf."""
    cx, cy, r = slot
    out: list[Shape] = [bar(cx, cy - r * 0.55, cx + r * 0.1, cy - r * 1.0, r * 0.08, (100, 65, 35)),
                        Polygon(ellipse_points(cx + r * 0.32, cy - r * 0.88, r * 0.28, r * 0.12, -0.5 + 0.15 * math.sin(c.phase), 18),
                                rgba((70, 160, 60))),
                        Ellipse(cx - r * 0.32, cy, r * 0.6, r * 0.7, rgba(col)),
                        Ellipse(cx + r * 0.32, cy, r * 0.6, r * 0.7, rgba(col)),
                        Ellipse(cx, cy + r * 0.2, r * 0.7, r * 0.5, rgba(col))]
    if c.level >= 1:
        out.append(Ellipse(cx - r * 0.45, cy - r * 0.25, r * 0.12, r * 0.2, rgba(WHITE, 120)))
    return out


def banana(c: Ctx, col: RGB, rng: Rng, slot: Slot) -> list[Shape]:
    """A yellow crescent, thick in the middle, with brown tips."""
    cx, cy, r = slot
    path = arc_points(cx, cy - r * 0.5, r * 1.0, r * 0.9, math.pi * 0.15, math.pi * 0.85, 14)
    widths = [r * 0.36 * math.sin(math.pi * (0.08 + 0.84 * i / 13)) for i in range(14)]
    out: list[Shape] = [band(path, widths, col), band(path[3:11], [w * 0.25 for w in widths[3:11]], mix(col, WHITE, 0.45))]
    out += [Ellipse(*path[0], r * 0.06, r * 0.06, rgba((90, 60, 30))), Ellipse(*path[-1], r * 0.05, r * 0.05, rgba((90, 60, 30)))]
    return rotate(out, 0.08 * math.sin(c.phase), cx, cy)


def tent(c: Ctx, col: RGB, rng: Rng, slot: Slot) -> list[Shape]:
    """A triangle tent with an open door flap and a pennant on top."""
    cx, cy, r = slot
    flutter = r * 0.05 * math.sin(2 * c.phase)
    return [bar(cx, cy - r * 1.0, cx, cy - r * 1.35, r * 0.04, INK),
            Polygon(((cx, cy - r * 1.35), (cx + r * 0.35, cy - r * 1.25 + flutter), (cx, cy - r * 1.15)), rgba((230, 60, 60))),
            Polygon(((cx - r * 1.1, cy + r * 0.8), (cx, cy - r * 1.0), (cx + r * 1.1, cy + r * 0.8)), rgba(col)),
            Polygon(((cx - r * 0.35, cy + r * 0.8), (cx, cy - r * 0.2), (cx + r * 0.35, cy + r * 0.8)), rgba(mix(col, BLACK, 0.55))),
            Polygon(((cx, cy - r * 0.2), (cx + r * 0.35, cy + r * 0.8), (cx + r * 0.6, cy + r * 0.8)), rgba(mix(col, WHITE, 0.3)))]


def candle(c: Ctx, col: RGB, rng: Rng, slot: Slot) -> list[Shape]:
    """A candle on a saucer with a flickering flame and its glow."""
    cx, cy, r = slot
    c.glows.append((cx, cy - r * 0.8, r * 1.5, FLAME))
    out: list[Shape] = [Ellipse(cx, cy - r * 0.75, r * 0.5, r * 0.5, rgba(FLAME, 50)),
                        Ellipse(cx, cy + r * 0.95, r * 0.65, r * 0.14, rgba(GOLD)),
                        Rect(cx - r * 0.25, cy - r * 0.35, cx + r * 0.25, cy + r * 0.95, rgba(col)),
                        Ellipse(cx, cy - r * 0.35, r * 0.25, r * 0.06, rgba(mix(col, WHITE, 0.4))),
                        bar(cx, cy - r * 0.35, cx, cy - r * 0.5, r * 0.03, INK)]
    return out + _flame(cx, cy - r * 0.48, r * 0.55, c)


def crown(c: Ctx, col: RGB, rng: Rng, slot: Slot) -> list[Shape]:
    """Five golden points on a band set with jewels."""
    cx, cy, r = slot
    pts: list[Point] = [(cx - r * 0.9, cy + r * 0.45)]
    for k in range(5):
        x = cx - r * 0.9 + r * 1.8 * k / 4
        pts += [(x, cy - r * 0.6)] + ([(x + r * 0.225, cy - r * 0.05)] if k < 4 else [])
    pts.append((cx + r * 0.9, cy + r * 0.45))
    out: list[Shape] = [Polygon(tuple(pts), rgba(col)),
                        Rect(cx - r * 0.9, cy + r * 0.2, cx + r * 0.9, cy + r * 0.45, rgba(mix(col, BLACK, 0.2)))]
    out += [Ellipse(cx - r * 0.9 + r * 1.8 * k / 4, cy - r * 0.65, r * 0.08, r * 0.08, rgba(EYE_WHITE)) for k in range(5)]
    sparkle = 0.8 + 0.2 * math.sin(2 * c.phase)
    out += [Ellipse(cx + r * x, cy + r * 0.32, r * 0.09 * sparkle, r * 0.09 * sparkle, rgba(tone))
            for x, tone in ((-0.5, (220, 40, 60)), (0.0, (50, 110, 230)), (0.5, (40, 170, 90)))]
    return out


def balloon(c: Ctx, col: RGB, rng: Rng, slot: Slot) -> list[Shape]:
    """A balloon, a little taller than wide, its knot and a wavy string."""
    cx, cy, r = slot
    cy -= r * 0.35
    sway = r * 0.08 * math.sin(c.phase)
    string = [(cx + sway * math.sin(i * 0.9) * 0.8, cy + r * 0.75 + r * 0.15 * i) for i in range(9)]
    return [band(string, r * 0.025, (90, 90, 100)),
            Polygon(((cx - r * 0.1, cy + r * 0.8), (cx, cy + r * 0.68), (cx + r * 0.1, cy + r * 0.8)), rgba(mix(col, BLACK, 0.2))),
            Polygon(ellipse_points(cx, cy, r * 0.6, r * 0.72, 0, 36), rgba(col)),
            Polygon(ellipse_points(cx - r * 0.25, cy - r * 0.3, r * 0.08, r * 0.18, 0.5, 14), rgba(WHITE, 150))]


def pizza(c: Ctx, col: RGB, rng: Rng, slot: Slot) -> list[Shape]:
    """A slice: a crust along the top, cheese, round slices of pepperoni."""
    cx, cy, r = slot
    crust = mix(col, (190, 120, 50), 0.6)
    out: list[Shape] = [Polygon(((cx - r * 0.9, cy - r * 0.7), (cx + r * 0.9, cy - r * 0.7), (cx, cy + r * 1.0)),
                                rgba((250, 205, 90))),
                        band(arc_points(cx, cy - r * 0.7, r * 0.92, r * 0.12, math.pi, 2 * math.pi, 14), r * 0.2, crust)]
    out += [Ellipse(cx + r * x, cy + r * y, r * 0.13, r * 0.13, rgba((200, 50, 40))) for x, y in
            ((-0.4, -0.4), (0.35, -0.35), (0.0, -0.05), (-0.1, 0.4), (0.25, 0.15))]
    return rotate(out, 0.06 * math.sin(c.phase), cx, cy)


def icecream(c: Ctx, col: RGB, rng: Rng, slot: Slot) -> list[Shape]:
    """A waffle cone with two scoops and a cherry."""
    cx, cy, r = slot
    cone = (220, 170, 100)
    out: list[Shape] = [Polygon(((cx - r * 0.45, cy - r * 0.05), (cx + r * 0.45, cy - r * 0.05), (cx, cy + r * 1.2)), rgba(cone))]
    for k in range(1, 4):
        out.append(bar(cx - r * 0.45 + r * 0.25 * k, cy - r * 0.05, cx - r * 0.2 + r * 0.1 * k, cy + r * 0.6, r * 0.025,
                       mix(cone, BLACK, 0.25)))
    out += [Ellipse(cx, cy - r * 0.2, r * 0.5, r * 0.35, rgba(mix(col, (250, 240, 220), 0.5))),
            Ellipse(cx, cy - r * 0.6, r * 0.42, r * 0.35, rgba(col)),
            Ellipse(cx + r * 0.05, cy - r * 1.0, r * 0.12, r * 0.12, rgba((210, 30, 50)))]
    return translate(out, 0, r * 0.03 * math.sin(c.phase))


BUILDERS = {
    "face": person, "robot": robot, "house": house, "car": car, "bicycle": bicycle, "rocket": rocket,
    "airplane": airplane, "umbrella": umbrella, "cup": cup, "book": book, "clock": clock, "key": key,
    "guitar": guitar, "cake": cake, "apple": apple, "banana": banana, "tent": tent, "candle": candle,
    "crown": crown, "balloon": balloon, "pizza": pizza, "icecream": icecream,
}
NATURAL: dict[str, RGB] = {
    "face": (60, 110, 190), "robot": (150, 160, 180), "house": (232, 205, 160), "car": (210, 50, 50),
    "bicycle": (40, 120, 200), "rocket": (225, 225, 232), "airplane": (235, 235, 242), "umbrella": (220, 50, 90),
    "cup": (70, 130, 200), "book": (150, 60, 60), "clock": (60, 60, 72), "key": (225, 180, 60), "guitar": (200, 120, 50),
    "cake": (240, 160, 190), "apple": (215, 40, 40), "banana": (245, 215, 60), "tent": (232, 122, 42),
    "candle": (245, 235, 210), "crown": (240, 190, 50), "balloon": (230, 60, 80), "pizza": (240, 190, 90),
    "icecream": (245, 170, 190),
}
