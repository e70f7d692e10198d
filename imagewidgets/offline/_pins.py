"""The twin honours pinned references: a request whose prompt carries the pin instruction
(``api/pins.py``) has its last N input images read as pins, and every picture it makes keeps them.

- a **character** keeps its motif: the pinned picture's figures (every pixel that stands out from
  its backdrop, row by row; the caption strip left out) are cut out and drawn into the new scene,
  big and standing on its ground, so its shapes and colours are the pin's;
- a **style** lends its palette: the picture's colours are pulled towards the pin's;
- a **place** is the backdrop: the new scene is drawn over a wash of it.

The rest of the request is drawn as it would be without pins: a generation of the prompt (the
instruction taken out) or, when images remain before the pins, an edit of them.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import replace

import numpy as np
from PIL import Image, ImageFilter

from ..api.pins import read_instruction
from ._edit import _fit, decode
from ._prompt import seed

__all__ = ["pinned_maker", "motif"]

#: the share of a pinned picture's height taken by its caption strip (left out of the motif)
_CAPTION_SHARE = 0.07
#: how far (RGB distance) a pixel must be from its row's backdrop to belong to the motif
_STANDS_OUT = 40.0


def motif(image: Image.Image) -> Image.Image:
    """The figures of a picture as an RGBA cut-out (cropped to them): pixels far from their row's
    median colour (the offline backdrops are vertical gradients), the bottom caption strip left out.
    A picture with no clear figure gives its centre."""
    rgb = np.asarray(image.convert("RGB"), dtype=np.float32)
    h = rgb.shape[0]
    keep = max(1, round(h * (1 - _CAPTION_SHARE)))
    rgb = rgb[:keep]
    backdrop = _backdrop(rgb)
    stands = np.sqrt(((rgb - backdrop) ** 2).sum(axis=2)) > _STANDS_OUT
    ys, xs = np.nonzero(stands)
    if len(ys) < 0.002 * stands.size or len(ys) > 0.9 * stands.size:
        w = image.width
        box = (w // 4, keep // 4, w - w // 4, keep - keep // 4)
        alpha = np.full((box[3] - box[1], box[2] - box[0]), 255, np.uint8)
    else:
        box = (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)
        alpha = (stands[box[1]:box[3], box[0]:box[2]] * 255).astype(np.uint8)
    cut = image.convert("RGBA").crop(box)
    mask = Image.fromarray(alpha, "L").filter(ImageFilter.MaxFilter(3))
    cut.putalpha(mask)
    return cut


_MOTIFS: "OrderedDict[str, Image.Image]" = OrderedDict()
_MOTIFS_LOCK = threading.Lock()
_MOTIFS_MAX = 16


def _motif_of(data: bytes, image: Image.Image) -> Image.Image:
    """``motif(image)``, kept for the few pins in use (every panel of a storyboard carries the same)."""
    key = hashlib.sha256(data).hexdigest()
    with _MOTIFS_LOCK:
        if key in _MOTIFS:
            _MOTIFS.move_to_end(key)
            return _MOTIFS[key]
    cut = motif(image)
    with _MOTIFS_LOCK:
        _MOTIFS[key] = cut
        while len(_MOTIFS) > _MOTIFS_MAX:
            _MOTIFS.popitem(last=False)
    return cut


def _backdrop(rgb: np.ndarray) -> np.ndarray:
    """Each row's backdrop colour (h, 1, 3): the offline backdrops are vertical gradients, so a
    straight line through the row medians of the top and bottom bands (where figures rarely are);
    a row full of figures cannot pull it towards their colour."""
    h = rgb.shape[0]
    band = max(1, h // 7)
    rows = np.r_[0:band, h - band:h]
    medians = np.median(rgb[rows], axis=1)  # (2 * band, 3): only the rows the line goes through
    t = np.arange(h, dtype=np.float32)
    fit = np.stack([np.polyval(np.polyfit(rows, medians[:, c], 1), t) for c in range(3)], axis=1)
    return fit[:, None, :]


class PinnedMaker:
    """Frames of a request with pins: the inner maker's picture, then each pin by its role."""

    def __init__(self, spec, inner, pins: list[tuple[str, str]], refs: list[bytes], scale: float = 1.0) -> None:
        self.spec, self.inner, self.pins, self.refs, self.scale = spec, inner, pins, refs, scale
        self.images = [decode(b, f"pinned image {i}") for i, b in enumerate(refs)]
        self.motifs = {i: _motif_of(refs[i], im) for i, (im, (_, role)) in enumerate(zip(self.images, pins))
                       if role == "character"}

    @property
    def chain(self) -> tuple[str, ...]:
        return self.inner.chain

    def frame(self, t: float) -> Image.Image:
        return self._apply(self.inner.frame(t))

    def draft(self, scale: float) -> Image.Image:
        return self._apply(self.inner.draft(scale))

    def svg(self) -> bytes:
        from ._edit import _embedded_svg

        return _embedded_svg(self.spec, self.frame(0.0))

    def _apply(self, picture: Image.Image) -> Image.Image:
        mode = picture.mode
        canvas = picture.convert("RGBA")
        w, h = canvas.size
        for i, (name, role) in enumerate(self.pins):
            ref = self.images[i]
            if role == "place":
                under = _fit(ref, w, h).convert("RGBA")
                canvas = Image.blend(under, canvas, 0.55)
            elif role == "style":
                canvas = _palette(canvas, ref)
        characters = [i for i, (_, role) in enumerate(self.pins) if role == "character"]
        for k, i in enumerate(characters):
            canvas = self._stand(canvas, self.motifs[i], k, len(characters))
        return canvas if mode == "RGBA" else canvas.convert(mode)

    def _stand(self, canvas: Image.Image, cut: Image.Image, k: int, count: int) -> Image.Image:
        """Draw a character's cut-out big, standing on the ground above the caption strip; where it
        stands along the strip moves from panel to panel (seeded by the prompt)."""
        w, h = canvas.size
        tall = h * (0.5 if count == 1 else 0.4)
        wide = w * 0.9 / count
        f = min(tall / cut.height, wide / cut.width)
        size = (max(1, round(cut.width * f)), max(1, round(cut.height * f)))
        fig = cut.resize(size, Image.Resampling.LANCZOS)
        slot = w / count
        room = max(0.0, slot - size[0])
        shift = (seed("pin", self.spec.prompt, k) % 1000) / 999 if room else 0.0
        x = round(k * slot + room * (0.2 + 0.6 * shift))
        y = round(h * (1 - _CAPTION_SHARE - 0.04) - size[1])
        canvas.alpha_composite(fig, dest=(max(0, x), max(0, y)))
        return canvas


def _palette(canvas: Image.Image, ref: Image.Image, amount: float = 0.5) -> Image.Image:
    """Pull the picture's colours towards the reference's: each channel's mean and spread."""
    a = np.asarray(canvas, dtype=np.float32)
    r = np.asarray(ref.convert("RGB"), dtype=np.float32)
    rgb = a[..., :3]
    mu, sd = rgb.reshape(-1, 3).mean(0), rgb.reshape(-1, 3).std(0) + 1e-3
    rmu, rsd = r.reshape(-1, 3).mean(0), r.reshape(-1, 3).std(0)
    moved = (rgb - mu) / sd * rsd + rmu
    a[..., :3] = np.clip(rgb * (1 - amount) + moved * amount, 0, 255)
    return Image.fromarray(a.round().astype(np.uint8), "RGBA")


def pinned_maker(spec, edit, make):
    """A maker that honours pins when ``spec.prompt`` carries the instruction and ``edit`` holds the
    images; else None. ``make(spec, edit)`` builds the inner maker (``edit=None``: a generation)."""
    if edit is None:
        return None
    prompt, pins = read_instruction(spec.prompt)
    if not pins or len(pins) > len(edit.images):
        return None
    n = len(pins)
    inner_spec = replace(spec, prompt=prompt)
    rest = edit.images[:-n]
    inner = make(inner_spec, replace(edit, images=rest) if rest else None)
    return PinnedMaker(inner_spec, inner, pins, list(edit.images[-n:]))
