"""Variants: ``n > 1`` through the Responses API, whose image tool makes one image per call.

    >>> s.imagine("a lighthouse at dusk", n=4)      # 4 calls at once, 4 sibling turns  # doctest: +SKIP
    >>> s.pick(2)                                   # variant 2 (0-based) is the base of the next edit
    >>> s.edit("add a red sailing boat")            # continues from it (its previous_response_id)

The n calls run in parallel (at most ``MAX_PARALLEL`` at once), each a sibling turn with its own
response id, tagged with one group id. The budget is reserved for all n before the first is sent.
Each call carries ``metadata={"imagewidgets_variant": "<k>"}`` (a field the Responses API keeps
for the caller): it makes the n calls distinct for replay, and the offline renderer draws a
different picture for each k, as the Image API's ``n`` does.
"""

from __future__ import annotations

import uuid
import warnings
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from ..api.validation import validate

if TYPE_CHECKING:  # pragma: no cover
    from ..api.requests import ImageRequest
    from .core import SessionCore
    from .turns import Turn

__all__ = ["MAX_PARALLEL", "VARIANT_KEY", "variant_requests", "run_variants"]

#: how many variant calls are in flight at once (rate limits are per minute; 4 keeps a burst small)
MAX_PARALLEL = 4
#: the metadata key that tells the n calls of one request apart
VARIANT_KEY = "imagewidgets_variant"


def variant_requests(req: ImageRequest, n: int) -> list[Any]:
    """``n`` copies of a one-image Responses request, each tagged with its variant number."""
    out = []
    for k in range(n):
        extra = dict(req.extra_body or {})
        extra["metadata"] = {**(extra.get("metadata") or {}), VARIANT_KEY: str(k)}
        out.append(req.replace(n=None, extra_body=extra))
    return out


def run_variants(core: "SessionCore", req: ImageRequest, n: int, *, parent: "Turn | None", kind: str,
                 refresh: bool = False, check: Any = None) -> list["Turn"]:
    """Send ``n`` variants of ``req`` in parallel; returns their turns (siblings under ``parent``).

    The first variant that succeeded becomes the current turn (``pick`` chooses another). When some
    fail, the others are kept and a warning says why; when all fail, the first error is raised."""
    reqs = variant_requests(req, n)
    for r in reqs:
        validate(r)
    usds = core.recorder.reserve_all(reqs, refresh)
    group = "grp_" + uuid.uuid4().hex[:12]
    released = [False] * n

    def one(k: int) -> "Turn":
        released[k] = True  # from here on, run() releases the reservation
        return core.run(reqs[k], parent=parent, kind=kind, refresh=refresh, group_id=group,
                        reserved=usds[k], make_current=False, check=check)

    try:
        with ThreadPoolExecutor(max_workers=min(n, MAX_PARALLEL), thread_name_prefix="imagewidgets-variant") as pool:
            futures = [pool.submit(one, k) for k in range(n)]
            outcomes: list[Turn | Exception] = []
            for f in futures:
                try:
                    outcomes.append(f.result())
                except Exception as e:  # kept: the other variants are paid for and stored
                    outcomes.append(e)
    finally:
        for k in range(n):
            if not released[k]:
                core.recorder.release(usds[k])
    turns = [t for t in outcomes if not isinstance(t, Exception)]
    errors = [e for e in outcomes if isinstance(e, Exception)]
    if not turns:
        raise errors[0]
    if errors:
        warnings.warn(f"{len(errors)} of {n} variants failed: {type(errors[0]).__name__}: {errors[0]}",
                      RuntimeWarning, stacklevel=4)
    first = next((t for t in turns if t.images), None)
    if first is not None:
        core.tree.make_current(first)
    return turns
