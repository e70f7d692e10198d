"""Drawing a scene: to pixels with Pillow and numpy, or to an SVG document with the same shapes."""

from __future__ import annotations

from dataclasses import replace
from xml.sax.saxutils import escape

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ._shapes import Background, Ellipse, Polygon, Rect, Ring, Scene, Shape, TextBlock
from ._text import font

SOFTWARE = "imagewidgets offline renderer (procedural, not AI)"


# --- raster --------------------------------------------------------------------------------------

def rasterize(scene: Scene, supersample: int = 1, grain_seed: int = 0, scale: float = 1.0) -> Image.Image:
    """The scene as an RGB image (opaque backdrop) or RGBA (transparent backdrop).

    Shapes are drawn at ``supersample`` times the size and box-filtered down (anti-aliasing);
    text is drawn at the final size, where the font hints it crisply. ``scale`` < 1 draws a
    draft: the same picture at that fraction of the size, without grain or anti-aliasing (the
    cheap early frames of a stream).
    """
    if scale != 1.0:
        return _draft(scene, scale)
    w, h, ss = scene.width, scene.height, max(1, supersample)
    if scene.background is not None:
        canvas = Image.fromarray(background(scene.background, w, h), "RGB")
        if ss > 1:
            canvas = canvas.resize((w * ss, h * ss), Image.Resampling.NEAREST)
        draw = ImageDraw.Draw(canvas, "RGBA")  # RGBA ink on an RGB image blends
        for shape in scene.shapes:
            _shape(draw, shape, ss)
        if ss > 1:
            canvas = canvas.reduce(ss)
        if scene.background.grain:
            canvas = _grain(canvas, scene.background.grain, grain_seed)
    else:
        canvas = Image.new("RGBA", (w * ss, h * ss), (0, 0, 0, 0))
        for shape in scene.shapes:
            _shape_over(canvas, shape, ss)
        if ss > 1:
            canvas = canvas.reduce(ss)
        if scene.clip:
            _clip_alpha(canvas, scene.clip)
    for block in scene.texts:
        _text(canvas, block)
    return canvas


def _draft(scene: Scene, k: float) -> Image.Image:
    """``scene`` drawn at ``k`` times its size (0 < k < 1): every coordinate scaled, text too small to read
    drawn as its panel only."""
    w, h = max(1, round(scene.width * k)), max(1, round(scene.height * k))
    bg = scene.background
    if bg is not None:
        glow = bg.glow and (bg.glow[0] * k, bg.glow[1] * k, max(1e-3, bg.glow[2] * k), bg.glow[3])
        canvas = Image.fromarray(background(replace(bg, glow=glow), w, h), "RGB")
        draw = ImageDraw.Draw(canvas, "RGBA")
        for shape in scene.shapes:
            _shape(draw, shape, k)
    else:
        canvas = Image.new("RGBA", (w, h), (0, 0, 0, 0))
        for shape in scene.shapes:
            _shape_over(canvas, shape, k)
        if scene.clip:
            x0, y0, x1, y1 = scene.clip
            _clip_alpha(canvas, (x0 * k, y0 * k, x1 * k, y1 * k))
    for block in scene.texts:
        x0, y0, x1, y1 = block.box
        small = replace(block, size=max(1, round(block.size * k)), x=block.x * k, y=block.y * k,
                        line_height=block.line_height * k, box=(x0 * k, y0 * k, x1 * k, y1 * k),
                        radius=block.radius * k, lines=block.lines if block.size * k >= 6 else ())
        _text(canvas, small)
    return canvas


def background(bg: Background, w: int, h: int) -> np.ndarray:
    top, bottom = np.array(bg.top, np.float32), np.array(bg.bottom, np.float32)
    if bg.bands or bg.glow is None:
        y = (np.arange(h, dtype=np.float32) + 0.5) / h
        if bg.bands:
            y = np.floor(y * bg.bands) / max(1, bg.bands - 1)
        rows = (top * (1 - y[:, None]) + bottom * y[:, None]).round().astype(np.uint8)
        return np.ascontiguousarray(np.broadcast_to(rows[:, None, :], (h, w, 3)))
    # Smooth gradient with a glow: computed at a quarter of the size, then upscaled (it is smooth).
    sw, sh = max(2, w // 4), max(2, h // 4)
    y = ((np.arange(sh, dtype=np.float32) + 0.5) / sh)[:, None, None]
    arr = top * (1 - y) + bottom * y
    arr = np.broadcast_to(arr, (sh, sw, 3)).copy()
    cx, cy, r, colour = bg.glow
    yy, xx = np.mgrid[0:sh, 0:sw].astype(np.float32)
    d2 = ((xx + 0.5) * w / sw - cx) ** 2 + ((yy + 0.5) * h / sh - cy) ** 2
    wgt = (0.55 * np.exp(-d2 / (r * r)))[..., None]
    arr = arr * (1 - wgt) + np.array(colour, np.float32) * wgt
    small = Image.fromarray(arr.round().clip(0, 255).astype(np.uint8), "RGB")
    return np.asarray(small.resize((w, h), Image.Resampling.BILINEAR))


def _grain(im: Image.Image, amount: int, seed: int) -> Image.Image:
    rng = np.random.default_rng(seed)
    noise = rng.integers(-amount, amount + 1, (im.height, im.width, 1), dtype=np.int16)
    arr = np.asarray(im, dtype=np.int16) + noise
    return Image.fromarray(arr.clip(0, 255).astype(np.uint8), "RGB")


def _clip_alpha(im: Image.Image, clip: tuple[float, float, float, float]) -> None:
    x0, y0, x1, y1 = (int(round(v)) for v in clip)
    clear = (0, 0, 0, 0)
    w, h = im.size
    for box in ((0, 0, w, y0), (0, y1, w, h), (0, 0, x0, h), (x1, 0, w, h)):
        if box[2] > box[0] and box[3] > box[1]:
            im.paste(clear, box)


def _bbox(shape: Shape) -> tuple[float, float, float, float]:
    if isinstance(shape, Polygon):
        xs = [p[0] for p in shape.points]
        ys = [p[1] for p in shape.points]
        return min(xs), min(ys), max(xs), max(ys)
    if isinstance(shape, Rect):
        return shape.x0, shape.y0, shape.x1, shape.y1
    return shape.cx - shape.rx, shape.cy - shape.ry, shape.cx + shape.rx, shape.cy + shape.ry


def _shape(draw: ImageDraw.ImageDraw, shape: Shape, ss: float, ox: float = 0.0, oy: float = 0.0) -> None:
    if isinstance(shape, Polygon):
        pts = [((x - ox) * ss, (y - oy) * ss) for x, y in shape.points]
        if len(pts) >= 3:
            draw.polygon(pts, fill=shape.fill)
        return
    x0, y0, x1, y1 = _bbox(shape)
    left, top = (x0 - ox) * ss, (y0 - oy) * ss
    box = [left, top, max(left, (x1 - ox) * ss - 1), max(top, (y1 - oy) * ss - 1)]
    if isinstance(shape, Ellipse):
        draw.ellipse(box, fill=shape.fill)
    elif isinstance(shape, Ring):
        draw.ellipse(box, outline=shape.colour, width=max(1, round(shape.width * ss)))
    elif shape.radius > 0:
        draw.rounded_rectangle(box, radius=shape.radius * ss, fill=shape.fill)
    else:
        draw.rectangle(box, fill=shape.fill)


def _shape_over(canvas: Image.Image, shape: Shape, ss: float) -> None:
    """Draw ``shape`` over an RGBA canvas with proper alpha compositing (ImageDraw alone replaces alpha)."""
    alpha = shape.colour[3] if isinstance(shape, Ring) else shape.fill[3]
    if alpha == 255:
        _shape(ImageDraw.Draw(canvas), shape, ss)
        return
    x0, y0, x1, y1 = _bbox(shape)
    bx0, by0 = max(0, int(x0 * ss) - 1), max(0, int(y0 * ss) - 1)
    bx1, by1 = min(canvas.width, int(x1 * ss) + 2), min(canvas.height, int(y1 * ss) + 2)
    if bx1 <= bx0 or by1 <= by0:
        return
    sub = Image.new("RGBA", (bx1 - bx0, by1 - by0), (0, 0, 0, 0))
    _shape(ImageDraw.Draw(sub), shape, ss, bx0 / ss, by0 / ss)
    canvas.alpha_composite(sub, dest=(bx0, by0))


def _text(canvas: Image.Image, block: TextBlock) -> None:
    x0, y0, x1, y1 = block.box
    if canvas.mode == "RGB":
        target, ox, oy = canvas, 0, 0
    else:  # translucent panel over transparency: draw on a patch, then composite it
        ox, oy = max(0, int(x0)), max(0, int(y0))
        right, bottom = min(canvas.width, int(x1) + 2), min(canvas.height, int(y1) + 2)
        if right <= ox or bottom <= oy:
            return
        target = Image.new("RGBA", (right - ox, bottom - oy), (0, 0, 0, 0))
    draw = ImageDraw.Draw(target, "RGBA")
    draw.rounded_rectangle([x0 - ox, y0 - oy, max(x0, x1 - 1) - ox, max(y0, y1 - 1) - oy], radius=block.radius,
                           fill=block.panel)
    f = font(block.size)
    for i, line in enumerate(block.lines):
        draw.text((block.x - ox, block.y - oy + i * block.line_height), line, font=f, fill=block.ink)
    if target is not canvas:
        canvas.alpha_composite(target, dest=(ox, oy))


# --- SVG -----------------------------------------------------------------------------------------

def _num(v: float) -> str:
    s = f"{v:.1f}"
    return s[:-2] if s.endswith(".0") else s


def _paint(rgba: tuple[int, int, int, int], attr: str = "fill") -> str:
    colour = f'{attr}="#{rgba[0]:02x}{rgba[1]:02x}{rgba[2]:02x}"'
    return colour if rgba[3] == 255 else f'{colour} {attr}-opacity="{rgba[3] / 255:.3f}"'


def _svg_shape(shape: Shape) -> str:
    if isinstance(shape, Polygon):
        pts = " ".join(f"{_num(x)},{_num(y)}" for x, y in shape.points)
        return f'<polygon points="{pts}" {_paint(shape.fill)}/>'
    if isinstance(shape, Rect):
        rx = f' rx="{_num(shape.radius)}"' if shape.radius else ""
        return (f'<rect x="{_num(shape.x0)}" y="{_num(shape.y0)}" width="{_num(shape.x1 - shape.x0)}" '
                f'height="{_num(shape.y1 - shape.y0)}"{rx} {_paint(shape.fill)}/>')
    if isinstance(shape, Ring):
        return (f'<ellipse cx="{_num(shape.cx)}" cy="{_num(shape.cy)}" rx="{_num(shape.rx - shape.width / 2)}" '
                f'ry="{_num(shape.ry - shape.width / 2)}" fill="none" stroke-width="{_num(shape.width)}" '
                f'{_paint(shape.colour, "stroke")}/>')
    if shape.rx == shape.ry:
        return f'<circle cx="{_num(shape.cx)}" cy="{_num(shape.cy)}" r="{_num(shape.rx)}" {_paint(shape.fill)}/>'
    return (f'<ellipse cx="{_num(shape.cx)}" cy="{_num(shape.cy)}" rx="{_num(shape.rx)}" ry="{_num(shape.ry)}" '
            f'{_paint(shape.fill)}/>')


def to_svg(scene: Scene, prompt: str, embedded_png: bytes | None = None) -> bytes:
    """An SVG document of the scene; ``embedded_png`` (edits, variations) is placed under the shapes."""
    w, h = scene.width, scene.height
    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
           f'width="{w}" height="{h}" viewBox="0 0 {w} {h}">',
           f"<title>{escape(_xml_safe(prompt))}</title>",
           f"<desc>Drawn by the {SOFTWARE}. Prompt: {escape(_xml_safe(prompt))}</desc>",
           f"<metadata>Software: {SOFTWARE}</metadata>", "<defs>"]
    bg = scene.background
    if bg is not None:
        out.append('<linearGradient id="sky" x1="0" y1="0" x2="0" y2="1">')
        if bg.bands:
            for k in range(bg.bands):
                c = tuple(round(a + (b - a) * k / max(1, bg.bands - 1)) for a, b in zip(bg.top, bg.bottom))
                out.append(f'<stop offset="{k / bg.bands:.4f}" stop-color="#{c[0]:02x}{c[1]:02x}{c[2]:02x}"/>')
                out.append(f'<stop offset="{(k + 1) / bg.bands:.4f}" stop-color="#{c[0]:02x}{c[1]:02x}{c[2]:02x}"/>')
        else:
            out.append(f'<stop offset="0" stop-color="#{bg.top[0]:02x}{bg.top[1]:02x}{bg.top[2]:02x}"/>')
            out.append(f'<stop offset="1" stop-color="#{bg.bottom[0]:02x}{bg.bottom[1]:02x}{bg.bottom[2]:02x}"/>')
        out.append("</linearGradient>")
        if bg.glow:
            c = bg.glow[3]
            out.append('<radialGradient id="glow">' + "".join(
                f'<stop offset="{o}" stop-color="#{c[0]:02x}{c[1]:02x}{c[2]:02x}" stop-opacity="{a}"/>'
                for o, a in ((0, 0.55), (0.25, 0.43), (0.5, 0.2), (0.75, 0.05), (1, 0))) + "</radialGradient>")
    if scene.clip:
        x0, y0, x1, y1 = scene.clip
        out.append(f'<clipPath id="clip"><rect x="{_num(x0)}" y="{_num(y0)}" width="{_num(x1 - x0)}" '
                   f'height="{_num(y1 - y0)}"/></clipPath>')
    out.append("</defs>")
    if bg is not None:
        out.append(f'<rect width="{w}" height="{h}" fill="url(#sky)"/>')
        if bg.glow:
            cx, cy, r, _ = bg.glow
            out.append(f'<circle cx="{_num(cx)}" cy="{_num(cy)}" r="{_num(2 * r)}" fill="url(#glow)"/>')
    if embedded_png is not None:
        import base64
        href = "data:image/png;base64," + base64.b64encode(embedded_png).decode("ascii")
        out.append(f'<image x="0" y="0" width="{w}" height="{h}" xlink:href="{href}" href="{href}"/>')
    out.append('<g clip-path="url(#clip)">' if scene.clip else "<g>")
    out.extend(_svg_shape(s) for s in scene.shapes)
    out.append("</g>")
    for block in scene.texts:
        out.append(_svg_text(block))
    out.append("</svg>")
    return ("\n".join(out) + "\n").encode("utf-8")


def _svg_text(block: TextBlock) -> str:
    x0, y0, x1, y1 = block.box
    face = font(block.size)
    # Pillow without FreeType has a bitmap font with no metrics: its ascent is about the size
    ascent = face.getmetrics()[0] if isinstance(face, ImageFont.FreeTypeFont) else block.size * 0.8
    parts = [f'<g><rect x="{_num(x0)}" y="{_num(y0)}" width="{_num(x1 - x0)}" height="{_num(y1 - y0)}" '
             f'rx="{_num(block.radius)}" {_paint(block.panel)}/>']
    for i, line in enumerate(block.lines):
        y = block.y + i * block.line_height + ascent
        parts.append(f'<text x="{_num(block.x)}" y="{_num(y)}" font-family="Aileron, Helvetica, Arial, sans-serif" '
                     f'font-size="{block.size}" {_paint(block.ink)}>{escape(_xml_safe(line))}</text>')
    return "".join(parts) + "</g>"


def _xml_safe(text: str) -> str:
    """Drop characters XML 1.0 cannot carry (control characters, lone surrogates)."""
    return "".join(ch for ch in text if ch in "\t\n\r" or (" " <= ch <= "\ud7ff") or ("\ue000" <= ch <= "\ufffd")
                   or ch >= "\U00010000")

