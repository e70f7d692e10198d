"""Previews: what a notebook output embeds in place of the original image.

A 1024x1024 PNG from the API weighs 1.5-2.5 MB; thirty of them make a notebook git and JupyterLab
handle badly. An image's output therefore carries a WebP preview (longest side 768 px by
default), the original stays in the store, and the output's metadata names it (content hash,
store-relative path) so packs and tools can find it.

    >>> import imagewidgets as iw
    >>> iw.set_preview("webp:1024")      # sharper previews       # doctest: +SKIP
    >>> iw.set_preview("full")           # embed the originals    # doctest: +SKIP
    %imagine a fox --preview full        # one call (magics)

``IMAGEWIDGETS_PREVIEW`` (same spelling) sets the default for a process, e.g. in CI.
"""

from __future__ import annotations

import io
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from .config import settings
from .errors import ParamError

__all__ = ["Preview", "PreviewImage", "make_preview", "preview_settings", "set_preview"]

_FORMATS = ("webp", "jpeg", "png")
_MIN_SIDE, _MAX_SIDE = 16, 8192


@dataclass(frozen=True)
class Preview:
    """How image outputs are embedded: ``format`` webp (default), jpeg or png at most ``max_side``
    pixels on the longest side, or ``full`` (the original bytes, as before previews)."""

    format: str = "webp"
    max_side: int = 768
    quality: int = 90  # WebP/JPEG quality: 38+ dB at notebook width on photo-like images (bench_previews.py)

    @property
    def full(self) -> bool:
        return self.format == "full"

    def __str__(self) -> str:
        return "full" if self.full else f"{self.format}:{self.max_side}"

    @classmethod
    def parse(cls, spec: "str | int | Preview | None") -> "Preview":
        """``"full"``, a format (``"webp"``), a longest side (``768``) or both (``"webp:1024"``)."""
        if isinstance(spec, Preview):
            return spec
        if spec is None:
            return cls()
        text = str(spec).strip().lower()
        if text in ("full", "original", "none"):
            return cls(format="full")
        fmt, _, side = text.partition(":")
        if fmt.isdigit() and not side:
            fmt, side = "webp", fmt
        fmt = "jpeg" if fmt == "jpg" else fmt
        allowed = "full, webp, jpeg or png, a longest side in pixels (e.g. 768), or both (webp:1024)"
        if fmt not in _FORMATS:
            raise ParamError("preview", spec, allowed)
        if not side:
            return cls(format=fmt)
        if not side.isdigit() or not _MIN_SIDE <= int(side) <= _MAX_SIDE:
            raise ParamError("preview", spec, f"a longest side from {_MIN_SIDE} to {_MAX_SIDE} px; {allowed}")
        return cls(format=fmt, max_side=int(side))


@dataclass(frozen=True)
class PreviewImage:
    """The bytes an output embeds; ``original`` when they are the image itself (no smaller preview)."""

    data: bytes
    format: str
    width: int
    height: int
    original: bool = False


_lock = threading.Lock()
_CACHE: "OrderedDict[tuple[str, Preview], PreviewImage]" = OrderedDict()
_CACHE_MAX = 256  # previews of 768 px are 20-150 KB
#: and at most this many bytes of them: a long session's outputs do not pile up in memory (an
#: original kept as its own preview, when no smaller one exists, counts whole)
_CACHE_BYTES = 16 * 2**20


def preview_settings() -> Preview:
    """The preview in force: ``set_preview``'s (kept in the one settings object, ``api/config.py``),
    else ``$IMAGEWIDGETS_PREVIEW``, else webp at 768 px."""
    current = settings.get("preview")
    if isinstance(current, Preview):
        return current
    env = os.environ.get("IMAGEWIDGETS_PREVIEW")
    try:
        return Preview.parse(env) if env else Preview()
    except ParamError:
        return Preview()  # a bad variable must not break every output; set_preview reports it


def set_preview(spec: "str | int | Preview | None") -> Preview:
    """Set how image outputs are embedded (``None``: back to the default). Returns the setting."""
    settings.update(preview=None if spec is None else Preview.parse(spec))
    return preview_settings()


def make_preview(image: Any, preview: Preview, key: str) -> PreviewImage:
    """The preview of ``image`` (an ImageResult) under ``preview``, cached by content hash ``key``.

    The original is used as it is when it is not a raster PIL can shrink (svg, animated gif), when
    ``preview.full``, or when the preview would not be smaller than it."""
    original = PreviewImage(image.data, image.format, image.width, image.height, original=True)
    if preview.full or image.format == "svg" or (image.format == "gif" and _animated(image.data)):
        return original
    with _lock:
        hit = _CACHE.get((key, preview))
        if hit is not None:
            _CACHE.move_to_end((key, preview))
            return hit
    made = _encode(image.data, preview)
    result = made if made is not None and len(made.data) < len(image.data) else original
    with _lock:
        _CACHE[(key, preview)] = result
        while len(_CACHE) > 1 and (len(_CACHE) > _CACHE_MAX
                                   or sum(len(p.data) for p in _CACHE.values()) > _CACHE_BYTES):
            _CACHE.popitem(last=False)
    return result


def _animated(data: bytes) -> bool:
    from PIL import Image

    with Image.open(io.BytesIO(data)) as im:
        return getattr(im, "n_frames", 1) > 1


def _encode(data: bytes, preview: Preview) -> PreviewImage | None:
    from PIL import Image

    im: Image.Image
    try:
        with Image.open(io.BytesIO(data)) as im:
            im.draft("RGB", (preview.max_side, preview.max_side))  # JPEG: decode at a reduced scale
            alpha = im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info)
            im = im.convert("RGBA" if alpha else "RGB")
            im.thumbnail((preview.max_side, preview.max_side), Image.Resampling.LANCZOS)
            if alpha and preview.format == "jpeg":  # jpeg has no alpha: keep it with png
                fmt = "png"
            else:
                fmt = preview.format
            out = io.BytesIO()
            if fmt == "webp":
                im.save(out, "WEBP", quality=preview.quality, method=4)
            elif fmt == "jpeg":
                im.save(out, "JPEG", quality=preview.quality, optimize=True)
            else:
                im.save(out, "PNG", optimize=True)
            return PreviewImage(out.getvalue(), fmt, im.width, im.height)
    except Exception:  # bytes PIL cannot read: the output shows the original as before
        return None
