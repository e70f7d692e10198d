"""A big session written straight into a store (no requests, no rendering), for the paging tests
and ``bench/bench_big_session.py``: ``turns`` turns in chains of edits with a branch now and then,
their images drawn from ``distinct`` small PNG files (as replays share files)."""

from __future__ import annotations

import hashlib
import io
import json
import time
import uuid
from pathlib import Path

from PIL import Image

from imagewidgets.session.store import Store

WORDS = ("lighthouse", "harbour", "kite", "owl", "lantern", "fox", "boat", "castle", "river", "comet")


def _png(i: int, side: int) -> bytes:
    im = Image.new("RGB", (side, side), ((i * 37) % 256, (i * 91) % 256, (i * 53) % 256))
    im.paste(((i * 11) % 256, 200, 80), (side // 4, side // 4, side // 2 + i % (side // 4), side // 2))
    buf = io.BytesIO()
    im.save(buf, "PNG")
    return buf.getvalue()


def synthesize(folder: Path, name: str = "big", turns: int = 1000, distinct: int = 50, side: int = 256) -> list[str]:
    """Write ``turns`` completed turns of session ``name`` into the store at ``folder``; returns their ids."""
    store = Store(folder)
    store.ensure_session(name)
    files = []
    for i in range(distinct):
        data = _png(i, side)
        rel = f"images/{name}/seed_{i:04d}-0.png"
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_bytes(data)
        files.append((rel, hashlib.sha256(data).hexdigest(), len(data)))
    ids, turn_rows, image_rows = [], [], []
    now = time.time() - turns
    for i in range(turns):
        tid = "turn_" + uuid.UUID(int=i + 1).hex[-12:]
        parent = ids[i - 1] if i % 10 else (ids[i - 5] if i >= 10 and i % 30 == 0 else None)
        kind = "edit" if parent else "generate"
        prompt = f"{WORDS[i % len(WORDS)]} number {i}" + (", watercolour" if i % 3 == 0 else "")
        params = json.dumps({"size": f"{side}x{side}", "quality": "low"})
        usage = json.dumps({"input_tokens": 20, "output_tokens": 272, "total_tokens": 292, "input_text_tokens": 20,
                            "input_image_tokens": 0, "output_image_tokens": 272, "output_text_tokens": 0})
        turn_rows.append((tid, name, parent, kind, "responses", "gpt-image-2", prompt, params, "[]", f"resp_{i:016x}",
                          f"ig_{i:016x}", f"{prompt} (offline procedural renderer; no language model rewrote this "
                          "prompt)", usage, 0.011, now + i, 0.1, "completed", None, f"{i:064x}", "offline"))
        rel, sha, size = files[i % distinct]
        image_rows.append((tid, 0, 0, rel, "png", side, side, sha, size, "{}", now + i))
        ids.append(tid)
    with store._tx() as db:
        db.executemany("INSERT INTO turns (id, session, parent_id, kind, api, model, prompt, params, inputs, "
                       "response_id, call_id, revised_prompt, usage, cost, created, elapsed_s, status, error, "
                       "replay_key, backend) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       turn_rows)
        db.executemany("INSERT INTO images (turn_id, idx, partial, path, format, width, height, sha256, bytes, "
                       "meta, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", image_rows)
        db.execute("UPDATE sessions SET current_id = ? WHERE name = ?", (ids[-1], name))
    store.close()
    return ids
