"""Composing a scene from a reading of the prompt: backdrop, scenery, subjects, caption and label.

The scene is a list of vector primitives in output pixels; the raster and SVG backends draw the
same list, so a PNG and an SVG of one prompt show the same picture.
"""

from __future__ import annotations

import math
from typing import Callable

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


#: ``place(box_h, top, bottom) -> y0``: where a caption box of height ``box_h`` goes
PlaceCaption = Callable[[float, float, float], float]


def build_scene(reading: Reading, prompt: str, width: int, height: int, *, level: int, index: int,
                transparent: bool, t: float = 0.0, label: bool = True, caption: bool = True,
                grain: bool = True, focus: tuple[float, float, float, float] | None = None,
                place_caption: PlaceCaption | None = None) -> Scene:
    """The picture for one prompt at animation time ``t`` (0 <= t < 1; stills use 0).

    ``focus`` (a box) is where the subjects go: an edit's masked area. ``place_caption(box_h,
    top, bottom)`` gives the caption's top edge between ``top`` and ``bottom - box_h`` (None: at
    the top a third of the time, as the prompt's layout draws, else at the bottom).
    """
    layout = np.random.default_rng(seed("layout", prompt, index))
    horizon = height * layout.uniform(0.56, 0.72)
    caption_at_top = layout.random() < 0.35
    ctx = _motifs.Ctx(width, height, level, horizon, 2 * math.pi * t, reading.palette)
    subjects = list(reading.subjects)
    if not subjects:  # nothing nameable: two motifs chosen by the prompt's hash
        h = seed("fallback", prompt)
        subjects = [Subject(f"#{k}", GENERIC_MOTIFS[(h >> (8 * k)) % len(GENERIC_MOTIFS)]) for k in range(2)]

    scenery = sorted((s for s in subjects if s.motif in _motifs.SCENERY), key=lambda s: _motifs.SCENERY[s.motif])
    things = [s for s in subjects if s.motif not in _motifs.SCENERY]
    shapes: list[Shape] = []
    colour_at = _colour_picker(reading)
    # Land in front of mountains and skylines, behind trees; the sea replaces it.
    ground = None
    if not transparent and any(s.motif in ("mountain", "skyline", "tree") for s in scenery) and not any(
            s.motif == "waves" for s in scenery):
        ground = _ground(ctx, reading, np.random.default_rng(seed("ground", prompt, index)))
    for k, subj in enumerate(scenery):
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
        shapes += _motifs.BUILDERS[subj.motif](ctx, colour_at(subj, len(scenery) + k), rng, slot)

    glow = ctx.glows[0] if ctx.glows and level >= 1 else None
    if glow is None and level >= 2:
        glow = (width * layout.uniform(0.2, 0.8), horizon * layout.uniform(0.2, 0.6), min(width, height) * 0.5,
                mix(reading.palette[0], WHITE, 0.5))
    bg = None if transparent else Background(
        reading.sky[0], reading.sky[1], bands=10 if level == 0 else 0, glow=glow,
        grain=GRAIN[min(level, 4)] if grain else 0)

    texts = _texts(prompt if caption else "", width, height, reading, caption_at_top, label, place_caption)
    s = min(width, height)
    inset = round(s * 0.04)
    clip = (inset, inset, width - inset, height - inset) if transparent else None
    return Scene(width, height, bg, tuple(shapes), tuple(texts), clip)


def _texts(prompt: str, width: int, height: int, reading: Reading, at_top: bool, label: bool,
           place: PlaceCaption | None = None) -> list[TextBlock]:
    """The caption (the prompt's words) and the corner label, each only where it fits."""
    s = min(width, height)
    margin = max(4, round(s * 0.012))
    label_block = _label(width, height, margin) if label else None
    if label_block and (label_block.box[0] < 0 or label_block.box[1] < 0):  # too small a picture for it
        label_block = None
    texts = []
    if prompt.strip():
        bottom_limit = (label_block.box[1] if label_block else height) - margin
        block = _caption(prompt, width, height, at_top, bottom_limit, reading, max(margin, round(s * 0.04)), place)
        if block and block.box[1] >= 0:
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
        return mix(natural, own, 0.5) if natural else own

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


def _caption(prompt: str, width: int, height: int, at_top: bool, bottom_limit: float, reading: Reading,
             margin: int, place: PlaceCaption | None = None) -> TextBlock | None:
    """The prompt's words in a translucent panel, sized to stay legible."""
    s = min(width, height)
    size = max(11, round(s / 19))
    pad = max(4, round(size * 0.6))
    max_w = width - 2 * margin - 2 * pad
    lines = wrap(" ".join(prompt.split()), size, max_w, max_lines=3)
    if not lines or max_w < size * 2:
        return None
    line_h = round(size * 1.25)
    box_w = max(text_width(line, size) for line in lines) + 2 * pad
    box_h = line_h * len(lines) + 2 * pad - (line_h - size)
    x0 = (width - box_w) / 2
    y0 = margin if at_top else bottom_limit - box_h
    if place is not None:
        y0 = place(box_h, margin, bottom_limit)
        at_top = y0 + box_h / 2 < height / 2
    bright = luminance(reading.sky[0] if at_top else reading.sky[1]) > 140
    ink = (28, 28, 34, 255) if bright else (250, 250, 250, 255)
    panel = (255, 255, 255, 170) if bright else (12, 12, 18, 150)
    return TextBlock(tuple(lines), size, x0 + pad, y0 + pad, line_h, ink, panel, (x0, y0, x0 + box_w, y0 + box_h), pad)


def _label(width: int, height: int, margin: int) -> TextBlock:
    size = max(9, round(min(width, height) / 72))
    pad = max(2, size // 3)
    w = text_width(LABEL, size) + 2 * pad
    h = size + 2 * pad
    x0, y0 = width - margin - w, height - margin - h
    return TextBlock((LABEL,), size, x0 + pad, y0 + pad, size, (255, 255, 255, 215), (0, 0, 0, 95),
                     (x0, y0, x0 + w, y0 + h), pad)

