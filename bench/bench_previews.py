"""Benchmark of notebook outputs with previews: how big a saved notebook of 1024x1024 images is with
the originals embedded (``--preview full``, as before) and with the default WebP preview (longest
side 768), how close the preview is to the original at notebook width, and what a preview costs.

Sizes are ratios between the two notebooks of the same run; the time to make a preview is a ratio
to Pillow decoding the original PNG (the least any display of it costs). Photo-like images
(``tests/photos.py``: 1.5-2.5 MB PNGs, like the API's) and the offline renderer's flat pictures
are measured separately.

    python bench/bench_previews.py [--images 30] [--json out.json]
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import nbformat  # noqa: E402
from PIL import Image  # noqa: E402

from imagewidgets.api.preview import Preview, make_preview  # noqa: E402
from imagewidgets.api.results import ImageResult  # noqa: E402
from tests.photos import photo_png, psnr  # noqa: E402


def notebook_bytes(results: list[ImageResult], preview: str, folder: Path) -> int:
    """The size of a saved notebook with one output cell per image (as %imagine leaves them)."""
    cells = []
    for i, r in enumerate(results):
        data, meta = r.display_bundle(preview)
        out = nbformat.v4.new_output("display_data", data=data, metadata=meta)
        cells.append(nbformat.v4.new_code_cell(f"%imagine picture {i}", outputs=[out]))
    path = folder / f"{preview}.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=cells), path)
    return path.stat().st_size


def at_width(preview: bytes, original: ImageResult, width: int = 512) -> float:
    """PSNR (dB) of the preview against the original, both scaled to the output's width."""
    a = Image.open(io.BytesIO(preview)).convert("RGB").resize((width, width), Image.LANCZOS)
    b = original.image.convert("RGB").resize((width, width), Image.LANCZOS)
    return psnr(a, b)


def offline_images(n: int) -> list[ImageResult]:
    from imagewidgets import Client

    client = Client(save_dir=None)
    words = ("lighthouse", "harbour", "owl", "kite", "fox", "lantern", "castle", "river")
    out = [client.generate(f"a {words[i % len(words)]} at dusk, number {i}", size="1024x1024", quality="medium")
           for i in range(n)]
    client.close()
    return out


def measure(kind: str, results: list[ImageResult], folder: Path, base: float) -> dict:
    full = notebook_bytes(results, "full", folder)
    small = notebook_bytes(results, "webp:768", folder)
    setting = Preview()
    times, quality = [], []
    for r in results[:8]:
        t0 = time.perf_counter()
        shown = make_preview(r, setting, f"bench-{time.perf_counter_ns()}")  # a fresh key: no cache hit
        times.append(time.perf_counter() - t0)
        quality.append(at_width(shown.data, r))
    return {"images": kind, "n": len(results), "png_mb_each": statistics.mean(len(r.data) for r in results) / 1e6,
            "full_mb": full / 1e6, "preview_mb": small / 1e6, "smaller": full / small,
            "psnr_db_min": min(quality), "preview_s": statistics.median(times),
            "preview_ratio": statistics.median(times) / base}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=30)
    ap.add_argument("--json")
    args = ap.parse_args(argv)
    photos = [ImageResult.from_bytes(photo_png(i)) for i in range(args.images)]
    data = photos[0].data

    def decode() -> None:
        with Image.open(io.BytesIO(data)) as im:
            im.load()

    decode()
    base = statistics.median(_time(decode) for _ in range(9))
    rows = []
    with tempfile.TemporaryDirectory(prefix="iw-bench-previews-") as tmp:
        rows.append(measure("photo-like", photos, Path(tmp), base))
        rows.append(measure("offline renderer", offline_images(args.images), Path(tmp), base))
    print(f"baseline: Pillow decodes a 1024x1024 photo-like PNG in {base * 1000:.1f} ms")
    print(f"{'images':<18}{'n':>4}{'PNG each':>10}{'full nb':>10}{'preview nb':>12}{'smaller':>9}"
          f"{'PSNR@512':>10}{'preview':>9}{'ratio':>7}")
    for r in rows:
        print(f"{r['images']:<18}{r['n']:>4}{r['png_mb_each']:>8.2f}MB{r['full_mb']:>8.1f}MB{r['preview_mb']:>10.2f}MB"
              f"{r['smaller']:>8.1f}x{r['psnr_db_min']:>8.1f}dB{r['preview_s'] * 1000:>7.0f}ms{r['preview_ratio']:>7.2f}")
    if args.json:
        Path(args.json).write_text(json.dumps({"baseline_s": base, "rows": rows}, indent=1))
    return 0


def _time(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


if __name__ == "__main__":
    sys.exit(main())
