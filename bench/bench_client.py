"""Client overhead: imagewidgets' Client against bare httpx2 and the official openai SDK.

All three talk to the same offline server on loopback in the same run, so the server's work
cancels out and the numbers are ratios against bare httpx2 (the floor: one POST, one base64
decode). Run: ``python bench/bench_client.py [--repeat 30] [--json out.json]``.

Measured per request (median):
- generate: a 1024x1024 low-quality PNG (JSON answer, base64 decode, result object)
- stream:   the same with two partial images, time until the final image (SSE parsing)
- first-frame: time until the first partial frame's bytes are in hand
"""

from __future__ import annotations

import argparse
import base64
import json
import statistics
import time
import warnings

PARAMS = {"model": "gpt-image-1.5", "prompt": "a lighthouse at dusk", "size": "1024x1024", "quality": "low"}


def _median(fn, repeat: int) -> float:
    fn()  # warm up (connections, caches)
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--json", default=None)
    args = ap.parse_args()

    import httpx2
    import openai

    from imagewidgets import Client
    from imagewidgets.offline.config import OfflineConfig
    from imagewidgets.offline.server import OfflineServer

    warnings.simplefilter("ignore")
    server = OfflineServer(OfflineConfig())
    server.start()
    base = server.base_url
    bare = httpx2.Client(base_url=base, timeout=60)
    sdk = openai.OpenAI(base_url=base, api_key="bench", max_retries=0)
    ours = Client(base_url=base, api_key="bench")

    def bare_generate():
        r = bare.post("/images/generations", json=PARAMS)
        base64.b64decode(r.json()["data"][0]["b64_json"])

    def sdk_generate():
        base64.b64decode(sdk.images.generate(**PARAMS).data[0].b64_json)

    def ours_generate():
        ours.generate(PARAMS["prompt"], **{k: v for k, v in PARAMS.items() if k != "prompt"})

    def bare_stream(first_only=False):
        with bare.stream("POST", "/images/generations", json={**PARAMS, "stream": True, "partial_images": 2}) as r:
            for sse in httpx2.EventSource(r):
                data = json.loads(sse.data)
                if data["type"].endswith("partial_image") or data["type"].endswith("completed"):
                    base64.b64decode(data["b64_json"])
                    if first_only:
                        return

    def sdk_stream(first_only=False):
        for event in sdk.images.generate(**PARAMS, stream=True, partial_images=2):
            base64.b64decode(event.b64_json)
            if first_only:
                return

    def ours_stream(first_only=False):
        opts = {k: v for k, v in PARAMS.items() if k != "prompt"}
        with ours.generate(PARAMS["prompt"], stream=True, partial_images=2, **opts) as stream:
            for _ in stream:
                if first_only:
                    return

    rows = []
    for label, fns in [
        ("generate", (bare_generate, sdk_generate, ours_generate)),
        ("stream", (bare_stream, sdk_stream, ours_stream)),
        ("first-frame", (lambda: bare_stream(True), lambda: sdk_stream(True), lambda: ours_stream(True))),
    ]:
        b, s, o = (_median(f, args.repeat) for f in fns)
        rows.append({"case": label, "httpx2_ms": b * 1e3, "openai_sdk_ms": s * 1e3, "imagewidgets_ms": o * 1e3,
                     "sdk_ratio": s / b, "imagewidgets_ratio": o / b})
    server.stop()

    print(f"{'case':12} {'httpx2 ms':>10} {'openai ms':>10} {'ours ms':>10} {'sdk/httpx2':>11} {'ours/httpx2':>12}")
    for r in rows:
        print(f"{r['case']:12} {r['httpx2_ms']:10.2f} {r['openai_sdk_ms']:10.2f} {r['imagewidgets_ms']:10.2f} "
              f"{r['sdk_ratio']:11.2f} {r['imagewidgets_ratio']:12.2f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=2)


if __name__ == "__main__":
    main()
