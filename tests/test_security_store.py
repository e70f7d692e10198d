"""Two processes opening a new store at the same moment both succeed (issue 12, item 9)."""

from __future__ import annotations

import multiprocessing as mp
import time
import traceback

import pytest

PROCESSES = 6
ROUNDS = 12


def _open_when_told(inbox, outbox) -> None:
    from imagewidgets.session.store import Store

    for folder, at in iter(inbox.get, None):
        time.sleep(max(0.0, at - time.time()))  # all processes start on the same instant
        try:
            store = Store(folder)
            store.ensure_session("shared")
            store.close()
            outbox.put("ok")
        except Exception:
            outbox.put(traceback.format_exc().strip().splitlines()[-1])


@pytest.mark.timeout(120)
def test_several_processes_open_a_fresh_store_at_once_repeatedly(tmp_path):
    ctx = mp.get_context("spawn")  # fresh interpreters, as separate kernels would be
    inboxes = [ctx.Queue() for _ in range(PROCESSES)]
    outbox = ctx.Queue()
    workers = [ctx.Process(target=_open_when_told, args=(q, outbox), daemon=True) for q in inboxes]
    for w in workers:
        w.start()
    failures = []
    try:
        for i in range(ROUNDS):
            folder = tmp_path / f"store-{i}"
            at = time.time() + 0.25
            for q in inboxes:
                q.put((str(folder), at))
            answers = [outbox.get(timeout=60) for _ in workers]
            failures += [a for a in answers if a != "ok"]
            from imagewidgets.session.store import Store

            store = Store(folder)
            assert store.sessions() == ["shared"]
            store.close()
    finally:
        for q in inboxes:
            q.put(None)
        for w in workers:
            w.join(10)
    assert failures == []
