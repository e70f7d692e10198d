"""Benchmark of big sessions: open, first page of history and lineage, the gallery, and exports at
1,000 and 10,000 turns, as ratios to a baseline measured in the same run.

The turns are written straight into a store (``tests/bigstore.py``: chains of edits with
branches, images shared from 100 small PNGs), so building the sessions takes seconds. The
baseline is Pillow decoding one 1024x1024 PNG (what showing a single image costs), so the
ratios compare across machines. "cold" is the first call (thumbnails made and cached on disk),
the other page rows are the median of warm calls.

    python bench/bench_big_session.py [--sizes 1000 10000] [--json out.json]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PIL import Image  # noqa: E402

from imagewidgets import Client, Session  # noqa: E402
from imagewidgets.session import store as store_mod  # noqa: E402
from tests.bigstore import synthesize  # noqa: E402
from tests.photos import photo_png  # noqa: E402


def median_seconds(fn, runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def once(fn) -> tuple[float, object]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def baseline() -> float:
    data = photo_png(3)

    def decode() -> None:
        with Image.open(io.BytesIO(data)) as im:
            im.load()

    decode()
    return median_seconds(decode, runs=15)


def open_session(folder: Path) -> Session:
    store_mod._STORES.clear()  # a fresh process would open the store anew
    return Session("big", folder=folder, client=Client(base_url="http://127.0.0.1:9/v1", max_retries=0))


def measure(size: int, work: Path) -> list[dict]:
    from imagewidgets.widgets import Gallery

    folder = work / f"store-{size}"
    t_make, _ = once(lambda: synthesize(folder, "big", turns=size, distinct=100, side=256))
    rows: list[dict] = [{"what": "synthesize turns into the store", "turns": size, "seconds": t_make}]
    t_open, session = once(lambda: open_session(folder))
    rows.append({"what": "open the session", "turns": size, "seconds": t_open})
    for name, make in (("history, first page", lambda: session.history()._repr_html_()),
                       ("lineage, first page", lambda: session.lineage()._repr_html_())):
        cold, html = once(make)
        rows.append({"what": f"{name} (cold)", "turns": size, "seconds": cold, "bytes": len(html)})
        rows.append({"what": name, "turns": size, "seconds": median_seconds(make), "bytes": len(html)})
    rows.append({"what": "history, search 'lighthouse'", "turns": size,
                 "seconds": median_seconds(lambda: session.history(search="lighthouse")._repr_html_())})
    rows.append({"what": "gallery (first page)", "turns": size,
                 "seconds": median_seconds(lambda: Gallery(session).close(), runs=3)})
    for images in ("embed", "link"):
        out = work / f"export-{size}-{images}" / "report.html"
        t, _ = once(lambda: session.export(out, images=images))
        rows.append({"what": f"export HTML, images {images}", "turns": size, "seconds": t,
                     "bytes": out.stat().st_size})
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    ap.add_argument("--json", help="write the rows here too")
    args = ap.parse_args(argv)
    base = baseline()
    print(f"baseline: Pillow decodes a 1024x1024 PNG in {base * 1000:.1f} ms")
    rows = []
    with tempfile.TemporaryDirectory(prefix="iw-bench-big-") as tmp:
        for size in args.sizes:
            rows += measure(size, Path(tmp))
    print(f"{'what':<36} {'turns':>6} {'seconds':>9} {'ratio':>8} {'size':>10}")
    for r in rows:
        r["ratio"] = r["seconds"] / base
        size = f"{r['bytes'] / 1e6:.2f} MB" if "bytes" in r else ""
        print(f"{r['what']:<36} {r['turns']:>6} {r['seconds']:>9.4f} {r['ratio']:>8.1f} {size:>10}")
    if args.json:
        Path(args.json).write_text(json.dumps({"baseline_s": base, "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
