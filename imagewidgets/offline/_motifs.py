"""Motifs: small procedural drawings for the things a prompt names (sun, cat, mountain, sea, ...).

Each builder draws all its random numbers before it looks at the animation phase, so every GIF
frame has the same composition and only the motion differs. ``level`` (0-4) adds detail.

This module holds the scenery and the generic motifs and gathers the table (``BUILDERS``,
``NATURAL``) from the motif modules (``_objects``, ``_animals``, ``_critters``, ``_things``); they
import the builders' contract (``Ctx``, ``Slot``, ``Rng``) from ``_canvas``, never this module.
"""

from __future__ import annotations

import math

import numpy as np

from . import _animals, _critters, _objects, _things
from ._canvas import Builder, Ctx, Rng, Slot
from ._prompt import BLACK, WHITE, mix
from ._shapes import RGB, Ellipse, Polygon, Rect, Ring, Shape, ellipse_points, rgba, rotate, star_points

__all__ = ["BUILDERS", "NATURAL", "SCENERY", "TRUE_COLOURS", "Ctx", "Slot", "Rng"]


def orb(c: Ctx, col: RGB, rng: Rng, slot: Slot) -> list[Shape]:
    cx = c.width * rng.uniform(0.15, 0.85)
    cy = c.horizon * rng.uniform(0.28, 0.6)
    r = c.s * rng.uniform(0.08, 0.14)
    spots = [(rng.uniform(-0.5, 0.5), rng.uniform(-0.5, 0.5), rng.uniform(0.08, 0.18)) for _ in range(5)]
    cx += c.s * 0.06 * math.cos(c.phase)
    cy += c.s * 0.03 * math.sin(c.phase)
    c.glows.append((cx, cy, r * 4, col))
    out: list[Shape] = [Ellipse(cx, cy, r * (1.25 + 0.3 * i), r * (1.25 + 0.3 * i), rgba(col, 50 // (i + 1) + 15))
                        for i in reversed(range(c.level))]
    out.append(Ellipse(cx, cy, r, r, rgba(col)))
    if c.level >= 1:
        out.append(Ellipse(cx - r * 0.3, cy - r * 0.3, r * 0.35, r * 0.35, rgba(mix(col, WHITE, 0.5), 110)))
    if c.level >= 2:
        out += [Ellipse(cx + r * x, cy + r * y, r * rr, r * rr, rgba(mix(col, BLACK, 0.3), 55)) for x, y, rr in spots]
    return out


def mountain(c: Ctx, col: RGB, rng: Rng, slot: Slot) -> list[Shape]:
    n = min(5, 2 + c.level)
    base = c.horizon + c.s * 0.02
    peaks = [(c.width * (i + 0.5) / n + rng.uniform(-0.15, 0.15) * c.width / n, c.s * rng.uniform(0.22, 0.42),
              c.width / n * rng.uniform(0.75, 1.15)) for i in range(n)]
    sway = c.s * 0.012 * math.sin(c.phase)
    out: list[Shape] = []
    for i, (px, h, hw) in enumerate(sorted(peaks, key=lambda p: -p[1])):
        px += sway * (i + 1) / n
        tone = mix(col, WHITE, 0.3 * (1 - i / n)) if i % 2 == 0 else mix(col, BLACK, 0.15)
        out.append(Polygon(((px - hw, base), (px, base - h), (px + hw, base)), rgba(tone)))
        if c.level >= 1:
            f = 0.28
            cap = [(px - hw * f, base - h * (1 - f)), (px, base - h), (px + hw * f, base - h * (1 - f))]
            if c.level >= 2:
                cap += [(px + hw * f * 0.3, base - h * (1 - f * 0.7)), (px - hw * f * 0.35, base - h * (1 - f * 0.85))]
            out.append(Polygon(tuple(cap), rgba(mix(col, WHITE, 0.85))))
    return out


def tree(c: Ctx, col: RGB, rng: Rng, slot: Slot) -> list[Shape]:
    n = min(11, 3 + 2 * c.level)
    trees = sorted((rng.uniform(0.04, 0.96) * c.width, c.horizon + c.s * rng.uniform(-0.02, 0.14),
                    c.s * rng.uniform(0.12, 0.26), rng.uniform(0, 6.28)) for _ in range(n))
    tiers = 2 if c.level == 0 else 3
    out: list[Shape] = []
    for x, base, h, off in sorted(trees, key=lambda t: t[1]):
        w = h * 0.45
        sway = c.s * 0.008 * math.sin(c.phase + off)
        out.append(Rect(x - w * 0.08, base - h * 0.2, x + w * 0.08, base, rgba((95, 60, 35))))
        tone = mix(col, BLACK, 0.25 * (base - c.horizon) / (c.s * 0.16 + 1))
        for k in range(tiers):
            top = base - h + k * h * 0.25
            bottom = base - h * 0.15 - (tiers - 1 - k) * h * 0.22
            half = w * (0.55 + 0.45 * (k + 1) / tiers)
            tier = rgba(mix(tone, WHITE, 0.08 * k))
            out.append(Polygon(((x - half, bottom), (x + sway, top), (x + half, bottom)), tier))
    return out


def waves(c: Ctx, col: RGB, rng: Rng, slot: Slot) -> list[Shape]:
    bands = min(6, 2 + c.level)
    n = 16 * (c.level + 1) + 8
    specs = [(rng.uniform(0.010, 0.022) * c.s, rng.uniform(1.5, 4.0), rng.uniform(0, 6.28)) for _ in range(bands)]
    out: list[Shape] = []
    top0 = c.horizon
    for k, (amp, cycles, off) in enumerate(specs):
        y0 = top0 + (c.height - top0) * k / bands
        shift = off + c.phase * (1 + k % 2)
        pts = [(c.width * i / n, y0 + amp * math.sin(2 * math.pi * cycles * i / n + shift)) for i in range(n + 1)]
        pts += [(c.width, c.height), (0.0, c.height)]
        out.append(Polygon(tuple(pts), rgba(mix(col, BLACK, 0.08 + 0.1 * k))))
        if c.level >= 2:
            edge = pts[: n + 1]
            crest = [(x, y - amp * 0.25) for x, y in edge] + [(x, y + amp * 0.35) for x, y in reversed(edge)]
            out.append(Polygon(tuple(crest), rgba(mix(col, WHITE, 0.6), 90)))
    return out


def skyline(c: Ctx, col: RGB, rng: Rng, slot: Slot) -> list[Shape]:
    count = min(16, 6 + 3 * c.level)
    x, out = 0.0, list[Shape]()
    widths = [c.width / count * rng.uniform(0.7, 1.3) for _ in range(count)]
    heights = [c.s * rng.uniform(0.12, 0.42) for _ in range(count)]
    lit = rng.random(400) < 0.55
    base = c.horizon + c.s * 0.03
    wi = 0
    for w, h in zip(widths, heights):
        tone = mix(col, BLACK, 0.2 + 0.25 * ((wi // 7) % 2))
        out.append(Rect(x, base - h, x + w * 0.94, base, rgba(tone)))
        if c.level >= 1:
            cell = c.s * 0.028
            for row in range(int(h / cell) - 1):
                for colm in range(int(w * 0.94 / cell) - 1):
                    if wi < len(lit) and lit[wi]:
                        wx, wy = x + (colm + 0.6) * cell, base - h + (row + 0.6) * cell
                        glow = 170 + int(60 * math.sin(c.phase + wi))
                        out.append(Rect(wx, wy, wx + cell * 0.45, wy + cell * 0.5, rgba((255, 225, 140), glow)))
                    wi += 1
        x += w
    return out


def stars(c: Ctx, col: RGB, rng: Rng, slot: Slot) -> list[Shape]:
    n = 10 + 14 * c.level
    pts = rng.uniform(0, 1, (n, 4))
    star = mix(col, WHITE, 0.65)
    out: list[Shape] = []
    for u, v, size, off in pts:
        r = c.s * (0.006 + 0.014 * size) * (0.75 + 0.25 * math.sin(c.phase * (1 + int(off * 2)) + off * 6.28))
        out.append(Polygon(star_points(u * c.width, v * c.horizon * 0.9, r, r * 0.45, 5), rgba(star, 230)))
    return out


def cloud(c: Ctx, col: RGB, rng: Rng, slot: Slot) -> list[Shape]:
    out: list[Shape] = []
    tone = rgba(mix(col, WHITE, 0.8), 215)
    for k in range(2 + c.level // 2):
        cx, cy = rng.uniform(0.1, 0.9) * c.width, rng.uniform(0.1, 0.45) * c.horizon
        r = c.s * rng.uniform(0.05, 0.09)
        puffs = [(rng.uniform(-1.6, 1.6), rng.uniform(-0.4, 0.3), rng.uniform(0.6, 1.1)) for _ in range(5)]
        dx = c.s * 0.07 * math.sin(c.phase + k)
        out += [Ellipse(cx + dx + r * px, cy + r * py, r * pr * 1.3, r * pr, tone) for px, py, pr in puffs]
    return out


def flower(c: Ctx, col: RGB, rng: Rng, slot: Slot) -> list[Shape]:
    cx, cy, r = slot
    petals = int(rng.integers(5, 9))
    spin = c.phase / petals  # a petal's turn per loop: seamless
    out: list[Shape] = [Rect(cx - r * 0.06, cy, cx + r * 0.06, cy + r * 2.2, rgba((60, 140, 70)))]
    for k in range(petals):
        a = spin + 2 * math.pi * k / petals
        px, py = cx + r * 0.55 * math.cos(a), cy + r * 0.55 * math.sin(a)
        petal = ellipse_points(px, py, r * 0.5, r * 0.24, a, 12 + 6 * c.level)
        out.append(Polygon(petal, rgba(mix(col, WHITE, 0.1 * (k % 2)))))
    out.append(Ellipse(cx, cy, r * 0.28, r * 0.28, rgba(mix((250, 200, 60), col, 0.2))))
    return out


def bird(c: Ctx, col: RGB, rng: Rng, slot: Slot) -> list[Shape]:
    cx, cy, size = slot
    out: list[Shape] = []
    tone = rgba(mix(col, BLACK, 0.4))
    for k in range(2 + c.level):
        x, y = cx + size * rng.uniform(-1.6, 1.6), cy + size * rng.uniform(-1.2, 0.8)
        r, off = size * rng.uniform(0.25, 0.45), rng.uniform(0, 6.28)
        x += c.s * 0.05 * math.cos(c.phase + off)
        flap = r * 0.45 * math.sin(2 * c.phase + off)
        out.append(Polygon(((x - r, y - flap), (x, y + r * 0.25), (x + r, y - flap), (x, y + r * 0.5)), tone))
    return out


def boat(c: Ctx, col: RGB, rng: Rng, slot: Slot) -> list[Shape]:
    cx, _, r = slot
    y = c.horizon + c.s * 0.02 + c.s * 0.01 * math.sin(c.phase)
    deck, keel = y - r * 0.3, y + r * 0.1
    hull = Polygon(((cx - r, deck), (cx + r, deck), (cx + r * 0.7, keel), (cx - r * 0.7, keel)), rgba(col))
    mast = Rect(cx - r * 0.03, y - r * 1.6, cx + r * 0.03, y - r * 0.3, rgba((80, 60, 40)))
    sail = Polygon(((cx + r * 0.05, y - r * 1.55), (cx + r * 0.75, y - r * 0.4), (cx + r * 0.05, y - r * 0.4)),
                   rgba((248, 246, 240)))
    return [hull, mast, sail]


def heart(c: Ctx, col: RGB, rng: Rng, slot: Slot) -> list[Shape]:
    cx, cy, r = slot
    k = r / 16 * (1 + 0.06 * math.sin(2 * c.phase))
    n = 32 + 16 * c.level
    us = [2 * math.pi * i / n for i in range(n)]
    pts = tuple((cx + k * 16 * math.sin(u) ** 3,
                 cy - k * (13 * math.cos(u) - 5 * math.cos(2 * u) - 2 * math.cos(3 * u) - math.cos(4 * u))) for u in us)
    out: list[Shape] = [Polygon(pts, rgba(col))]
    if c.level >= 1:
        out.append(Ellipse(cx - r * 0.4, cy - r * 0.35, r * 0.18, r * 0.12, rgba(mix(col, WHITE, 0.6), 140)))
    return out


def fish(c: Ctx, col: RGB, rng: Rng, slot: Slot) -> list[Shape]:
    cx, cy, r = slot
    cx += c.s * 0.05 * math.cos(c.phase)
    wag = r * 0.2 * math.sin(2 * c.phase)
    tail = ((cx + r * 0.8, cy), (cx + r * 1.4, cy - r * 0.5 + wag), (cx + r * 1.4, cy + r * 0.5 + wag))
    return [Polygon(tail, rgba(mix(col, BLACK, 0.2))),
            Polygon(ellipse_points(cx, cy, r, r * 0.5, 0, 24 + 8 * c.level), rgba(col)),
            Ellipse(cx - r * 0.55, cy - r * 0.1, r * 0.1, r * 0.1, rgba((20, 20, 25)))]


# Generic motifs, one chosen per unknown noun from a hash of the word.

def blob(c: Ctx, col: RGB, rng: Rng, slot: Slot) -> list[Shape]:
    cx, cy, r = slot
    waves_ = [(rng.uniform(0.05, 0.2), int(rng.integers(2, 6)), rng.uniform(0, 6.28)) for _ in range(3)]
    n = 16 + 12 * c.level
    def radius(u: float) -> float:
        return r * (1 + sum(a * math.sin(k * u + o) for a, k, o in waves_))
    us = [2 * math.pi * i / n for i in range(n)]
    pts = tuple((cx + radius(u) * math.cos(u), cy + radius(u) * math.sin(u)) for u in us)
    out: list[Shape] = [Polygon(pts, rgba(col))]
    if c.level >= 1:
        inner = tuple((cx + (x - cx) * 0.55, cy + (y - cy) * 0.55 - r * 0.1) for x, y in pts)
        out.append(Polygon(inner, rgba(mix(col, WHITE, 0.35), 160)))
    return rotate(out, 0.3 * math.sin(c.phase), cx, cy)


def ring(c: Ctx, col: RGB, rng: Rng, slot: Slot) -> list[Shape]:
    cx, cy, r = slot
    r *= 1 + 0.05 * math.sin(2 * c.phase)
    out: list[Shape] = [Ring(cx, cy, r, r, r * 0.25, rgba(col))]
    if c.level >= 1:
        out.append(Ellipse(cx, cy, r * 0.3, r * 0.3, rgba(mix(col, WHITE, 0.4))))
    if c.level >= 2:
        out.append(Ring(cx, cy, r * 1.3, r * 1.3, max(1.0, r * 0.05), rgba(mix(col, BLACK, 0.2), 160)))
    return out


def diamond(c: Ctx, col: RGB, rng: Rng, slot: Slot) -> list[Shape]:
    cx, cy, r = slot
    def rhombus(f: float) -> tuple[tuple[float, float], ...]:
        return ((cx, cy - r * 1.2 * f), (cx + r * 0.8 * f, cy), (cx, cy + r * 1.2 * f), (cx - r * 0.8 * f, cy))

    out: list[Shape] = [Polygon(rhombus(1.0), rgba(col))]
    for k in range(1, 1 + min(c.level, 3)):
        out.append(Polygon(rhombus(1 - 0.25 * k), rgba(mix(col, WHITE if k % 2 else BLACK, 0.3))))
    return rotate(out, 0.25 * math.sin(c.phase), cx, cy)


def burst(c: Ctx, col: RGB, rng: Rng, slot: Slot) -> list[Shape]:
    cx, cy, r = slot
    spikes = 8 + 4 * c.level
    a = c.phase / spikes
    out: list[Shape] = [Polygon(star_points(cx, cy, r * 1.2, r * 0.55, spikes, a), rgba(col))]
    if c.level >= 1:
        out.append(Ellipse(cx, cy, r * 0.45, r * 0.45, rgba(mix(col, WHITE, 0.5))))
    return out


def stack(c: Ctx, col: RGB, rng: Rng, slot: Slot) -> list[Shape]:
    cx, cy, r = slot
    tilt = rng.uniform(-0.4, 0.4)
    out: list[Shape] = []
    layers = 3 + c.level
    for k in range(layers):
        f = 1 - k / (layers + 0.5)
        tone = col if k % 2 == 0 else c.palette[(k // 2 + 1) % len(c.palette)]
        out.append(Rect(cx - r * f, cy - r * f, cx + r * f, cy + r * f, rgba(tone)))
    return rotate(out, tilt + 0.2 * math.sin(c.phase), cx, cy)


def bars(c: Ctx, col: RGB, rng: Rng, slot: Slot) -> list[Shape]:
    cx, cy, r = slot
    n = 3 + c.level
    tilt = rng.uniform(-0.8, 0.8)
    out: list[Shape] = []
    for k in range(n):
        x = cx - r + 2 * r * (k + 0.5) / n
        h = r * (0.6 + 0.4 * math.sin(c.phase + k))
        tone = c.palette[k % len(c.palette)] if k % 2 else col
        out.append(Rect(x - r * 0.7 / n, cy - h, x + r * 0.7 / n, cy + h, rgba(tone)))
    return rotate(out, tilt, cx, cy)


def dots(c: Ctx, col: RGB, rng: Rng, slot: Slot) -> list[Shape]:
    cx, cy, r = slot
    n = 12 + 10 * c.level
    golden = math.pi * (3 - math.sqrt(5))
    out: list[Shape] = []
    for i in range(n):
        d = r * 1.2 * math.sqrt((i + 0.5) / n)
        a = i * golden + (c.phase if i % 2 else -c.phase)
        dr = r * 0.09 * (0.6 + 0.4 * (1 - i / n))
        tone = rgba(mix(col, WHITE, 0.3 * (i % 3) / 2))
        out.append(Ellipse(cx + d * math.cos(a), cy + d * math.sin(a), dr, dr, tone))
    return out


def crescent(c: Ctx, col: RGB, rng: Rng, slot: Slot) -> list[Shape]:
    cx, cy, r = slot
    d, ri = 0.45 * r, 0.85 * r
    ix = (r * r - ri * ri + d * d) / (2 * d)
    iy = math.sqrt(max(0.0, r * r - ix * ix))
    t0, p0 = math.atan2(iy, ix), math.atan2(iy, ix - d)
    n = 20 + 10 * c.level
    outer = [(cx + r * math.cos(u), cy + r * math.sin(u)) for u in np.linspace(t0, 2 * math.pi - t0, n)]
    inner = [(cx + d + ri * math.cos(u), cy + ri * math.sin(u)) for u in np.linspace(2 * math.pi - p0, p0, n)]
    return rotate([Polygon(tuple(outer + inner), rgba(col))], rng.uniform(0, 6.28) + 0.3 * math.sin(c.phase), cx, cy)


BUILDERS: dict[str, Builder] = {
    "orb": orb, "mountain": mountain, "tree": tree, "waves": waves, "skyline": skyline,
    "stars": stars, "cloud": cloud, "flower": flower, "bird": bird, "boat": boat, "heart": heart,
    "fish": fish, "blob": blob, "ring": ring, "diamond": diamond, "burst": burst, "stack": stack,
    "bars": bars, "dots": dots, "crescent": crescent,
}
# Natural colours of known things, blended with the prompt's palette when no colour word names them.
NATURAL: dict[str, RGB] = {
    "orb": (250, 200, 70), "tree": (40, 120, 60), "waves": (30, 100, 170), "mountain": (110, 100, 130),
    "cloud": (240, 240, 245), "stars": (255, 240, 180), "skyline": (60, 60, 80), "flower": (235, 90, 130),
    "bird": (40, 40, 50), "boat": (150, 80, 50), "heart": (220, 40, 70), "fish": (240, 140, 50),
}
SCENERY = {"orb": 0, "stars": 0, "cloud": 1, "mountain": 2, "skyline": 2, "tree": 3, "waves": 4}

# Things often added by an edit, animals, creatures and objects live in their own modules (same
# contract, from ``_canvas``); "face" is theirs: a person's (``_things``)
for _module in (_objects, _animals, _critters, _things):
    BUILDERS.update(_module.BUILDERS)
    NATURAL.update(_module.NATURAL)
#: motifs recognised partly by their colour (an orange fox, a yellow banana): the prompt's palette
#: only tints them, unless a colour word names theirs
TRUE_COLOURS = frozenset(_animals.NATURAL) | frozenset(_critters.NATURAL) | frozenset(_things.NATURAL)
