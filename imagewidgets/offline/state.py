"""What the offline server remembers: responses, image-generation calls, uploaded files and served images.

``MemoryState`` forgets everything when the process ends; ``FolderState`` keeps it in a folder
(one JSON file per record, one binary file per blob, written atomically: temp file + rename),
so a new process serving the same folder knows the earlier response ids and file ids. Records
are written once under fresh ids (a response is rewritten whole), so no locking is needed
between processes.
"""

from __future__ import annotations

import io
import json
import re
import threading
import time
from collections import OrderedDict
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from ..api.results import atomic_write, make_folder

__all__ = ["State", "MemoryState", "FolderState", "open_state"]

_ID_RE = re.compile(r"^[A-Za-z0-9_.\-]{1,128}$")
_KINDS = ("responses", "calls", "files", "images", "batches")


class State(Protocol):
    """Records by kind (``responses``, ``calls``, ``files``, ``images``): a JSON dict and optional bytes."""

    def put(self, kind: str, id: str, record: dict, blob: bytes | None = None) -> None: ...
    def get(self, kind: str, id: str) -> dict | None: ...
    def blob(self, kind: str, id: str) -> bytes | None: ...
    def delete(self, kind: str, id: str) -> bool: ...
    def records(self, kind: str) -> list[dict]: ...
    def append_blob(self, kind: str, id: str, data: bytes) -> None: ...
    def truncate_blob(self, kind: str, id: str, size: int) -> None: ...
    def open_blob(self, kind: str, id: str) -> BinaryIO | None: ...


class MemoryState:
    """Everything in memory, gone when the process ends; at most ``max_bytes`` of records and blobs
    (None: no limit), the least recently used forgotten first, as an API forgets expired ids."""

    def __init__(self, max_bytes: int | None = None) -> None:
        self.max_bytes = max_bytes
        self.size = 0  # bytes held: each record's JSON plus its blob
        # blobs being appended to are bytearrays (no copy per chunk); both are bytes-like
        self._items: OrderedDict[tuple[str, str], tuple[str, bytes | bytearray | None]] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, kind: str, id: str, record: dict, blob: bytes | None = None) -> None:
        text = json.dumps(record)  # a copy, as a folder would keep
        with self._lock:
            old = self._items.pop((kind, id), None)
            if old is not None:
                self.size -= _weight(old)
                if blob is None:
                    blob = None if old[1] is None else bytes(old[1])  # a rewritten record keeps its blob
            item = (text, None if blob is None else bytes(blob))
            self._items[(kind, id)] = item
            self.size += _weight(item)
            while self.max_bytes is not None and self.size > self.max_bytes and len(self._items) > 1:
                _, gone = self._items.popitem(last=False)
                self.size -= _weight(gone)

    def _touch(self, kind: str, id: str) -> tuple[str, bytes | bytearray | None] | None:
        item = self._items.get((kind, id))
        if item is not None:
            self._items.move_to_end((kind, id))
        return item

    def get(self, kind: str, id: str) -> dict | None:
        with self._lock:
            item = self._touch(kind, id)
        return json.loads(item[0]) if item is not None else None

    def blob(self, kind: str, id: str) -> bytes | None:
        with self._lock:
            item = self._touch(kind, id)
        if item is None or item[1] is None:
            return None
        return bytes(item[1]) if isinstance(item[1], bytearray) else item[1]

    def delete(self, kind: str, id: str) -> bool:
        with self._lock:
            gone = self._items.pop((kind, id), None)
            if gone is not None:
                self.size -= _weight(gone)
            return gone is not None

    def records(self, kind: str) -> list[dict]:
        """Every record of ``kind``, oldest first."""
        with self._lock:
            texts = [text for (k, _), (text, _) in self._items.items() if k == kind]
        return [json.loads(t) for t in texts]

    def append_blob(self, kind: str, id: str, data: bytes) -> None:
        """Add ``data`` at the end of the blob (a batch's growing output file); the record must exist."""
        with self._lock:
            text, blob = self._items[(kind, id)]
            grown = blob if isinstance(blob, bytearray) else bytearray(blob or b"")
            grown += data
            self._items[(kind, id)] = (text, grown)
            self.size += len(data)

    def truncate_blob(self, kind: str, id: str, size: int) -> None:
        with self._lock:
            text, blob = self._items[(kind, id)]
            self.size -= max(0, len(blob or b"") - size)
            self._items[(kind, id)] = (text, bytearray((blob or b"")[:size]))

    def open_blob(self, kind: str, id: str) -> BinaryIO | None:
        data = self.blob(kind, id)
        return io.BytesIO(bytes(data)) if data is not None else None

    def __repr__(self) -> str:
        limit = f" of {self.max_bytes / 2**20:g} MB" if self.max_bytes is not None else ""
        return f"MemoryState({len(self._items)} records, {self.size / 2**20:.1f} MB{limit})"


def _weight(item: tuple[str, bytes | bytearray | None]) -> int:
    return len(item[0]) + (len(item[1]) if item[1] is not None else 0)


class FolderState:
    """Records as ``<folder>/<kind>/<id>.json``, blobs as ``<folder>/<kind>/<id>.bin``."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder).expanduser()
        for kind in _KINDS:
            make_folder(self.folder / kind)

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

    def records(self, kind: str) -> list[dict]:
        """Every record of ``kind``, oldest first (by the time it was last written)."""
        if kind not in _KINDS:
            return []
        out = []
        for path in sorted((self.folder / kind).glob("*.json"), key=_mtime):
            try:
                out.append(json.loads(path.read_bytes()))
            except (FileNotFoundError, ValueError):  # deleted, or being replaced, meanwhile
                pass
        return out

    def append_blob(self, kind: str, id: str, data: bytes) -> None:
        """Add ``data`` at the end of the blob. Not atomic: a reader that resumes after a crash
        trims a torn last line (``truncate_blob``)."""
        with open(self._path(kind, id, "bin"), "ab") as f:
            f.write(data)

    def truncate_blob(self, kind: str, id: str, size: int) -> None:
        path = self._path(kind, id, "bin")
        if path.exists():
            with open(path, "r+b") as f:
                f.truncate(size)

    def open_blob(self, kind: str, id: str) -> BinaryIO | None:
        try:
            return open(self._path(kind, id, "bin"), "rb")
        except (KeyError, FileNotFoundError):
            return None

    def prune(self, older_than_s: float) -> int:
        """Forget records (and their blobs) not written for ``older_than_s`` seconds; returns how many."""
        cutoff = time.time() - older_than_s
        gone = 0
        for kind in _KINDS:
            for path in (self.folder / kind).glob("*.json"):
                try:
                    if path.stat().st_mtime < cutoff:
                        path.with_suffix(".bin").unlink(missing_ok=True)
                        path.unlink()
                        gone += 1
                except FileNotFoundError:  # another process pruned it first
                    pass
        return gone

    def __repr__(self) -> str:
        return f"FolderState({str(self.folder)!r})"


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except FileNotFoundError:
        return 0.0


def open_state(state_dir: str | Path | None, *, memory_limit_mb: float = 0,
               ttl_days: float = 0) -> MemoryState | FolderState:
    """A folder-backed state for ``state_dir`` (records older than ``ttl_days`` pruned now; 0: none),
    or memory for None (at most ``memory_limit_mb``; 0: no limit)."""
    if not state_dir:
        return MemoryState(int(memory_limit_mb * 2**20) if memory_limit_mb > 0 else None)
    state = FolderState(state_dir)
    if ttl_days > 0:
        state.prune(ttl_days * 86400)
    return state
