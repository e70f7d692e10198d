"""Benchmark of what issue 14 adds to every masked edit, as ratios to a same-run baseline.

The baseline is Pillow alone decoding the 1024x1024 edit result (a PNG) once: the least any
pixel check must do. Measured: the mask contract (``check_mask``: alpha, size, transparency),
``outside_mask_change`` and ``keep_outside`` (with an 8 px feather) on 1024x1024 images.

    python bench/bench_masks.py [--json out.json]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import sys
import time

from PIL import Image, ImageDraw

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))
from imagewidgets.api.fidelity import keep_outside, outside_mask_change  # noqa: E402
from imagewidgets.api.masks import check_mask  # noqa: E402
from imagewidgets.api.inputs import ImageInput  # noqa: E402
from imagewidgets.offline.render import EditInputs, RenderSpec, render  # noqa: E402


def median_seconds(fn, runs: int = 9) -> float:
    fn()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()
    parent = render(RenderSpec("a quiet lake with pine trees", 1024, 1024, quality="low"))
    mask_im = Image.new("RGBA", (1024, 1024), (0, 0, 0, 255))
    ImageDraw.Draw(mask_im).rectangle((300, 250, 750, 700), fill=(0, 0, 0, 0))
    buf = io.BytesIO()
    mask_im.save(buf, "PNG")
    mask = buf.getvalue()
    result = render(RenderSpec("a small boat", 1024, 1024, quality="low"), EditInputs((parent,), mask=mask))

    def decode() -> None:
        Image.open(io.BytesIO(result)).load()

    base = median_seconds(decode)
    m_in, p_in = ImageInput.coerce(mask), ImageInput.coerce(parent)
    rows = {
        "check_mask": median_seconds(lambda: check_mask(m_in, p_in, "gpt-image-2")),
        "outside_mask_change": median_seconds(lambda: outside_mask_change(parent, result, mask)),
        "keep_outside (feather 8)": median_seconds(lambda: keep_outside(parent, result, mask, feather=8)),
    }
    print(f"baseline: Pillow decoding the 1024x1024 PNG result: {base * 1000:.1f} ms")
    out = {"baseline_s": base, "ratios": {}}
    for name, t in rows.items():
        out["ratios"][name] = t / base
        print(f"{name:<26} {t * 1000:8.1f} ms   ratio {t / base:6.2f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
