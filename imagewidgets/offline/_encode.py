"""Encoding pictures: PNG/JPEG/WebP stills and animated GIFs, every encoder option set explicitly.

Explicit options keep the bytes identical run after run; the encoders' speed settings follow the
requested quality (low quality asks for speed, high for smaller files).
"""

from __future__ import annotations

import io
import json

import numpy as np
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from ._draw import SOFTWARE

PNG_LEVEL = (1, 3, 3, 3, 6)  # zlib level by quality level: fast for low; 6 only for max (little gain, 2.5x time)
WEBP_METHOD = (0, 2, 4, 4, 5)


#: PNG text key (and, in jpeg/webp, the EXIF ImageDescription) holding the prompts an image was made from,
#: as a JSON list: an edit of it lists them in its caption strip.
TURNS_KEY = "imagewidgets:turns"
_DESCRIPTION = 0x010E
_MAX_TURNS, _MAX_CHARS = 64, 1000


def _exif(turns: tuple[str, ...] = ()) -> bytes:
    exif = Image.Exif()
    exif[0x0131] = SOFTWARE  # the TIFF/EXIF "Software" tag
    if turns:
        exif[_DESCRIPTION] = _turns_json(turns)
    return exif.tobytes()


def _turns_json(turns: tuple[str, ...]) -> str:
    return json.dumps({TURNS_KEY: [t[:_MAX_CHARS] for t in turns[-_MAX_TURNS:]]}, ensure_ascii=True)


def read_turns(data: bytes) -> tuple[str, ...]:
    """The prompts an image says it was made from (an offline image's metadata), else ()."""
    from PIL import Image as _Image

    try:
        with _Image.open(io.BytesIO(data)) as im:
            raw = im.info.get(TURNS_KEY) or im.getexif().get(_DESCRIPTION)
        value = json.loads(raw) if isinstance(raw, (str, bytes)) else None
        if isinstance(value, dict):
            value = value.get(TURNS_KEY)
    except Exception:  # another program's image, or damaged metadata: no earlier turns
        return ()
    if not isinstance(value, list):
        return ()
    return tuple(t[:_MAX_CHARS] for t in value[-_MAX_TURNS:] if isinstance(t, str))


def encode_still(im: Image.Image, fmt: str, compression: int | None, level: int, turns: tuple[str, ...] = ()) -> bytes:
    """``im`` encoded; ``turns`` (the prompts it was made from) go into its metadata."""
    buf = io.BytesIO()
    level = min(max(level, 0), 4)
    c = 100 if compression is None else compression
    if fmt == "png":
        info = PngInfo()
        info.add_text("Software", SOFTWARE)
        if turns:
            info.add_text(TURNS_KEY, _turns_json(turns))
        im.save(buf, "PNG", pnginfo=info, compress_level=PNG_LEVEL[level], optimize=False)
    elif fmt == "jpeg":
        if im.mode not in ("RGB", "L"):
            raise ValueError("jpeg has no transparency: ask for png or webp, or an opaque background")
        quality = 1 + round(c * 94 / 100)  # 0 -> 1 (smallest), 100 -> 95 (Pillow's best useful)
        im.save(buf, "JPEG", quality=quality, subsampling="4:4:4" if quality >= 90 else "4:2:0",
                optimize=False, progressive=False, exif=_exif(turns))
    elif fmt == "webp":
        im.save(buf, "WEBP", quality=c, method=WEBP_METHOD[level], lossless=False, exact=False, exif=_exif(turns))
    else:
        raise ValueError(f"cannot encode a still as {fmt!r}: expected png, jpeg or webp")
    return buf.getvalue()


#: the longest delay a GIF frame can encode (16 bits of 10 ms); the API caps frame_duration_ms there
GIF_MAX_FRAME_MS = 655_350


def gif_duration(ms: int) -> int:
    """GIF stores hundredths of a second: round to 10 ms, at least 10, at most ``GIF_MAX_FRAME_MS``."""
    return min(GIF_MAX_FRAME_MS, max(10, int(ms / 10 + 0.5) * 10))


def encode_gif(frames: list[Image.Image], duration_ms: int) -> bytes:
    """An endlessly looping GIF; one shared palette (from all frames) keeps colours steady."""
    transparent = frames[0].mode == "RGBA"
    sample_w = max(1, frames[0].width // 4)
    sample_h = max(1, frames[0].height // 4)
    sheet = Image.new("RGB", (sample_w, sample_h * len(frames)))
    for k, f in enumerate(frames):
        sheet.paste(f.convert("RGB").resize((sample_w, sample_h), Image.Resampling.BOX), (0, k * sample_h))
    palette = sheet.quantize(colors=255 if transparent else 256, method=Image.Quantize.MEDIANCUT,
                             dither=Image.Dither.NONE)
    out: list[Image.Image] = []
    durations: list[int] = []
    for f in frames:
        p = f.convert("RGB").quantize(palette=palette, dither=Image.Dither.NONE)
        if transparent:
            idx = np.array(p)
            idx[np.asarray(f.getchannel("A")) < 128] = 255
            p = Image.fromarray(idx, "P")
            pal = (palette.getpalette() or [])[: 255 * 3]
            p.putpalette(pal + [0, 0, 0] * (256 - len(pal) // 3))
        if out and np.array_equal(np.asarray(p), np.asarray(out[-1])):
            durations[-1] = min(GIF_MAX_FRAME_MS, durations[-1] + gif_duration(duration_ms))
            continue  # one frame shown longer (Pillow would merge them and could overflow 16 bits)
        out.append(p)
        durations.append(gif_duration(duration_ms))
    buf = io.BytesIO()
    extra = {"transparency": 255, "disposal": 2} if transparent else {"disposal": 1}
    out[0].save(buf, "GIF", save_all=True, append_images=out[1:], duration=durations, loop=0,
                optimize=False, comment=SOFTWARE.encode(), **extra)
    return buf.getvalue()
