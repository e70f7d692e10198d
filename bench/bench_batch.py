"""A 2,000-cell sweep as one Batch API job against the same grid as a direct sweep at concurrency 8.

Both run against one ``imagewidgets serve`` subprocess (with a state folder, batch rate unlimited:
lines go as fast as the server renders them), so the server's rendering is the same work in both.
Each phase runs in its own client process, which reports its wall time and its peak resident
memory (``ru_maxrss``); a batch of a tenth of the cells shows whether the client's memory stays
flat as the batch grows. Run: ``python bench/bench_batch.py [--cells 2000] [--json out.json]``.

Reported: wall time, cells per second and peak client memory of each phase, and the ratios
batch / direct (time, memory) and batch(N) / batch(N/10) (memory: about 1 when flat).
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

MODEL, SIZE = "gpt-image-2", "512x512"
QUALITIES = ["low", "medium"]  # the parameter axis: prompts x quality


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def phase(kind: str, url: str, cells: int, folder: str) -> dict:
    """One client process: a sweep of ``cells`` cells, direct or as a batch."""
    from imagewidgets import AsyncClient, Client, Session

    prompts = [f"a paper lantern number {i}" for i in range(cells // len(QUALITIES))]
    s = Session("bench", folder=folder, client=Client(base_url=url),
                async_client=lambda: AsyncClient(base_url=url, save_dir=None))
    base = _rss_mb()
    t0 = time.perf_counter()
    if kind == "direct":
        grid = s.sweep(prompts, model=MODEL, size=SIZE, quality=QUALITIES, concurrency=8, progress=False)
    else:
        grid = s.sweep(prompts, model=MODEL, size=SIZE, quality=QUALITIES, batch=True, progress=False)
        grid = grid.wait(poll_s=0.5).results()
    wall = time.perf_counter() - t0
    ok = sum(r["status"] == "completed" for r in grid.rows)
    return {"phase": kind, "cells": len(grid.rows), "ok": ok, "wall_s": round(wall, 2),
            "cells_per_s": round(len(grid.rows) / wall, 2), "base_rss_mb": round(base, 1),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "cost_usd": round(grid.cost_usd, 4)}


def _serve(state: str) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([sys.executable, "-m", "imagewidgets.cli", "serve", "--port", "0", "--state-dir", state,
                             "--batch-rate", "0"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout], daemon=True).start()
    banner = lines.get(timeout=30)
    return proc, next(w for w in banner.split() if w.startswith("http://"))


def _run_phase(kind: str, url: str, cells: int, folder: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--phase", kind, "--url", url, "--cells", str(cells),
                          "--store", folder], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cells", type=int, default=2000)
    ap.add_argument("--json", default=None)
    ap.add_argument("--phase", choices=["batch", "direct"], help=argparse.SUPPRESS)
    ap.add_argument("--url", help=argparse.SUPPRESS)
    ap.add_argument("--store", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.phase:
        print(json.dumps(phase(args.phase, args.url, args.cells, args.store)))
        return

    with tempfile.TemporaryDirectory(prefix="bench-batch-") as tmp:
        proc, url = _serve(os.path.join(tmp, "state"))
        try:
            small = _run_phase("batch", url, max(len(QUALITIES), args.cells // 10), os.path.join(tmp, "small"))
            batch = _run_phase("batch", url, args.cells, os.path.join(tmp, "batch"))
            direct = _run_phase("direct", url, args.cells, os.path.join(tmp, "direct"))
        finally:
            proc.kill()
            proc.wait(10)
    result = {
        "model": MODEL, "size": SIZE, "phases": [small, batch, direct],
        "ratio_batch_to_direct_wall": round(batch["wall_s"] / direct["wall_s"], 2),
        "ratio_batch_to_direct_peak_rss": round(batch["peak_rss_mb"] / direct["peak_rss_mb"], 2),
        "ratio_batch_peak_rss_N_to_N_over_10": round(batch["peak_rss_mb"] / small["peak_rss_mb"], 2),
        "ratio_batch_to_direct_cost": round(batch["cost_usd"] / direct["cost_usd"], 3) if direct["cost_usd"] else None,
    }
    for p in result["phases"]:
        print(f"{p['phase']:>6} {p['cells']:>5} cells ({p['ok']} ok): {p['wall_s']:7.1f} s, {p['cells_per_s']:6.1f} cells/s, "
              f"peak {p['peak_rss_mb']:.0f} MB (after imports {p['base_rss_mb']:.0f} MB), ${p['cost_usd']:.4f}")
    for k, v in result.items():
        if k.startswith("ratio"):
            print(f"{k}: {v}")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
