"""Benchmark of memory in long sessions: many ``imagine`` calls and big direct sweeps against answers
the size of the live API's (a 1024x1024 PNG of 2.2 MB: the twin's "realistic" picture at high
quality), each in a fresh process.

- ``imagine``: N calls (distinct prompts, nothing replayed), each shown as a notebook shows it
  (``display_bundle``: the preview) and then dropped; RSS growth over the calls, and the bytes of pictures still held by live ``ImageResult``s
  (counted through the garbage collector, the one-picture read cache cleared).
- ``sweep``: the peak RSS of a direct sweep of 40 cells and of 400 cells; the ratio is the claim
  (a session holds paths, not pictures, so 10x the cells costs about the same memory).

The server is canned (an ``httpx2.MockTransport`` answering as the live Images API does, the same
picture every time): the measure is the client side (client, session, store), not a renderer.

    python bench/bench_long_session.py [--calls 400] [--cells 40 400] [--json out.json]
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


_USAGE = {"input_tokens": 10, "output_tokens": 4160, "total_tokens": 4170,
          "input_tokens_details": {"text_tokens": 10, "image_tokens": 0},
          "output_tokens_details": {"image_tokens": 4160, "text_tokens": 0}}


def _answers() -> tuple[bytes, bytes]:
    """(an Images API answer, a Responses API answer), each carrying the same 2.2 MB PNG."""
    b64 = base64.b64encode(Path(os.environ["BENCH_PICTURE"]).read_bytes()).decode()
    images = json.dumps({"created": int(time.time()), "data": [{"b64_json": b64}], "usage": _USAGE,
                         "output_format": "png", "size": "1024x1024", "quality": "high", "background": "opaque"})
    responses = json.dumps({
        "id": "resp_canned", "object": "response", "created_at": int(time.time()), "status": "completed",
        "model": "gpt-5.5", "output": [{"type": "image_generation_call", "id": "ig_canned", "status": "completed",
                                        "result": b64, "output_format": "png", "size": "1024x1024",
                                        "quality": "high", "background": "opaque"}],
        "tool_usage": {"image_gen": _USAGE}, "usage": {"input_tokens": 50, "output_tokens": 20, "total_tokens": 70}})
    return images.encode(), responses.encode()


def _handler():
    images, responses = _answers()

    def handler(request):
        import httpx2

        body = responses if request.url.path.endswith("/responses") else images
        return httpx2.Response(200, headers={"content-type": "application/json"}, content=body)

    return handler


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _live_image_bytes() -> int:
    import gc

    from imagewidgets.api import results

    if hasattr(results, "clear_read_cache"):
        results.clear_read_cache()
    gc.collect()
    # bytes held by the results themselves ("data" before results could leave them on disk)
    held = (o.__dict__.get("_data", o.__dict__.get("data")) for o in gc.get_objects()
            if isinstance(o, results.ImageResult))
    return sum(len(d) for d in held if d is not None)


def run_imagine(calls: int, folder: str) -> dict:
    import httpx2

    from imagewidgets import Client, Session

    client = Client(base_url="http://api.test/v1", api_key="sk-bench", transport=httpx2.MockTransport(_handler()),
                    max_retries=0)
    s = Session("bench", folder=folder, client=client, model="gpt-image-2", quality="high", size="1024x1024")
    s.imagine("warm-up: imports, store, first answer")
    one = len(s.current.image.data)
    before = _rss_mb()
    t0 = time.perf_counter()
    for k in range(calls):
        img = s.imagine(f"a lighthouse at dusk, take {k}")
        img.display_bundle()  # what a notebook does to show it: a preview made from the file
    seconds = time.perf_counter() - t0
    live = _live_image_bytes()
    after = _rss_mb()
    return {"calls": calls, "picture_bytes": one, "rss_before_mb": round(before, 1), "rss_after_mb": round(after, 1),
            "rss_growth_mb": round(after - before, 1), "live_image_bytes": live,
            "live_pictures": round(live / one, 2), "turns": len(s.tree.turns), "seconds": round(seconds, 1)}


def run_sweep(cells: int, folder: str) -> dict:
    import httpx2

    from imagewidgets import AsyncClient, Client, Session

    answer = _handler()

    async def handler(request: httpx2.Request) -> httpx2.Response:
        return answer(request)

    def async_client() -> AsyncClient:
        return AsyncClient(base_url="http://api.test/v1", api_key="sk-bench",
                           transport=httpx2.MockTransport(handler), max_retries=0)

    client = Client(base_url="http://api.test/v1", api_key="sk-bench", max_retries=0,
                    transport=httpx2.MockTransport(answer))
    s = Session("bench", folder=folder, client=client, model="gpt-image-2", quality="high", size="1024x1024")
    s.async_client = async_client
    t0 = time.perf_counter()
    grid = s.sweep([f"a kite over hills, cell {k}" for k in range(cells)], progress=False)
    seconds = time.perf_counter() - t0
    ok = sum(r["status"] == "completed" for r in grid.rows)
    return {"cells": cells, "completed": ok, "peak_rss_mb": round(_peak_mb(), 1), "rss_after_mb": round(_rss_mb(), 1),
            "live_image_bytes": _live_image_bytes(), "seconds": round(seconds, 1)}


def _child(args: list[str], picture: Path) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", *args], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT), "BENCH_PICTURE": str(picture)})
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--calls", type=int, default=400)
    p.add_argument("--cells", type=int, nargs=2, default=[40, 400])
    p.add_argument("--json", help="also write the results here")
    p.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        kind, n = args.child[0], int(args.child[1])
        with tempfile.TemporaryDirectory() as folder:
            os.environ["IMAGEWIDGETS_HOME"] = folder
            result = run_imagine(n, folder + "/store") if kind == "imagine" else run_sweep(n, folder + "/store")
        print(json.dumps(result))
        return

    from imagewidgets.offline.render import RenderSpec, render

    with tempfile.TemporaryDirectory() as tmp:
        picture = Path(tmp) / "answer.png"
        picture.write_bytes(render(RenderSpec("a lighthouse at dusk", 1024, 1024, quality="high",
                                              pictures="realistic")))
        imagine = _child(["imagine", str(args.calls)], picture)
        small, big = (_child(["sweep", str(n)], picture) for n in args.cells)
    ratio = big["peak_rss_mb"] / small["peak_rss_mb"]
    print(f"imagine x{imagine['calls']} ({imagine['picture_bytes'] / 1e6:.1f} MB answers): RSS grew "
          f"{imagine['rss_growth_mb']:.1f} MB ({imagine['rss_before_mb']} -> {imagine['rss_after_mb']} MB); "
          f"live image bytes after: {imagine['live_image_bytes']:,} ({imagine['live_pictures']} pictures); "
          f"{imagine['seconds']} s")
    print(f"sweep {small['cells']} cells: peak RSS {small['peak_rss_mb']} MB ({small['seconds']} s); "
          f"{big['cells']} cells: peak RSS {big['peak_rss_mb']} MB ({big['seconds']} s); ratio {ratio:.2f}")
    if args.json:
        Path(args.json).write_text(json.dumps({"imagine": imagine, "sweep": [small, big],
                                               "sweep_peak_ratio": round(ratio, 3)}, indent=2))


if __name__ == "__main__":
    main()
