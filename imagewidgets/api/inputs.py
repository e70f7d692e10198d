"""Input images: what a request (or a pinned reference) carries as a picture, in any form it was given.

``ImageInput.coerce`` takes what users have — a path, bytes, a PIL image, a numpy array, an
``ImageResult``, a Files API id, a URL — and keeps the encoded bytes (or the id/URL) with their
format. Requests (``requests``) and pins (``pins``) hold them; the wire encodes them.

    >>> from imagewidgets.api.inputs import ImageInput
    >>> ImageInput.coerce("file-abc123").kind
    'file_id'
"""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass
from typing import Any

from .images import ImageLike, image_bytes

__all__ = ["ImageInput", "coerce_images"]


@dataclass(frozen=True)
class ImageInput:
    """One input image: encoded bytes, a Files API id, a URL (or data URL), or an image-generation call id."""

    data: bytes | None = None
    format: str | None = None
    file_id: str | None = None
    url: str | None = None
    call_id: str | None = None
    name: str = "image.png"

    @classmethod
    def coerce(cls, value: ImageLike | "ImageInput", param: str = "image") -> "ImageInput":
        """Accept a path, bytes, PIL image, numpy array, ImageResult, MaskPainter, ``file-…`` id,
        ``ig_…`` call id, ``http(s)://`` or ``data:`` URL."""
        if isinstance(value, ImageInput):
            return value
        if isinstance(value, str):
            if value.startswith(("http://", "https://", "data:")):
                return cls(url=value, name=value.rsplit("/", 1)[-1][:64] or "image")
            if value.startswith("file-") and not os.path.exists(value):
                return cls(file_id=value)
            if value.startswith("ig_") and not os.path.exists(value):
                return cls(call_id=value)
        data, fmt = image_bytes(value, param)
        ext = "jpg" if fmt == "jpeg" else fmt
        base = os.path.basename(str(value)) if isinstance(value, (str, os.PathLike)) else f"image.{ext}"
        return cls(data=data, format=fmt, name=base)

    @property
    def kind(self) -> str:
        return "bytes" if self.data is not None else "file_id" if self.file_id else "url" if self.url else "call"

    @property
    def mime(self) -> str:
        from .images import MIME_TYPES

        return MIME_TYPES.get(self.format or "png", "application/octet-stream")

    def data_url(self) -> str:
        """A ``data:`` URL of the bytes (or the URL given)."""
        if self.url:
            return self.url
        assert self.data is not None
        return f"data:{self.mime};base64,{base64.b64encode(self.data).decode()}"

    def size(self) -> tuple[int, int] | None:
        """(width, height) when the bytes are a raster image, else None (no full decode)."""
        if self.data is None or self.format == "svg":
            return None
        import io

        from PIL import Image

        try:
            with Image.open(io.BytesIO(self.data)) as im:
                return im.size
        except Exception:
            return None

    def fingerprint(self) -> str:
        """A stable identity for replay: the bytes' hash, or the id/URL."""
        if self.data is not None:
            return "sha256:" + hashlib.sha256(self.data).hexdigest()
        return self.file_id or self.url or self.call_id or ""

    def __repr__(self) -> str:
        what = f"{len(self.data)} bytes {self.format}" if self.data is not None else (
            self.file_id or self.call_id or (self.url[:40] + "…" if self.url and len(self.url) > 40 else self.url)
        )
        return f"ImageInput({what})"


def coerce_images(value: Any, param: str) -> tuple[ImageInput, ...]:
    """One image or a list of them (``images=``, ``input_images=``) as a tuple of ``ImageInput``."""
    if value is None:
        return ()
    if isinstance(value, (list, tuple)):
        return tuple(ImageInput.coerce(v, f"{param}[{i}]") for i, v in enumerate(value))
    return (ImageInput.coerce(value, param),)
