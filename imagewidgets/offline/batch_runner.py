"""The offline server's batch worker: runs each batch's requests in the background, at
``batch_rate`` requests a second, and writes the output and error files in the API's line format.

One daemon thread per app, started when a batch route is used and ended when nothing is left to
do; up to ``_IN_FLIGHT`` requests of a batch render at once, as a service runs a batch in
parallel. Every request of a batch goes to the server's own route (the same code as a direct call), so
a batch answers exactly what the endpoint would. Output lines are appended to the output and
error files as they are made; after a crash or a restart the worker trims a torn last line,
reads which ``custom_id`` s are done, and carries on with the rest: no line is run twice.

Statuses as on api.openai.com: validating -> in_progress -> finalizing -> completed; or failed
(the input file is wrong), expired (not done within the completion window), cancelling -> cancelled.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import threading
import time
from typing import Any

from ..api.batches import BATCH_ENDPOINTS, MAX_REQUESTS_PER_FILE, TERMINAL
from .common import new_id

__all__ = ["BatchRunner", "public_batch"]

_log = logging.getLogger("imagewidgets.offline")
_SAVE_EVERY_S = 0.5  # how often the counts of a running batch are written (a poller sees them move)
_IN_FLIGHT = 4  # requests of one batch rendered at once (the renderer runs in worker threads)
ACTIVE = ("validating", "in_progress", "finalizing", "cancelling")


def public_batch(rec: dict) -> dict:
    """The record as the API shows it (without the worker's own bookkeeping)."""
    return {k: v for k, v in rec.items() if not k.startswith("_")}


def _line_error(line: int | None, code: str, message: str, param: str | None = None) -> dict:
    return {"code": code, "line": line, "message": message, "param": param}


class BatchRunner:
    """The background worker of one offline app (see the module docstring)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.lock = threading.RLock()  # batch records are read-modify-written by routes and the worker
        self._thread: threading.Thread | None = None
        self._wake = threading.Event()
        self._stop = threading.Event()

    @property
    def backend(self) -> Any:
        return self.app.state.backend

    @property
    def state(self) -> Any:
        return self.backend.state

    def ensure_running(self) -> None:
        """Start the worker if a batch waits (after a restart too) and none runs."""
        with self.lock:
            self._wake.set()
            if self._thread is None and not self._stop.is_set() and self._pending():
                self._thread = threading.Thread(target=self._run, name="imagewidgets-offline-batches", daemon=True)
                self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop after the request in hand (a server shutting down); the batch carries on when a
        server on the same state folder looks at it again."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def _pending(self) -> list[str]:
        return [r["id"] for r in self.state.records("batches") if r.get("status") in ACTIVE]

    def update(self, batch_id: str, **changes: Any) -> dict:
        with self.lock:
            rec = self.state.get("batches", batch_id) or {}
            rec.update(changes)
            self.state.put("batches", batch_id, rec)
            return rec

    def _run(self) -> None:
        while True:
            with self.lock:
                self._wake.clear()
                todo = self._pending()
                if not todo:
                    self._thread = None
                    return
            for batch_id in todo:
                if self._stop.is_set():
                    with self.lock:
                        self._thread = None
                    return
                try:
                    asyncio.run(self._process(batch_id))
                except Exception as e:  # a bug here must not leave a batch running for ever
                    _log.exception("offline batch %s failed", batch_id)
                    self.update(batch_id, status="failed", failed_at=int(time.time()),
                                errors={"object": "list", "data": [_line_error(
                                    None, "server_error", f"The offline backend failed: {type(e).__name__}: {e}")]})

    # -- one batch -------------------------------------------------------------------------------
    async def _process(self, batch_id: str) -> None:
        rec = self.state.get("batches", batch_id)
        if rec is None or rec.get("status") not in ACTIVE:
            return
        if rec["status"] == "validating":
            rec = self._validate(rec)
            if rec["status"] != "in_progress":
                return
        if rec["status"] in ("in_progress", "cancelling"):
            await self._run_lines(rec)

    def _input_lines(self, rec: dict) -> list[bytes]:
        data = self.state.blob("files", rec["input_file_id"]) or b""
        return [line for line in data.splitlines() if line.strip()]

    def _validate(self, rec: dict) -> dict:
        errors: list[dict] = []
        seen: set[str] = set()
        lines = self._input_lines(rec)
        if not lines:
            errors.append(_line_error(None, "empty_file", "The input file has no requests."))
        if len(lines) > MAX_REQUESTS_PER_FILE:
            errors.append(_line_error(None, "too_many_requests",
                                      f"The input file has {len(lines)} requests; at most {MAX_REQUESTS_PER_FILE}."))
        for n, raw in enumerate(lines, 1):
            try:
                line = json.loads(raw)
            except ValueError:
                errors.append(_line_error(n, "invalid_json_line", "This line is not valid JSON."))
                continue
            cid = line.get("custom_id") if isinstance(line, dict) else None
            if not isinstance(cid, str) or not cid:
                errors.append(_line_error(n, "missing_required_parameter", "custom_id is required.", "custom_id"))
            elif cid in seen:
                errors.append(_line_error(n, "duplicate_custom_id",
                                          f"The custom_id {cid[:64]!r} is used by more than one line.", "custom_id"))
            else:
                seen.add(cid)
            if isinstance(line, dict) and (line.get("method") != "POST" or line.get("url") != rec["endpoint"]):
                errors.append(_line_error(n, "mismatched_endpoint",
                                          f"Every line must be a POST to {rec['endpoint']}, the batch's endpoint.", "url"))
            if isinstance(line, dict) and not isinstance(line.get("body"), dict):
                errors.append(_line_error(n, "invalid_body", "body must be a JSON object.", "body"))
            if len(errors) >= 100:
                break
        now = int(time.time())
        if errors:
            return self.update(rec["id"], status="failed", failed_at=now,
                               errors={"object": "list", "data": errors})
        return self.update(rec["id"], status="in_progress", in_progress_at=now,
                           request_counts={"total": len(lines), "completed": 0, "failed": 0})

    def _resume(self, file_id: str, done: set[str], usage: dict) -> int:
        """Trim a torn last line from a partly written output file; note its custom_ids; its line count."""
        f = self.state.open_blob("files", file_id)
        if f is None:
            return 0
        good = count = 0
        with f:
            for line in f:
                if not line.endswith(b"\n"):
                    break
                try:
                    data = json.loads(line)
                except ValueError:
                    break
                done.add(str(data.get("custom_id")))
                _add_usage(usage, ((data.get("response") or {}).get("body") or {}).get("usage"))
                good += len(line)
                count += 1
        self.state.truncate_blob("files", file_id, good)
        return count

    async def _run_lines(self, rec: dict) -> None:
        cfg = self.backend.config
        batch_id = rec["id"]
        out_id, err_id = rec["_output_file"], rec["_error_file"]
        for file_id in (out_id, err_id):
            if self.state.get("files", file_id) is None:
                self.state.put("files", file_id, {"pending": batch_id}, b"")
        done: set[str] = set()
        tally: dict[str, Any] = {"ok": 0, "failed": 0, "usage": {}, "saved_at": 0.0}
        tally["ok"] = self._resume(out_id, done, tally["usage"])
        tally["failed"] = self._resume(err_id, done, tally["usage"])
        fail_rate = cfg.batch_fail_rate if cfg.batch_fail_rate is not None else cfg.fail_rate
        interval = 1.0 / cfg.batch_rate if cfg.batch_rate and cfg.batch_rate > 0 else 0.0
        next_at = time.monotonic()
        slots = asyncio.Semaphore(_IN_FLIGHT)
        running: set[asyncio.Task] = set()

        async def one(line: dict, unlucky: bool) -> None:
            try:
                code, rid, body = await self._answer(rec["endpoint"], line["body"], unlucky, fail_rate)
                out = {"id": new_id("batch_req_"), "custom_id": line["custom_id"],
                       "response": {"status_code": code, "request_id": rid, "body": body}, "error": None}
                self.state.append_blob("files", out_id if code < 400 else err_id, json.dumps(out).encode() + b"\n")
                tally["ok" if code < 400 else "failed"] += 1
                if code < 400:
                    _add_usage(tally["usage"], body.get("usage"))
                if time.monotonic() - tally["saved_at"] > _SAVE_EVERY_S:
                    tally["saved_at"] = time.monotonic()
                    self._save_counts(batch_id, tally)
            finally:
                slots.release()

        stopped = None
        for raw in self._input_lines(rec):
            line = json.loads(raw)
            if line["custom_id"] in done:
                continue
            await slots.acquire()
            if self._stop.is_set():
                stopped = "stop"
            elif (self.state.get("batches", batch_id) or {}).get("status") == "cancelling":
                stopped = "cancelled"
            elif time.time() > rec.get("expires_at", float("inf")):
                stopped = "expired"
            if stopped:
                slots.release()
                break
            if interval:
                await asyncio.sleep(max(0.0, next_at - time.monotonic()))
                next_at = max(next_at, time.monotonic() - interval) + interval
            done.add(line["custom_id"])
            # drawn from the seed and the line's custom_id: the same lines fail on every run and after a restart
            unlucky = fail_rate > 0 and random.Random(f"{cfg.seed}:{line['custom_id']}").random() < fail_rate
            task = asyncio.create_task(one(line, unlucky))
            running.add(task)
            task.add_done_callback(running.discard)
        if running:  # what is in flight is finished and written, even when stopping
            await asyncio.gather(*running)
        if stopped == "stop":
            self._save_counts(batch_id, tally)
            return
        if stopped == "expired":  # as the API does: what did not run is in the error file
            for raw in self._input_lines(rec):
                cid = json.loads(raw)["custom_id"]
                if cid in done:
                    continue
                out = {"id": new_id("batch_req_"), "custom_id": cid, "response": None, "error": {
                    "code": "batch_expired",
                    "message": "This request could not be executed before the completion window expired."}}
                self.state.append_blob("files", err_id, json.dumps(out).encode() + b"\n")
                tally["failed"] += 1
        self._save_counts(batch_id, tally)
        self._finish(batch_id, stopped)

    def _save_counts(self, batch_id: str, tally: dict) -> None:
        with self.lock:
            rec = self.state.get("batches", batch_id) or {}
            counts = dict(rec.get("request_counts") or {})
            counts.update(completed=tally["ok"], failed=tally["failed"])
            rec["request_counts"] = counts
            rec["usage"] = _batch_usage(tally["usage"]) if tally["usage"] else None
            self.state.put("batches", batch_id, rec)

    def _finish(self, batch_id: str, stopped: str | None) -> None:
        now = int(time.time())
        rec = self.state.get("batches", batch_id) or {}
        if stopped is None:
            rec = self.update(batch_id, status="finalizing", finalizing_at=now)
        files: dict[str, Any] = {}
        for key, file_id, suffix in (("output_file_id", rec["_output_file"], "output"),
                                     ("error_file_id", rec["_error_file"], "error")):
            data = self.state.blob("files", file_id) or b""
            if not data:
                self.state.delete("files", file_id)
                files[key] = None
                continue
            self.state.put("files", file_id, {
                "id": file_id, "object": "file", "bytes": len(data), "created_at": now,
                "filename": f"{batch_id}_{suffix}.jsonl", "purpose": "batch_output", "status": "processed",
                "expires_at": None, "status_details": None})
            files[key] = file_id
        when = {"completed": "completed_at", "cancelled": "cancelled_at", "expired": "expired_at"}
        final = stopped or "completed"
        self.update(batch_id, status=final, **{when[final]: int(time.time())}, **files)
        assert final in TERMINAL

    async def _answer(self, endpoint: str, body: dict, unlucky: bool, fail_rate: float) -> tuple[int, str, dict]:
        """(status, request id, JSON body) of one request, from the server's own route."""
        rid = "req_" + new_id("")
        if unlucky:
            return 500, rid, {"error": {
                "message": f"The server had an error while processing your request. (offline backend: "
                           f"batch fail rate {fail_rate:g})", "type": "server_error", "param": None, "code": None}}
        try:
            status, raw = await _asgi_post(self.app, endpoint, json.dumps(body).encode(), rid)
            answer = json.loads(raw)
        except Exception as e:  # a crash in the route is one failed line, as a 500 would be
            answer = {"error": {"message": f"The offline backend failed: {type(e).__name__}: {e}",
                                "type": "server_error", "param": None, "code": None}}
            status = 500
        return status, rid, answer


def _add_usage(total: dict, usage: Any) -> None:
    if not isinstance(usage, dict):
        return
    for key in ("input_tokens", "output_tokens", "total_tokens"):
        total[key] = total.get(key, 0) + int(usage.get(key) or 0)


def _batch_usage(usage: dict) -> dict:
    return {"input_tokens": usage.get("input_tokens", 0), "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": usage.get("output_tokens", 0), "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": usage.get("total_tokens", 0)}


async def _asgi_post(app: Any, path: str, body: bytes, rid: str) -> tuple[int, bytes]:
    """POST ``body`` to one of the app's routes in this process, past the door (``Gate``): a batch's
    lines are not counted against the rate limit, and carry the request id the output file shows."""
    assert path in BATCH_ENDPOINTS
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
             "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
             "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
             "client": ("127.0.0.1", 0), "server": ("127.0.0.1", 80), "app": app,
             "state": {"request_id": rid}}
    sent = False
    status = 500
    chunks: list[bytes] = []

    async def receive() -> dict:
        nonlocal sent
        if sent:
            await asyncio.sleep(3600)  # the route never waits for a disconnect; stay quiet if it did
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app.router(scope, receive, send)
    return status, b"".join(chunks)
