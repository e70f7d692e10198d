"""A kernel killed while it reads a batch's output: reopened, the job resumes; no cell is lost and
none is stored twice. The kernel is a real subprocess, killed with SIGKILL mid-download."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import textwrap
import threading

from imagewidgets import Client, Session
from imagewidgets.offline.config import OfflineConfig
from imagewidgets.offline.server import OfflineServer
import pytest

# retired models (dall-e-2/3, gpt-image-1, gpt-image-1.5...) serve here as fixtures of features they
# had; the twin's calendar is tested in test_calendar.py and test_lifecycle.py
pytestmark = pytest.mark.calendar_off

CELLS = 10
_TIMEOUT_S = 90

_KERNEL = textwrap.dedent("""
    import sys, time
    from imagewidgets import Client, Session
    base_url, folder = sys.argv[1], sys.argv[2]
    s = Session("grid", folder=folder, client=Client(base_url=base_url))
    job = s.sweep(prompts=[f"a fox number {i}" for i in range({cells})], size="256x256", model="dall-e-2",
                  batch=True, progress=False)
    print("job", job.id, flush=True)
    while s.client.batches.retrieve(job.batch_ids[0]).status != "completed":
        time.sleep(0.05)
    def stored(turn):
        print("stored", turn.id, flush=True)
        time.sleep(0.3)  # a slow disk: the parent has time to kill us between two lines
    s.on_turn(stored)
    job.refresh()
    print("finished", flush=True)
""").replace("{cells}", str(CELLS))


def test_a_kernel_killed_mid_download_resumes_without_losing_or_doubling_a_cell(tmp_path):
    folder = tmp_path / "store"
    with OfflineServer(OfflineConfig(state_dir=str(tmp_path / "state"))) as server:
        env = {k: v for k, v in os.environ.items() if not k.startswith("IMAGEWIDGETS_OFFLINE_")}
        proc = subprocess.Popen([sys.executable, "-c", _KERNEL, server.base_url, str(folder)],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
        lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout], daemon=True).start()
        stored = []
        try:
            while len(stored) < 3:
                line = lines.get(timeout=_TIMEOUT_S)
                assert not line.startswith(("finished", "Traceback")), line
                if line.startswith("stored"):
                    stored.append(line.split()[1])
            proc.send_signal(signal.SIGKILL)
        finally:
            proc.kill()
            proc.wait(10)

        s = Session("grid", folder=folder, client=Client(base_url=server.base_url))
        (job,) = s.batches()
        assert not job.done and 3 <= job.summary()["stored"] < CELLS
        grid = job.wait(poll_s=0.05, timeout=_TIMEOUT_S).results()

    assert [r["status"] for r in grid.rows] == ["completed"] * CELLS
    assert [r["prompt"] for r in grid.rows] == [f"a fox number {i}" for i in range(CELLS)]
    turns = s.store.turns("grid")
    assert len(turns) == CELLS and len({t.id for t in turns}) == CELLS
    assert set(stored) <= {t.id for t in turns}  # the turns stored before the kill are the same turns
    rows = [row for t in turns for row in s.store.image_rows(t.id)]
    assert len(rows) == CELLS and len({r["path"] for r in rows}) == CELLS
    on_disk = sorted(p.name for p in (folder / "images" / "grid").iterdir() if not p.name.startswith("."))
    assert on_disk == sorted(r["path"].rsplit("/", 1)[1] for r in rows)  # no orphan file from the crash


_KILLED_WHILE_WRITING = textwrap.dedent("""
    import os, sys, time
    import imagewidgets.api.results as results
    from imagewidgets import Client, Session
    base_url, folder = sys.argv[1], sys.argv[2]
    s = Session("grid", folder=folder, client=Client(base_url=base_url))
    job = s.sweep(prompts=[f"a fox number {i}" for i in range({cells})], size="256x256", model="dall-e-2",
                  batch=True, progress=False)
    while s.client.batches.retrieve(job.batch_ids[0]).status != "completed":
        time.sleep(0.05)
    real, written = os.replace, []
    def replace(src, dst):  # the third image: its temp file is on disk when the kernel dies
        if str(dst).endswith(".png"):
            written.append(dst)
            if len(written) == 3:
                print("writing", src, flush=True)
                time.sleep(60)
        return real(src, dst)
    results.os.replace = replace
    job.refresh()
    print("finished", flush=True)
""").replace("{cells}", str(CELLS))


def test_a_batch_resumed_after_a_kill_mid_write_leaves_no_temp_file(tmp_path):
    folder = tmp_path / "store"
    with OfflineServer(OfflineConfig(state_dir=str(tmp_path / "state"))) as server:
        env = {k: v for k, v in os.environ.items() if not k.startswith("IMAGEWIDGETS_OFFLINE_")}
        proc = subprocess.Popen([sys.executable, "-c", _KILLED_WHILE_WRITING, server.base_url, str(folder)],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
        try:
            for line in proc.stdout:
                assert not line.startswith(("finished", "Traceback")), line
                if line.startswith("writing"):
                    break
            proc.send_signal(signal.SIGKILL)
        finally:
            proc.kill()
            proc.wait(10)
        assert list(folder.rglob("*.tmp")), "the kill was meant to land mid-write"
        s = Session("grid", folder=folder, client=Client(base_url=server.base_url))
        (job,) = s.batches()
        job.wait(poll_s=0.05, timeout=_TIMEOUT_S)
    assert [r["status"] for r in job.results().rows] == ["completed"] * CELLS
    assert list(folder.rglob("*.tmp")) == []
