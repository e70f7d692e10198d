"""Motifs for things people often add in an edit ("add a hat", "a lighthouse on the cliff", "a kite").

Same contract as every motif (``_canvas.Builder``): ``builder(ctx, colour, rng, slot) -> shapes``,
random numbers drawn before the animation phase is used, more detail at higher ``level``. The
table (``_motifs.BUILDERS``) gathers this module's ``BUILDERS``.
"""

from __future__ import annotations

import math

from ._canvas import Builder, Ctx, Rng, Slot
from ._prompt import BLACK, WHITE, mix
from ._shapes import RGB, Ellipse, Polygon, Rect, Shape, rgba, rotate

__all__ = ["BUILDERS", "NATURAL"]


def hat(c: Ctx, col: RGB, rng: Rng, slot: Slot) -> list[Shape]:
    """A top hat: brim, crown and band, tipping a little."""
    cx, cy, r = slot
    tilt = rng.uniform(-0.25, 0.25)
    crown_w, crown_h = r * 1.1, r * 1.25
    band = mix(col, WHITE, 0.55) if sum(col) < 300 else mix(col, BLACK, 0.55)
    out: list[Shape] = [
        Ellipse(cx, cy + r * 0.3, r * 1.25, r * 0.28, rgba(mix(col, BLACK, 0.2))),
        Rect(cx - crown_w / 2, cy + r * 0.3 - crown_h, cx + crown_w / 2, cy + r * 0.3, rgba(col)),
        Rect(cx - crown_w / 2, cy + r * 0.05, cx + crown_w / 2, cy + r * 0.22, rgba(band)),
    ]
    if c.level >= 1:
        out.append(Ellipse(cx, cy + r * 0.3 - crown_h, crown_w / 2, r * 0.12, rgba(mix(col, WHITE, 0.15))))
    return rotate(out, tilt + 0.08 * math.sin(c.phase), cx, cy)


def lighthouse(c: Ctx, col: RGB, rng: Rng, slot: Slot) -> list[Shape]:
    """A striped tower standing on the horizon, its lamp casting a turning beam."""
    cx, _, r = slot
    base = c.horizon + c.s * 0.01
    height = r * 2.6
    bottom_w, top_w = r * 0.55, r * 0.34
    stripes = 4 + min(c.level, 2)
    stripe = (200, 40, 45) if col[0] < 150 or col[1] > 120 else (245, 245, 240)
    out: list[Shape] = []
    for k in range(stripes):
        f0, f1 = k / stripes, (k + 1) / stripes
        y0, y1 = base - height * f0, base - height * f1
        w0, w1 = bottom_w + (top_w - bottom_w) * f0, bottom_w + (top_w - bottom_w) * f1
        out.append(Polygon(((cx - w0, y0), (cx + w0, y0), (cx + w1, y1), (cx - w1, y1)),
                           rgba(col if k % 2 == 0 else stripe)))
    top = base - height
    angle = c.phase
    beam = (255, 240, 170)
    for sgn in (-1, 1):  # the beam sweeps with the animation
        reach = c.s * 0.45 * (0.6 + 0.4 * math.cos(angle)) * sgn
        out.append(Polygon(((cx, top - r * 0.35), (cx + reach, top - r * 0.7), (cx + reach, top)),
                           rgba(beam, 70 if c.level else 50)))
    out += [Rect(cx - top_w * 0.9, top - r * 0.5, cx + top_w * 0.9, top, rgba(beam)),
            Polygon(((cx - top_w * 1.15, top - r * 0.5), (cx + top_w * 1.15, top - r * 0.5), (cx, top - r * 0.95)),
                    rgba(mix(stripe, BLACK, 0.3))),
            Rect(cx - top_w * 1.2, top - r * 0.04, cx + top_w * 1.2, top + r * 0.06, rgba(mix(col, BLACK, 0.5)))]
    return out


def kite(c: Ctx, col: RGB, rng: Rng, slot: Slot) -> list[Shape]:
    """A diamond kite on a wavy tail of little bows."""
    cx, cy, r = slot
    cy -= r * 0.6
    sway = 0.15 * math.sin(c.phase)
    body = [Polygon(((cx, cy - r), (cx + r * 0.7, cy - r * 0.15), (cx, cy + r * 0.9), (cx - r * 0.7, cy - r * 0.15)),
                    rgba(col)),
            Polygon(((cx, cy - r), (cx + r * 0.7, cy - r * 0.15), (cx, cy - r * 0.15)), rgba(mix(col, WHITE, 0.3)))]
    bows = 4 + c.level
    tail: list[Shape] = []
    for k in range(1, bows + 1):
        tx = cx + r * 0.35 * math.sin(k * 0.9 + c.phase)
        ty = cy + r * 0.9 + k * r * 0.35
        tail.append(Polygon(((tx - r * 0.16, ty - r * 0.1), (tx + r * 0.16, ty + r * 0.1),
                             (tx + r * 0.16, ty - r * 0.1), (tx - r * 0.16, ty + r * 0.1)),
                            rgba(c.palette[k % len(c.palette)])))
    return rotate(body + tail, sway, cx, cy)


BUILDERS: dict[str, Builder] = {"hat": hat, "lighthouse": lighthouse, "kite": kite}
NATURAL: dict[str, RGB] = {"hat": (40, 40, 48), "lighthouse": (245, 245, 240), "kite": (230, 60, 60)}
