"""The gateway's SQLite file: participants (tokens stored hashed), the ledger, who owns which id,
the newest images, and the class settings. It survives a restart.

    >>> from imagewidgets.gateway.store import GatewayStore
    >>> store = GatewayStore("class.sqlite3")                     # doctest: +SKIP
    >>> [(p.label, token)] = store.add_participants(1, budget_usd=2.0)   # doctest: +SKIP

Money moves in three steps, each one transaction (``BEGIN IMMEDIATE``, so concurrent requests, and
a second process such as ``imagewidgets gateway participants``, queue behind each other): ``reserve``
checks budget and class cap against what is spent *and* reserved, and writes a reservation;
``settle`` replaces it by the cost from ``usage``; ``release`` drops it (the upstream failed).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["GatewayStore", "Participant", "Reservation", "hash_token", "PARTICIPANT_PREFIX", "ADMIN_PREFIX"]

PARTICIPANT_PREFIX = "iwp_"
ADMIN_PREFIX = "iwa_"
#: how many gallery thumbnails are kept (the newest)
GALLERY_KEEP = 200

_SCHEMA = """
CREATE TABLE IF NOT EXISTS participants (
    id INTEGER PRIMARY KEY, label TEXT UNIQUE NOT NULL, token_hash TEXT UNIQUE NOT NULL,
    budget_usd REAL NOT NULL, revoked_at REAL, created_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS ledger (
    id INTEGER PRIMARY KEY, participant_id INTEGER NOT NULL, endpoint TEXT NOT NULL, model TEXT,
    stream INTEGER NOT NULL DEFAULT 0, state TEXT NOT NULL, reserved_usd REAL NOT NULL,
    charged_usd REAL NOT NULL DEFAULT 0, status INTEGER, note TEXT, created_at REAL NOT NULL,
    finished_at REAL);
CREATE INDEX IF NOT EXISTS ledger_participant ON ledger (participant_id);
CREATE TABLE IF NOT EXISTS refusals (
    id INTEGER PRIMARY KEY, participant_id INTEGER, code TEXT NOT NULL, created_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS objects (
    id TEXT PRIMARY KEY, participant_id INTEGER NOT NULL, kind TEXT NOT NULL, meta TEXT,
    created_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS images (
    id INTEGER PRIMARY KEY, participant_id INTEGER NOT NULL, prompt TEXT, mime TEXT NOT NULL,
    thumb BLOB NOT NULL, created_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS moderation (
    id INTEGER PRIMARY KEY, participant_id INTEGER NOT NULL, endpoint TEXT NOT NULL, stage TEXT,
    categories TEXT NOT NULL, created_at REAL NOT NULL);
"""

#: a reservation or a settled charge counts against the budget; a released one does not
_USED = "CASE WHEN state = 'reserved' THEN reserved_usd ELSE charged_usd END"


def hash_token(token: str) -> str:
    """SHA-256 of a token. Tokens are 192 random bits, so a plain hash cannot be searched backwards."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(24)


@dataclass(frozen=True)
class Participant:
    id: int
    label: str
    budget_usd: float
    revoked: bool


@dataclass(frozen=True)
class Reservation:
    """The answer of ``reserve``: ``id`` of the ledger row, or why not (``refused``: budget or class_cap)."""

    id: int | None
    used_usd: float
    limit_usd: float
    refused: str | None = None


class GatewayStore:
    """One SQLite file, one connection shared by the gateway's threads (a lock around each use)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if not self.path.exists():  # token hashes, the ledger and prompts: the teacher's eyes only
            self.path.touch(mode=0o600)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False, timeout=30)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        # a file from an earlier version: its refusals get room for what was asked and why
        have = {r["name"] for r in self._db.execute("PRAGMA table_info(refusals)")}
        for column in ("message", "what"):
            if column not in have:
                self._db.execute(f"ALTER TABLE refusals ADD COLUMN {column} TEXT")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # -- plumbing ---------------------------------------------------------------------------------
    def _tx(self) -> "_Transaction":
        return _Transaction(self)

    def _all(self, sql: str, *args: Any) -> list[sqlite3.Row]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    def _one(self, sql: str, *args: Any) -> sqlite3.Row | None:
        with self._lock:
            return self._db.execute(sql, args).fetchone()

    # -- settings -----------------------------------------------------------------------------------
    def get_setting(self, key: str, default: Any = None) -> Any:
        row = self._one("SELECT value FROM settings WHERE key = ?", key)
        return json.loads(row["value"]) if row else default

    def set_setting(self, key: str, value: Any) -> None:
        with self._tx() as db:
            db.execute("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = "
                       "excluded.value", (key, json.dumps(value)))

    def new_admin_token(self) -> str:
        """A new teacher's token (the old one stops working); only its hash is kept."""
        token = new_token(ADMIN_PREFIX)
        self.set_setting("admin_token_hash", hash_token(token))
        return token

    def has_admin_token(self) -> bool:
        return self.get_setting("admin_token_hash") is not None

    def is_admin(self, token: str) -> bool:
        want = self.get_setting("admin_token_hash")
        return bool(want and token.startswith(ADMIN_PREFIX) and hmac.compare_digest(want, hash_token(token)))

    # -- participants -------------------------------------------------------------------------------
    def add_participants(self, count: int, budget_usd: float, prefix: str = "p",
                         labels: list[str] | None = None) -> list[tuple[Participant, str]]:
        """``count`` new participants (labels ``p01``... after the existing ones, or ``labels``), each with
        a fresh token; returns (participant, token) pairs: the only time the tokens are seen."""
        now = time.time()
        out = []
        with self._tx() as db:
            taken = {r["label"] for r in db.execute("SELECT label FROM participants")}
            width = max(2, len(str(count + len(taken))))
            names = iter(labels or [])
            k = 0
            for _ in range(count):
                label = next(names, None)
                while label is None or label in taken:
                    k += 1
                    label = f"{prefix}{k:0{width}d}"
                taken.add(label)
                token = new_token(PARTICIPANT_PREFIX)
                cur = db.execute("INSERT INTO participants (label, token_hash, budget_usd, created_at) VALUES "
                                 "(?, ?, ?, ?)", (label, hash_token(token), float(budget_usd), now))
                out.append((Participant(int(cur.lastrowid or 0), label, float(budget_usd), False), token))
        return out

    def participant_for_token(self, token: str) -> Participant | None:
        """The participant a token belongs to, revoked or not (None: no such token)."""
        if not token.startswith(PARTICIPANT_PREFIX):
            return None
        row = self._one("SELECT * FROM participants WHERE token_hash = ?", hash_token(token))
        return _participant(row) if row else None

    def participant(self, key: int | str) -> Participant | None:
        col = "id" if isinstance(key, int) else "label"
        row = self._one(f"SELECT * FROM participants WHERE {col} = ?", key)
        return _participant(row) if row else None

    def participants(self) -> list[Participant]:
        return [_participant(r) for r in self._all("SELECT * FROM participants ORDER BY id")]

    def revoke(self, participant_id: int, revoked: bool = True) -> None:
        with self._tx() as db:
            db.execute("UPDATE participants SET revoked_at = ? WHERE id = ?",
                       (time.time() if revoked else None, participant_id))

    def set_budget(self, participant_id: int, budget_usd: float) -> None:
        with self._tx() as db:
            db.execute("UPDATE participants SET budget_usd = ? WHERE id = ?", (float(budget_usd), participant_id))

    # -- money --------------------------------------------------------------------------------------
    def reserve(self, participant_id: int, usd: float, *, endpoint: str, model: str | None, stream: bool,
                class_cap_usd: float | None = None) -> Reservation:
        """Reserve ``usd`` if the participant's budget and the class cap both still hold it afterwards."""
        with self._tx() as db:
            budget = db.execute("SELECT budget_usd FROM participants WHERE id = ?", (participant_id,)).fetchone()[0]
            used = db.execute(f"SELECT COALESCE(SUM({_USED}), 0) FROM ledger WHERE participant_id = ?",
                              (participant_id,)).fetchone()[0]
            if used + usd > budget + 1e-12:
                return Reservation(None, used, budget, refused="budget")
            if class_cap_usd is not None:
                total = db.execute(f"SELECT COALESCE(SUM({_USED}), 0) FROM ledger").fetchone()[0]
                if total + usd > class_cap_usd + 1e-12:
                    return Reservation(None, total, class_cap_usd, refused="class_cap")
            cur = db.execute("INSERT INTO ledger (participant_id, endpoint, model, stream, state, reserved_usd, "
                             "created_at) VALUES (?, ?, ?, ?, 'reserved', ?, ?)",
                             (participant_id, endpoint, model, int(stream), usd, time.time()))
            return Reservation(cur.lastrowid, used + usd, budget)

    def settle(self, ledger_id: int, charged_usd: float, status: int, note: str | None = None) -> None:
        with self._tx() as db:
            db.execute("UPDATE ledger SET state = 'settled', charged_usd = ?, status = ?, note = ?, finished_at = ? "
                       "WHERE id = ? AND state = 'reserved'", (charged_usd, status, note, time.time(), ledger_id))

    def release(self, ledger_id: int, status: int | None, note: str) -> None:
        with self._tx() as db:
            db.execute("UPDATE ledger SET state = 'released', charged_usd = 0, status = ?, note = ?, finished_at = ? "
                       "WHERE id = ? AND state = 'reserved'", (status, note, time.time(), ledger_id))

    def close_interrupted(self) -> int:
        """At start: reservations a stopped gateway left open are charged in full (the upstream may
        have been paid; charging errs on the side of the budget)."""
        with self._tx() as db:
            return db.execute("UPDATE ledger SET state = 'settled', charged_usd = reserved_usd, note = "
                              "'gateway stopped during the request', finished_at = ? WHERE state = 'reserved'",
                              (time.time(),)).rowcount

    def spent(self, participant_id: int | None = None) -> float:
        where, args = ("WHERE participant_id = ?", (participant_id,)) if participant_id is not None else ("", ())
        row = self._one(f"SELECT COALESCE(SUM({_USED}), 0) FROM ledger {where}", *args)
        return row[0] if row is not None else 0.0

    def ledger(self, participant_id: int | None = None, limit: int = 1000) -> list[dict]:
        where, args = ("WHERE l.participant_id = ?", (participant_id,)) if participant_id is not None else ("", ())
        rows = self._all(f"SELECT l.*, p.label FROM ledger l JOIN participants p ON p.id = l.participant_id {where} "
                         "ORDER BY l.id DESC LIMIT ?", *args, limit)
        return [dict(r) for r in rows]

    def note_refusal(self, participant_id: int | None, code: str, message: str | None = None,
                     what: str | None = None) -> None:
        """A refused request: who, why (``code`` and the sentence they read), what they asked for."""
        with self._tx() as db:
            db.execute("INSERT INTO refusals (participant_id, code, message, what, created_at) VALUES (?, ?, ?, ?, ?)",
                       (participant_id, code, message, what, time.time()))

    def refused_requests(self, limit: int = 30) -> list[dict]:
        """The newest refusals, newest first: who (label), what they asked for, why, when."""
        rows = self._all("SELECT r.id, p.label, r.code, r.message, r.what, r.created_at FROM refusals r "
                         "LEFT JOIN participants p ON p.id = r.participant_id ORDER BY r.id DESC LIMIT ?", limit)
        return [dict(r) for r in rows]

    def note_moderation(self, participant_id: int, endpoint: str, stage: str | None,
                        categories: tuple[str, ...]) -> None:
        """A request the image service refused for moderation (gateway/moderation.py)."""
        with self._tx() as db:
            db.execute("INSERT INTO moderation (participant_id, endpoint, stage, categories, created_at) VALUES "
                       "(?, ?, ?, ?, ?)", (participant_id, endpoint, stage, json.dumps(list(categories)), time.time()))

    def moderations(self, limit: int = 200) -> list[dict]:
        """The newest moderation refusals, newest first, with the participant's label."""
        rows = self._all("SELECT m.*, p.label FROM moderation m JOIN participants p ON p.id = m.participant_id "
                         "ORDER BY m.id DESC LIMIT ?", limit)
        return [{**dict(r), "categories": json.loads(r["categories"])} for r in rows]

    def summary(self) -> list[dict]:
        """One row per participant: budget, spent (settled), reserved (in flight), requests, refusals."""
        rows = self._all(
            "SELECT p.id, p.label, p.budget_usd, p.revoked_at IS NOT NULL AS revoked, "
            " COALESCE((SELECT SUM(charged_usd) FROM ledger l WHERE l.participant_id = p.id AND state = 'settled'), 0)"
            "  AS spent_usd, "
            " COALESCE((SELECT SUM(reserved_usd) FROM ledger l WHERE l.participant_id = p.id AND state = 'reserved'), 0)"
            "  AS reserved_usd, "
            " (SELECT COUNT(*) FROM ledger l WHERE l.participant_id = p.id AND state = 'settled') AS requests, "
            " (SELECT COUNT(*) FROM ledger l WHERE l.participant_id = p.id AND state = 'released') AS failed, "
            " (SELECT COUNT(*) FROM refusals r WHERE r.participant_id = p.id) AS refused, "
            " (SELECT MAX(created_at) FROM ledger l WHERE l.participant_id = p.id) AS last_request_at "
            "FROM participants p ORDER BY p.id")
        return [dict(r) for r in rows]

    # -- ownership ----------------------------------------------------------------------------------
    def own(self, participant_id: int, kind: str, object_id: str, meta: dict | None = None) -> None:
        with self._tx() as db:
            db.execute("INSERT OR IGNORE INTO objects (id, participant_id, kind, meta, created_at) VALUES "
                       "(?, ?, ?, ?, ?)", (object_id, participant_id, kind, json.dumps(meta or {}), time.time()))

    def owner(self, object_id: str) -> tuple[int, str, dict] | None:
        row = self._one("SELECT participant_id, kind, meta FROM objects WHERE id = ?", object_id)
        return (row["participant_id"], row["kind"], json.loads(row["meta"] or "{}")) if row else None

    def owned_ids(self, participant_id: int, kind: str) -> list[str]:
        """The ids of one kind a participant owns, newest first."""
        return [r["id"] for r in self._all("SELECT id FROM objects WHERE participant_id = ? AND kind = ? "
                                           "ORDER BY created_at DESC, rowid DESC", participant_id, kind)]

    def owns(self, participant_id: int, object_id: str) -> bool:
        found = self.owner(object_id)
        return found is not None and found[0] == participant_id

    # -- gallery ------------------------------------------------------------------------------------
    def add_image(self, participant_id: int, prompt: str | None, mime: str, thumb: bytes) -> int:
        with self._tx() as db:
            cur = db.execute("INSERT INTO images (participant_id, prompt, mime, thumb, created_at) VALUES "
                             "(?, ?, ?, ?, ?)", (participant_id, (prompt or "")[:300], mime, thumb, time.time()))
            image_id = int(cur.lastrowid or 0)
            db.execute("DELETE FROM images WHERE id <= ?", (image_id - GALLERY_KEEP,))
            return image_id

    def images(self, limit: int = 24, after: int = 0) -> list[dict]:
        rows = self._all("SELECT i.id, i.prompt, i.created_at, p.label FROM images i JOIN participants p ON "
                         "p.id = i.participant_id WHERE i.id > ? ORDER BY i.id DESC LIMIT ?", after, limit)
        return [dict(r) for r in rows]

    def image(self, image_id: int) -> tuple[str, bytes] | None:
        row = self._one("SELECT mime, thumb FROM images WHERE id = ?", image_id)
        return (row["mime"], bytes(row["thumb"])) if row else None


class _Transaction:
    """``with store.transaction() as db``: the lock, then ``BEGIN IMMEDIATE`` ... ``COMMIT`` (or ``ROLLBACK``)."""

    def __init__(self, store: GatewayStore) -> None:
        self.store = store

    def __enter__(self) -> sqlite3.Connection:
        self.store._lock.acquire()
        try:
            self.store._db.execute("BEGIN IMMEDIATE")
        except BaseException:
            self.store._lock.release()
            raise
        return self.store._db

    def __exit__(self, exc_type: Any, *exc: Any) -> None:
        try:
            self.store._db.execute("ROLLBACK" if exc_type else "COMMIT")
        finally:
            self.store._lock.release()


def _participant(row: sqlite3.Row) -> Participant:
    return Participant(row["id"], row["label"], row["budget_usd"], row["revoked_at"] is not None)
