"""Animal heads for the offline pictures: each told apart by what a child would draw (the fox's
pointed face, the rabbit's ears, the lion's mane, the panda's eye patches, the elephant's trunk).

Same contract as every motif (``_canvas.Builder``): ``builder(ctx, colour, rng, slot) -> shapes``,
random numbers drawn before the animation phase is used, more detail at higher ``level``. The
table (``_motifs.BUILDERS``) gathers this module's ``BUILDERS``.
"""

from __future__ import annotations

import math

from ._canvas import Ctx, Rng, Slot
from ._kit import EYE_WHITE, INK, PINK, band, bar, eyes
from ._prompt import BLACK, WHITE, mix
from ._shapes import RGB, Ellipse, Polygon, Rect, Shape, ellipse_points, rgba, rotate, star_points, translate

__all__ = ["BUILDERS", "NATURAL"]


def _bob(c: Ctx, out: list[Shape], r: float) -> list[Shape]:
    """A gentle nod: the animation of every head."""
    return translate(out, 0, r * 0.04 * math.sin(c.phase))


def _look(c: Ctx, r: float) -> float:
    return r * 0.03 * math.cos(c.phase)


def cat(c: Ctx, col: RGB, rng: Rng, slot: Slot) -> list[Shape]:
    """Pointed ears, whiskers, a pink nose (the drawing the offline renderer always had)."""
    cx, cy, r = slot
    look = r * 0.05 * math.cos(c.phase)
    dark, light = mix(col, BLACK, 0.45), mix(col, WHITE, 0.45)
    out: list[Shape] = []
    for sgn in (-1, 1):
        out.append(Polygon(((cx + sgn * r * 0.9, cy - r * 0.2), (cx + sgn * r * 0.75, cy - r * 1.3),
                            (cx + sgn * r * 0.15, cy - r * 0.85)), rgba(col)))
        if c.level >= 1:
            out.append(Polygon(((cx + sgn * r * 0.75, cy - r * 0.45), (cx + sgn * r * 0.7, cy - r * 1.05),
                                (cx + sgn * r * 0.35, cy - r * 0.8)), rgba(light)))
    out.append(Ellipse(cx, cy, r, r * 0.92, rgba(col)))
    for sgn in (-1, 1):
        ex, ey = cx + sgn * r * 0.38, cy - r * 0.1
        out.append(Ellipse(ex, ey, r * 0.17, r * 0.21, rgba((250, 250, 245))))
        out.append(Ellipse(ex + look, ey, r * 0.08, r * 0.13, rgba((25, 25, 30))))
        if c.level >= 1:
            out.append(Ellipse(cx + sgn * r * 0.55, cy + r * 0.3, r * 0.14, r * 0.09, rgba((240, 120, 140), 120)))
        if c.level >= 2:
            for k in (-1, 0, 1):
                y = cy + r * (0.3 + 0.1 * k)
                out.append(Polygon(((cx + sgn * r * 0.3, y), (cx + sgn * r * 1.15, y - r * 0.12 * k - r * 0.02),
                                    (cx + sgn * r * 1.15, y - r * 0.12 * k + r * 0.02)), rgba(dark, 200)))
    out.append(Polygon(((cx - r * 0.09, cy + r * 0.15), (cx + r * 0.09, cy + r * 0.15), (cx, cy + r * 0.26)),
                       rgba((200, 90, 110))))
    return translate(out, 0, r * 0.05 * math.sin(2 * c.phase))


def dog(c: Ctx, col: RGB, rng: Rng, slot: Slot) -> list[Shape]:
    """Floppy ears, a pale muzzle, a big black nose and a tongue."""
    cx, cy, r = slot
    dark, light = mix(col, BLACK, 0.4), mix(col, WHITE, 0.6)
    out: list[Shape] = [Ellipse(cx, cy, r * 0.85, r * 0.9, rgba(col))]
    if c.level >= 2:
        out.append(Ellipse(cx + r * 0.32, cy - r * 0.18, r * 0.27, r * 0.24, rgba(dark, 200)))
    out.append(Ellipse(cx, cy + r * 0.42, r * 0.5, r * 0.38, rgba(light)))
    for sgn in (-1, 1):
        out.append(Polygon(ellipse_points(cx + sgn * r * 0.9, cy + r * 0.1, r * 0.27, r * 0.62, -sgn * 0.3, 24),
                           rgba(dark)))
    out += eyes(cx, cy - r * 0.15, r * 0.62, r * 0.11, _look(c, r), white=False)
    out.append(Ellipse(cx, cy + r * 0.26, r * 0.17, r * 0.12, rgba(INK)))
    if c.level >= 1:
        out.append(Ellipse(cx, cy + r * 0.7, r * 0.1, r * 0.14, rgba(PINK)))
    return _bob(c, out, r)


def fox(c: Ctx, col: RGB, rng: Rng, slot: Slot) -> list[Shape]:
    """A pointed face (a triangle), tall ears with dark tips, white cheeks."""
    cx, cy, r = slot
    out: list[Shape] = []
    for sgn in (-1, 1):
        out.append(Polygon(((cx + sgn * r * 0.95, cy - r * 0.4), (cx + sgn * r * 0.72, cy - r * 1.35),
                            (cx + sgn * r * 0.2, cy - r * 0.55)), rgba(col)))
        out.append(Polygon(((cx + sgn * r * 0.8, cy - r * 1.05), (cx + sgn * r * 0.72, cy - r * 1.35),
                            (cx + sgn * r * 0.6, cy - r * 1.1)), rgba(INK)))
    out.append(Polygon(((cx - r * 1.05, cy - r * 0.5), (cx + r * 1.05, cy - r * 0.5), (cx + r * 0.5, cy + r * 0.3),
                        (cx, cy + r * 0.95), (cx - r * 0.5, cy + r * 0.3)), rgba(col)))
    for sgn in (-1, 1):
        out.append(Polygon(((cx + sgn * r * 1.05, cy - r * 0.5), (cx + sgn * r * 0.12, cy + r * 0.3),
                            (cx, cy + r * 0.95), (cx + sgn * r * 0.5, cy + r * 0.3)), rgba(EYE_WHITE)))
    out += eyes(cx, cy - r * 0.15, r * 0.66, r * 0.08, _look(c, r), white=False, tall=1.5)
    out.append(Ellipse(cx, cy + r * 0.88, r * 0.12, r * 0.09, rgba(INK)))
    return _bob(c, out, r)


def bear(c: Ctx, col: RGB, rng: Rng, slot: Slot) -> list[Shape]:
    """Round ears on top, a round head, a pale muzzle."""
    cx, cy, r = slot
    light = mix(col, WHITE, 0.45)
    out: list[Shape] = []
    for sgn in (-1, 1):
        out.append(Ellipse(cx + sgn * r * 0.68, cy - r * 0.72, r * 0.3, r * 0.3, rgba(col)))
        out.append(Ellipse(cx + sgn * r * 0.68, cy - r * 0.72, r * 0.15, r * 0.15, rgba(light)))
    out.append(Ellipse(cx, cy, r * 0.95, r * 0.86, rgba(col)))
    out.append(Ellipse(cx, cy + r * 0.35, r * 0.42, r * 0.32, rgba(light)))
    out.append(Ellipse(cx, cy + r * 0.22, r * 0.16, r * 0.11, rgba(INK)))
    out.append(bar(cx, cy + r * 0.3, cx, cy + r * 0.48, r * 0.04, INK))
    out += eyes(cx, cy - r * 0.15, r * 0.7, r * 0.09, _look(c, r), white=False)
    return _bob(c, out, r)


def rabbit(c: Ctx, col: RGB, rng: Rng, slot: Slot) -> list[Shape]:
    """Two long upright ears, a twitching nose and two front teeth."""
    cx, cy, r = slot
    cy += r * 0.25
    twitch = 0.08 * math.sin(2 * c.phase)
    out: list[Shape] = []
    for sgn in (-1, 1):
        tilt = sgn * (0.15 + (twitch if sgn > 0 else 0))
        out.append(Polygon(ellipse_points(cx + sgn * r * 0.33, cy - r * 1.15, r * 0.2, r * 0.68, tilt, 24), rgba(col)))
        out.append(Polygon(ellipse_points(cx + sgn * r * 0.33, cy - r * 1.12, r * 0.1, r * 0.52, tilt, 24), rgba(PINK)))
    out.append(Ellipse(cx, cy, r * 0.75, r * 0.66, rgba(col)))
    out.append(Ellipse(cx, cy + r * 0.3, r * 0.35, r * 0.25, rgba(mix(col, WHITE, 0.6))))
    out += eyes(cx, cy - r * 0.12, r * 0.6, r * 0.1, 0.0, white=False)
    out.append(Polygon(((cx - r * 0.09, cy + r * 0.12), (cx + r * 0.09, cy + r * 0.12), (cx, cy + r * 0.22)),
                       rgba(PINK)))
    out += [Rect(cx - r * 0.08, cy + r * 0.3, cx - r * 0.005, cy + r * 0.45, rgba(EYE_WHITE)),
            Rect(cx + r * 0.005, cy + r * 0.3, cx + r * 0.08, cy + r * 0.45, rgba(EYE_WHITE))]
    return out


def mouse(c: Ctx, col: RGB, rng: Rng, slot: Slot) -> list[Shape]:
    """Big round ears, a small face, long whiskers."""
    cx, cy, r = slot
    out: list[Shape] = []
    for sgn in (-1, 1):
        out.append(Ellipse(cx + sgn * r * 0.78, cy - r * 0.55, r * 0.5, r * 0.5, rgba(col)))
        out.append(Ellipse(cx + sgn * r * 0.78, cy - r * 0.55, r * 0.32, r * 0.32, rgba(PINK)))
    out.append(Polygon(ellipse_points(cx, cy + r * 0.05, r * 0.62, r * 0.58, 0, 28), rgba(col)))
    out += eyes(cx, cy - r * 0.05, r * 0.5, r * 0.09, _look(c, r), white=False)
    out.append(Ellipse(cx, cy + r * 0.4, r * 0.1, r * 0.08, rgba(PINK)))
    for sgn in (-1, 1):
        for k in (-1, 0, 1):
            out.append(bar(cx + sgn * r * 0.15, cy + r * 0.42, cx + sgn * r * 1.0, cy + r * (0.35 + 0.12 * k),
                           r * 0.025, mix(col, BLACK, 0.6)))
    return _bob(c, out, r)


def lion(c: Ctx, col: RGB, rng: Rng, slot: Slot) -> list[Shape]:
    """A shaggy mane all round, a golden face, a broad muzzle."""
    cx, cy, r = slot
    mane = mix(col, (150, 70, 20), 0.55)
    light = mix(col, WHITE, 0.55)
    ruffle = 0.05 * math.sin(c.phase)
    out: list[Shape] = [Polygon(star_points(cx, cy, r * 1.32, r * 1.0, 16, ruffle), rgba(mane))]
    if c.level >= 1:
        out.append(Polygon(star_points(cx, cy, r * 1.1, r * 0.85, 16, ruffle + math.pi / 16),
                           rgba(mix(mane, BLACK, 0.2))))
    for sgn in (-1, 1):
        out.append(Ellipse(cx + sgn * r * 0.55, cy - r * 0.6, r * 0.18, r * 0.18, rgba(col)))
    out.append(Ellipse(cx, cy, r * 0.75, r * 0.78, rgba(col)))
    for sgn in (-1, 1):
        out.append(Ellipse(cx + sgn * r * 0.17, cy + r * 0.35, r * 0.22, r * 0.18, rgba(light)))
    out.append(Polygon(((cx - r * 0.15, cy + r * 0.12), (cx + r * 0.15, cy + r * 0.12), (cx, cy + r * 0.28)),
                       rgba((90, 50, 40))))
    out += eyes(cx, cy - r * 0.15, r * 0.56, r * 0.08, 0.0, white=False)
    return out


def tiger(c: Ctx, col: RGB, rng: Rng, slot: Slot) -> list[Shape]:
    """An orange face with black stripes and white cheeks."""
    cx, cy, r = slot
    out: list[Shape] = []
    for sgn in (-1, 1):
        out.append(Ellipse(cx + sgn * r * 0.72, cy - r * 0.68, r * 0.25, r * 0.25, rgba(INK)))
        out.append(Ellipse(cx + sgn * r * 0.72, cy - r * 0.68, r * 0.17, r * 0.17, rgba(col)))
    out.append(Ellipse(cx, cy, r * 0.98, r * 0.86, rgba(col)))
    for k in (-1, 0, 1):  # forehead stripes
        x = cx + k * r * 0.22
        out.append(Polygon(((x - r * 0.07, cy - r * 0.86), (x + r * 0.07, cy - r * 0.86), (x, cy - r * 0.45)), rgba(INK)))
    for sgn in (-1, 1):  # side stripes, from the edge inwards
        for k in range(3):
            y = cy - r * 0.3 + k * r * 0.25
            out.append(Polygon(((cx + sgn * r * 0.98, y - r * 0.06), (cx + sgn * r * 0.98, y + r * 0.06),
                                (cx + sgn * r * 0.55, y + r * 0.02)), rgba(INK)))
        out.append(Ellipse(cx + sgn * r * 0.28, cy + r * 0.38, r * 0.34, r * 0.26, rgba(EYE_WHITE)))
    out += eyes(cx, cy - r * 0.12, r * 0.6, r * 0.11, _look(c, r), white=True, pupil=(60, 120, 40))
    out.append(Polygon(((cx - r * 0.12, cy + r * 0.16), (cx + r * 0.12, cy + r * 0.16), (cx, cy + r * 0.3)),
                       rgba(PINK)))
    return _bob(c, out, r)


def panda(c: Ctx, col: RGB, rng: Rng, slot: Slot) -> list[Shape]:
    """A white face, black ears and black eye patches."""
    cx, cy, r = slot
    fur = mix(col, WHITE, 0.85)
    out: list[Shape] = []
    for sgn in (-1, 1):
        out.append(Ellipse(cx + sgn * r * 0.7, cy - r * 0.68, r * 0.3, r * 0.3, rgba(INK)))
    out.append(Ellipse(cx, cy, r * 0.95, r * 0.85, rgba(fur)))
    for sgn in (-1, 1):
        out.append(Polygon(ellipse_points(cx + sgn * r * 0.36, cy - r * 0.05, r * 0.2, r * 0.3, -sgn * 0.55, 24),
                           rgba(INK)))
        out.append(Ellipse(cx + sgn * r * 0.34 + _look(c, r), cy - r * 0.1, r * 0.07, r * 0.07, rgba(EYE_WHITE)))
    out.append(Ellipse(cx, cy + r * 0.3, r * 0.15, r * 0.1, rgba(INK)))
    out.append(bar(cx, cy + r * 0.36, cx, cy + r * 0.5, r * 0.035, INK))
    return _bob(c, out, r)


def pig(c: Ctx, col: RGB, rng: Rng, slot: Slot) -> list[Shape]:
    """A pink face, folded ears and a big round snout with two nostrils."""
    cx, cy, r = slot
    dark = mix(col, (200, 80, 110), 0.45)
    out: list[Shape] = []
    for sgn in (-1, 1):
        out.append(Polygon(((cx + sgn * r * 0.35, cy - r * 0.7), (cx + sgn * r * 0.95, cy - r * 0.95),
                            (cx + sgn * r * 0.8, cy - r * 0.3)), rgba(dark)))
    out.append(Ellipse(cx, cy, r * 0.92, r * 0.82, rgba(col)))
    out.append(Ellipse(cx, cy + r * 0.25, r * 0.38, r * 0.27, rgba(dark)))
    for sgn in (-1, 1):
        out.append(Ellipse(cx + sgn * r * 0.13, cy + r * 0.25, r * 0.07, r * 0.11, rgba(mix(dark, BLACK, 0.55))))
    out += eyes(cx, cy - r * 0.25, r * 0.6, r * 0.08, _look(c, r), white=False)
    return _bob(c, out, r)


def cow(c: Ctx, col: RGB, rng: Rng, slot: Slot) -> list[Shape]:
    """A white face with dark patches, horns, side ears and a wide pink muzzle."""
    cx, cy, r = slot
    patches = [(rng.uniform(-0.45, 0.45), rng.uniform(-0.6, 0.05), rng.uniform(0.15, 0.26)) for _ in range(3)]
    spot = mix(col, BLACK, 0.55)
    out: list[Shape] = []
    for sgn in (-1, 1):
        out.append(Polygon(((cx + sgn * r * 0.3, cy - r * 0.75), (cx + sgn * r * 0.85, cy - r * 1.2),
                            (cx + sgn * r * 0.5, cy - r * 0.7)), rgba((235, 225, 195))))
        out.append(Polygon(ellipse_points(cx + sgn * r * 0.88, cy - r * 0.45, r * 0.36, r * 0.15, sgn * 0.3, 20),
                           rgba(spot)))
    out.append(Polygon(ellipse_points(cx, cy - r * 0.15, r * 0.68, r * 0.82, 0, 32), rgba((248, 246, 240))))
    out += [Ellipse(cx + r * x, cy + r * y, r * s, r * s * 0.8, rgba(spot)) for x, y, s in patches]
    out.append(Ellipse(cx, cy + r * 0.55, r * 0.62, r * 0.38, rgba((236, 170, 165))))
    for sgn in (-1, 1):
        out.append(Ellipse(cx + sgn * r * 0.22, cy + r * 0.55, r * 0.08, r * 0.1, rgba((120, 60, 60))))
    out += eyes(cx, cy - r * 0.2, r * 0.62, r * 0.09, _look(c, r), white=False)
    return _bob(c, out, r)


def monkey(c: Ctx, col: RGB, rng: Rng, slot: Slot) -> list[Shape]:
    """Big ears at the sides and a pale heart-shaped face."""
    cx, cy, r = slot
    skin = (238, 205, 165)
    out: list[Shape] = []
    for sgn in (-1, 1):
        out.append(Ellipse(cx + sgn * r * 0.92, cy, r * 0.3, r * 0.3, rgba(col)))
        out.append(Ellipse(cx + sgn * r * 0.92, cy, r * 0.17, r * 0.17, rgba(skin)))
    out.append(Ellipse(cx, cy, r * 0.85, r * 0.88, rgba(col)))
    for sgn in (-1, 1):
        out.append(Ellipse(cx + sgn * r * 0.26, cy - r * 0.15, r * 0.3, r * 0.3, rgba(skin)))
    out.append(Ellipse(cx, cy + r * 0.32, r * 0.52, r * 0.38, rgba(skin)))
    out += eyes(cx, cy - r * 0.15, r * 0.5, r * 0.09, _look(c, r), white=False)
    out += [Ellipse(cx + sgn * r * 0.07, cy + r * 0.2, r * 0.04, r * 0.05, rgba(INK)) for sgn in (-1, 1)]
    out.append(band([(cx - r * 0.22, cy + r * 0.4), (cx, cy + r * 0.5), (cx + r * 0.22, cy + r * 0.4)],
                    r * 0.04, (120, 60, 50)))
    return _bob(c, out, r)


def horse(c: Ctx, col: RGB, rng: Rng, slot: Slot, horn: bool = False) -> list[Shape]:
    """A long head in profile on an arched neck, with a mane and a pointed ear."""
    cx, cy, r = slot
    dark = mix(col, BLACK, 0.45)
    mane = [(255, 150, 200), (160, 140, 255), (120, 210, 240)] if horn else [dark]
    toss = r * 0.05 * math.sin(c.phase)
    out: list[Shape] = [Polygon(((cx - r * 0.35, cy - r * 0.55), (cx + r * 0.1, cy - r * 0.1), (cx + r * 0.15, cy + r * 1.2),
                                 (cx - r * 0.8, cy + r * 1.2)), rgba(col))]
    for k, tone in enumerate(mane):
        off = k * r * 0.12
        out.append(band([(cx - r * 0.25 - off, cy - r * 0.8), (cx - r * 0.6 - off + toss, cy - r * 0.2),
                         (cx - r * 0.8 - off, cy + r * 0.45), (cx - r * 0.9 - off + toss, cy + r * 1.15)],
                        r * 0.2, tone))
    out.append(Polygon(ellipse_points(cx + r * 0.28, cy - r * 0.2, r * 0.78, r * 0.34, 0.65, 32), rgba(col)))
    out.append(Ellipse(cx + r * 0.82, cy + r * 0.28, r * 0.26, r * 0.24, rgba(mix(col, BLACK, 0.2))))
    out.append(Ellipse(cx + r * 0.9, cy + r * 0.24, r * 0.05, r * 0.06, rgba(INK)))
    out.append(Polygon(((cx - r * 0.22, cy - r * 0.55), (cx - r * 0.12, cy - r * 1.0), (cx + r * 0.1, cy - r * 0.62)),
                       rgba(col)))
    out.append(Ellipse(cx + r * 0.12, cy - r * 0.38, r * 0.08, r * 0.08, rgba(INK)))
    if horn:
        out.append(Polygon(((cx + r * 0.0, cy - r * 0.62), (cx + r * 0.3, cy - r * 1.5), (cx + r * 0.2, cy - r * 0.5)),
                           rgba((245, 200, 70))))
        if c.level >= 1:
            for k in range(1, 4):
                y = cy - r * (0.62 + 0.22 * k)
                out.append(bar(cx + r * (0.02 + 0.07 * k), y, cx + r * (0.2 + 0.03 * k), y + r * 0.08, r * 0.03,
                               (200, 140, 40)))
    return out


def unicorn(c: Ctx, col: RGB, rng: Rng, slot: Slot) -> list[Shape]:
    """A horse with a golden spiral horn and a rainbow mane."""
    return horse(c, col, rng, slot, horn=True)


def sheep(c: Ctx, col: RGB, rng: Rng, slot: Slot) -> list[Shape]:
    """A woolly cloud of a body round a dark face, on thin dark legs."""
    cx, cy, r = slot
    wool = mix(col, WHITE, 0.7)
    shade = mix(wool, BLACK, 0.12)
    step = r * 0.04 * math.sin(c.phase)
    out: list[Shape] = [bar(cx + x * r, cy + r * 0.6, cx + x * r + (step if i % 2 else -step), cy + r * 1.2, r * 0.12, INK)
                        for i, x in enumerate((-0.55, -0.2, 0.2, 0.55))]
    for k in range(12):
        a = 2 * math.pi * k / 12
        out.append(Ellipse(cx + r * 0.78 * math.cos(a), cy + r * 0.55 * math.sin(a), r * 0.34, r * 0.34,
                           rgba(shade if k % 2 else wool)))
    out.append(Ellipse(cx, cy, r * 0.85, r * 0.62, rgba(wool)))
    for sgn in (-1, 1):
        out.append(Polygon(ellipse_points(cx + sgn * r * 0.42, cy - r * 0.12, r * 0.2, r * 0.08, sgn * 0.4, 16),
                           rgba((60, 55, 55))))
    out.append(Ellipse(cx, cy + r * 0.05, r * 0.3, r * 0.4, rgba((60, 55, 55))))
    out.append(Ellipse(cx, cy - r * 0.35, r * 0.28, r * 0.16, rgba(wool)))
    out += eyes(cx, cy - r * 0.02, r * 0.26, r * 0.07, 0.0, white=True)
    return out


def elephant(c: Ctx, col: RGB, rng: Rng, slot: Slot) -> list[Shape]:
    """Huge ears, a long curling trunk and two tusks."""
    cx, cy, r = slot
    flap = 1 + 0.06 * math.sin(2 * c.phase)
    out: list[Shape] = []
    for sgn in (-1, 1):
        out.append(Ellipse(cx + sgn * r * 0.78 * flap, cy - r * 0.2, r * 0.55 * flap, r * 0.7, rgba(mix(col, BLACK, 0.12))))
        out.append(Ellipse(cx + sgn * r * 0.8 * flap, cy - r * 0.2, r * 0.35 * flap, r * 0.48, rgba(mix(col, PINK, 0.3))))
    out.append(Ellipse(cx, cy - r * 0.25, r * 0.58, r * 0.6, rgba(col)))
    path = [(cx, cy + r * 0.05), (cx + r * 0.02, cy + r * 0.45), (cx + r * 0.1, cy + r * 0.8),
            (cx + r * 0.3, cy + r * 1.0), (cx + r * 0.45, cy + r * 0.85)]
    for sgn in (-1, 1):
        out.append(Polygon(((cx + sgn * r * 0.2, cy + r * 0.12), (cx + sgn * r * 0.32, cy + r * 0.2),
                            (cx + sgn * r * 0.42, cy + r * 0.55)), rgba((250, 248, 235))))
    out.append(band(path, [r * 0.34, r * 0.3, r * 0.24, r * 0.18, r * 0.14], col))
    out += eyes(cx, cy - r * 0.3, r * 0.5, r * 0.07, 0.0, white=False)
    return out


BUILDERS = {
    "cat": cat, "dog": dog, "fox": fox, "bear": bear, "rabbit": rabbit, "mouse": mouse, "lion": lion,
    "tiger": tiger, "panda": panda, "pig": pig, "cow": cow, "monkey": monkey, "horse": horse, "unicorn": unicorn,
    "sheep": sheep, "elephant": elephant,
}
NATURAL: dict[str, RGB] = {
    "cat": (230, 150, 70), "dog": (190, 140, 90), "fox": (228, 110, 35), "bear": (120, 80, 50),
    "rabbit": (205, 195, 185), "mouse": (150, 150, 160), "lion": (225, 165, 65), "tiger": (238, 130, 30),
    "panda": (245, 245, 240), "pig": (243, 168, 180), "cow": (70, 55, 50), "monkey": (135, 88, 52),
    "horse": (140, 90, 55), "unicorn": (248, 244, 252), "sheep": (245, 245, 240), "elephant": (150, 150, 162),
}
