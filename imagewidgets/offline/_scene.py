"""Composing a scene from a reading of the prompt: backdrop, scenery, subjects, caption and label.

The scene is a list of vector primitives in output pixels; the raster and SVG backends draw the
same list, so a PNG and an SVG of one prompt show the same picture.
"""

from __future__ import annotations

import math
import numpy as np

from . import _motifs
from ._prompt import BLACK, GENERIC_MOTIFS, WHITE, Reading, Subject, luminance, mix, seed
from ._shapes import RGB, Background, Ellipse, Polygon, Scene, Shape, TextBlock, rgba, star_points
from ._text import LABEL, text_width, wrap

QUALITY_LEVEL = {"low": 0, "standard": 1, "medium": 1, "high": 2, "hd": 2, "xhigh": 3, "max": 4}
CONFETTI = (0, 6, 16, 30, 45)
GRAIN = (0, 0, 5, 6, 7)
SUPERSAMPLE = (1, 2, 2, 3, 3)
MAX_CANVAS = 4096  # supersampling stops where the drawing canvas would exceed this many pixels a side


def supersample(level: int, width: int, height: int) -> int:
    """Anti-aliasing factor: none at low quality (speed), 2-3x above."""
    ss = SUPERSAMPLE[min(max(level, 0), 4)]
    while ss > 1 and max(width, height) * ss > MAX_CANVAS:
        ss -= 1
    return ss


def build_scene(reading: Reading, prompt: str, width: int, height: int, *, level: int, index: int,
                transparent: bool, t: float = 0.0, label: bool = True, caption: bool = True,
                grain: bool = True, focus: tuple[float, float, float, float] | None = None,
                turns: tuple[str, ...] = (), scenery: bool = True, cutout: bool | None = None) -> Scene:
    """The picture for one prompt at animation time ``t`` (0 <= t < 1; stills use 0).

    ``focus`` (a box) is where the subjects go: an edit's masked area. The caption is one strip
    along the bottom edge, under the subjects, listing ``turns`` (the earlier prompts of an edit
    chain) and then ``prompt``, one short line each. ``scenery=False`` leaves out the backdrop
    motifs (sea, mountains, sky) the prompt names. ``cutout`` (default: ``transparent``) keeps the
    strip off the edges, as a sticker's subjects are.
    """
    layout = np.random.default_rng(seed("layout", prompt, index))
    horizon = height * layout.uniform(0.56, 0.72)
    layout.random()  # was the caption's side: keep later draws, and so the layouts, as they were
    ctx = _motifs.Ctx(width, height, level, horizon, 2 * math.pi * t, reading.palette)
    subjects = list(reading.subjects)
    if not subjects:  # nothing nameable: two motifs chosen by the prompt's hash
        h = seed("fallback", prompt)
        subjects = [Subject(f"#{k}", GENERIC_MOTIFS[(h >> (8 * k)) % len(GENERIC_MOTIFS)]) for k in range(2)]

    things = [s for s in subjects if s.motif not in _motifs.SCENERY]
    backdrop = sorted((s for s in subjects if s.motif in _motifs.SCENERY and scenery),
                      key=lambda s: _motifs.SCENERY[s.motif])
    shapes: list[Shape] = []
    colour_at = _colour_picker(reading)
    # Land in front of mountains and skylines, behind trees; the sea replaces it.
    ground = None
    if not transparent and any(s.motif in ("mountain", "skyline", "tree") for s in backdrop) and not any(
            s.motif == "waves" for s in backdrop):
        ground = _ground(ctx, reading, np.random.default_rng(seed("ground", prompt, index)))
    for k, subj in enumerate(backdrop):
        if ground is not None and _motifs.SCENERY[subj.motif] >= 3:
            shapes.append(ground)
            ground = None
        rng = np.random.default_rng(seed("motif", prompt, index, subj.word))
        shapes += _motifs.BUILDERS[subj.motif](ctx, colour_at(subj, k), rng, (0.0, 0.0, 0.0))
    if ground is not None:
        shapes.append(ground)

    shapes += _confetti(ctx, reading, np.random.default_rng(seed("confetti", prompt, index)))
    for slot, subj, k in zip(_slots(ctx, len(things), layout, focus), things, range(len(things))):
        rng = np.random.default_rng(seed("motif", prompt, index, subj.word))
        shapes += _motifs.BUILDERS[subj.motif](ctx, colour_at(subj, len(backdrop) + k), rng, slot)

    glow = ctx.glows[0] if ctx.glows and level >= 1 else None
    if glow is None and level >= 2:
        glow = (width * layout.uniform(0.2, 0.8), horizon * layout.uniform(0.2, 0.6), min(width, height) * 0.5,
                mix(reading.palette[0], WHITE, 0.5))
    bg = None if transparent else Background(
        reading.sky[0], reading.sky[1], bands=10 if level == 0 else 0, glow=glow,
        grain=GRAIN[min(level, 4)] if grain else 0)

    s = min(width, height)
    inset = round(s * 0.04)
    cutout = transparent if cutout is None else cutout
    texts = _texts([*turns, prompt] if caption else [], width, height, reading, label, inset if cutout else 0)
    clip = (inset, inset, width - inset, height - inset) if transparent else None
    return Scene(width, height, bg, tuple(shapes), tuple(texts), clip)


def _texts(prompts: list[str], width: int, height: int, reading: Reading, label: bool,
           inset: int = 0) -> list[TextBlock]:
    """The caption strip (the prompts' words; ``inset`` from the edges on a transparent picture) and the
    corner label, each only where it fits."""
    s = min(width, height)
    margin = max(4, round(s * 0.012))
    label_block = _label(width, height, margin) if label else None
    if label_block and (label_block.box[0] < 0 or label_block.box[1] < 0):  # too small a picture for it
        label_block = None
    texts = []
    prompts = [" ".join(p.split()) for p in prompts if p and p.strip()]
    if prompts:
        room = width - 2 * max(margin, inset) - ((label_block.box[2] - label_block.box[0] + margin) if label_block else 0)
        block = _strip(prompts, width, height, reading, room, inset)
        if block:
            texts.append(block)
    if label_block:
        texts.append(label_block)
    return texts


def _ground(ctx: _motifs.Ctx, reading: Reading, rng: np.random.Generator) -> Polygon:
    n = 12 + 8 * ctx.level
    phases = rng.uniform(0, 6.28, 2)
    amp = ctx.s * 0.015
    us = [2 * math.pi * i / n for i in range(n + 1)]
    pts = [(ctx.width * i / n,
            ctx.horizon + amp * (math.sin(1.5 * u + phases[0]) + 0.5 * math.sin(3.5 * u + phases[1])))
           for i, u in enumerate(us)]
    tone = mix(mix(reading.sky[1], reading.palette[0], 0.35), BLACK, 0.3)
    return Polygon(tuple(pts + [(float(ctx.width), float(ctx.height)), (0.0, float(ctx.height))]), rgba(tone))


def _colour_picker(reading: Reading):
    palette = reading.palette

    def pick(subj, k: int) -> RGB:
        if subj.colour is not None:
            return subj.colour
        own = palette[k % len(palette)]
        natural = _motifs.NATURAL.get(subj.motif)
        if natural is None:
            return own
        return mix(natural, own, 0.2 if subj.motif in _motifs.TRUE_COLOURS else 0.5)

    return pick


def _slots(ctx: _motifs.Ctx, n: int, layout: np.random.Generator,
           focus: tuple[float, float, float, float] | None) -> list[tuple[float, float, float]]:
    """Places for the subjects: spread across the picture (or the focus box), smaller as they multiply."""
    if n == 0:
        return []
    x0, y0, x1, y1 = focus or (0.0, ctx.height * 0.36, float(ctx.width), ctx.height * 0.58)
    span = min(x1 - x0, (y1 - y0) * 2.5) if focus else ctx.s
    out = []
    order = layout.permutation(n)
    for i in range(n):
        x = x0 + (x1 - x0) * (order[i] + 0.5 + layout.uniform(-0.12, 0.12)) / n
        y = y0 + (y1 - y0) * (layout.uniform(0.3, 0.7) if focus else layout.uniform(0, 1))
        r = span * layout.uniform(0.11, 0.17) / max(1.0, math.sqrt(n) / 1.5) * (1.8 if focus else 1.0)
        r = min(r, (x1 - x0) / n * 0.4)
        out.append((x, y, r))
    return out


def _confetti(ctx: _motifs.Ctx, reading: Reading, rng: np.random.Generator) -> list[Shape]:
    """Small drifting sparkles: the detail that grows with quality."""
    n = CONFETTI[min(ctx.level, 4)]
    pts = rng.uniform(0, 1, (n, 4))
    out: list[Shape] = []
    for i, (u, v, size, off) in enumerate(pts):
        col = rgba(mix(reading.palette[i % len(reading.palette)], WHITE, 0.4), 150)
        r = ctx.s * (0.004 + 0.01 * size)
        x = u * ctx.width + ctx.s * 0.02 * math.cos(ctx.phase + off * 6.28)
        y = v * ctx.height + ctx.s * 0.02 * math.sin(ctx.phase + off * 6.28)
        if i % 3 == 0:
            out.append(Polygon(star_points(x, y, r * 1.6, r * 0.6, 4), col))
        else:
            out.append(Ellipse(x, y, r, r, col))
    return out


#: at most this many prompts in the caption strip (the latest ones, numbered as in the chain)
STRIP_LINES = 3
#: the strip never takes more than this share of the picture's height
STRIP_SHARE = 0.16


def _strip(prompts: list[str], width: int, height: int, reading: Reading, room: float,
           inset: int = 0) -> TextBlock | None:
    """One opaque strip along the bottom edge, one line per prompt (cut with an ellipsis), so
    the caption stays out of the subjects and an edit's strip covers the one it replaces."""
    s = min(width, height)
    size = max(10, round(s / 42))
    line_h = round(size * 1.3)
    pad = max(3, round(size * 0.4))
    numbered = len(prompts) > 1
    shown = list(enumerate(prompts, 1))[-STRIP_LINES:]
    while shown and line_h * len(shown) + 2 * pad > height * STRIP_SHARE:
        shown = shown[1:]
    if not shown or room - 2 * pad < size * 3:
        return None
    lines = []
    for k, text in shown:
        text = f"{k}. {text}" if numbered else text
        lines.append(wrap(text, size, room - 2 * pad, max_lines=1)[0])
    box_h = line_h * len(lines) + 2 * pad - (line_h - size)
    y0 = height - inset - box_h
    bright = luminance(reading.sky[1]) > 140
    ink = (28, 28, 34, 255) if bright else (246, 246, 246, 255)
    panel = (*mix(reading.sky[1], WHITE if bright else BLACK, 0.72), 255)
    box = (float(inset), y0, float(width - inset), float(height - inset))
    return TextBlock(tuple(lines), size, inset + pad, y0 + pad, line_h, ink, panel, box, pad if inset else 0)


def _label(width: int, height: int, margin: int) -> TextBlock:
    size = max(9, round(min(width, height) / 72))
    pad = max(2, size // 3)
    w = text_width(LABEL, size) + 2 * pad
    h = size + 2 * pad
    x0, y0 = width - margin - w, height - margin - h
    return TextBlock((LABEL,), size, x0 + pad, y0 + pad, size, (255, 255, 255, 215), (0, 0, 0, 95),
                     (x0, y0, x0 + w, y0 + h), pad)

