"""The store: SQLite index with numbered migrations, atomic image files, crash safety, no secrets."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from imagewidgets import Client, Session
from imagewidgets.session.migrations import MIGRATIONS, migrate
from imagewidgets.offline.config import OfflineConfig
from imagewidgets.offline.server import OfflineServer
from imagewidgets.session.store import Store, default_folder, open_store
from imagewidgets.session.turns import redact

#: real-size pictures (a 1024x1024 PNG ~2.2 MB) from every twin these tests talk to: a limit that
#: real pictures break (an event cap, memory per turn) fails here (tests/fixtures_offline.py)
pytestmark = pytest.mark.pictures("realistic")

LOW = {"size": "1024x1024", "quality": "low"}
REPO = Path(__file__).resolve().parents[1]


def test_a_new_store_applies_every_migration_once_in_order(tmp_path):
    store = Store(tmp_path)
    db = sqlite3.connect(tmp_path / "index.db")
    names = [r[0] for r in db.execute("SELECT name FROM _migrations ORDER BY applied")]
    assert names == [m.__name__ for m in MIGRATIONS]
    assert migrate(db) == []  # nothing left to do
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    cols = {r[1] for r in db.execute("PRAGMA table_info(turns)")}
    assert {"response_id", "call_id", "replay_key", "parent_id", "replayed_from", "note", "owner"} <= cols
    store.close()


def test_a_store_from_before_the_owner_column_opens_and_keeps_its_turns(tmp_path):
    db = sqlite3.connect(tmp_path / "index.db", isolation_level=None)
    db.execute("CREATE TABLE _migrations (name TEXT PRIMARY KEY, applied REAL NOT NULL)")
    for fn in MIGRATIONS[:2]:  # m001, m002: the schema an earlier release wrote
        fn(db)
        db.execute("INSERT INTO _migrations VALUES (?, 0)", (fn.__name__,))
    db.execute("INSERT INTO sessions (name, created) VALUES ('old', 0)")
    db.execute("INSERT INTO turns (id, session, kind, api, created, status) "
               "VALUES ('turn_old', 'old', 'generate', 'images', 0, 'running')")
    db.close()
    store = Store(tmp_path)
    (turn,) = store.turns("old")
    assert turn.owner is None and store.settle_interrupted("old") == []  # no owner: cannot tell
    assert store.turn("turn_old").status == "running"
    store.close()


def test_a_failed_migration_leaves_nothing_behind(tmp_path):
    db = sqlite3.connect(tmp_path / "x.db", isolation_level=None)

    def broken(db):
        db.execute("CREATE TABLE half (x)")
        raise RuntimeError("boom")

    MIGRATIONS.append(broken)
    try:
        with pytest.raises(RuntimeError):
            migrate(db)
    finally:
        MIGRATIONS.remove(broken)
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "half" not in tables and "turns" in tables
    assert "broken" not in {r[0] for r in db.execute("SELECT name FROM _migrations")}


def test_the_default_folder_is_imagewidgets_store_else_beside_the_notebook(tmp_path, monkeypatch):
    assert default_folder() == Path(os.environ["IMAGEWIDGETS_STORE"])
    monkeypatch.delenv("IMAGEWIDGETS_STORE")
    monkeypatch.chdir(tmp_path)
    assert default_folder() == tmp_path / "imagewidgets-data"
    s = Session("here", client=Client(base_url="http://127.0.0.1:9/v1"))
    assert s.store.folder == (tmp_path / "imagewidgets-data").resolve()


def test_layout_one_folder_many_sessions(wire, tmp_path):
    a = Session("alpha", folder=tmp_path, client=Client(transport=wire))
    b = Session("beta/gamma", folder=tmp_path, client=a.client)
    ia = a.imagine("a cat", **LOW)
    ib = b.imagine("a dog", **LOW)
    assert a.store is b.store is open_store(tmp_path)
    assert ia.path.parent == tmp_path.resolve() / "images" / "alpha"
    assert ib.path.parent == tmp_path.resolve() / "images" / "beta_gamma"
    assert ia.path.name == f"{a.current.id}-0.png"
    assert set(a.store.sessions()) == {"alpha", "beta/gamma"}
    assert [t.id for t in a.turns] == [a.current.id] and [t.id for t in b.turns] == [b.current.id]


def test_images_are_indexed_with_their_metadata(session):
    img = session.imagine("a cat", **LOW)
    (row,) = session.store.image_rows(session.current.id)
    meta = json.loads(row["meta"])
    assert row["sha256"] == hashlib.sha256(img.data).hexdigest() and row["bytes"] == len(img.data)
    assert (row["width"], row["height"], row["format"]) == (1024, 1024, "png")
    assert meta["prompt"] == "a cat" and meta["model"] == "gpt-image-2" and meta["usage"]["output_tokens"] > 0
    assert not list(session.store.folder.rglob("*.tmp"))  # atomic writes leave no temp files


_CRASH = textwrap.dedent("""
    import sys
    sys.path.insert(0, sys.argv[2])
    from imagewidgets import Client, Session
    from imagewidgets.offline.config import OfflineConfig
    from imagewidgets.offline.server import OfflineServer
    server = OfflineServer(OfflineConfig.from_env(partial_interval_s=float(sys.argv[3]))).start()
    s = Session("crash", folder=sys.argv[1], client=Client(base_url=server.base_url), api="images")
    s.imagine("a quick first picture", size="1024x1024", quality="low")
    s.imagine("three slow pictures", n=3, stream=True, partial_images=2, size="1024x1024", quality="low")
    print("the stream finished: the test was too slow to kill it", flush=True)
""")


def _rows(folder: Path, sql: str) -> list[tuple]:
    if not (folder / "index.db").exists():
        return []
    db = sqlite3.connect(f"file:{folder / 'index.db'}?mode=ro", uri=True, timeout=5)
    try:
        return db.execute(sql).fetchall()
    except sqlite3.OperationalError:  # tables not there yet
        return []
    finally:
        db.close()


def test_a_process_killed_mid_stream_leaves_every_completed_image_in_the_store(tmp_path):
    folder = tmp_path / "store"
    proc = subprocess.Popen([sys.executable, "-c", _CRASH, str(folder), str(REPO), "0.4"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # until the streamed turn has one completed image
            # the streamed turn's (not the first turn's: under load it can be caught between storing
            # its image and being marked completed)
            done = _rows(folder, "SELECT i.turn_id FROM images i JOIN turns t ON t.id = i.turn_id "
                                 "WHERE t.status = 'running' AND i.partial = 0 AND t.prompt = 'three slow pictures'")
            if done:
                break
            assert proc.poll() is None, proc.stderr.read()
            time.sleep(0.05)
        else:
            pytest.fail("no completed image was stored in time")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    assert _rows(folder, "SELECT status FROM turns ORDER BY rowid") == [("completed",), ("running",)]
    s = Session("crash", folder=folder, client=Client(base_url="http://127.0.0.1:9/v1"))
    first, streamed = s.turns
    assert first.status == "completed" and first.image.path.is_file()
    # reopening finds the dead process's turn and says so, in the store too
    assert streamed.status == "interrupted" and streamed.prompt == "three slow pictures"
    assert f"its process (pid {proc.pid}) ended before it finished" in streamed.note
    assert _rows(folder, "SELECT status FROM turns ORDER BY rowid") == [("completed",), ("interrupted",)]
    assert streamed.ok and "interrupted" in s.history()._repr_html_()
    assert 1 <= len(streamed.images) < 3 and all(not i.partial for i in streamed.images)
    for row in s.store.image_rows(streamed.id):
        data = (s.store.folder / row["path"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == row["sha256"]
        meta = json.loads(row["meta"])
        assert meta["prompt"] == "three slow pictures" and meta["model"] == "gpt-image-2"
    assert [r["partial"] for r in s.store.image_rows(streamed.id)].count(1) == 1  # the newest partial frame
    assert streamed.params["n"] == 3 and streamed.replay_key
    assert s.store.find_replay(streamed.replay_key) is None  # an unfinished turn is never replayed


def test_a_turn_running_in_a_live_process_is_not_relabelled(session):
    from imagewidgets.session.turns import this_process

    session.imagine("a cat", **LOW)
    turn = session.current
    turn.status, turn.owner = "running", this_process()  # as if this kernel were still streaming it
    session.store.save_turn(turn)
    other = "some-other-machine:1"  # a process elsewhere cannot be checked: it counts as alive
    turn2 = session.store.turn(turn.id)
    assert session.store.settle_interrupted(session.name) == []
    turn2.owner = other
    session.store.save_turn(turn2)
    assert session.store.settle_interrupted(session.name) == []
    assert session.store.turn(turn.id).status == "running"


def test_redact_masks_secret_keys_and_known_secrets():
    value = {"size": "1024x1024", "extra": {"api_key": "x", "note": "key sk-abc inside"}, "list": ["sk-abc"]}
    assert redact(value, ("sk-abc",)) == {"size": "1024x1024", "extra": {"api_key": "***", "note": "key *** inside"},
                                          "list": ["***"]}


def test_the_api_key_never_reaches_the_store_exports_or_reprs(tmp_path):
    key = "sk-test-FAKEKEY-0123456789abcdef"
    with OfflineServer(OfflineConfig.from_env(require_api_key=key)) as server:
        client = Client(api_key=key, base_url=server.base_url)
        s = Session("secret", folder=tmp_path / "store", client=client)
        s.imagine("a cat", **LOW)
        s.edit("add a hat", **LOW)
        s.edit("make it blue", api="images", **LOW)
        s.imagine("an owl", partial_images=1, on_event=lambda ev: None, **LOW)
        s.sweep(prompts=["a fox", "a hen"], quality="low", size="1024x1024", progress=False)
        s.export(tmp_path / "store" / "report.html")
        s.export(tmp_path / "store" / "session.json")
        bad = Session("bad", folder=tmp_path / "store", client=Client(api_key=key + "-wrong", base_url=server.base_url))
        with pytest.raises(Exception):
            bad.imagine("a dog", **LOW)
    assert bad.turns[0].status == "failed" and "wrong" not in (bad.turns[0].error or "")
    files = [p for p in (tmp_path / "store").rglob("*") if p.is_file()]
    assert any(p.name == "index.db" for p in files) and len(files) > 8
    for p in files:
        assert key.encode() not in p.read_bytes(), p
    texts = [repr(s), repr(s.turns), repr(s.history()), s.history()._repr_html_(), repr(client),
             json.dumps([t.to_dict() for t in s.turns], default=str)]
    assert not any(key in t for t in texts)
