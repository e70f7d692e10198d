"""What a pin costs and keeps, offline: a 3-panel storyboard with a pinned character against the same
three prompts unpinned, on both APIs, in one run.

Reported per API: the share of each panel's pixels in the pinned picture's two dominant figure
colours (pinned / unpinned, the ratio), the estimate of one panel with and without the pin (the
pin's input-image tokens and dollars), and the wall time of the pinned storyboard against the
unpinned one (the renderer's extra work: cutting the motif out and drawing it in).
Run: ``python bench/bench_pins.py [--size 1024x1024]``.
"""

from __future__ import annotations

import argparse
import io
import os
import tempfile
import time

import numpy as np
from PIL import Image

PANELS = ["Milo wakes up in a forest", "Milo finds a map", "Milo sets sail on the sea"]
MILO = "Milo the orange fox with a blue scarf"


def _rgb(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"), dtype=np.int32)


def dominant(data: bytes, k: int = 2) -> list[np.ndarray]:
    """The k most frequent strongly saturated colours (quantised to 32 levels): the figures'."""
    rgb = _rgb(data)
    hi, lo = rgb.max(axis=2), rgb.min(axis=2)
    q = (rgb[(hi - lo) > 0.6 * np.maximum(hi, 1)] // 32) * 32 + 16
    colours, counts = np.unique(q, axis=0, return_counts=True)
    return [colours[i] for i in np.argsort(-counts)[:k]]


def share(data: bytes, colour: np.ndarray, tol: float = 40.0) -> float:
    rgb = _rgb(data)
    return float((np.sqrt(((rgb - colour) ** 2).sum(axis=2)) < tol).mean())


def run(api: str, size: str, folder: str) -> dict:
    import imagewidgets as iw
    from imagewidgets.api.cost import estimate

    s = iw.Session(f"bench-{api}", folder=folder, api=api, quality="low", size=size)
    pin = s.imagine(MILO).data
    s.pin(name="Milo")
    colours = dominant(pin)
    t0 = time.perf_counter()
    pinned = s.storyboard(PANELS)
    t_pinned = time.perf_counter() - t0
    t0 = time.perf_counter()
    plain = s.storyboard(PANELS, pins=False)
    t_plain = time.perf_counter() - t0
    with_pin, without = estimate(s.imagine_request(PANELS[1])), estimate(s.imagine_request(PANELS[1], pins=False))
    kept = [min(share(i.data, c) for c in colours) for i in pinned.images]
    base = [min(share(i.data, c) for c in colours) for i in plain.images]
    return {"api": api, "kept": kept, "unpinned": base, "tokens": with_pin.input_image_tokens - without.input_image_tokens,
            "usd": with_pin.usd - without.usd, "time_ratio": t_pinned / t_plain, "t_pinned": t_pinned, "t_plain": t_plain}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="1024x1024")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.setdefault("IMAGEWIDGETS_HOME", os.path.join(tmp, "home"))
        os.environ.setdefault("IMAGEWIDGETS_OFFLINE_PARTIAL_INTERVAL_S", "0")
        for api in ("images", "responses"):
            r = run(api, args.size, os.path.join(tmp, "store"))
            ratio = [k / max(b, 1e-4) for k, b in zip(r["kept"], r["unpinned"])]
            print(f"{api:>9}: the pinned motif's least-kept dominant colour, share of each panel's pixels: "
                  f"pinned {', '.join(f'{k:.1%}' for k in r['kept'])} vs unpinned "
                  f"{', '.join(f'{b:.1%}' for b in r['unpinned'])} (x{min(ratio):.0f} at least)")
            print(f"{'':>9}  the pin adds {r['tokens']} input-image tokens, ${r['usd']:.4f} a panel; "
                  f"storyboard time pinned / unpinned: {r['time_ratio']:.2f} ({r['t_pinned']:.2f} s / {r['t_plain']:.2f} s)")


if __name__ == "__main__":
    main()
