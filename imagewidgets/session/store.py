"""The on-disk store: image files plus an index in SQLite, one folder for many named sessions.

    imagewidgets-data/
      index.db                        sessions, turns, images (WAL; schema in migrations.py)
      images/<session>/<turn>-<i>.png completed images
      images/<session>/<turn>-partial.png   the newest partial frame of a streamed turn

Every image is written atomically (temp file + rename) and indexed before it is handed back,
so a crash loses nothing that was shown. The API key is never written here.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sqlite3
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from .migrations import migrate
from ..api.results import ImageResult, Usage, atomic_write
from .turns import Turn, owner_gone

__all__ = ["Store", "default_folder", "open_store"]

_TURN_COLUMNS = ("id", "session", "parent_id", "kind", "api", "model", "prompt", "params", "inputs",
                 "response_id", "call_id", "revised_prompt", "usage", "cost", "created", "elapsed_s",
                 "status", "error", "replay_key", "backend", "replayed_from", "note", "owner", "group_id", "picked")
_JSON_COLUMNS = {"params", "inputs"}


def default_folder() -> Path:
    """``$IMAGEWIDGETS_STORE``, else ``./imagewidgets-data`` beside the notebook (the working directory)."""
    env = os.environ.get("IMAGEWIDGETS_STORE")
    return Path(env).expanduser() if env else Path.cwd() / "imagewidgets-data"


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip(".") or "session"


class Store:
    """Files and index under ``folder``. Thread-safe (one connection behind a lock); several
    processes may share a folder (SQLite WAL)."""

    def __init__(self, folder: str | os.PathLike | None = None) -> None:
        self.folder = Path(folder).expanduser().resolve() if folder else default_folder().resolve()
        self.folder.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(self.folder / "index.db", timeout=30, isolation_level=None,
                                   check_same_thread=False)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        with self._lock:
            migrate(self._db)

    def __repr__(self) -> str:
        return f"Store({str(self.folder)!r})"

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _query(self, sql: str, args: tuple = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    # -- sessions ------------------------------------------------------------------------------
    def ensure_session(self, name: str) -> None:
        with self._tx() as db:
            db.execute("INSERT OR IGNORE INTO sessions (name, created) VALUES (?, ?)", (name, time.time()))

    def sessions(self) -> list[str]:
        return [r["name"] for r in self._query("SELECT name FROM sessions ORDER BY created")]

    def current_id(self, session: str) -> str | None:
        rows = self._query("SELECT current_id FROM sessions WHERE name = ?", (session,))
        return rows[0]["current_id"] if rows else None

    def set_current(self, session: str, turn_id: str | None) -> None:
        with self._tx() as db:
            db.execute("UPDATE sessions SET current_id = ? WHERE name = ?", (turn_id, session))

    # -- turns ---------------------------------------------------------------------------------
    def _turn_values(self, turn: Turn) -> tuple:
        values = []
        for col in _TURN_COLUMNS:
            v = getattr(turn, col)
            if col in _JSON_COLUMNS:
                v = json.dumps(v, sort_keys=True, default=str)
            elif col == "usage":
                v = json.dumps(v.to_dict()) if v is not None else None
            values.append(v)
        return tuple(values)

    def save_turn(self, turn: Turn) -> None:
        """Insert or update the turn's row (its images are saved with ``save_image``)."""
        cols = ", ".join(_TURN_COLUMNS)
        marks = ", ".join("?" for _ in _TURN_COLUMNS)
        with self._tx() as db:
            db.execute(f"INSERT OR REPLACE INTO turns ({cols}) VALUES ({marks})", self._turn_values(turn))

    def _turn(self, row: sqlite3.Row) -> Turn:
        kw: dict[str, Any] = {}
        for col in _TURN_COLUMNS:
            v = row[col]
            if col in _JSON_COLUMNS:
                v = json.loads(v) if v else ({} if col == "params" else [])
            elif col == "usage":
                v = Usage(**json.loads(v)) if v else None
            kw[col] = v
        return Turn(**kw, _loader=self.load_images)

    def settle_interrupted(self, session: str) -> list[str]:
        """Relabel the session's "running" turns whose process has ended (a crash, a killed kernel)
        as "interrupted", with a note; their completed images stay. Returns their ids."""
        rows = self._query("SELECT id, owner FROM turns WHERE session = ? AND status = 'running'", (session,))
        gone = [(r["id"], r["owner"]) for r in rows if owner_gone(r["owner"])]
        with self._tx() as db:
            for turn_id, owner in gone:
                db.execute("UPDATE turns SET status = 'interrupted', note = ? WHERE id = ? AND status = 'running'",
                           (f"interrupted: its process (pid {owner.rpartition(':')[2]}) ended before it "
                            "finished; the images it completed are kept", turn_id))
        return [turn_id for turn_id, _ in gone]

    def turns(self, session: str) -> list[Turn]:
        rows = self._query("SELECT * FROM turns WHERE session = ? ORDER BY rowid", (session,))
        return [self._turn(r) for r in rows]

    def turn(self, turn_id: str) -> Turn | None:
        rows = self._query("SELECT * FROM turns WHERE id = ?", (turn_id,))
        return self._turn(rows[0]) if rows else None

    def find_replay(self, key: str) -> Turn | None:
        """The newest completed turn (any session in this folder) made by an identical request."""
        rows = self._query(
            "SELECT * FROM turns WHERE replay_key = ? AND status = 'completed' ORDER BY created DESC", (key,))
        for row in rows:
            turn = self._turn(row)
            if turn.images and all(img.path and Path(img.path).is_file() for img in turn.images):
                return turn
        return None

    # -- images --------------------------------------------------------------------------------
    def image_path(self, turn: Turn, index: int | None, fmt: str) -> Path:
        ext = "jpg" if fmt == "jpeg" else fmt
        name = f"{turn.id}-partial.{ext}" if index is None else f"{turn.id}-{index}.{ext}"
        return self.folder / "images" / _safe(turn.session) / name

    def save_image(self, turn: Turn, result: ImageResult, index: int, *, partial: bool = False) -> ImageResult:
        """Write the image atomically, then index it; returns the result with ``.path`` set.

        ``partial=True`` keeps one file per turn, replaced by each newer frame."""
        path = self.image_path(turn, None if partial else index, result.format)
        atomic_write(path, result.data)
        stored = result.with_meta(path=path, index=index, partial=partial)
        meta = {k: v for k, v in stored.to_dict().items() if k not in ("path", "format", "width", "height")}
        if stored.raw_path is not None:  # relative, like the image's own path: the folder can move
            raw = Path(stored.raw_path).resolve()
            meta["raw_path"] = str(raw.relative_to(self.folder)) if raw.is_relative_to(self.folder) else str(raw)
        with self._tx() as db:
            if partial:
                db.execute("DELETE FROM images WHERE turn_id = ? AND partial = 1", (turn.id,))
            db.execute(
                "INSERT OR REPLACE INTO images (turn_id, idx, partial, path, format, width, height, sha256, "
                "bytes, meta, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (turn.id, index, int(partial), str(path.relative_to(self.folder)), result.format, result.width,
                 result.height, hashlib.sha256(result.data).hexdigest(), len(result.data),
                 json.dumps(meta, default=str), time.time()),
            )
        return stored

    def save_raw(self, turn: Turn, result: ImageResult, index: int) -> Path:
        """Keep the API's own image beside a composite made from it (``<turn>-<i>-raw.<ext>``)."""
        path = self.folder / "images" / _safe(turn.session) / f"{turn.id}-{index}-raw.{result.extension}"
        return atomic_write(path, result.data)

    def drop_partial(self, turn: Turn) -> None:
        """Forget the partial frame of a turn whose images all completed."""
        rows = self._query("SELECT path FROM images WHERE turn_id = ? AND partial = 1", (turn.id,))
        with self._tx() as db:
            db.execute("DELETE FROM images WHERE turn_id = ? AND partial = 1", (turn.id,))
        for r in rows:
            (self.folder / r["path"]).unlink(missing_ok=True)

    def link_images(self, turn: Turn, source: Turn) -> None:
        """Index ``source``'s completed images under ``turn`` too (a replay shares the files)."""
        with self._tx() as db:
            db.execute(
                "INSERT OR REPLACE INTO images (turn_id, idx, partial, path, format, width, height, sha256, bytes, "
                "meta, created) SELECT ?, idx, partial, path, format, width, height, sha256, bytes, meta, ? "
                "FROM images WHERE turn_id = ? AND partial = 0", (turn.id, time.time(), source.id))

    def load_images(self, turn: Turn) -> list[ImageResult]:
        """The turn's completed images; when it has none, its newest partial frame."""
        rows = self._query("SELECT * FROM images WHERE turn_id = ? ORDER BY partial, idx", (turn.id,))
        complete = [r for r in rows if not r["partial"]]
        out = []
        for r in complete or rows[:1]:
            path = self.folder / r["path"]
            try:
                data = path.read_bytes()
            except FileNotFoundError:
                continue
            meta = json.loads(r["meta"] or "{}")
            usage = Usage(**meta.pop("usage")) if meta.get("usage") else None
            known = {"model", "prompt", "revised_prompt", "cost", "response_id", "call_id", "request_id",
                     "created", "params", "outside_mask_change"}
            kw = {k: v for k, v in meta.items() if k in known}
            if meta.get("raw_path"):
                kw["raw_path"] = self.folder / meta["raw_path"]
            out.append(ImageResult(data=data, format=r["format"], width=r["width"] or 0, height=r["height"] or 0,
                                   usage=usage, index=r["idx"], path=path, partial=bool(r["partial"]), **kw))
        return out

    def image_count(self, turn_id: str) -> int:
        """How many completed images the turn has (without reading them)."""
        return self._query("SELECT COUNT(*) AS n FROM images WHERE turn_id = ? AND partial = 0", (turn_id,))[0]["n"]

    def image_rows(self, turn_id: str) -> list[dict]:
        return [dict(r) for r in self._query("SELECT * FROM images WHERE turn_id = ?", (turn_id,))]


_STORES: dict[Path, Store] = {}
_STORES_LOCK = threading.Lock()


def open_store(folder: str | os.PathLike | None = None) -> Store:
    """The one ``Store`` of this process for ``folder`` (sessions on one folder share it)."""
    path = Path(folder).expanduser().resolve() if folder else default_folder().resolve()
    with _STORES_LOCK:
        store = _STORES.get(path)
        if store is None or not (path / "index.db").exists():
            store = _STORES[path] = Store(path)
        return store
