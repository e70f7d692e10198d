"""The mask contract: one set of rules for every path that sends a mask or a markup sketch.

The Image API's ``mask`` and ``markup``, and the Responses tool's ``input_image_mask``, are
checked here before any request, by the client, the session (and so the magics and the studio)
and the offline server alike:

- the mask is a PNG with an alpha channel, the size of the image it edits (after that image's
  EXIF orientation) -- a ``MaskPainter`` made on another picture is refused with both sizes;
- it has at least one transparent pixel (alpha 0 marks "edit here"): an opaque mask means
  "nothing may change", a paid call that cannot do anything, so it is a ``ParamError``;
- a mask transparent everywhere warns (``MaskWarning``): the whole image may change.

Markup follows the same rules (a sketch opaque everywhere would hide the picture; one with
nothing drawn guides nothing, and warns).

    >>> check_mask(ImageInput.coerce(painter), ImageInput.coerce(s.current.image), "gpt-image-2")  # doctest: +SKIP
"""

from __future__ import annotations

import io
from typing import Any

from ._warn import warn
from .errors import ParamError

__all__ = ["MaskWarning", "check_mask", "oriented_size", "alpha_extrema"]

#: EXIF orientations that turn the picture a quarter turn (its width and height swap)
_QUARTER_TURNS = (5, 6, 7, 8)
_EXIF_ORIENTATION = 0x0112


class MaskWarning(UserWarning):
    """A mask or markup that is allowed but probably not what was meant (transparent everywhere)."""


def oriented_size(img: Any) -> tuple[int, int] | None:
    """(width, height) of an ``ImageInput``'s bytes as they are shown, i.e. after the EXIF
    orientation is applied; None when there are no raster bytes (ids, URLs, svg)."""
    if img is None or getattr(img, "data", None) is None or getattr(img, "format", None) == "svg":
        return None
    from PIL import Image

    try:
        with Image.open(io.BytesIO(img.data)) as im:
            w, h = im.size
            # a PNG's EXIF may sit after its pixels: Pillow would decode them all to look, so only
            # an EXIF chunk seen in the header counts (JPEG and WebP keep EXIF in the header)
            if im.format == "PNG" and "exif" not in im.info:
                orientation = None
            else:
                orientation = im.getexif().get(_EXIF_ORIENTATION)
    except Exception:
        return None
    return (h, w) if orientation in _QUARTER_TURNS else (w, h)


def alpha_extrema(data: bytes) -> tuple[int, int] | None:
    """(lowest, highest) alpha of encoded image bytes, or None when the image has no alpha channel."""
    from PIL import Image

    with Image.open(io.BytesIO(data)) as im:
        has_alpha = im.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in im.info
        if not has_alpha:
            return None
        channel = im.getchannel("A") if im.mode in ("RGBA", "LA") else im.convert("RGBA").getchannel("A")
        lo, hi = channel.getextrema()  # one band: (min, max); no conversion for RGBA/LA (every edit checks one)
        return int(lo), int(hi)  # type: ignore[arg-type]  # one band's extrema are numbers


_FIX = {
    "mask": ("paint where the edit should go (alpha 0 = edit here; MaskPainter: brush or rectangle), "
             "or leave out the mask to let the whole image change"),
    "markup": "draw the sketch on a transparent layer (MaskPainter in markup mode: painter.markup)",
}


def check_mask(mask: Any, first: Any, model: str | None, param: str = "mask") -> None:
    """Raise ``ParamError`` when ``mask`` (an ``ImageInput``) breaks the contract for the image
    ``first`` it edits (an ``ImageInput``, or None when the caller cannot know it: then only the
    mask itself is checked); warn ``MaskWarning`` when it is allowed but likely a mistake.

    ``param`` is ``"mask"`` or ``"markup"``."""
    if mask is None or mask.data is None:
        return  # a file id or URL: the server checks it
    kind = "markup" if param.startswith("markup") else "mask"
    if mask.format != "png":
        raise ParamError(param, f"<{mask.format} image>", "a PNG with an alpha channel", model=model,
                         hint=f"the {kind} must be a PNG")
    try:
        extrema = alpha_extrema(mask.data)
    except Exception as e:
        raise ParamError(param, "<unreadable PNG>", "a PNG with an alpha channel", model=model,
                         hint=f"the {kind} could not be decoded: {type(e).__name__}") from None
    msize = oriented_size(mask)
    if extrema is None:
        raise ParamError(param, f"<PNG {msize[0]}x{msize[1]} without alpha>" if msize else "<PNG without alpha>",
                         "a PNG with an alpha channel", model=model,
                         hint=f"alpha 0 marks where to edit; the {kind} has no alpha channel")
    fsize = oriented_size(first)
    if fsize and msize and fsize != msize:
        raise ParamError(
            param, f"<{msize[0]}x{msize[1]} {kind}>", f"a {fsize[0]}x{fsize[1]} {kind}", model=model,
            hint=(f"the {kind} must be the same size as the first image: the {kind} is {msize[0]}x{msize[1]}, "
                  f"the image it edits is {fsize[0]}x{fsize[1]}; a MaskPainter must be made on the image "
                  "being edited, e.g. MaskPainter(s.current.image)"))
    low, high = extrema
    if low > 0:
        what = "nothing may change" if kind == "mask" else "the sketch would cover the whole picture"
        raise ParamError(param, f"<{kind} opaque everywhere>", f"a {kind} with at least one transparent pixel",
                         model=model, hint=f"the {kind} has no transparent pixel, so {what}; {_FIX[kind]}")
    if high == 0:
        text = ("the mask is transparent everywhere: the whole image may change (as with no mask); "
                "paint only where the edit should go" if kind == "mask" else
                "the markup has nothing drawn: the edit is not guided by it")
        warn(text, MaskWarning)

