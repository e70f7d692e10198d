"""Real-size pictures: sensor-like grain that gives the offline renderer's flat drawings the file
sizes of the API's output (``OfflineConfig(pictures="realistic")``, ``serve --pictures realistic``).

The API's pictures are photographs and paintings, full of fine detail: a 1024x1024 PNG is 1.5-2.5 MB,
and JPEG/WebP shrink with ``output_compression`` as they do for any photograph. The renderer's flat
colours compress to a few hundred KB, so a limit that real pictures break (an SSE event cap, memory
per turn) would never show. Grain of a few levels per channel restores the entropy; the drawing is
still readable under it, and the bytes are still the same run after run.

    >>> from PIL import Image
    >>> from imagewidgets.offline._encode import encode_still
    >>> im = add_grain(Image.new("RGB", (1024, 1024), (90, 120, 200)), level=2)
    >>> len(encode_still(im, "png", None, 2)) > 1_500_000     # doctest: +SKIP
    True
"""

from __future__ import annotations

import threading
from collections import OrderedDict

import numpy as np
from PIL import Image

__all__ = ["PICTURE_MODES", "add_grain", "GRAIN_SIGMA"]

#: ``drawn``: the renderer's flat pictures (small files, fast); ``realistic``: with grain, files the
#: size of the API's
PICTURE_MODES = ("drawn", "realistic")

#: grain (standard deviation, in levels of 255) by quality level (low, medium, high, xhigh, max),
#: measured so a 1024x1024 PNG is 1.7 MB at low, 2.0 at medium and 2.2 at high (the API's 1.5-2.5
#: MB); a JPEG at output_compression 100 is 0.25-0.8 MB, at 50 0.03-0.05 MB; 2400x2400 PNG ~12 MB
GRAIN_SIGMA = (2.0, 3.0, 5.0, 6.0, 7.0)

# grain is drawn once per (size, bands, sigma, index) and reused: drawing it costs more than the
# picture; two entries are a few MB at 1024x1024, 33 MB at most at 3840x2160
_CACHE_ITEMS = 2
_cache: "OrderedDict[tuple, np.ndarray]" = OrderedDict()
_lock = threading.Lock()


def _noise(height: int, width: int, bands: int, sigma: float, index: int) -> np.ndarray:
    key = (height, width, bands, sigma, index)
    with _lock:
        hit = _cache.get(key)
        if hit is not None:
            _cache.move_to_end(key)
            return hit
    rng = np.random.default_rng([height, width, bands, int(sigma * 100), index])
    # the sum of two uniform draws: triangular, close enough to a sensor's Gaussian and 3x faster
    half = max(1, int(round(sigma * 1.22)))  # sd of the sum of two U[-h, h] is h * sqrt(2/3)
    noise = (rng.integers(-half, half + 1, (height, width, bands), dtype=np.int8)
             + rng.integers(-half, half + 1, (height, width, bands), dtype=np.int8))
    noise.flags.writeable = False
    with _lock:
        _cache[key] = noise
        while len(_cache) > _CACHE_ITEMS:
            _cache.popitem(last=False)
    return noise


def add_grain(im: Image.Image, level: int, index: int = 0) -> Image.Image:
    """``im`` with grain of quality ``level`` (0-4) on its colour channels (alpha is kept as drawn).
    Deterministic: the same picture, level and ``index`` give the same pixels."""
    sigma = GRAIN_SIGMA[min(max(level, 0), len(GRAIN_SIGMA) - 1)]
    if im.mode not in ("RGB", "RGBA", "L"):
        im = im.convert("RGBA" if "A" in im.mode or "transparency" in im.info else "RGB")
    arr = np.asarray(im)
    if arr.ndim == 2:
        arr = arr[:, :, None]
    colour = arr[:, :, :3]
    noisy = colour.astype(np.int16)
    noisy += _noise(arr.shape[0], arr.shape[1], colour.shape[2], sigma, index)
    np.clip(noisy, 0, 255, out=noisy)
    out = noisy.astype(np.uint8)
    if arr.shape[2] == 4:
        out = np.concatenate([out, arr[:, :, 3:]], axis=2)
    return Image.fromarray(out if out.shape[2] > 1 else out[:, :, 0], im.mode)
