"""Turn whatever a user holds (a path, bytes, a PIL image, a numpy array, a result) into image bytes.

    >>> from imagewidgets.images import load_image, to_png_bytes
    >>> img = load_image("cat.png")          # doctest: +SKIP
    >>> png = to_png_bytes(img)              # doctest: +SKIP
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

from .errors import ParamError

__all__ = ["sniff_format", "load_image", "to_png_bytes", "image_bytes", "ImageLike", "MIME_TYPES"]

#: Anything the package accepts where an image is expected.
ImageLike = Any  # str | os.PathLike | bytes | PIL.Image.Image | numpy.ndarray | ImageResult | MaskPainter

MIME_TYPES = {
    "png": "image/png",
    "jpeg": "image/jpeg",
    "webp": "image/webp",
    "gif": "image/gif",
    "svg": "image/svg+xml",
}


def sniff_format(data: bytes) -> str | None:
    """The format of encoded image bytes from their magic number: png, jpeg, webp, gif, svg or None."""
    head = data[:64]
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    stripped = data[:512].lstrip()
    if stripped.startswith(b"<svg") or (stripped.startswith(b"<?xml") and b"<svg" in data[:2048]):
        return "svg"
    return None


def _as_pil(value: Any):
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - pillow is a dependency
        return None
    return value if isinstance(value, Image.Image) else None


def image_bytes(value: ImageLike, param: str = "image") -> tuple[bytes, str]:
    """Encoded bytes and their format for ``value``; PIL images and arrays are encoded as PNG.

    Raises ``ParamError`` naming ``param`` when the value is not an image.
    """
    # objects of ours that carry an image: ImageResult (.data) and MaskPainter (.mask)
    for attr in ("mask_png", "data"):
        inner = getattr(value, attr, None)
        if isinstance(inner, (bytes, bytearray)):
            value = bytes(inner)
            break
    if isinstance(value, (bytes, bytearray, memoryview)):
        data = bytes(value)
        fmt = sniff_format(data)
        if fmt is None:
            raise ParamError(param, f"<{len(data)} bytes>", "encoded PNG, JPEG, WebP or GIF image bytes")
        return data, fmt
    if isinstance(value, (str, os.PathLike)):
        path = Path(value).expanduser()
        if not path.is_file():
            raise ParamError(param, str(value), "a path to an existing image file", hint="no such file")
        data = path.read_bytes()
        fmt = sniff_format(data)
        if fmt is None:
            raise ParamError(param, str(value), "a PNG, JPEG, WebP or GIF file", hint="the file is not an image")
        return data, fmt
    pil = _as_pil(value)
    if pil is not None:
        return to_png_bytes(pil), "png"
    if type(value).__module__ == "numpy" and hasattr(value, "shape"):
        from PIL import Image

        return to_png_bytes(Image.fromarray(value)), "png"
    raise ParamError(
        param,
        type(value).__name__,
        "a path, bytes, a PIL image, a numpy array or an ImageResult",
    )


def load_image(value: ImageLike, param: str = "image"):
    """A PIL image for ``value`` (see :func:`image_bytes` for what is accepted)."""
    pil = _as_pil(value)
    if pil is not None:
        return pil
    from PIL import Image

    data, fmt = image_bytes(value, param)
    if fmt == "svg":
        raise ParamError(param, "<svg>", "a raster image (PNG, JPEG, WebP or GIF)")
    img = Image.open(io.BytesIO(data))
    img.load()
    return img


def to_png_bytes(img) -> bytes:
    """PNG bytes of a PIL image (alpha kept)."""
    buf = io.BytesIO()
    if img.mode not in ("RGB", "RGBA", "L", "LA", "P", "1"):
        img = img.convert("RGBA")
    img.save(buf, format="PNG")
    return buf.getvalue()
