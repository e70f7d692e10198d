"""Did a masked edit stay inside its mask? Measure it, show it, and optionally put the outside back.

GPT image models treat a mask as guidance: pixels outside it may change. These helpers work on
encoded image bytes (what the API returns and the store keeps):

    >>> change = outside_mask_change(parent_png, result_png, mask_png)   # doctest: +SKIP
    >>> change.share, change.mean_diff       # 0.031 of the outside pixels changed; mean |diff| 1.7
    >>> kept = keep_outside(parent_png, result_png, mask_png, feather=8)  # parent's pixels outside
    >>> heat = diff_heatmap(parent_png, result_png)                       # PNG: where they differ

A mask's alpha 0 marks "edit here"; every other pixel is "outside".
"""

from __future__ import annotations

import io
from dataclasses import asdict, dataclass

import numpy as np

__all__ = ["DIFF_THRESHOLD", "OutsideChange", "outside_mask_change", "keep_outside", "diff_heatmap"]

#: a pixel "changed" when a channel differs by more than this (of 255): above JPEG/WebP noise,
#: below anything a person would see as an edit
DIFF_THRESHOLD = 12


@dataclass(frozen=True)
class OutsideChange:
    """How much of the picture outside the mask an edit changed.

    ``share``: the fraction (0-1) of outside pixels whose largest channel difference exceeds
    ``threshold``; ``mean_diff``: the mean absolute difference there (0-255, all channels);
    ``pixels``: how many pixels are outside the mask."""

    share: float
    mean_diff: float
    threshold: int = DIFF_THRESHOLD
    pixels: int = 0

    def to_dict(self) -> dict:
        return asdict(self)

    def __str__(self) -> str:
        return f"{self.share:.1%} of the outside changed (mean |diff| {self.mean_diff:.1f})"


def _rgba(data: bytes, size: tuple[int, int] | None = None, mode: str = "RGBA"):
    from PIL import Image, ImageOps

    im: Image.Image
    with Image.open(io.BytesIO(data)) as im:
        im = ImageOps.exif_transpose(im).convert(mode)
    if size is not None and im.size != size:
        im = im.resize(size, Image.Resampling.LANCZOS)
    return im


def _edit_here(mask: bytes, size: tuple[int, int]) -> np.ndarray:
    """A bool map of the mask's "edit here" pixels (alpha 0), at ``size``."""
    from PIL import Image

    alpha = _rgba(mask).getchannel("A")
    if alpha.size != size:
        alpha = alpha.resize(size, Image.Resampling.NEAREST)
    return np.asarray(alpha) == 0


def outside_mask_change(parent: bytes, result: bytes, mask: bytes, threshold: int = DIFF_THRESHOLD) -> OutsideChange:
    """Compare ``result`` with ``parent`` outside ``mask`` (all three encoded images). When the
    result has another size, the parent and the mask are scaled to it first."""
    from PIL import ImageChops

    res = _rgba(result, mode="RGB")
    par = _rgba(parent, res.size, mode="RGB")
    outside = ~_edit_here(mask, res.size)
    count = int(np.count_nonzero(outside))
    if count == 0:
        return OutsideChange(0.0, 0.0, threshold, 0)
    diff = np.asarray(ImageChops.difference(res, par))  # |a - b| per channel, uint8, computed in C
    per_pixel = diff.sum(axis=2, dtype=np.uint16)  # at most 765
    changed = int(np.count_nonzero((diff.max(axis=2) > threshold) & outside))
    total = int(per_pixel[outside].sum(dtype=np.int64))
    return OutsideChange(round(changed / count, 6), round(total / (3 * count), 4), threshold, count)


def keep_outside(parent: bytes, result: bytes, mask: bytes, feather: int = 0) -> bytes:
    """``result`` with the parent's pixels put back outside ``mask``, encoded as ``result`` was.

    ``feather`` (pixels) softens the seam *inside* the mask: the edit fades in over that band,
    so the pixels outside the mask stay the parent's exactly (for png and webp lossless; jpeg
    re-encodes)."""
    from PIL import Image, ImageFilter

    from .images import sniff_format

    res = _rgba(result)
    par = _rgba(parent, res.size)
    inside = Image.fromarray((_edit_here(mask, res.size) * 255).astype(np.uint8), "L")
    if feather and feather > 0:
        # erode by ``feather`` px (a pixel stays when its whole box is inside: a box blur of 255),
        # then blur: the seam fades in over the band; both filters cost the same at any width
        shrunk = inside.filter(ImageFilter.BoxBlur(int(feather))).point(lambda v: 255 if v >= 255 else 0)
        soft = shrunk.filter(ImageFilter.GaussianBlur(feather / 2))
        weight = np.minimum(np.asarray(soft), np.asarray(inside))  # nothing leaks outside the mask
        inside = Image.fromarray(weight.astype(np.uint8), "L")
    out = Image.composite(res, par, inside)
    fmt = sniff_format(result) or "png"
    buf = io.BytesIO()
    if fmt == "jpeg":
        out.convert("RGB").save(buf, "JPEG", quality=95)
    elif fmt == "webp":
        out.save(buf, "WEBP", lossless=True)
    else:
        keep_alpha = np.asarray(out.getchannel("A")).min() < 255
        (out if keep_alpha else out.convert("RGB")).save(buf, "PNG")
    return buf.getvalue()


def diff_heatmap(before: bytes, after: bytes, mask: bytes | None = None, threshold: int = DIFF_THRESHOLD) -> bytes:
    """A PNG of ``after`` in grey with the pixels that differ from ``before`` in heat colours
    (yellow to red as the difference grows); with ``mask``, its edit area is outlined in cyan."""
    from PIL import Image, ImageFilter

    aft = _rgba(after)
    bef = _rgba(before, aft.size)
    diff = np.abs(np.asarray(aft, dtype=np.int16)[..., :3] - np.asarray(bef, dtype=np.int16)[..., :3]).max(axis=2)
    grey = np.asarray(aft.convert("L"), dtype=np.float32)[..., None] * np.ones(3, np.float32) * 0.6 + 40
    strength = np.clip(diff.astype(np.float32) / 96, 0, 1)[..., None]
    heat = np.stack([np.full(diff.shape, 255.0), 230 * (1 - strength[..., 0]), np.zeros(diff.shape)], axis=-1)
    hot = (diff > threshold)[..., None]
    alpha = np.where(hot, 0.3 + 0.45 * strength, 0.0)  # the picture stays visible under the heat
    out = grey * (1 - alpha) + heat * alpha
    if mask is not None:
        region = Image.fromarray((_edit_here(mask, aft.size) * 255).astype(np.uint8), "L")
        edge = np.asarray(region.filter(ImageFilter.FIND_EDGES)) > 0
        edge = np.asarray(Image.fromarray((edge * 255).astype(np.uint8)).filter(ImageFilter.MaxFilter(3))) > 0
        out[edge] = (0, 200, 255)
    buf = io.BytesIO()
    Image.fromarray(out.round().clip(0, 255).astype(np.uint8), "RGB").save(buf, "PNG")
    return buf.getvalue()
