"""The store's record of Batch API jobs (tables ``batch_jobs``, ``batch_parts``, ``batch_cells``;
schema in ``migrations.m006_batches``).

A job is written whole (its cells, their custom ids, turn ids and the exact lines to send) before
anything leaves the machine; each part then records its input file id and its remote batch id
as soon as they are known. A cell is done when the turn named by its ``turn_id`` is stored, so
reading an output line twice rewrites the same turn and the same image files: nothing is stored
twice.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from .store import Store

__all__ = ["BatchRecords", "JobRow", "PartRow", "CellRow", "outstanding_usd"]

#: what a cell's turn is when it is done (a turn that exists with another status is not an answer)
_DONE = ("completed", "failed", "replayed")


@dataclass
class JobRow:
    id: str
    session: str
    created: float
    endpoint: str
    status: str
    varying: list[str]
    estimate_usd: float
    backend: str | None
    note: str | None


@dataclass
class PartRow:
    job_id: str
    part: int
    status: str  # "new" until created remotely, then the API's status
    input_file_id: str | None
    batch_id: str | None
    output_file_id: str | None
    error_file_id: str | None
    counts: dict[str, int]
    read: bool


@dataclass
class CellRow:
    idx: int
    part: int | None
    custom_id: str
    turn_id: str
    cell: dict[str, Any]
    turn: dict[str, Any]
    line: bytes | None
    estimate_usd: float
    turn_status: str | None  # the stored turn's status, None while the cell waits
    turn_cost: float | None = None

    @property
    def done(self) -> bool:
        return self.turn_status in _DONE


class BatchRecords:
    """Batch jobs in one store (thread-safe through the store's lock)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def add_job(self, job: JobRow, parts: int, cells: list[CellRow]) -> None:
        """The whole job in one transaction, before anything is uploaded."""
        with self.store.transaction() as db:
            db.execute("INSERT INTO batch_jobs (id, session, created, endpoint, status, varying, estimate_usd, "
                       "backend, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       (job.id, job.session, job.created, job.endpoint, job.status, json.dumps(job.varying),
                        job.estimate_usd, job.backend, job.note))
            for n in range(parts):
                db.execute("INSERT INTO batch_parts (job_id, part, status, updated) VALUES (?, ?, 'new', ?)",
                           (job.id, n, time.time()))
            db.executemany(
                "INSERT INTO batch_cells (job_id, idx, part, custom_id, turn_id, cell, turn, line, estimate_usd) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(job.id, c.idx, c.part, c.custom_id, c.turn_id, json.dumps(c.cell, default=str),
                  json.dumps(c.turn, default=str), c.line, c.estimate_usd) for c in cells])

    def job(self, job_id: str) -> JobRow | None:
        rows = self.store.query("SELECT * FROM batch_jobs WHERE id = ?", (job_id,))
        return _job(rows[0]) if rows else None

    def job_of_batch(self, batch_id: str) -> str | None:
        """Our job id for a remote batch id."""
        rows = self.store.query("SELECT job_id FROM batch_parts WHERE batch_id = ?", (batch_id,))
        return rows[0]["job_id"] if rows else None

    def jobs(self, session: str) -> list[JobRow]:
        return [_job(r) for r in self.store.query(
            "SELECT * FROM batch_jobs WHERE session = ? ORDER BY created", (session,))]

    def set_job(self, job_id: str, **changes: Any) -> None:
        self._update("batch_jobs", "id = ?", (job_id,), changes)

    def parts(self, job_id: str) -> list[PartRow]:
        rows = self.store.query("SELECT * FROM batch_parts WHERE job_id = ? ORDER BY part", (job_id,))
        return [PartRow(r["job_id"], r["part"], r["status"], r["input_file_id"], r["batch_id"], r["output_file_id"],
                        r["error_file_id"], json.loads(r["counts"] or "{}"), bool(r["read"])) for r in rows]

    def set_part(self, job_id: str, part: int, **changes: Any) -> None:
        if "counts" in changes:
            changes["counts"] = json.dumps(changes["counts"])
        changes["updated"] = time.time()
        self._update("batch_parts", "job_id = ? AND part = ?", (job_id, part), changes)

    def cells(self, job_id: str, part: int | None = None, *, with_lines: bool = False) -> list[CellRow]:
        line = "c.line" if with_lines else "NULL AS line"
        where = "c.job_id = ?" + (" AND c.part = ?" if part is not None else "")
        args = (job_id, part) if part is not None else (job_id,)
        rows = self.store.query(
            f"SELECT c.idx, c.part, c.custom_id, c.turn_id, c.cell, c.turn, {line}, c.estimate_usd, "
            f"t.status AS turn_status, t.cost AS turn_cost FROM batch_cells c LEFT JOIN turns t ON t.id = c.turn_id "
            f"WHERE {where} ORDER BY c.idx", args)
        return [CellRow(r["idx"], r["part"], r["custom_id"], r["turn_id"], json.loads(r["cell"]),
                        json.loads(r["turn"]), r["line"], r["estimate_usd"], r["turn_status"], r["turn_cost"])
                for r in rows]

    def uploaded(self, backend: str, sha256: str) -> str | None:
        """The file id an image (by its bytes' sha256) was uploaded under on ``backend``."""
        rows = self.store.query("SELECT file_id FROM batch_uploads WHERE backend = ? AND sha256 = ?", (backend, sha256))
        return rows[0]["file_id"] if rows else None

    def add_upload(self, backend: str, sha256: str, file_id: str) -> None:
        with self.store.transaction() as db:
            db.execute("INSERT OR REPLACE INTO batch_uploads (backend, sha256, file_id, created) VALUES (?, ?, ?, ?)",
                       (backend, sha256, file_id, time.time()))

    def _update(self, table: str, where: str, args: tuple, changes: dict[str, Any]) -> None:
        cols = ", ".join(f"{k} = ?" for k in changes)  # keys are ours (the dataclass fields), never a user's
        with self.store.transaction() as db:
            db.execute(f"UPDATE {table} SET {cols} WHERE {where}", (*changes.values(), *args))


def _job(r: Any) -> JobRow:
    return JobRow(r["id"], r["session"], r["created"], r["endpoint"], r["status"], json.loads(r["varying"]),
                  r["estimate_usd"], r["backend"], r["note"])


def outstanding_usd(store: Store, session: str) -> float:
    """The estimates of the session's batch cells still waiting for an answer: held against the
    budget from the moment the job was recorded until each cell's answer is read."""
    rows = store.query(
        "SELECT COALESCE(SUM(c.estimate_usd), 0) AS usd FROM batch_cells c JOIN batch_jobs j ON j.id = c.job_id "
        "LEFT JOIN turns t ON t.id = c.turn_id WHERE j.session = ? AND (t.status IS NULL OR t.status NOT IN "
        "('completed', 'failed', 'replayed'))", (session,))
    return float(rows[0]["usd"] or 0.0)
