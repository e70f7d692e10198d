"""The on-disk store: image files plus an index in SQLite, one folder for many named sessions.

    imagewidgets-data/
      index.db                        sessions, turns, images (WAL; schema in migrations.py)
      images/<session>/<turn>-<i>.png completed images
      images/<session>/<turn>-partial.png   the newest partial frame of a streamed turn
      thumbs/<size>/<sha256>.jpg      thumbnails for the views, by content hash (thumbs.py)

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
from typing import TYPE_CHECKING, Any, Iterator

from .migrations import prepare
from ..api.results import ImageResult, atomic_write, make_folder, private_files
from ..api.usage import Usage
from .turns import Turn, owner_gone

if TYPE_CHECKING:  # pragma: no cover
    from .thumbs import Thumb

__all__ = ["Store", "default_folder", "open_store", "TURN_ID", "check_session_name", "IMAGE_FORMATS"]

#: what a turn id looks like (``new_turn_id``; a batch cell's ``turn_<job>_<index>``): the only ids
#: that may name a file in the store (letters, digits and "_" only: never a path)
TURN_ID = re.compile(r"turn_[0-9a-f]{12,32}(?:_[0-9]{1,6})?")
#: the formats an image in the store may have (the file extension comes from this table only)
IMAGE_FORMATS = ("png", "jpeg", "webp", "gif", "svg")
_SESSION_NAME_MAX = 200

_TURN_COLUMNS = ("id", "session", "parent_id", "kind", "api", "model", "prompt", "params", "inputs",
                 "response_id", "call_id", "revised_prompt", "usage", "cost", "created", "elapsed_s",
                 "status", "error", "replay_key", "backend", "replayed_from", "note", "owner", "group_id", "picked")
_JSON_COLUMNS = {"params", "inputs"}


def default_folder() -> Path:
    """``$IMAGEWIDGETS_STORE``, else ``./imagewidgets-data`` beside the notebook (the working directory)."""
    env = os.environ.get("IMAGEWIDGETS_STORE")
    return Path(env).expanduser() if env else Path.cwd() / "imagewidgets-data"


def check_session_name(name: object, *, from_file: bool = False) -> str | None:
    """What is wrong with ``name`` as a session name, or None: text of 1-200 characters, not blank,
    no NUL (its folder under ``images/`` is a sanitised form of it, so any text is safe there). A
    name read from a file or a server must also look like a name, not a path: printable, no ``/``
    or ``\\``, not dots only."""
    if not isinstance(name, str):
        return f"must be text, not {type(name).__name__}"
    if not 0 < len(name) <= _SESSION_NAME_MAX or not name.strip():
        return f"must be 1 to {_SESSION_NAME_MAX} characters long"
    if "\x00" in name or (from_file and any(not ch.isprintable() for ch in name)):
        return "must be printable text (no control characters)"
    if from_file and ("/" in name or "\\" in name or not name.strip(".")):
        return "must be a name, not a path: no '/' or '\\', not dots only"
    return None


def _safe(name: str) -> str:
    """A folder name from any session name: letters, digits, ``_ . -``, never a dot-dot."""
    return re.sub(r"\.{2,}", "_", re.sub(r"[^A-Za-z0-9_.-]+", "_", name)).strip(".") or "session"


class Store:
    """Files and index under ``folder``. Thread-safe (one connection behind a lock); several
    processes may share a folder (SQLite WAL)."""

    def __init__(self, folder: str | os.PathLike | None = None) -> None:
        self.folder = Path(folder).expanduser().resolve() if folder else default_folder().resolve()
        make_folder(self.folder)
        self._lock = threading.RLock()
        index = self.folder / "index.db"
        if private_files() and not index.exists():
            # the index holds prompts: made 0600 before SQLite opens it (its -wal/-shm files take
            # the database file's mode)
            os.close(os.open(index, os.O_CREAT | os.O_WRONLY, 0o600))
        self._db = sqlite3.connect(index, timeout=30, isolation_level=None, check_same_thread=False)
        self._db.row_factory = sqlite3.Row
        with self._lock:
            prepare(self._db)

    def __repr__(self) -> str:
        return f"Store({str(self.folder)!r})"

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (``BEGIN IMMEDIATE`` ... ``COMMIT``, rolled back on an error), for
        the store's companion tables (``batch_store``, ``pack``): ``with store.transaction() as db:``."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def query(self, sql: str, args: tuple = ()) -> list[sqlite3.Row]:
        """The rows of one read (under the store's lock), for the store's companion tables."""
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    _tx, _query = transaction, query  # the store's own spelling

    # -- sessions ------------------------------------------------------------------------------
    def ensure_session(self, name: str) -> None:
        problem = check_session_name(name)
        if problem:
            from ..api.errors import ParamError

            raise ParamError("name", name, "the session's name: some text of 1 to 200 characters",
                             hint=f"a session name {problem}")
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
        rows = self._query("SELECT * FROM turns WHERE session = ? ORDER BY created, rowid", (session,))
        return [self._turn(r) for r in rows]

    # -- pages (views of big sessions read only what they show) -------------------------------
    @staticmethod
    def _where(session: str, search: str | None) -> tuple[str, tuple]:
        if not search:
            return "session = ?", (session,)
        pattern = "%" + search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        return "session = ? AND prompt LIKE ? ESCAPE '\\'", (session, pattern)

    def count_turns(self, session: str, search: str | None = None, status: str | None = None) -> int:
        """How many turns the session has (whose prompt contains ``search``, case-insensitive;
        of that ``status``)."""
        where, args = self._where(session, search)
        if status is not None:
            where, args = f"{where} AND status = ?", (*args, status)
        return self._query(f"SELECT COUNT(*) AS n FROM turns WHERE {where}", args)[0]["n"]

    def page_turns(self, session: str, limit: int, offset: int = 0, search: str | None = None) -> list[Turn]:
        """Turns newest first, ``limit`` of them after skipping ``offset`` (an index walk: the first
        pages cost the same at 100 turns or 100,000)."""
        where, args = self._where(session, search)
        rows = self._query(f"SELECT * FROM turns WHERE {where} ORDER BY created DESC, rowid DESC LIMIT ? OFFSET ?",
                           (*args, int(limit), int(offset)))
        return [self._turn(r) for r in rows]

    def turn_numbers(self, session: str, turn_ids: list[str]) -> dict[str, int]:
        """Each turn's number in its session (1 = the first), as the views show it (``#3``)."""
        ids = list(dict.fromkeys(turn_ids))
        if not ids:
            return {}
        marks = ", ".join("?" for _ in ids)
        rows = self._query(f"SELECT id, n FROM (SELECT id, ROW_NUMBER() OVER (ORDER BY created, rowid) AS n FROM turns "
                           f"WHERE session = ?) WHERE id IN ({marks})", (session, *ids))
        return {r["id"]: r["n"] for r in rows}

    def ledger(self, session: str) -> tuple[int, float]:
        """(turns, dollars spent) of a session, replayed turns costing nothing (one SQL sum)."""
        row = self._query("SELECT COUNT(*) AS n, TOTAL(CASE WHEN status != 'replayed' THEN cost END) AS usd "
                          "FROM turns WHERE session = ?", (session,))[0]
        return row["n"], row["usd"]

    def iter_turns(self, session: str, chunk: int = 200) -> Iterator[Turn]:
        """Every turn of the session in the order they were started, read ``chunk`` rows at a time."""
        created, last = float("-inf"), -1
        while True:
            rows = self._query("SELECT rowid AS _r, * FROM turns WHERE session = ? AND (created > ? OR (created = ? "
                               "AND rowid > ?)) ORDER BY created, rowid LIMIT ?", (session, created, created, last, chunk))
            if not rows:
                return
            for r in rows:
                yield self._turn(r)
            created, last = rows[-1]["created"], rows[-1]["_r"]

    def first_images(self, turn_ids: list[str]) -> dict[str, dict]:
        """The index row of each turn's first image (its newest partial frame when none completed),
        without reading any image file."""
        out: dict[str, dict] = {}
        ids = list(dict.fromkeys(turn_ids))
        for i in range(0, len(ids), 500):
            part = ids[i:i + 500]
            marks = ", ".join("?" for _ in part)
            for r in self._query(f"SELECT * FROM images WHERE turn_id IN ({marks}) ORDER BY partial DESC, idx DESC",
                                 tuple(part)):
                out[r["turn_id"]] = dict(r)  # the last written wins: completed, lowest index
        return out

    def images_of(self, turn_ids: list[str]) -> dict[str, list[dict]]:
        """The index rows of each turn's images (completed ones; else its newest partial frame),
        as ``load_images`` would return them, without reading any file."""
        out: dict[str, list[dict]] = {}
        ids = list(dict.fromkeys(turn_ids))
        for i in range(0, len(ids), 500):
            part = ids[i:i + 500]
            marks = ", ".join("?" for _ in part)
            for r in self._query(f"SELECT * FROM images WHERE turn_id IN ({marks}) ORDER BY partial, idx", tuple(part)):
                rows = out.setdefault(r["turn_id"], [])
                if not r["partial"] or not rows:
                    if rows and rows[0]["partial"]:
                        rows.clear()
                    rows.append(dict(r))
        return {k: [r for r in v if not r["partial"]] or v[:1] for k, v in out.items()}

    def thumbnail(self, row: dict, size: int) -> "Thumb | None":
        """A small copy of the image of an index row (``first_images``), cached on disk by content hash."""
        from .thumbs import thumbnail

        return thumbnail(self.folder, row, size)

    def turn(self, turn_id: str) -> Turn | None:
        rows = self._query("SELECT * FROM turns WHERE id = ?", (turn_id,))
        return self._turn(rows[0]) if rows else None

    def find_replay(self, key: str, *, packed_only: bool = False) -> Turn | None:
        """The newest completed turn (any session in this folder) made by an identical request
        (``packed_only``: only turns restored from a pack)."""
        packed = " AND id IN (SELECT turn_id FROM packed_turns)" if packed_only else ""
        rows = self._query(
            f"SELECT * FROM turns WHERE replay_key = ? AND status = 'completed'{packed} ORDER BY created DESC", (key,))
        for row in rows:
            turn = self._turn(row)
            if turn.images and all(img.path and Path(img.path).is_file() for img in turn.images):
                return turn
        return None

    # -- turns restored from a pack -------------------------------------------------------------
    def mark_packed(self, turn_ids: list[str]) -> None:
        """Remember that these turns came from a pack (they replay on any backend)."""
        with self._tx() as db:
            db.executemany("INSERT OR IGNORE INTO packed_turns (turn_id) VALUES (?)", [(t,) for t in turn_ids])

    def packed_backends(self) -> list[str]:
        """The backends the packed turns were made on (none: this store holds no pack)."""
        rows = self._query("SELECT DISTINCT backend FROM turns WHERE id IN (SELECT turn_id FROM packed_turns) "
                           "AND backend IS NOT NULL")
        return [r["backend"] for r in rows]

    def has_packed(self) -> bool:
        """Whether a pack was unpacked into this store."""
        return bool(self._query("SELECT 1 FROM packed_turns LIMIT 1"))

    def forget_turn(self, turn_id: str) -> None:
        """Remove a turn that holds no image (a request that never reached its server)."""
        with self._tx() as db:
            if db.execute("SELECT 1 FROM images WHERE turn_id = ? LIMIT 1", (turn_id,)).fetchone():
                raise ValueError(f"turn {turn_id} holds images: it is kept")
            db.execute("DELETE FROM turns WHERE id = ?", (turn_id,))

    # -- images --------------------------------------------------------------------------------
    def discard_unfinished_writes(self, session: str, turn_id: str) -> int:
        """Remove the temp files a killed process left while writing this turn's images (an atomic
        write is a hidden ``.<name>.<random>.tmp`` renamed into place; a kill -9 leaves it behind).
        Only for a turn this process is about to write again. Returns how many were removed."""
        if not isinstance(turn_id, str) or not TURN_ID.fullmatch(turn_id):
            raise ValueError(f"not a turn id of this store: {turn_id!r}")
        gone = 0
        for tmp in (self.folder / "images" / _safe(session)).glob(f".{turn_id}-*.tmp"):
            try:
                tmp.unlink()
                gone += 1
            except FileNotFoundError:
                pass
        return gone

    def image_path(self, turn: Turn, index: int | None, fmt: str) -> Path:
        # every part of the name is ours: a turn id of our pattern, a number, an extension from
        # the table; a session name is sanitised. Whatever a file or a server said, the path
        # stays inside the store
        if not isinstance(turn.id, str) or not TURN_ID.fullmatch(turn.id):
            raise ValueError(f"not a turn id of this store: {turn.id!r}")
        if fmt not in IMAGE_FORMATS:
            raise ValueError(f"not an image format of this store: {fmt!r}")
        if index is not None and (isinstance(index, bool) or not isinstance(index, int) or index < 0):
            raise ValueError(f"not an image index: {index!r}")
        ext = "jpg" if fmt == "jpeg" else fmt
        name = f"{turn.id}-partial.{ext}" if index is None else f"{turn.id}-{index}.{ext}"
        path = self.folder / "images" / _safe(turn.session) / name
        if not path.resolve().is_relative_to(self.folder):
            raise ValueError(f"an image path outside the store: {path}")
        return path

    def save_image(self, turn: Turn, result: ImageResult, index: int, *, partial: bool = False) -> ImageResult:
        """Write the image atomically, then index it; returns the result with ``.path`` set.

        ``partial=True`` keeps one file per turn, replaced by each newer frame."""
        path = self.image_path(turn, None if partial else index, result.format)
        atomic_write(path, result.data)
        rel = path.relative_to(self.folder).as_posix()
        stored = result.with_meta(path=path, index=index, partial=partial, store_path=rel)
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
                (turn.id, index, int(partial), rel, result.format, result.width,
                 result.height, stored.sha256, len(result.data),
                 json.dumps(meta, default=str), time.time()),
            )
        # a completed image stays in its file, the session keeps the path (memory flat in the number
        # of turns); a partial frame's file is replaced by the next one, so a frame keeps its bytes
        return stored if partial else stored.on_disk()

    def save_pin_image(self, session: str, data: bytes, fmt: str, sha256: str) -> Path:
        """Keep a pinned picture that is no turn's image: ``images/<session>/pins/<sha256>.<ext>``
        (the name is its hash and an extension from the table: never a path from outside)."""
        if fmt not in IMAGE_FORMATS or not re.fullmatch(r"[0-9a-f]{64}", sha256):
            raise ValueError(f"not a pin image of this store: {fmt!r} {sha256!r}")
        ext = "jpg" if fmt == "jpeg" else fmt
        return atomic_write(self.folder / "images" / _safe(session) / "pins" / f"{sha256}.{ext}", data)

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
            if not path.is_file():
                continue
            # a partial frame is read now (its file is replaced by newer frames); a completed
            # image is read when used
            data = path.read_bytes() if r["partial"] else None
            meta = json.loads(r["meta"] or "{}")
            usage = Usage(**meta.pop("usage")) if meta.get("usage") else None
            known = {"model", "prompt", "revised_prompt", "cost", "response_id", "call_id", "request_id",
                     "created", "params", "outside_mask_change", "raw_outside_mask_change",
                     "served_quality"}
            kw = {k: v for k, v in meta.items() if k in known}
            if meta.get("raw_path"):
                kw["raw_path"] = self.folder / meta["raw_path"]
            img = ImageResult(data=data or b"", format=r["format"], width=r["width"] or 0, height=r["height"] or 0,
                              usage=usage, index=r["idx"], path=path, partial=bool(r["partial"]),
                              store_path=r["path"], **kw)
            if r["sha256"]:
                img.__dict__["sha256"] = r["sha256"]  # the index knows it: no read to hash it
            out.append(img if data is not None else img.on_disk())
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
