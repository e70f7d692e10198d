"""Benchmark of the offline procedural renderer: median time per image, as a ratio to a baseline.

The baseline, measured in the same run, is Pillow alone encoding a blank 1024x1024 RGB image to
PNG at default settings, so the ratios compare across machines. The process is pinned to one core
(where the OS allows) because the target is stated per core.

    python bench/bench_render.py [--json out.json] [--quick]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import statistics
import sys
import time

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # before numpy loads: one core, like the target

from PIL import Image, ImageDraw  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))
from imagewidgets.offline.render import (EditInputs, RenderSpec, iter_frames, render,  # noqa: E402
                                         render_frames, render_variation)

PROMPT = "a red fox under a golden sun near snowy mountains by a river, watercolor"
SIZES = ((1024, 1024), (1536, 1024), (2048, 1152))
QUALITIES = ("low", "medium", "high")
FORMATS = ("png", "jpeg", "webp")


def median_seconds(fn, min_runs: int = 3, max_runs: int = 9, budget: float = 1.2) -> float:
    """Median of repeated runs after one warm-up: at least ``min_runs``, more while under ``budget`` s."""
    fn()
    times: list[float] = []
    start = time.perf_counter()
    while len(times) < min_runs or (len(times) < max_runs and time.perf_counter() - start < budget):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def baseline() -> float:
    blank = Image.new("RGB", (1024, 1024))
    return median_seconds(lambda: blank.save(io.BytesIO(), "PNG"), min_runs=15, max_runs=31, budget=1.0)


def edit_inputs() -> EditInputs:
    base = render(RenderSpec("a quiet lake with pine trees", 1024, 1024, quality="medium"))
    mask = Image.new("RGBA", (1024, 1024), (0, 0, 0, 255))
    ImageDraw.Draw(mask).rectangle((300, 250, 750, 700), fill=(0, 0, 0, 0))
    buf = io.BytesIO()
    mask.save(buf, "PNG")
    return EditInputs((base,), mask=buf.getvalue())


def cases(quick: bool):
    """(name, size, quality, format, callable) for every row of the table."""
    headline = RenderSpec(PROMPT, 1024, 1024, quality="low")
    yield "generate + 2 partials", "1024x1024", "low", "png", lambda: render_frames(headline, 2)
    # a stream's first partial frame exists long before the final image (progressive drafts)
    yield "first of 2 partials", "1024x1024", "low", "png", lambda: next(iter_frames(headline, 2))
    medium = RenderSpec(PROMPT, 1024, 1024, quality="medium")
    yield "first of 2 partials", "1024x1024", "medium", "png", lambda: next(iter_frames(medium, 2))
    yield "generate + 2 partials", "1024x1024", "medium", "png", lambda: render_frames(medium, 2)
    for w, h in SIZES[:1] if quick else SIZES:
        for q in QUALITIES:
            for fmt in FORMATS:
                s = RenderSpec(PROMPT, w, h, quality=q, output_format=fmt)
                yield "generate", f"{w}x{h}", q, fmt, (lambda s=s: render(s))
    gif = RenderSpec(PROMPT, 1024, 1024, quality="medium", output_format="gif")
    yield "generate (9 frames)", "1024x1024", "medium", "gif", lambda: render(gif)
    svg = RenderSpec(PROMPT, 1024, 1024, quality="medium", output_format="svg")
    yield "generate", "1024x1024", "medium", "svg", lambda: render(svg)
    edit = edit_inputs()
    es = RenderSpec("a purple dragon", 1024, 1024, quality="medium")
    yield "edit (mask)", "1024x1024", "medium", "png", lambda: render(es, edit)
    source = edit.images[0]
    vs = RenderSpec("", 1024, 1024, quality="medium")
    yield "variation", "1024x1024", "medium", "png", lambda: render_variation(vs, source)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    parser.add_argument("--quick", action="store_true", help="1024x1024 rows only")
    args = parser.parse_args(argv)
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})

    base = baseline()
    print(f"baseline: Pillow, blank 1024x1024 RGB -> PNG (default settings): {base * 1000:.1f} ms")
    print(f"{'case':<24}{'size':>11}{'quality':>9}{'format':>8}{'median ms':>11}{'x baseline':>12}")
    rows = []
    started = time.perf_counter()
    for name, size, quality, fmt, fn in cases(args.quick):
        t = median_seconds(fn)
        rows.append({"case": name, "size": size, "quality": quality, "format": fmt,
                     "median_ms": round(t * 1000, 2), "ratio": round(t / base, 2)})
        print(f"{name:<24}{size:>11}{quality:>9}{fmt:>8}{t * 1000:>11.1f}{t / base:>12.2f}", flush=True)
    head = rows[0]
    print(f"\nheadline: 1024x1024 low png + 2 partials = {head['median_ms']:.1f} ms "
          f"= {head['ratio']:.2f}x baseline (target: well under 250 ms on one core)")
    print(f"total benchmark time: {time.perf_counter() - started:.1f} s")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump({"baseline_ms": round(base * 1000, 3), "python": platform.python_version(),
                       "machine": platform.machine(), "rows": rows}, f, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
