"""What the offline server remembers: responses, image-generation calls, uploaded files and served images.

``MemoryState`` forgets everything when the process ends; ``FolderState`` keeps it in a folder
(one JSON file per record, one binary file per blob, written atomically: temp file + rename),
so a new process serving the same folder knows the earlier response ids and file ids. Records
are written once under fresh ids (a response is rewritten whole), so no locking is needed
between processes.
"""

from __future__ import annotations

import json
import re
import threading
from pathlib import Path
from typing import Any, Protocol

from ..results import atomic_write

__all__ = ["State", "MemoryState", "FolderState", "open_state"]

_ID_RE = re.compile(r"^[A-Za-z0-9_.\-]{1,128}$")
_KINDS = ("responses", "calls", "files", "images")


class State(Protocol):
    """Records by kind (``responses``, ``calls``, ``files``, ``images``): a JSON dict and optional bytes."""

    def put(self, kind: str, id: str, record: dict, blob: bytes | None = None) -> None: ...
    def get(self, kind: str, id: str) -> dict | None: ...
    def blob(self, kind: str, id: str) -> bytes | None: ...
    def delete(self, kind: str, id: str) -> bool: ...


class MemoryState:
    """Everything in dicts; gone when the process ends."""

    def __init__(self) -> None:
        self._records: dict[tuple[str, str], dict] = {}
        self._blobs: dict[tuple[str, str], bytes] = {}
        self._lock = threading.Lock()

    def put(self, kind: str, id: str, record: dict, blob: bytes | None = None) -> None:
        with self._lock:
            self._records[(kind, id)] = json.loads(json.dumps(record))  # a copy, as a folder would keep
            if blob is not None:
                self._blobs[(kind, id)] = bytes(blob)

    def get(self, kind: str, id: str) -> dict | None:
        with self._lock:
            rec = self._records.get((kind, id))
            return json.loads(json.dumps(rec)) if rec is not None else None

    def blob(self, kind: str, id: str) -> bytes | None:
        with self._lock:
            return self._blobs.get((kind, id))

    def delete(self, kind: str, id: str) -> bool:
        with self._lock:
            self._blobs.pop((kind, id), None)
            return self._records.pop((kind, id), None) is not None

    def __repr__(self) -> str:
        return f"MemoryState({len(self._records)} records)"


class FolderState:
    """Records as ``<folder>/<kind>/<id>.json``, blobs as ``<folder>/<kind>/<id>.bin``."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder).expanduser()
        for kind in _KINDS:
            (self.folder / kind).mkdir(parents=True, exist_ok=True)

    def _path(self, kind: str, id: str, ext: str) -> Path:
        if kind not in _KINDS or not _ID_RE.match(id or ""):
            raise KeyError(f"{kind}/{id}")
        return self.folder / kind / f"{id}.{ext}"

    def put(self, kind: str, id: str, record: dict, blob: bytes | None = None) -> None:
        if blob is not None:  # the blob first: a record never points at a missing blob
            atomic_write(self._path(kind, id, "bin"), bytes(blob))
        atomic_write(self._path(kind, id, "json"), json.dumps(record).encode())

    def get(self, kind: str, id: str) -> dict | None:
        try:
            return json.loads(self._path(kind, id, "json").read_bytes())
        except (KeyError, FileNotFoundError, ValueError):
            return None

    def blob(self, kind: str, id: str) -> bytes | None:
        try:
            return self._path(kind, id, "bin").read_bytes()
        except (KeyError, FileNotFoundError):
            return None

    def delete(self, kind: str, id: str) -> bool:
        found = False
        for ext in ("json", "bin"):
            try:
                self._path(kind, id, ext).unlink()
                found = True
            except (KeyError, FileNotFoundError):
                pass
        return found

    def __repr__(self) -> str:
        return f"FolderState({str(self.folder)!r})"


def open_state(state_dir: str | Path | None) -> MemoryState | FolderState:
    """A folder-backed state for ``state_dir``, or memory for None."""
    return FolderState(state_dir) if state_dir else MemoryState()
