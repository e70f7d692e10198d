"""What ``Session.extend`` sends: the current image on a larger canvas and the mask of the new area
(``api/outpaint`` does the pixels), or the canvas a ``MaskPainter``'s "extend" control made.

    >>> s.extend(size="1536x1024", anchor="left")        # the picture stays on the left  # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

from ..api.errors import ParamError
from ..api.outpaint import extend_canvas, plan_extend
from ..api.results import ImageResult

__all__ = ["extend_inputs"]


def extend_inputs(base: ImageResult, model: str, *, left: int = 0, right: int = 0, top: int = 0, bottom: int = 0,
                  size: str | None = None, anchor: str | None = None, mask: Any = None) -> tuple[list, Any, str]:
    """(images, mask, canvas size) of the edit that extends ``base``; the size is checked against
    ``model``'s row of the model table before anything is sent."""
    origin = getattr(mask, "extended_from", None) if mask is not None else None
    if origin is not None:  # a MaskPainter extended in the notebook: its canvas, its painting
        if tuple(origin) != (base.width, base.height):
            raise ParamError("mask", f"<painter extended from {origin[0]}x{origin[1]}>",
                             f"a painter extended from the current {base.width}x{base.height} image",
                             hint="make the painter on the image you extend: MaskPainter(s.current.image)")
        canvas = mask.image
        new_size = f"{canvas.width}x{canvas.height}"
        plan_extend((base.width, base.height), model=model, size=new_size)  # a size the model makes?
        return [canvas], mask, new_size
    plan = plan_extend((base.width, base.height), model=model, size=size, anchor=anchor,
                       left=left, right=right, top=top, bottom=bottom)
    canvas_png, mask_png = extend_canvas(base.data, plan)
    return [canvas_png], mask_png, plan.size
