"""Edits and variations: pictures made from the caller's images plus procedural content.

Edits follow the API's semantics: a mask's transparent pixels (alpha 0) are where new content
goes; a markup sketch's strokes say where and in which colours; without either, the first image
is the base and the other reference images appear as inset tiles.
"""

from __future__ import annotations

import hashlib
import io
import math

import numpy as np
from PIL import Image, ImageFilter, ImageOps

from ._draw import background, rasterize, to_svg
from ._encode import read_turns
from ._motifs import SCENERY
from ._prompt import BLACK, GENERIC_MOTIFS, WHITE, Reading, Subject, mix, read_prompt, seed
from ._scene import QUALITY_LEVEL, build_scene, supersample
from ._shapes import Background, Scene


def decode(data: bytes, what: str = "image") -> Image.Image:
    """Decode an input image to RGBA (EXIF rotation applied); a clear ValueError if it is not one."""
    im: Image.Image
    try:
        im = Image.open(io.BytesIO(data))
        im = ImageOps.exif_transpose(im)
        im.load()
    except Exception as exc:  # Pillow raises several types for bad input
        raise ValueError(f"the {what} could not be decoded as an image: {exc}") from exc
    return im.convert("RGBA")


def _fit(im: Image.Image, width: int, height: int, method=Image.Resampling.LANCZOS) -> Image.Image:
    if im.size == (width, height):
        return im
    return ImageOps.fit(im, (width, height), method)


def _has_alpha(im: Image.Image) -> bool:
    low, _high = im.getchannel("A").getextrema()  # one band: (min, max)
    return bool(low < 255)  # type: ignore[operator]


def _gray_blur(arr: np.ndarray, radius: float) -> np.ndarray:
    """Gaussian blur of a [0, 1] float map (through Pillow, fast at any radius)."""
    im = Image.fromarray((arr * 255).round().astype(np.uint8), "L").filter(ImageFilter.GaussianBlur(radius))
    return np.asarray(im, dtype=np.float32) / 255


class EditMaker:
    """Frames of one edit: ``frame(t)`` for rasters, ``svg()`` for the vector format, ``draft(k)`` for a
    cheap early frame at ``k`` times the size."""

    def __init__(self, spec, edit, scale: float = 1.0, images: list[Image.Image] | None = None) -> None:
        if not edit.images:
            raise ValueError("an edit needs at least one image")
        self.spec, self.edit, self.scale = spec, edit, scale
        w, h = max(1, round(spec.width * scale)), max(1, round(spec.height * scale))
        self.s = min(w, h)
        self.images = images or [decode(b, f"image {i}") for i, b in enumerate(edit.images)]
        base = _fit(self.images[0], w, h, Image.Resampling.LANCZOS if scale == 1.0 else Image.Resampling.BOX)
        self.base = np.asarray(base)
        self.refs = self.images[1:]
        #: when the mask opens onto transparent canvas (outpainting): how far each pixel is from the
        #: old picture (0 at it, 1 far off), where the scene is continued; else None
        self.outpaint: np.ndarray | None = None
        self.high = edit.input_fidelity == "high"
        self.strict = edit.mask_strict
        self.reading = read_prompt(spec.prompt, spec.style)
        self.turns = read_turns(edit.images[0])
        self.region = None  # float weight of new content, (h, w, 1)
        self.focus = None  # where the new subjects go, in the spec's coordinates
        self._under: Image.Image | None = None  # backdrop of new content, made once per edit
        if edit.mask is not None:
            mask = decode(edit.mask, "mask").getchannel("A")
            if mask.size != (w, h):
                mask = mask.resize((w, h), Image.Resampling.NEAREST)
            edit_here = (np.asarray(mask) == 0).astype(np.float32)
            self.focus = _box(edit_here, 1 / scale)
            hole = (self.base[..., 3] == 0) & (edit_here > 0.5)
            if hole.any() and (self.base[..., 3] > 0).any():
                self.base, self.outpaint = continue_scene(self.base, hole, self.s)
            if not self.strict:  # gpt-image: the mask guides, the border blends
                edit_here = np.maximum(edit_here, _gray_blur(edit_here, self.s * (0.008 if self.high else 0.015)))
            self.region = edit_here[..., None]
        self.rgba = spec.background == "transparent" or bool((self.base[..., 3] < 255).any())
        self.markup = None
        if edit.markup is not None:
            self.markup = self._markup(decode(edit.markup, "markup"), w, h)
            self.focus = self.focus or _box(self.markup[0][..., 0] > 0.5, 1 / scale)

    @property
    def chain(self) -> tuple[str, ...]:
        """The prompts of the picture this edit makes: the base's, then this one."""
        return (*self.turns, self.spec.prompt)

    def draft(self, scale: float) -> Image.Image:
        return EditMaker(self.spec, self.edit, scale, self.images).frame(0.0)

    def _markup(self, sketch: Image.Image, w: int, h: int) -> tuple[np.ndarray, np.ndarray]:
        """Where the strokes reach (weight) and what colour they lend (tint), both blurred outward."""
        if sketch.size != (w, h):
            sketch = sketch.resize((w, h), Image.Resampling.NEAREST)
        arr = np.asarray(sketch, dtype=np.float32) / 255
        alpha = arr[..., 3]
        radius = max(2.0, self.s * 0.03)
        spread = _gray_blur(alpha, radius)
        premult = Image.fromarray((arr[..., :3] * alpha[..., None] * 255).round().astype(np.uint8), "RGB")
        colour = np.asarray(premult.filter(ImageFilter.GaussianBlur(radius)), dtype=np.float32) / 255
        tint = colour / np.maximum(spread, 1e-3)[..., None]
        weight = np.clip(np.maximum(alpha, spread * 2.5), 0, 1)
        return weight[..., None], np.clip(tint, 0, 1) * 255

    def _content(self, t: float) -> np.ndarray:
        """New content for the edited area: the prompt's shapes over the base washed into the prompt's sky."""
        spec = self.spec
        scene = build_scene(self.reading, spec.prompt, spec.width, spec.height, level=_level(spec), index=spec.index,
                            transparent=True, t=t, label=False, caption=False, focus=self.focus)
        layer = self._raster(Scene(scene.width, scene.height, None, scene.shapes, (), None))
        if self._under is None:
            h, w = self.base.shape[:2]
            sky = background(Background(*self.reading.sky), w, h).astype(np.float32)
            under = self.base.astype(np.float32)
            # an edit repaints its area in the prompt's sky; outpainting continues the scene, the
            # prompt's sky coming in only far from the old picture, so the seam does not show
            wash = 0.7 if self.outpaint is None else (0.5 * self.outpaint)[..., None]
            under[..., :3] = under[..., :3] * (1 - wash) + sky * wash
            if spec.background == "transparent":
                under[..., 3] = 0
            self._under = Image.fromarray(under.round().astype(np.uint8), "RGBA")
        return np.asarray(Image.alpha_composite(self._under, layer))

    def frame(self, t: float) -> Image.Image:
        if self.region is None and self.markup is None:
            out = self._compose(t)
        else:
            base = self.base
            content = self._content(t)
            if self.region is not None:
                if self.strict:  # dall-e-2: kept pixels are the input's, exactly
                    out = np.where(self.region > 0.5, content, base)
                else:
                    out = (base * (1 - self.region) + content * self.region).round().astype(np.uint8)
            else:
                out = base
            if self.markup is not None:
                weight, tint = self.markup
                guided = content.astype(np.float32)
                guided[..., :3] = guided[..., :3] * 0.45 + tint * 0.55
                out = (out * (1 - weight) + guided * weight).round().astype(np.uint8)
        return Image.fromarray(np.ascontiguousarray(out if self.rgba else out[..., :3]), "RGBA" if self.rgba else "RGB")

    def _compose(self, t: float) -> np.ndarray:
        """No mask: the first image, washed towards the prompt's sky, the prompt's shapes over it, refs as tiles."""
        spec = self.spec
        wash, opacity = (0.08, 0.45) if self.high else (0.3, 0.9)
        base = self.base.astype(np.float32)
        base[..., :3] = base[..., :3] * (1 - wash) + np.array(self.reading.sky[0], np.float32) * wash
        canvas = Image.fromarray(base.round().astype(np.uint8), "RGBA")
        # An edit that names a thing adds it; the scenery it names ("on the water") says where.
        scenery = not any(subj.motif not in SCENERY for subj in self.reading.subjects)
        scene = build_scene(self.reading, spec.prompt, spec.width, spec.height, level=_level(spec), index=spec.index,
                            transparent=True, t=t, turns=self.turns, scenery=scenery,
                            cutout=spec.background == "transparent")
        layer = self._raster(Scene(scene.width, scene.height, None, scene.shapes, (), None))
        a = np.asarray(layer.getchannel("A"), dtype=np.float32) * opacity
        layer.putalpha(Image.fromarray(a.round().astype(np.uint8), "L"))
        canvas.alpha_composite(layer)
        self._tiles(canvas)
        # the caption strip at full opacity, over the earlier one: it lists the earlier turns too
        canvas.alpha_composite(self._raster(Scene(scene.width, scene.height, None, (), scene.texts, None), 1))
        return np.asarray(canvas)

    def _raster(self, scene: Scene, supersample: int | None = None) -> Image.Image:
        if self.scale != 1.0:
            return rasterize(scene, scale=self.scale)
        return rasterize(scene, _supersample(self.spec) if supersample is None else supersample)

    def _tiles(self, canvas: Image.Image) -> None:
        if not self.refs:
            return
        n = len(self.refs)
        size = max(8, round(self.s * (0.18 if self.high else 0.22) / (1 if n <= 3 else 1.4)))
        gap = max(2, round(self.s * 0.02))
        per_col = max(1, (canvas.height - gap) // (size + gap))
        for i, ref in enumerate(self.refs):
            col, row = divmod(i, per_col)
            x = canvas.width - (col + 1) * (size + gap)
            y = gap + row * (size + gap)
            if x < 0:
                break
            frame = Image.new("RGBA", (size, size), (255, 255, 255, 255))
            border = max(1, size // 40)
            frame.alpha_composite(_fit(ref, size - 2 * border, size - 2 * border), dest=(border, border))
            canvas.alpha_composite(frame, dest=(x, y))

    def svg(self) -> bytes:
        return _embedded_svg(self.spec, self.frame(0.0))


class VariationMaker:
    """A variation: the source recoloured and re-framed, with a few procedural accents over it."""

    def __init__(self, spec, image: bytes) -> None:
        self.spec = spec
        w, h = spec.width, spec.height
        digest = hashlib.sha256(image).hexdigest()
        self.key = f"variation:{digest}:{spec.prompt}"
        src = decode(image)
        self.rgba = spec.background == "transparent" or _has_alpha(src)
        rng = np.random.default_rng(seed(self.key, spec.index))
        zoom = rng.uniform(1.01, 1.05)
        cx, cy = rng.uniform(0.46, 0.54, 2)
        angle = rng.choice([-1.0, 1.0]) * rng.uniform(0.45, 1.3)
        sat = rng.uniform(0.95, 1.3)
        # Crop a slightly zoomed window of the target's aspect, centred near the middle.
        sw, sh = src.size
        cw, ch = (sw, sw * h / w) if sw / sh < w / h else (sh * w / h, sh)
        cw, ch = cw / zoom, ch / zoom
        x0 = min(max(cx * sw - cw / 2, 0), sw - cw)
        y0 = min(max(cy * sh - ch / 2, 0), sh - ch)
        framed = src.resize((w, h), Image.Resampling.LANCZOS, box=(x0, y0, x0 + cw, y0 + ch))
        arr = np.asarray(framed, dtype=np.float32)
        arr[..., :3] = _rotate_hue(arr[..., :3], angle, sat)
        self.base = arr.round().clip(0, 255).astype(np.uint8)
        small = Image.fromarray(self.base[..., :3], "RGB").resize((64, 64), Image.Resampling.BOX)
        pal = small.quantize(4, method=Image.Quantize.MEDIANCUT).getpalette() or [128, 128, 128]
        found = [(pal[i], pal[i + 1], pal[i + 2]) for i in range(0, min(12, len(pal) // 3 * 3), 3)]
        found = (found * 4)[:4]  # a plain picture quantizes to fewer than four colours
        palette = tuple(mix(c, WHITE if sum(c) < 384 else BLACK, 0.35) for c in found)
        kinds = rng.choice(len(GENERIC_MOTIFS), 2, replace=False)
        subjects = tuple(Subject(f"accent{k}", GENERIC_MOTIFS[int(m)]) for k, m in enumerate(kinds))
        self.reading = Reading((), subjects, palette, (palette[0], palette[1]))

    def frame(self, t: float) -> Image.Image:
        spec = self.spec
        scene = build_scene(self.reading, self.key, spec.width, spec.height, level=_level(spec), index=spec.index,
                            transparent=True, t=t, caption=False)
        layer = rasterize(Scene(scene.width, scene.height, None, scene.shapes, (), None), _supersample(spec))
        a = np.asarray(layer.getchannel("A"), dtype=np.float32) * 0.5  # accents are translucent
        layer.putalpha(Image.fromarray(a.round().astype(np.uint8), "L"))
        label = rasterize(Scene(scene.width, scene.height, None, (), scene.texts, None))
        canvas = Image.fromarray(self.base, "RGBA")
        canvas.alpha_composite(layer)
        canvas.alpha_composite(label)
        return canvas if self.rgba else canvas.convert("RGB")

    def svg(self) -> bytes:
        return _embedded_svg(self.spec, self.frame(0.0))


def continue_scene(base: np.ndarray, hole: np.ndarray, s: int) -> tuple[np.ndarray, np.ndarray]:
    """``base`` (RGBA) with its transparent ``hole`` pixels filled by continuing the picture: the old
    image's edge pixels carried outwards (bands of sky, sea and ground go on), softer the farther
    from it; and the distance map (0 at the old image, 1 far away) for washing in the new prompt.
    Every other pixel is kept as it is, so a strict mask keeps the old area exact."""
    ys, xs = np.nonzero(base[..., 3] > 0)
    x0, x1, y0, y1 = xs.min(), xs.max() + 1, ys.min(), ys.max() + 1
    h, w = base.shape[:2]
    carried = np.pad(base[y0:y1, x0:x1], ((y0, h - y1), (x0, w - x1), (0, 0)), mode="edge").astype(np.float32)
    soft = np.asarray(Image.fromarray(carried.round().astype(np.uint8), "RGBA")
                      .filter(ImageFilter.GaussianBlur(max(2.0, s * 0.04))), dtype=np.float32)
    yy, xx = np.mgrid[0:h, 0:w]
    away = np.maximum(np.maximum(x0 - xx, xx - (x1 - 1)), np.maximum(y0 - yy, yy - (y1 - 1))).clip(0)
    fade = np.clip(away / max(1.0, s * 0.2), 0, 1).astype(np.float32)
    filled = carried * (1 - fade[..., None]) + soft * fade[..., None]
    out = base.copy()
    out[hole] = filled[hole].round().clip(0, 255).astype(np.uint8)
    out[hole, 3] = 255
    return out, fade


def _box(region: np.ndarray, k: float = 1.0) -> tuple[float, float, float, float] | None:
    """Bounding box of the true/positive pixels of a 2-D map (times ``k``), or None if there are none."""
    ys, xs = np.nonzero(region > 0.5)
    if len(xs) == 0:
        return None
    return float(xs.min()) * k, float(ys.min()) * k, float(xs.max() + 1) * k, float(ys.max() + 1) * k


def _rotate_hue(rgb: np.ndarray, angle: float, sat: float) -> np.ndarray:
    """Rotate chroma in YIQ space: brightness (Y) is kept, so the picture stays recognisable."""
    to_yiq = np.array([[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]], np.float32)
    ca, sa = math.cos(angle) * sat, math.sin(angle) * sat
    turn = np.array([[1, 0, 0], [0, ca, -sa], [0, sa, ca]], np.float32)
    m = np.linalg.inv(to_yiq) @ turn @ to_yiq
    return np.clip(rgb @ m.T.astype(np.float32), 0, 255)


def _embedded_svg(spec, image: Image.Image) -> bytes:
    """SVG for edits and variations: the raster result embedded (their content is pixels)."""
    buf = io.BytesIO()
    image.save(buf, "PNG", compress_level=6)
    return to_svg(Scene(spec.width, spec.height, None, (), (), None), spec.prompt, embedded_png=buf.getvalue())


def _level(spec) -> int:
    return QUALITY_LEVEL[spec.quality]


def _supersample(spec) -> int:
    return supersample(_level(spec), spec.width, spec.height)
