"""``session.sweep(..., batch=True)``: a grid recorded as a Batch API job, then sent.

    >>> job = s.sweep(prompts=["a fox", "an owl"], size=["1024x1024", "1536x1024"], batch=True)  # doctest: +SKIP
    >>> job.wait()              # or come back tomorrow: Session("grid").batch(job.id).wait()
    >>> job.results()           # the same SweepResult grid as a direct sweep

Order of work, so that a crash at any point loses nothing and pays nothing twice: validate every
cell; answer the cells the store already holds (replay); reserve the rest's estimate at the Batch
price against the budget (refused before anything is uploaded); record the job, its cells and the
exact lines in the store; only then upload and create each part (``BatchJob.submit``).
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from ..api import batches as _api_batches
from ..api.cost import estimate
from ..api.errors import ParamError
from ..api.requests import GenerateRequest
from .batch import BatchJob
from .batch_store import BatchRecords, CellRow, JobRow
from .replay import replay_key
from .sweep import grid_cells

if TYPE_CHECKING:  # pragma: no cover
    from .core import SessionCore as Session

__all__ = ["submit_batch"]

_ENDPOINT = {GenerateRequest: "/v1/images/generations"}


def submit_batch(session: "Session", prompts: Any, *, refresh: bool = False, progress: bool = True,
                 **grid: Any) -> BatchJob:
    """See the module docstring and ``Session.sweep``."""
    if prompts is None:
        raise TypeError("sweep needs prompts=[...] (or one prompt)")
    for streamed in ("stream", "partial_images"):
        if grid.pop(streamed, None):
            raise ParamError(streamed, True, "omit it: batch answers are not streamed")
    grid.pop("api", None)  # the Batch API runs the Image API's endpoints
    varying, cells = grid_cells(prompts, grid)
    requests = [session._imagine_request(c["prompt"], api="images", **{k: v for k, v in c.items() if k != "prompt"})
                for c in cells]
    for req in requests:
        req.validate()
    job_id = "batchjob_" + uuid.uuid4().hex[:16]
    hits = [None if refresh else session.store.find_replay(replay_key(r, session.backend)) for r in requests]
    fresh = [i for i, hit in enumerate(hits) if hit is None]
    usd = {i: estimate(requests[i], batch=True).usd for i in fresh}
    lines = {i: _api_batches.request_line(f"{job_id}-{i}", requests[i]) for i in fresh}
    parts = _api_batches.split_lines([len(lines[i]) for i in fresh], _api_batches.MAX_REQUESTS_PER_FILE,
                                     _api_batches.MAX_BYTES_PER_FILE)
    part_of = {fresh[k]: n for n, rng in enumerate(parts) for k in rng}
    need = sum(usd.values())
    session._reserve_usd(need)  # BudgetExceededError here: nothing recorded, nothing uploaded
    try:
        rows = []
        for i, (cell, req) in enumerate(zip(cells, requests)):
            turn = session._new_turn(req, None, "generate", turn_id=f"turn_{job_id[9:]}_{i}")
            template = {k: getattr(turn, k) for k in ("kind", "api", "prompt", "model", "params", "inputs",
                                                      "replay_key", "backend")}
            rows.append(CellRow(i, part_of.get(i), f"{job_id}-{i}", turn.id, cell, template, lines.get(i),
                                usd.get(i, 0.0), None))
        records = BatchRecords(session.store)
        records.add_job(JobRow(job_id, session.name, turn.created, _ENDPOINT[GenerateRequest],
                               "submitting" if fresh else "done", varying, need, session.backend, None),
                        len(parts), rows)
    except BaseException:
        session._release(need)
        raise
    for i, hit in enumerate(hits):  # answered from the store: their turns exist now, free
        if hit is not None:
            turn = session._new_turn(requests[i], None, "generate", turn_id=rows[i].turn_id)
            session._replay(turn, hit, make_current=False)
    job = BatchJob(session, job_id, progress=progress)
    job.submit()
    return job

