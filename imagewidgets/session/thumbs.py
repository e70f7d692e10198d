"""Thumbnails of stored images, cached on disk by content hash, so views of big sessions (history,
lineage, gallery, export) never decode an original twice.

    <store>/thumbs/<size>/<sha256>.jpg    (.png where the image has transparency)

A thumbnail is made once per image and size, whichever session or turn shows it (a replayed
turn shares its source's image, and so its thumbnail).
"""

from __future__ import annotations

import base64
import functools
import io
import re
from dataclasses import dataclass
from pathlib import Path

from ..api.results import atomic_write

__all__ = ["Thumb", "make_thumbnail", "thumbnail"]

_SHA = re.compile(r"^[0-9a-f]{64}$")
_EXT = {"jpeg": "jpg", "png": "png"}


@dataclass(frozen=True)
class Thumb:
    """A thumbnail's bytes, format (``png``, ``jpeg`` or ``svg+xml``) and size (read from the
    bytes on first use when not known: a cache hit costs one file read)."""

    data: bytes
    format: str
    known_size: tuple[int, int] | None = None
    path: Path | None = None  # the cache file, when it is one

    @functools.cached_property
    def size(self) -> tuple[int, int]:
        if self.known_size is not None:
            return self.known_size
        from PIL import Image

        with Image.open(io.BytesIO(self.data)) as im:
            return im.size

    @property
    def width(self) -> int:
        return self.size[0]

    @property
    def height(self) -> int:
        return self.size[1]

    @property
    def mime(self) -> str:
        return f"image/{self.format}"

    def data_url(self) -> str:
        return f"data:{self.mime};base64,{base64.b64encode(self.data).decode()}"


def make_thumbnail(data: bytes, fmt: str, size: int, width: int = 0, height: int = 0) -> Thumb:
    """A small copy of encoded image bytes: PNG where there is transparency, JPEG otherwise;
    SVG stays SVG (a browser scales vectors itself)."""
    if fmt == "svg":
        w, h = width or size, height or size
        scale = size / max(w, h)
        return Thumb(data, "svg+xml", (max(1, round(w * scale)), max(1, round(h * scale))))
    from PIL import Image

    im: Image.Image
    with Image.open(io.BytesIO(data)) as im:
        im.draft("RGB", (size, size))  # JPEG: decode at a reduced scale, much faster
        im = im.convert("RGBA") if im.mode in ("RGBA", "LA", "PA", "P") else im.convert("RGB")
        im.thumbnail((size, size))
        out = io.BytesIO()
        if im.mode == "RGBA" and im.getchannel("A").getextrema()[0] < 255:  # type: ignore[operator]
            im.save(out, "PNG", optimize=True)
            kind = "png"
        else:
            im.convert("RGB").save(out, "JPEG", quality=85)
            kind = "jpeg"
        return Thumb(out.getvalue(), kind, (im.width, im.height))


def thumbnail(folder: Path, row: dict, size: int) -> Thumb | None:
    """The thumbnail of the image an index row describes (``path``, ``sha256``, ``format``),
    read from ``folder/thumbs`` or made and written there. None when the original is gone."""
    sha, fmt = str(row.get("sha256") or ""), str(row.get("format") or "")
    if fmt == "svg" or not _SHA.match(sha):  # nothing to cache, or a hash we would not trust in a path
        data = _read(_inside(folder, str(row.get("path") or "")))
        return None if data is None else make_thumbnail(data, fmt, size, row.get("width") or 0,
                                                        row.get("height") or 0)
    cache = folder / "thumbs" / str(int(size))
    for kind, ext in _EXT.items():
        hit = cache / f"{sha}.{ext}"
        try:
            return Thumb(hit.read_bytes(), kind, path=hit)
        except FileNotFoundError:
            continue
    data = _read(_inside(folder, str(row.get("path") or "")))
    if data is None:
        return None
    try:
        made = make_thumbnail(data, fmt, size)
    except Exception:  # bytes PIL cannot read: no thumbnail rather than no view
        return None
    path = atomic_write(cache / f"{sha}.{_EXT[made.format]}", made.data)
    return Thumb(made.data, made.format, made.size, path)


def _inside(folder: Path, rel: str) -> Path | None:
    """``folder/rel`` when it stays inside ``folder`` (an index row is data, not a path to trust)."""
    if not rel:
        return None
    path = (folder / rel).resolve()
    return path if path.is_relative_to(folder.resolve()) else None


def _read(path: Path | None) -> bytes | None:
    if path is None:
        return None
    try:
        return path.read_bytes()
    except OSError:
        return None
