"""A masked edit's fidelity check, and ``keep_outside_mask``: the session's part of ``api/fidelity``.

Every masked edit's images get ``outside_mask_change`` (how much changed outside the mask). With
``keep_outside_mask=True`` the turn's image becomes the parent's pixels outside the mask and the
edit's inside (``feather`` px of soft seam inside the mask), and the API's own image is kept
beside it (``result.raw``): the paid bytes are never lost.

    >>> s.edit("a pond", mask=painter, keep_outside_mask=True, feather=6)   # doctest: +SKIP
    >>> s.current.image.outside_mask_change     # {'share': 0.0, ...}: the stored composite's
    >>> s.current.image.raw_outside_mask_change  # {'share': 0.04, 'mean_diff': 2.1, ...}: the API's picture
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..api.errors import ParamError
from ..api.requests import EditRequest, ResponsesRequest
from ..api.results import ImageResult

if TYPE_CHECKING:  # pragma: no cover
    from ..api.requests import ImageRequest
    from .recorder import TurnRecorder
    from .turns import Turn

__all__ = ["EditCheck", "edit_check", "checked", "composited"]


@dataclass(frozen=True)
class EditCheck:
    """What a masked edit's images are measured against: the image it edits and the mask."""

    base: bytes
    mask: bytes
    keep: bool = False
    feather: int = 0


def edit_check(req: ImageRequest, keep_outside_mask: bool, feather: int | None) -> EditCheck | None:
    """The check for a request (None when it has no mask, or its edited image is not at hand)."""
    if feather is not None and (isinstance(feather, bool) or not isinstance(feather, int) or feather < 0):
        raise ParamError("feather", feather, "a whole number of pixels, 0 or more")
    mask = getattr(req, "mask", None)
    if keep_outside_mask and mask is None:
        raise ParamError("keep_outside_mask", True, "a mask= to keep the outside of",
                         hint="keep_outside_mask puts the parent's pixels back outside the mask; there is no mask")
    if mask is None or mask.data is None:
        return None
    first = None
    if isinstance(req, EditRequest) and req.images:
        first = req.images[0]
    elif isinstance(req, ResponsesRequest) and req.base_image is not None:
        first = req.base_image
    elif isinstance(req, ResponsesRequest) and req.input_images:
        first = req.input_images[0]
    if first is None or first.data is None or first.format == "svg":
        if keep_outside_mask:
            raise ParamError("keep_outside_mask", True, "an edit of an image whose bytes are at hand",
                             hint="the edited image is a file id or URL: its pixels cannot be put back")
        return None
    return EditCheck(first.data, mask.data, bool(keep_outside_mask), int(feather or 0))


def composited(turn: "Turn | None") -> bool:
    """Whether the turn's image is a ``keep_outside_mask`` composite (not what the server holds)."""
    img = turn.image if turn is not None else None
    return img is not None and img.raw_path is not None


def checked(recorder: "TurnRecorder", turn: "Turn", result: ImageResult, index: int,
            check: EditCheck | None) -> ImageResult:
    """``result`` with its ``outside_mask_change``; with ``keep``, the composite (stored, the raw image
    kept beside it). Partial frames and svg pass through."""
    if check is None or result.partial or result.format in ("svg", "gif"):
        return result
    from ..api.fidelity import keep_outside, outside_mask_change  # numpy and pixels: only for masked edits
    change = outside_mask_change(check.base, result.data, check.mask).to_dict()
    if not check.keep:
        result = result.with_meta(outside_mask_change=change)
        # a streamed image is on disk already: index it again, with the measure
        return recorder.save(turn, result, index) if result.path is not None else result
    raw = recorder.store.save_raw(turn, result, index)
    data = keep_outside(check.base, result.data, check.mask, check.feather)
    # the figure a user reads is the stored picture's (0 for png/webp: the parent's pixels are back);
    # the API's own picture keeps its figure beside it, named as such
    kept = outside_mask_change(check.base, data, check.mask).to_dict()
    merged = ImageResult.from_bytes(
        data, model=result.model, prompt=result.prompt, revised_prompt=result.revised_prompt, usage=result.usage,
        cost=result.cost, response_id=result.response_id, call_id=result.call_id, request_id=result.request_id,
        created=result.created, params={**result.params, "keep_outside_mask": True, "feather": check.feather},
        outside_mask_change=kept, raw_outside_mask_change=change, raw_path=raw)
    return recorder.save(turn, merged, index)
