"""``session.sweep(..., batch=True)``: a grid recorded as a Batch API job, then sent.

    >>> job = s.sweep(prompts=["a fox", "an owl"], size=["1024x1024", "1536x1024"], batch=True)  # doctest: +SKIP
    >>> job.wait()              # or come back tomorrow: Session("grid").batch(job.id).wait()
    >>> job.results()           # the same SweepResult grid as a direct sweep
    >>> s.sweep(prompts=["add a hat", "add a scarf"], image=s.current, batch=True)   # edits  # doctest: +SKIP

Order of work, so that a crash at any point loses nothing and pays nothing twice: validate every
cell; answer the cells the store already holds (replay); reserve the rest's estimate at the Batch
price against the budget (refused before anything is uploaded); upload the input images of edits
(once per image and backend, ids reused); record the job, its cells and the exact lines in the
store; only then upload the input file and create each part (``BatchJob.submit``).
"""

from __future__ import annotations

import dataclasses
import uuid
from typing import TYPE_CHECKING, Any

from ..api import batches as _api_batches
from ..api.cost import estimate
from ..api.endpoints import endpoint as _endpoint
from ..api.errors import ParamError
from ..api.inputs import ImageInput
from ..api.registry import delivery_fields
from ..api.validation import validate
from .batch import BatchJob
from .batch_store import BatchRecords, CellRow, JobRow
from .sweep import grid_cells

if TYPE_CHECKING:  # pragma: no cover
    from .core import SessionCore as Session
    from .turns import Turn

__all__ = ["submit_batch"]


def submit_batch(session: "Session", prompts: Any, *, refresh: bool = False, progress: bool = True,
                 image: Any = None, mask: Any = None, pins: Any = False, **grid: Any) -> BatchJob:
    """See the module docstring and ``Session.sweep``. ``image``: every cell edits this image (a
    turn, a result, a path...; the current turn's image with ``image=s.current``). ``pins``: the
    pins every cell carries (a storyboard's; ``False``, the default of a sweep: none), uploaded
    once like an edit's images."""
    if prompts is None:
        raise TypeError("sweep needs prompts=[...] (or one prompt)")
    for streamed in delivery_fields():
        if grid.pop(streamed, None):
            raise ParamError(streamed, True, "omit it: batch answers are not streamed")
    grid.pop("api", None)  # the Batch API runs the Image API's endpoints
    varying, cells = grid_cells(prompts, grid)
    parent, requests = _requests(session, cells, image, mask, pins)
    edits = image is not None or any(getattr(r, "pins", ()) for r in requests)
    for req in requests:
        validate(req)
    job_id = "batchjob_" + uuid.uuid4().hex[:16]
    hits = [session.recorder.stored_answer(r, refresh=refresh) for r in requests]
    fresh = [i for i, hit in enumerate(hits) if hit is None]
    usd = {i: estimate(requests[i], batch=True).usd for i in fresh}
    need = sum(usd.values())
    session.recorder.hold(need)  # BudgetExceededError here: nothing recorded, nothing uploaded
    try:
        replayed = _replay(session, requests, hits, parent)
        records = BatchRecords(session.store)
        sent = _with_file_ids(session, records, requests) if edits and fresh else requests
        lines = {i: _api_batches.request_line(f"{job_id}-{i}", sent[i]) for i in fresh}
        parts = _api_batches.split_lines([len(lines[i]) for i in fresh], _api_batches.MAX_REQUESTS_PER_FILE,
                                         _api_batches.MAX_BYTES_PER_FILE)
        part_of = {fresh[k]: n for n, rng in enumerate(parts) for k in rng}
        kind = "edit" if image is not None else "generate"
        rows = []
        for i, (cell, req) in enumerate(zip(cells, requests)):
            # the turn is recorded from the request as the user made it (images as bytes), so it
            # replays like a direct call; the line sends the same request with file ids
            turn = session.recorder.new_turn(req, parent, kind=kind, turn_id=replayed.get(i, f"turn_{job_id[9:]}_{i}"))
            rows.append(CellRow(i, part_of.get(i), f"{job_id}-{i}", turn.id, cell, _template(turn), lines.get(i),
                                usd.get(i, 0.0), None))
        endpoint = _endpoint("edits" if edits else "generations").url  # the batch's one endpoint
        records.add_job(JobRow(job_id, session.name, turn.created, endpoint, "submitting" if fresh else "done",
                               varying, need, session.backend, None), len(parts), rows)
    except BaseException:
        session.recorder.release(need)
        raise
    job = BatchJob(session, job_id, progress=progress)
    job.submit()
    return job


def _requests(session: "Session", cells: list[dict], image: Any, mask: Any,
              pins: Any = False) -> tuple["Turn | None", list[Any]]:
    """(the parent turn of edits, one request per cell): generations, or edits of ``image``."""
    def opts(cell: dict) -> dict:
        return {k: v for k, v in cell.items() if k != "prompt"}

    if image is None:
        if mask is not None:
            raise ParamError("mask", "a mask", "a mask together with image=... (the image to edit)")
        return None, [session.imagine_request(c["prompt"], api="images", pins=pins, **opts(c)) for c in cells]
    if not cells:
        return None, []
    parent, first = session.edit_request(cells[0]["prompt"], image, mask, **opts(cells[0]))
    # the image is read once; every cell of a grid has the same option names, so each is a copy
    return parent, [first, *(first.replace(prompt=c["prompt"], **opts(c)) for c in cells[1:])]


def _replay(session: "Session", requests: list[Any], hits: list[Any], parent: "Turn | None") -> dict[int, str]:
    """Answer the cells the store holds (free): cell index -> its replayed turn's id."""
    out = {}
    for i, hit in enumerate(hits):
        if hit is None:
            continue
        turn = session.recorder.begin(requests[i], parent, kind="edit" if parent is not None else "generate",
                                      make_current=False)
        if turn.status != "replayed":  # its stored answer vanished since we looked: not sent twice
            session.recorder.fail(turn, ParamError("batch", "a vanished replay", "run the sweep again"))
        out[i] = turn.id
    return out


def _template(turn: "Turn") -> dict[str, Any]:
    return {k: getattr(turn, k) for k in ("kind", "api", "prompt", "model", "params", "inputs", "replay_key",
                                          "backend", "parent_id")}


def _with_file_ids(session: "Session", records: BatchRecords, requests: list[Any]) -> list[Any]:
    """The edits with their images as file ids: each distinct image uploaded once per backend
    (``purpose="vision"``), its id remembered in the store and reused by later jobs."""
    ids: dict[str, str] = {}

    def ref(img: ImageInput | None) -> ImageInput | None:
        if img is None or img.data is None:
            return img
        key = img.fingerprint()
        if key not in ids:
            known = records.uploaded(session.backend, key)
            if known is None:
                known = session.client.upload(img, purpose="vision").id
                records.add_upload(session.backend, key, known)
            ids[key] = known
        return ImageInput.coerce(ids[key])

    return [r.replace(images=tuple(ref(i) for i in r.images), mask=ref(r.mask), markup=ref(r.markup),
                      pins=tuple(dataclasses.replace(p, image=ref(p.image)) for p in r.pins))
            for r in requests]
