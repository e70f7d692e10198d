"""What the offline twin's C2PA manifests cost: time and bytes of a final image with and without one.

For each format (png, jpeg, webp) at 1024x1024, low quality: the renderer's bytes (the baseline,
measured in the same run), then the same bytes signed (``offline.provenance.sign``) and checked
(``offline.provenance.check``). Reported: milliseconds per render, per sign and per check (median of
``--repeat``), the ratio (render + sign) / render, and the bytes the manifest adds. The first signature
(making the test certificate) is timed apart. Run: ``python bench/bench_provenance.py [--repeat 5]``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", help="also write the numbers here")
    args = parser.parse_args()

    from imagewidgets.offline import provenance, render
    from imagewidgets.offline.render import RenderSpec

    t0 = time.perf_counter()
    provenance.sign(render.render(RenderSpec(prompt="warm-up", width=256, height=256, quality="low",
                                             output_format="png")), model="gpt-image-2")
    first_ms = (time.perf_counter() - t0) * 1000
    rows = []
    for fmt in ("png", "jpeg", "webp"):
        renders, signs, checks, sizes = [], [], [], []
        for i in range(args.repeat):
            spec = RenderSpec(prompt=f"a lighthouse at dusk {i}", width=1024, height=1024, quality="low",
                              output_format=fmt)
            t = time.perf_counter()
            data = render.render(spec)
            renders.append(time.perf_counter() - t)
            t = time.perf_counter()
            signed = provenance.sign(data, model="gpt-image-2")
            signs.append(time.perf_counter() - t)
            t = time.perf_counter()
            result = provenance.check(signed)["results"][0]
            checks.append(time.perf_counter() - t)
            assert result["outcome"] == "detected", result
            sizes.append(len(signed) - len(data))
        r, s, c = (statistics.median(x) * 1000 for x in (renders, signs, checks))
        rows.append({"format": fmt, "render_ms": round(r, 1), "sign_ms": round(s, 1), "check_ms": round(c, 1),
                     "ratio_render_plus_sign": round((r + s) / r, 3), "manifest_bytes": statistics.median(sizes)})
    out = {"first_sign_ms_with_certificate": round(first_ms, 1), "repeat": args.repeat, "rows": rows}
    for row in rows:
        print(f"{row['format']:>5}: render {row['render_ms']:7.1f} ms, sign {row['sign_ms']:6.1f} ms, check "
              f"{row['check_ms']:6.1f} ms, (render+sign)/render {row['ratio_render_plus_sign']:.3f}, "
              f"+{row['manifest_bytes']:.0f} bytes")
    print(f"first signature (makes the test certificate): {first_ms:.1f} ms")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
