"""The store's SQLite schema, grown through numbered migrations (after simonw/llm's ``migrations.py``).

Each migration runs once per database, in order, inside a transaction, and is recorded in
``_migrations``. Never edit a released migration: append a new one.
"""

from __future__ import annotations

import random
import sqlite3
import time
from typing import Callable, TypeVar

__all__ = ["MIGRATIONS", "migrate", "prepare"]

T = TypeVar("T")

Migration = Callable[[sqlite3.Connection], None]
MIGRATIONS: list[Migration] = []


def migration(fn: Migration) -> Migration:
    MIGRATIONS.append(fn)
    return fn


@migration
def m001_initial(db: sqlite3.Connection) -> None:
    _script(db, """
        CREATE TABLE sessions (
            name TEXT PRIMARY KEY,
            created REAL NOT NULL,
            current_id TEXT
        );
        CREATE TABLE turns (
            id TEXT PRIMARY KEY,
            session TEXT NOT NULL REFERENCES sessions(name),
            parent_id TEXT,
            kind TEXT NOT NULL,
            api TEXT NOT NULL,
            model TEXT,
            prompt TEXT,
            params TEXT NOT NULL DEFAULT '{}',
            inputs TEXT NOT NULL DEFAULT '[]',
            response_id TEXT,
            call_id TEXT,
            revised_prompt TEXT,
            usage TEXT,
            cost REAL,
            created REAL NOT NULL,
            elapsed_s REAL,
            status TEXT NOT NULL,
            error TEXT,
            replay_key TEXT,
            backend TEXT
        );
        CREATE INDEX turns_by_session ON turns(session);
        CREATE INDEX turns_by_replay_key ON turns(replay_key, status);
        CREATE TABLE images (
            turn_id TEXT NOT NULL REFERENCES turns(id),
            idx INTEGER NOT NULL,
            partial INTEGER NOT NULL DEFAULT 0,
            path TEXT NOT NULL,
            format TEXT NOT NULL,
            width INTEGER,
            height INTEGER,
            sha256 TEXT NOT NULL,
            bytes INTEGER NOT NULL,
            meta TEXT NOT NULL DEFAULT '{}',
            created REAL NOT NULL,
            PRIMARY KEY (turn_id, partial, idx)
        );
        """)


@migration
def m002_turn_notes(db: sqlite3.Connection) -> None:
    # where a turn came from when it was not a plain call: replayed from another turn, or a note
    # such as "previous response expired; continued by sending the parent image"
    db.execute("ALTER TABLE turns ADD COLUMN replayed_from TEXT")
    db.execute("ALTER TABLE turns ADD COLUMN note TEXT")


@migration
def m003_turn_owner(db: sqlite3.Connection) -> None:
    # which process runs a "running" turn ("host:pid"), so that one left behind by a crash can be
    # told from one still in flight in another kernel
    db.execute("ALTER TABLE turns ADD COLUMN owner TEXT")


@migration
def m004_variants_and_picks(db: sqlite3.Connection) -> None:
    # variants: the sibling turns made by one call with n > 1 through the Responses API share a
    # group id; picked: which image of a turn the next edit continues from (n > 1 on the Image API)
    db.execute("ALTER TABLE turns ADD COLUMN group_id TEXT")
    db.execute("ALTER TABLE turns ADD COLUMN picked INTEGER NOT NULL DEFAULT 0")


@migration
def m005_turns_by_created(db: sqlite3.Connection) -> None:
    # pages of big sessions (newest 50, a turn's number) walk this index instead of every turn;
    # "created" is when a turn began: the rowid moves each time a turn's row is rewritten
    db.execute("CREATE INDEX IF NOT EXISTS turns_by_session_created ON turns(session, created)")
    # opening a session looks for turns a crashed process left "running": a few rows, not all
    db.execute("CREATE INDEX IF NOT EXISTS turns_running ON turns(session) WHERE status = 'running'")


@migration
def m006_batches(db: sqlite3.Connection) -> None:
    # Batch API jobs (session/batch.py). A job is recorded, with every cell and the exact line it
    # sends, before anything is uploaded: a crash at any point finds it, and a part (one remote
    # batch) is created at most once. A cell is done when the turn with its turn_id exists.
    _script(db, """
        CREATE TABLE batch_jobs (
            id TEXT PRIMARY KEY,
            session TEXT NOT NULL,
            created REAL NOT NULL,
            endpoint TEXT NOT NULL,
            status TEXT NOT NULL,
            varying TEXT NOT NULL DEFAULT '[]',
            estimate_usd REAL NOT NULL DEFAULT 0,
            backend TEXT,
            note TEXT
        );
        CREATE INDEX batch_jobs_by_session ON batch_jobs(session);
        CREATE TABLE batch_parts (
            job_id TEXT NOT NULL REFERENCES batch_jobs(id),
            part INTEGER NOT NULL,
            status TEXT NOT NULL,
            input_file_id TEXT,
            batch_id TEXT,
            output_file_id TEXT,
            error_file_id TEXT,
            counts TEXT,
            read INTEGER NOT NULL DEFAULT 0,
            updated REAL,
            PRIMARY KEY (job_id, part)
        );
        CREATE INDEX batch_parts_by_batch ON batch_parts(batch_id);
        CREATE TABLE batch_cells (
            job_id TEXT NOT NULL REFERENCES batch_jobs(id),
            idx INTEGER NOT NULL,
            part INTEGER,
            custom_id TEXT NOT NULL,
            turn_id TEXT NOT NULL,
            cell TEXT NOT NULL,
            turn TEXT NOT NULL,
            line BLOB,
            estimate_usd REAL NOT NULL DEFAULT 0,
            PRIMARY KEY (job_id, idx),
            UNIQUE (job_id, custom_id)
        );
        CREATE TABLE batch_uploads (
            backend TEXT NOT NULL,
            sha256 TEXT NOT NULL,
            file_id TEXT NOT NULL,
            created REAL NOT NULL,
            PRIMARY KEY (backend, sha256)
        );
        """)


@migration
def m007_pins_and_storyboards(db: sqlite3.Connection) -> None:
    # pinned references (session/pins.py): a session's named pictures sent with every later turn;
    # the image is a file of the store (a turn's, or one saved for the pin under images/<session>/pins/).
    # Which pins a turn carried is in its "inputs" (role "pin"), so turns need no new column.
    # storyboards (session/storyboard.py): panels in order, each the prompt and the turn it shows now
    _script(db, """
        CREATE TABLE pins (
            session TEXT NOT NULL,
            name TEXT NOT NULL,
            role TEXT NOT NULL,
            path TEXT NOT NULL,
            sha256 TEXT NOT NULL,
            turn_id TEXT,
            created REAL NOT NULL,
            PRIMARY KEY (session, name)
        );
        CREATE TABLE storyboards (
            id TEXT PRIMARY KEY,
            session TEXT NOT NULL,
            created REAL NOT NULL,
            panels TEXT NOT NULL DEFAULT '[]',
            pins TEXT NOT NULL DEFAULT '[]'
        );
        CREATE INDEX storyboards_by_session ON storyboards(session, created);
        """)


@migration
def m008_packed_turns(db: sqlite3.Connection) -> None:
    # turns restored from a pack (session/pack.py): a shared notebook replays them on any backend,
    # not only the one they were made on (a replay key names its backend)
    db.execute("CREATE TABLE IF NOT EXISTS packed_turns (turn_id TEXT PRIMARY KEY)")


def _script(db: sqlite3.Connection, sql: str) -> None:
    # statement by statement: executescript() would COMMIT and break the migration's transaction
    for statement in sql.split(";"):
        if statement.strip():
            db.execute(statement)


def _when_unlocked(step: Callable[[], T], timeout: float) -> T:
    """Run ``step``, again while another process holds the database: switching a fresh file to
    WAL takes an exclusive lock that SQLite's busy handler does not wait for, so two processes
    opening a new store at once would otherwise see "database is locked"."""
    deadline = time.monotonic() + timeout
    pause = 0.005
    while True:
        try:
            return step()
        except sqlite3.OperationalError as e:
            if "locked" not in str(e) and "busy" not in str(e) or time.monotonic() >= deadline:
                raise
        time.sleep(pause * (0.5 + random.random()))  # jitter: the waiting processes do not retry in step
        pause = min(pause * 2, 0.2)


def prepare(db: sqlite3.Connection, timeout: float = 30.0) -> list[str]:
    """WAL journal, then the migrations this database has not seen; safe when several processes
    open the same (new) store at the same moment. Returns the migrations applied here."""
    _when_unlocked(lambda: db.execute("PRAGMA journal_mode=WAL").fetchone(), timeout)
    db.execute("PRAGMA synchronous=NORMAL")
    return _when_unlocked(lambda: migrate(db), timeout)


def migrate(db: sqlite3.Connection) -> list[str]:
    """Apply the migrations this database has not seen; returns their names."""
    db.execute("CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied REAL NOT NULL)")
    done = {row[0] for row in db.execute("SELECT name FROM _migrations")}
    applied = []
    for fn in MIGRATIONS:
        if fn.__name__ in done:
            continue
        # one transaction per migration: all of it, or none of it (the connection is in autocommit
        # mode, isolation_level=None, so BEGIN here covers DDL too)
        db.execute("BEGIN IMMEDIATE")
        try:
            if db.execute("SELECT 1 FROM _migrations WHERE name = ?", (fn.__name__,)).fetchone():
                db.execute("ROLLBACK")  # another process applied it meanwhile
                continue
            fn(db)
            db.execute("INSERT INTO _migrations (name, applied) VALUES (?, ?)", (fn.__name__, time.time()))
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
        applied.append(fn.__name__)
    return applied
