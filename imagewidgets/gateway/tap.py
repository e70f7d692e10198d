"""Watching a server-sent-event stream go by without holding it up.

The gateway forwards every chunk the moment it arrives and *also* feeds it to an ``SSETap``, which
cuts the bytes into events and parses only the few that matter for the ledger (completed images,
the response's id and usage, errors). Partial-image events are skipped unparsed.

    >>> tap = SSETap()
    >>> tap.feed(b'event: image_generation.completed\\ndata: {"type": "image_generation.completed", "usage": {}}\\n\\n')
    >>> tap.completed_images
    1
"""

from __future__ import annotations

import json
import re
from typing import Any

from ..api._http import MAX_EVENT_BYTES

__all__ = ["SSETap"]

_TYPE = re.compile(rb'"type"\s*:\s*"([^"]{1,80})"')
_IMAGE_DONE = ("image_generation.completed", "image_edit.completed")
_WANTED = {*_IMAGE_DONE, "response.created", "response.completed", "response.failed", "response.incomplete",
           "response.output_item.done", "error"}


class SSETap:
    """What a stream said so far: completed images (with usage and pictures), the response, errors."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self._scanned = 0
        self.completed_images = 0
        self.usages: list[dict] = []
        self.images: list[str] = []  # base64 of finished images
        self.response_id: str | None = None
        self.response: dict | None = None  # the whole Response of response.completed
        self.error: dict | None = None
        self.last_sequence_number = -1
        self.bytes = 0
        #: events larger than ``MAX_EVENT_BYTES`` (forwarded, not buffered: every client refuses them)
        self.oversized = 0
        self._skipping = False

    @property
    def finished(self) -> bool:
        """A completion arrived: at least one image done, or the Response completed."""
        return self.completed_images > 0 or self.response is not None

    def feed(self, chunk: bytes) -> None:
        self.bytes += len(chunk)
        self._buf += chunk
        while True:
            end, sep = self._boundary()
            if end < 0:
                if len(self._buf) > MAX_EVENT_BYTES:  # no image is this big: stop holding it (the
                    if not self._skipping:            # bytes still go to the participant, whose
                        self.oversized += 1           # client refuses the event, naming the bound)
                    self._skipping = True
                    del self._buf[:-3]
                    self._scanned = 0
                return
            raw = bytes(self._buf[:end])
            del self._buf[: end + sep]
            self._scanned = 0
            if self._skipping:  # the end of an oversized event: not read
                self._skipping = False
                continue
            self._event(raw)

    def _boundary(self) -> tuple[int, int]:
        start = max(0, self._scanned - 3)
        found = [(i, n) for i, n in ((self._buf.find(b"\n\n", start), 2), (self._buf.find(b"\r\n\r\n", start), 4))
                 if i >= 0]
        if not found:
            self._scanned = len(self._buf)
            return -1, 0
        return min(found)

    def _event(self, raw: bytes) -> None:
        name = None
        data_lines = []
        for line in raw.replace(b"\r\n", b"\n").split(b"\n"):
            if line.startswith(b"event:"):
                name = line[6:].strip().decode("utf-8", "replace")
            elif line.startswith(b"data:"):
                data_lines.append(line[5:].lstrip(b" ") if line[5:6] == b" " else line[5:])
        if not data_lines:
            return
        data = b"\n".join(data_lines)
        kind = name
        if kind is None or kind == "message":
            m = _TYPE.search(data[:300])
            kind = m.group(1).decode() if m else None
        if kind not in _WANTED and not (kind or "").endswith(".failed"):
            seq = re.search(rb'"sequence_number"\s*:\s*(\d+)', data[:300])
            if seq:
                self.last_sequence_number = int(seq.group(1))
            return
        try:
            obj: Any = json.loads(data)
        except ValueError:
            return
        if isinstance(obj, dict):
            self._record(str(obj.get("type") or kind), obj)

    def _record(self, kind: str, obj: dict) -> None:
        if isinstance(obj.get("sequence_number"), int):
            self.last_sequence_number = obj["sequence_number"]
        if kind in _IMAGE_DONE:
            self.completed_images += 1
            if isinstance(obj.get("usage"), dict):
                self.usages.append(obj["usage"])
            if isinstance(obj.get("b64_json"), str):
                self.images.append(obj["b64_json"])
        elif kind == "response.created":
            self.response_id = (obj.get("response") or {}).get("id")
        elif kind == "response.completed":
            self.response = obj.get("response") or {}
            self.response_id = self.response.get("id") or self.response_id
        elif kind == "error" or kind.endswith(".failed") or kind == "response.incomplete":
            self.error = obj.get("error") or (obj.get("response") or {}).get("error") or obj
