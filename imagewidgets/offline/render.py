"""The offline backend's procedural renderer: deterministic pictures drawn from a prompt's words.

No model is involved. The palette comes from colour and mood words, shapes from nouns, and the
prompt itself is written on the picture, with a small "imagewidgets offline renderer" label and
``Software`` metadata saying so. Same spec, same bytes, in any process.

    render(spec, edit=None)               -> one encoded image
    iter_frames(spec, partials, edit)     -> coarse-to-fine partial frames, then the final image, one by one
    render_frames(spec, partials, edit)   -> (the partial frames, the final image)
    render_variation(spec, image)         -> a variation of ``image``
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

from PIL import Image

from ._draw import SOFTWARE, rasterize, to_svg
from ._edit import EditMaker, VariationMaker
from ._encode import encode_gif, encode_still, gif_duration
from ._pins import pinned_maker
from ._prompt import read_prompt, seed
from ._scene import QUALITY_LEVEL, build_scene, supersample

__all__ = ["RenderSpec", "EditInputs", "render", "render_frames", "iter_frames", "render_variation", "SOFTWARE",
           "FORMATS", "QUALITIES", "gif_duration"]

FORMATS = ("png", "jpeg", "webp", "gif", "svg")
QUALITIES = tuple(QUALITY_LEVEL)
MAX_SIDE = 8192


@dataclass(frozen=True)
class RenderSpec:
    prompt: str
    width: int
    height: int
    quality: str = "medium"  # low | medium | high | xhigh | max | standard | hd ("auto" is resolved by the caller)
    output_format: str = "png"  # png | jpeg | webp | gif | svg
    output_compression: int | None = None  # 0-100, only jpeg/webp (None = 100)
    background: str = "opaque"  # "transparent" | "opaque"
    index: int = 0  # which of the n images in one request: each index is a different picture
    frame_count: int = 9  # gif only, 2-16
    frame_duration_ms: int = 200  # gif only (GIF stores 10 ms steps)
    style: str | None = None  # dall-e-3 "vivid" | "natural" (vivid = more saturated)
    pictures: str = "drawn"  # "realistic": with grain, files the size of the API's (see _grain)


@dataclass(frozen=True)
class EditInputs:
    images: tuple[bytes, ...]  # encoded reference images (png/jpeg/webp); the first is the base
    mask: bytes | None = None  # PNG with alpha; alpha == 0 marks where to edit; same size as the first image
    mask_strict: bool = False  # True (dall-e-2): pixels where mask alpha > 0 are kept exactly
    input_fidelity: str | None = None  # "high" keeps more of the first image than "low"/None
    markup: bytes | None = None  # transparent PNG sketch over the first image: the edit follows its strokes


def render(spec: RenderSpec, edit: EditInputs | None = None) -> bytes:
    """One encoded image (or animated GIF, or SVG document) for ``spec``."""
    _check(spec)
    return _encode(spec, _maker(spec, edit))


def render_frames(spec: RenderSpec, partials: int, edit: EditInputs | None = None) -> tuple[list[bytes], bytes]:
    """`partials` (0-3) coarse-to-fine partial frames, then the final image (see :func:`iter_frames`)."""
    *frames, final = iter_frames(spec, partials, edit)
    return frames, final


def iter_frames(spec: RenderSpec, partials: int, edit: EditInputs | None = None) -> Iterator[bytes]:
    """The partial frames, coarsest first, then the final image, each encoded as soon as it is drawn.

    Partial frame k is the picture drawn at a fraction of the size (1/32, 1/16, 1/8 for three)
    and enlarged block by block, so it costs a few milliseconds and can be sent long before the
    final image exists; finer drafts come closer to the final. The final equals ``render(spec,
    edit)`` byte for byte.
    """
    _check(spec)
    if not 0 <= partials <= 3:
        raise ValueError(f"partials must be 0-3, got {partials}")
    if spec.output_format in ("gif", "svg"):
        if partials:
            raise ValueError(f"{spec.output_format} output has no partial frames")
        yield _encode(spec, _maker(spec, edit))
        return
    maker = _maker(spec, edit)
    for k in range(partials):
        block = min(2 ** (3 + partials - 1 - k), spec.width, spec.height)
        draft = maker.draft(1 / block).resize((spec.width, spec.height), Image.Resampling.NEAREST)
        yield _still(spec, draft, 0)
    yield _still(spec, maker.frame(0.0), QUALITY_LEVEL[spec.quality], _chain(maker))


def render_variation(spec: RenderSpec, image: bytes) -> bytes:
    """A variation of ``image``: recoloured, re-framed, with procedural accents; different per ``spec.index``."""
    _check(spec)
    return _encode(spec, VariationMaker(spec, image))


class _Generation:
    """Frames of a generation: ``frame(t)`` rasters at animation time t, ``svg()`` the vector document."""

    def __init__(self, spec: RenderSpec) -> None:
        self.spec = spec
        self.reading = read_prompt(spec.prompt, spec.style)
        self.level = QUALITY_LEVEL[spec.quality]

    def scene(self, t: float):
        s = self.spec
        return build_scene(self.reading, s.prompt, s.width, s.height, level=self.level, index=s.index,
                           transparent=s.background == "transparent", t=t, grain=s.output_format != "gif")

    def frame(self, t: float) -> Image.Image:
        s = self.spec
        return rasterize(self.scene(t), supersample(self.level, s.width, s.height), seed("grain", s.prompt, s.index))

    @property
    def chain(self) -> tuple[str, ...]:
        return (self.spec.prompt,)

    def draft(self, scale: float) -> Image.Image:
        """The still at ``scale`` times its size: a cheap early frame."""
        return rasterize(self.scene(0.0), scale=scale)

    def svg(self) -> bytes:
        return to_svg(self.scene(0.0), self.spec.prompt)


def _maker(spec: RenderSpec, edit: EditInputs | None):
    pinned = pinned_maker(spec, edit, _plain_maker)  # the pin instruction's images are kept (_pins.py)
    return pinned if pinned is not None else _plain_maker(spec, edit)


def _plain_maker(spec: RenderSpec, edit: EditInputs | None):
    return _Generation(spec) if edit is None else EditMaker(spec, edit)


def _encode(spec: RenderSpec, maker) -> bytes:
    fmt = spec.output_format
    if fmt == "svg":
        return maker.svg()
    if fmt == "gif":
        return encode_gif([maker.frame(k / spec.frame_count) for k in range(spec.frame_count)], spec.frame_duration_ms)
    return _still(spec, maker.frame(0.0), QUALITY_LEVEL[spec.quality], _chain(maker))


def _still(spec: RenderSpec, im: Image.Image, level: int, turns: tuple[str, ...] = ()) -> bytes:
    """A still encoded at quality ``level``; in "realistic" mode with the grain of real pictures
    (a partial frame at the final's level: the API's partials are as big as its finals)."""
    if spec.pictures == "realistic":
        from ._grain import add_grain

        im = add_grain(im, QUALITY_LEVEL[spec.quality], spec.index)
    return encode_still(im, spec.output_format, spec.output_compression, level, turns)


def _chain(maker) -> tuple[str, ...]:
    """The prompts the picture was made from (kept in its metadata for the next edit's caption)."""
    chain = getattr(maker, "chain", ())
    return tuple(p for p in chain if p.strip())


def _check(spec: RenderSpec) -> None:
    """Refuse what the renderer cannot honour; the caller validates requests, this guards the contract."""
    problems = []
    if not (1 <= spec.width <= MAX_SIDE and 1 <= spec.height <= MAX_SIDE):
        problems.append(f"size {spec.width}x{spec.height} (each side 1-{MAX_SIDE})")
    if spec.quality not in QUALITY_LEVEL:
        problems.append(f"quality {spec.quality!r} (one of {', '.join(QUALITY_LEVEL)}; resolve 'auto' first)")
    if spec.output_format not in FORMATS:
        problems.append(f"output_format {spec.output_format!r} (one of {', '.join(FORMATS)})")
    if spec.output_compression is not None and not 0 <= spec.output_compression <= 100:
        problems.append(f"output_compression {spec.output_compression} (0-100)")
    if spec.background not in ("transparent", "opaque"):
        problems.append(f"background {spec.background!r} (transparent or opaque; resolve 'auto' first)")
    if spec.background == "transparent" and spec.output_format == "jpeg":
        problems.append("a transparent background in jpeg (jpeg has no alpha: use png or webp)")
    if spec.output_format == "gif" and not 2 <= spec.frame_count <= 16:
        problems.append(f"frame_count {spec.frame_count} (2-16)")
    if spec.output_format == "gif" and spec.frame_duration_ms <= 0:
        problems.append(f"frame_duration_ms {spec.frame_duration_ms} (positive)")
    if spec.pictures not in ("drawn", "realistic"):
        problems.append(f"pictures {spec.pictures!r} (drawn or realistic)")
    if spec.style not in (None, "vivid", "natural"):
        problems.append(f"style {spec.style!r} (vivid, natural or None)")
    if problems:
        raise ValueError("cannot render: " + "; ".join(problems))
