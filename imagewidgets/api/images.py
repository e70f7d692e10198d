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

__all__ = ["sniff_format", "inspect_image", "load_image", "to_png_bytes", "image_bytes", "ImageLike", "MIME_TYPES",
           "MAX_INPUT_PIXELS"]

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


#: The most pixels an input image (reference, mask, imported picture) may declare. Far above what
#: the API works on (it scales inputs down) and far below a decompression bomb: a PNG of a few
#: kilobytes that declares 30000x30000 pixels would need gigabytes once decoded.
MAX_INPUT_PIXELS = 6000 * 6000


def inspect_image(data: bytes, param: str = "image", *, max_pixels: int = MAX_INPUT_PIXELS) -> tuple[str, int, int]:
    """``(format, width, height)`` of encoded image bytes that really decode; else ``ParamError``
    naming ``param``. The header is read first, so a decompression bomb is refused before any
    pixel is decoded; then the whole image is decoded, so a truncated or corrupt file is refused
    here rather than deep inside whoever uses it. SVG is text: it is checked for being SVG only."""
    fmt = sniff_format(data)
    if fmt is None:
        raise ParamError(param, f"<{len(data)} bytes>", "a PNG, JPEG, WebP or GIF image", hint="not an image")
    if fmt == "svg":
        return fmt, 0, 0
    import warnings

    from PIL import Image

    too_many = ParamError(param, f"<{fmt} image>", f"at most {max_pixels // 1_000_000} million pixels",
                          hint="the image declares more pixels than an input may have")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Pillow's own bomb warning: our budget is lower and raises below
            with Image.open(io.BytesIO(data)) as im:
                width, height = im.size
                if width * height > max_pixels:
                    raise too_many
                im.load()
    except ParamError:
        raise
    except Image.DecompressionBombError:  # so many pixels that Pillow refuses to open it at all
        raise too_many from None
    except Exception as e:  # Pillow's errors for broken files are many (OSError, SyntaxError, ValueError...)
        raise ParamError(param, f"<{len(data)} bytes {fmt}>", f"a complete, decodable {fmt.upper()} image",
                         hint=f"the image could not be decoded: {type(e).__name__}") from None
    return fmt, width, height


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
