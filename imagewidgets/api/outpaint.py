"""Outpainting: put an image on a larger canvas of a size the model accepts, and make the mask of
the new area, so an edit can continue the picture outwards.

    >>> plan = plan_extend((1024, 1024), model="gpt-image-2", right=512)      # doctest: +SKIP
    >>> plan.size, plan.box                 # ('1536x1024', (0, 0, 1024, 1024)): the old image's place
    >>> canvas, mask = extend_canvas(png_bytes, plan)    # RGBA PNGs: transparent / alpha 0 in the new area

``anchor`` names where the old image sits on the new canvas: ``left`` (new area on the right),
``right``, ``top``, ``bottom``, ``center``, or a corner (``top-left`` ...).
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from .errors import ParamError
from .models import get_model, parse_size

__all__ = ["ANCHORS", "ExtendPlan", "plan_extend", "extend_canvas", "extend_sizes"]

ANCHORS = ("center", "left", "right", "top", "bottom", "top-left", "top-right", "bottom-left", "bottom-right")


@dataclass(frozen=True)
class ExtendPlan:
    """Where the old image goes on the new canvas: ``size`` ("WxH") and ``box`` (x0, y0, x1, y1)."""

    size: str
    box: tuple[int, int, int, int]

    @property
    def wh(self) -> tuple[int, int]:
        w, h = parse_size(self.size)  # type: ignore[misc]
        return w, h

    @property
    def margins(self) -> dict[str, int]:
        w, h = self.wh
        x0, y0, x1, y1 = self.box
        return {"left": x0, "top": y0, "right": w - x1, "bottom": h - y1}


def _split(extra: int, where: str, start: str, end: str) -> tuple[int, int]:
    """(before, after) of ``extra`` pixels: all after when anchored at ``start``, all before at ``end``."""
    if start in where:
        return 0, extra
    if end in where:
        return extra, 0
    return extra // 2, extra - extra // 2


def plan_extend(image_size: tuple[int, int], *, model: str | None = None, size: str | None = None,
                anchor: str | None = None, left: int = 0, right: int = 0, top: int = 0,
                bottom: int = 0) -> ExtendPlan:
    """The new canvas for an image of ``image_size``: ``size`` with ``anchor`` (default center), or
    margins (``left=512``...). The size must be one ``model`` accepts (the model table says which)."""
    w, h = image_size
    for name, v in (("left", left), ("right", right), ("top", top), ("bottom", bottom)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise ParamError(name, v, "a whole number of pixels, 0 or more")
    if size is not None:
        if left or right or top or bottom:
            raise ParamError("size", size, "either a size with an anchor, or margins (left=, right=, top=, bottom=)")
        wh = parse_size(size)
        if wh is None:
            raise ParamError("size", size, "WxH, e.g. 1536x1024")
        anchor = anchor or "center"
        if anchor not in ANCHORS:
            raise ParamError("anchor", anchor, ", ".join(ANCHORS))
        if wh[0] < w or wh[1] < h or wh == (w, h):
            raise ParamError("size", size, f"a size larger than the image ({w}x{h}) in at least one side and "
                             "smaller in none", hint="extending makes the canvas bigger")
        left, right = _split(wh[0] - w, anchor, "left", "right")
        top, bottom = _split(wh[1] - h, anchor, "top", "bottom")
    elif anchor is not None:
        raise ParamError("anchor", anchor, "an anchor together with a size", hint="margins already say where")
    if not (left or right or top or bottom):
        raise ParamError("extend", "nothing", "a size, or margins left=, right=, top=, bottom=",
                         hint="say how far to extend the picture")
    new = f"{w + left + right}x{h + top + bottom}"
    spec = get_model(model) if model else None
    if spec is not None:
        reason = spec.size_error(new)
        if reason:
            fits = extend_sizes(image_size, spec.name)
            raise ParamError("size", new, ", ".join(fits) if fits else "none larger than the image",
                             model=spec.name, hint=f"the extended canvas must be a size {spec.name} makes: {reason}")
    return ExtendPlan(new, (left, top, left + w, top + h))


def extend_sizes(image_size: tuple[int, int], model: str) -> list[str]:
    """The table's sizes of ``model`` an image of ``image_size`` can be extended to (for pickers)."""
    spec = get_model(model)
    if spec is None:
        return []
    w, h = image_size
    out = []
    for s in spec.sizes:
        wh = parse_size(s)
        if wh and wh[0] >= w and wh[1] >= h and wh != (w, h):
            out.append(s)
    if spec.free_size:  # and the doubled sides, which the free rule takes when they fit
        for s in (f"{w * 2}x{h}", f"{w}x{h * 2}", f"{w + w // 2}x{h}", f"{w}x{h + h // 2}"):
            if s not in out and spec.size_error(s) is None:
                out.append(s)
    return out


def extend_canvas(image: bytes, plan: ExtendPlan) -> tuple[bytes, bytes]:
    """(canvas PNG, mask PNG): the image in ``plan.box`` on a transparent canvas; the mask is alpha 0
    (edit here) in the new area and opaque over the old image."""
    from PIL import Image, ImageOps

    im: Image.Image
    with Image.open(io.BytesIO(image)) as im:
        im = ImageOps.exif_transpose(im).convert("RGBA")
    canvas = Image.new("RGBA", plan.wh, (0, 0, 0, 0))
    canvas.paste(im, plan.box[:2])
    mask = Image.new("RGBA", plan.wh, (0, 0, 0, 0))
    mask.paste((0, 0, 0, 255), plan.box)
    out = []
    for picture in (canvas, mask):
        buf = io.BytesIO()
        picture.save(buf, "PNG")
        out.append(buf.getvalue())
    return out[0], out[1]
