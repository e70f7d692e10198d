"""Photo-like test images: the offline renderer's flat pictures compress far better than an
API's photographs (a 1024x1024 PNG of 1.5-2.5 MB), so size and quality claims are checked on
these instead: smooth shapes at several scales plus fine grain, deterministic per seed."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image


def photo(seed: int = 1, side: int = 1024) -> Image.Image:
    rng = np.random.default_rng(seed)
    acc = np.zeros((side, side, 3))
    for cells, amp in ((4, 1.0), (16, 0.5), (64, 0.25), (256, 0.12)):
        small = Image.fromarray((rng.random((cells, cells, 3)) * 255).astype("uint8"))
        acc += amp * np.asarray(small.resize((side, side), Image.BICUBIC), float) / 255
    acc = acc / acc.max() + rng.normal(0, 0.02, (side, side, 3))  # grain, as a camera or a model leaves
    return Image.fromarray((np.clip(acc, 0, 1) * 255).astype("uint8"))


def photo_png(seed: int = 1, side: int = 1024) -> bytes:
    buf = io.BytesIO()
    photo(seed, side).save(buf, "PNG")
    return buf.getvalue()


def psnr(a: Image.Image, b: Image.Image) -> float:
    """Peak signal-to-noise ratio in dB of two same-sized RGB images (40+: no visible difference)."""
    x = np.asarray(a.convert("RGB"), float)
    y = np.asarray(b.convert("RGB"), float)
    mse = float(np.mean((x - y) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(255 ** 2 / mse)
