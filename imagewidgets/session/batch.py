"""``BatchJob``: a sweep running on the Batch API (half price, done within 24 h), kept in the store
so a restarted kernel, or a new day, picks it up where it was.

    >>> job = s.sweep(prompts, size=["1024x1024", "1536x1024"], batch=True)   # doctest: +SKIP
    >>> job                     # status, cells answered and stored, cost so far (a live bar while it runs)
    >>> job.wait()              # poll until every part is done; each answer stored as it is read
    >>> grid = job.results()    # the same SweepResult grid as a direct sweep
    >>> Session("grid").batches()                 # after a restart: the jobs of the session
    >>> Session("grid").batch(job.id).wait()      # ...and carry on

The output file is read line by line: each line's image is written (atomically, as every turn's)
before the next line is parsed, so memory stays flat for any size of output. A line whose turn is
already stored is skipped, so reading again after a crash stores nothing twice.
"""

from __future__ import annotations

import html
import time
from typing import TYPE_CHECKING, Any

from ..api.batches import TERMINAL, OutputLine
from ..api.decode import images_response
from ..api.errors import APIConnectionError, APIError, BadRequestError, ServerError, error_for_status
from .progress import Progress, start as start_progress
from .batch_store import BatchRecords, CellRow, PartRow
from .sweep import SweepResult
from .turns import Turn, this_process

if TYPE_CHECKING:  # pragma: no cover
    from .core import SessionCore as Session

__all__ = ["BatchJob"]

_STAGES = ("new", "validating", "in_progress", "finalizing", "cancelling")


class BatchJob:
    """One sweep sent with the Batch API: ``.refresh() .wait() .cancel() .results()``."""

    def __init__(self, session: "Session", job_id: str, *, progress: bool = True) -> None:
        self.session = session
        self.records = BatchRecords(session.store)
        row = self.records.job(job_id)
        if row is None or row.session != session.name:
            raise KeyError(f"no batch job {job_id!r} in session {session.name!r}")
        self.id = job_id
        self.progress = progress
        self._view: Progress | None = None  # the live report, from the first update

    # -- what it is ------------------------------------------------------------------------------
    @property
    def parts(self) -> list[PartRow]:
        """One part per remote batch (a sweep above 50,000 requests or 200 MB has several)."""
        return self.records.parts(self.id)

    @property
    def batch_ids(self) -> list[str]:
        return [p.batch_id for p in self.parts if p.batch_id]

    @property
    def _job(self) -> Any:
        """The job's stored row (it exists from the moment the job was recorded)."""
        row = self.records.job(self.id)
        if row is None:
            raise LookupError(f"no batch job {self.id} in this session's store")
        return row

    @property
    def status(self) -> str:
        """``submitting`` until every part is created, then the least advanced part's status, and at the
        end ``completed`` (or ``cancelled``, ``failed``, ``expired`` when a part ended so)."""
        parts = self.parts
        if any(p.status == "new" for p in parts):
            return "submitting"
        active = [p.status for p in parts if p.status not in TERMINAL or not p.read]
        if active:
            return min(active, key=lambda s: _STAGES.index(s) if s in _STAGES else len(_STAGES))
        ended = [p.status for p in parts if p.status != "completed"]
        return ended[0] if ended else "completed"

    @property
    def done(self) -> bool:
        """Every part finished and read: every cell has its turn."""
        return all(p.read for p in self.parts)

    def summary(self) -> dict[str, Any]:
        """Counts and dollars: cells, answered remotely, stored, failed, cost so far, the estimate."""
        cells = self.records.cells(self.id)
        parts = self.parts
        answered = sum(p.counts.get("completed", 0) + p.counts.get("failed", 0) for p in parts)
        replayed = sum(c.part is None for c in cells)
        return {"status": self.status, "cells": len(cells), "answered": answered + replayed,
                "stored": sum(c.done for c in cells), "failed": sum(c.turn_status == "failed" for c in cells),
                "cost_usd": sum(c.turn_cost or 0.0 for c in cells if c.turn_status == "completed"),
                "estimate_usd": self._job.estimate_usd}

    # -- the verbs ---------------------------------------------------------------------------------
    def submit(self) -> "BatchJob":
        """Upload and create every part not created yet (after a crash too: a part whose batch may
        have been created is looked up by its metadata first, so it is never created twice)."""
        client = self.session.client
        endpoint = self._job.endpoint
        for part in self.parts:
            if part.status != "new":
                continue
            resumed = part.input_file_id is not None
            file_id = part.input_file_id
            if file_id is None:
                data = b"".join(c.line for c in self.records.cells(self.id, part.part, with_lines=True) if c.line)
                file_id = client.files.upload(data, filename=f"{self.id}-part{part.part}.jsonl", purpose="batch").id
                self.records.set_part(self.id, part.part, input_file_id=file_id)
            mark = {"imagewidgets_job": self.id, "imagewidgets_part": str(part.part)}
            batch = client.batches.find(**mark) if resumed else None
            if batch is None:
                try:
                    batch = client.batches.create(file_id, endpoint,
                                                  metadata={**mark, "imagewidgets_session": self.session.name[:512]})
                except (APIConnectionError, ServerError):
                    batch = client.batches.find(**mark)  # the answer was lost, the batch may exist
                    if batch is None:
                        raise
            self._record(part, batch)
        self.records.set_job(self.id, status=self.status)
        self._show()
        return self

    def refresh(self) -> "BatchJob":
        """Ask the server how each part is doing; read the output of parts that ended."""
        if any(p.status == "new" for p in self.parts):
            self.submit()
        client = self.session.client
        for part in self.parts:
            if part.batch_id and part.status not in TERMINAL:
                self._record(part, client.batches.retrieve(part.batch_id))
        for part in self.parts:
            if part.status in TERMINAL and not part.read:
                self._read(part)
        self.records.set_job(self.id, status=self.status)
        self._show()
        return self

    def wait(self, *, poll_s: float | None = None, timeout: float | None = None) -> "BatchJob":
        """``refresh`` until done (polling every ``poll_s``, or from 0.5 s up to 10 s). ``timeout``:
        raise ``TimeoutError`` after that many seconds (the job goes on; ``wait`` again later)."""
        start = time.monotonic()
        delay = poll_s or 0.5
        while not self.refresh().done:
            if timeout is not None and time.monotonic() - start > timeout:
                raise TimeoutError(f"batch job {self.id} is still {self.status} after {timeout:g}s; "
                                   ".wait() again to carry on")
            time.sleep(delay)
            if poll_s is None:
                delay = min(10.0, delay * 1.5)
        self._show(final=True)
        return self

    def cancel(self) -> "BatchJob":
        """Cancel every part still running (what finished is kept and read); parts not created yet
        never will be."""
        client = self.session.client
        for part in self.parts:
            if part.status == "new":
                self.records.set_part(self.id, part.part, status="cancelled")
            elif part.batch_id and part.status in ("validating", "in_progress"):
                try:
                    self._record(part, client.batches.cancel(part.batch_id))
                except BadRequestError:  # it finished meanwhile: refresh() reads it as it is
                    pass
        return self.refresh()

    def results(self) -> SweepResult:
        """The grid so far (call ``wait`` first for all of it): cells without an answer yet show
        the job's status."""
        cells = self.records.cells(self.id)
        turns = [self._turn(c.turn_id) if c.done else None for c in cells]
        status = self.status
        errors = [(t.error if t is not None else None) if c.done else f"waiting: batch {status}"
                  for c, t in zip(cells, turns)]
        # the grid keeps paths, not pictures: thumbnails read the files when shown
        return SweepResult(self._job.varying, [c.cell for c in cells], turns, errors)

    # -- reading answers ---------------------------------------------------------------------------
    def _record(self, part: PartRow, batch: Any) -> None:
        counts = {"total": batch.request_counts.total, "completed": batch.request_counts.completed,
                  "failed": batch.request_counts.failed}
        self.records.set_part(self.id, part.part, batch_id=batch.id, status=batch.status, counts=counts,
                              output_file_id=batch.output_file_id, error_file_id=batch.error_file_id)

    def _read(self, part: PartRow) -> None:
        """Store the answers of a finished part, line by line; cells it did not run become failed turns."""
        cells = {c.custom_id: c for c in self.records.cells(self.id, part.part)}
        for cell in cells.values():  # a read resumed after a kill: its half-written files go first
            if not cell.done:
                self.session.store.discard_unfinished_writes(self.session.name, cell.turn_id)
        client = self.session.client
        shown = time.monotonic()
        for file_id in (part.output_file_id, part.error_file_id):
            if not file_id:
                continue
            for raw in client.files.lines(file_id):
                if time.monotonic() - shown > 0.5:  # the bar moves while a long output file is read
                    shown = time.monotonic()
                    self._show()
                try:
                    line = OutputLine.parse(raw)
                except ValueError:  # not the API's line shape: its cell ends "no answer in the output"
                    continue
                got = cells.get(line.custom_id)  # a line we did not send is ignored
                if got is None or got.done:
                    continue
                cell = got
                self._store_line(part, cell, line)
                cell.turn_status = "stored"
        why = {"cancelled": "the batch was cancelled before it ran", "expired": "the batch expired before it ran",
               "failed": "the batch failed: " + self._batch_errors(part)}.get(part.status, "no answer in the output")
        for cell in cells.values():
            if not cell.done and cell.turn_status != "stored":
                turn = self._new_turn(cell, part, time.time())
                self.session.recorder.fail(turn, APIError(f"not run: {why}", code=f"batch_{part.status}"))
        self.records.set_part(self.id, part.part, read=1)

    def _batch_errors(self, part: PartRow) -> str:
        if not part.batch_id:
            return "it was never created"
        errors = self.session.client.batches.retrieve(part.batch_id).errors
        return "; ".join(f"line {e.get('line')}: {e.get('message')}" for e in errors[:3]) or "no reason given"

    def _new_turn(self, cell: CellRow, part: PartRow, sent_at: float) -> Turn:
        """The cell's turn (always the same id), its estimate held until ``finish`` / ``fail``."""
        turn = Turn(id=cell.turn_id, session=self.session.name, created=time.time(), owner=this_process(),
                    note=f"Batch API: batch {part.batch_id or '(not created)'}, {cell.custom_id}",
                    _loader=self.session.store.load_images, **cell.turn)
        return self.session.recorder.track(turn, cell.estimate_usd, sent_at)

    def _store_line(self, part: PartRow, cell: CellRow, line: OutputLine) -> None:
        turn = self._new_turn(cell, part, self._job.created)
        try:
            if not line.ok:
                raise error_for_status(line.status_code or 500, {"error": line.error or line.body.get("error")})
            meta = {"model": turn.model, "prompt": turn.prompt, "params": turn.params,
                    "request_id": line.request_id, "batch": True}
            results = images_response(line.body, meta)
        except Exception as e:  # the API's error for this line, or an answer we could not read
            self.session.recorder.fail(turn, e)
            return
        self.session.recorder.finish(turn, results, make_current=False)
        turn.forget_images()  # the bytes are on disk; read again when asked (memory stays flat)

    def _turn(self, turn_id: str) -> Turn | None:
        turn = self.session.tree.get(turn_id) or self.session.store.turn(turn_id)
        if turn is not None:
            self.session.tree.add(turn)
        return turn

    # -- showing it --------------------------------------------------------------------------------
    def _text(self) -> str:
        s = self.summary()
        failed = f", {s['failed']} failed" if s["failed"] else ""
        return (f"batch job {self.id}: {s['status']} · {s['answered']}/{s['cells']} answered, {s['stored']} stored"
                f"{failed} · ${s['cost_usd']:.4f} so far of ≈${s['estimate_usd']:.4f} (Batch API: half price)")

    def __repr__(self) -> str:
        return f"<{self._text()}>"

    def _repr_html_(self) -> str:
        s = self.summary()
        pct = 100 * s["stored"] / max(1, s["cells"])
        return (f"<div><progress value='{s['stored']}' max='{max(1, s['cells'])}' style='width:240px'></progress> "
                f"<span>{pct:.0f}%</span><br/><small>{html.escape(self._text())}</small></div>")

    def _show(self, final: bool = False) -> None:
        """Report to ``session.progress`` (a widget bar in a kernel, else a text line on stdout)."""
        if not self.progress:
            return
        s = self.summary()
        if self._view is None:
            self._view = start_progress("", max(1, s["cells"]))
        self._view.update(s["stored"], max(1, s["cells"]), self._text())
        if final:
            self._view.close(ok=s["failed"] == 0)
