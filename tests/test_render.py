"""The offline procedural renderer, specified by its pixels and bytes."""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from PIL import Image, ImageDraw

from imagewidgets.offline.render import EditInputs, RenderSpec, render, render_frames, render_variation

SVG_NS = "{http://www.w3.org/2000/svg}"
SOFTWARE = "imagewidgets offline renderer (procedural, not AI)"


def decode(data: bytes) -> Image.Image:
    im = Image.open(io.BytesIO(data))
    im.load()
    return im


def pixels(data: bytes, mode: str = "RGB") -> np.ndarray:
    return np.asarray(decode(data).convert(mode), dtype=np.int16)


def png(im: Image.Image) -> bytes:
    buf = io.BytesIO()
    im.save(buf, "PNG")
    return buf.getvalue()


FOX = "a red fox under a golden sun near snowy mountains"


def spec(prompt: str = FOX, w: int = 256, h: int = 256, **kw) -> RenderSpec:
    return RenderSpec(prompt, w, h, **kw)


@pytest.fixture(scope="module")
def photo() -> bytes:
    """A busy, photo-like 256x256 RGB picture: smooth gradients, blobs and noise."""
    rng = np.random.default_rng(7)
    yy, xx = np.mgrid[0:256, 0:256].astype(np.float32)
    arr = np.stack([xx, yy, 255 - (xx + yy) / 2], axis=-1)
    for _ in range(12):
        cx, cy, r = rng.uniform(0, 256, 2).tolist() + [rng.uniform(15, 50)]
        arr[(xx - cx) ** 2 + (yy - cy) ** 2 < r * r] = rng.uniform(0, 255, 3)
    arr += rng.normal(0, 6, arr.shape)
    return png(Image.fromarray(arr.clip(0, 255).astype(np.uint8), "RGB"))


# --- size and formats ----------------------------------------------------------------------------

@pytest.mark.parametrize("size", [(1024, 1024), (1280, 720), (512, 1536), (256, 256), (1536, 1024), (100, 37)])
def test_output_has_exactly_the_requested_size(size):
    w, h = size
    assert decode(render(spec(w=w, h=h, quality="low"))).size == (w, h)


@pytest.mark.parametrize("fmt", ["png", "jpeg", "webp", "gif"])
def test_every_raster_format_has_the_requested_size(fmt):
    assert decode(render(spec(w=320, h=192, output_format=fmt, frame_count=2))).size == (320, 192)


@pytest.mark.parametrize("fmt, magic, pil_format", [
    ("png", b"\x89PNG\r\n\x1a\n", "PNG"),
    ("jpeg", b"\xff\xd8\xff", "JPEG"),
    ("webp", b"RIFF", "WEBP"),
    ("gif", b"GIF89a", "GIF"),
])
def test_format_magic_bytes_and_decoded_format(fmt, magic, pil_format):
    data = render(spec(output_format=fmt, frame_count=3))
    assert data.startswith(magic)
    assert decode(data).format == pil_format
    if fmt == "webp":
        assert data[8:12] == b"WEBP"


def test_svg_is_an_svg_document_of_the_requested_size():
    data = render(spec(w=640, h=360, output_format="svg"))
    root = ET.fromstring(data)
    assert root.tag == f"{SVG_NS}svg"
    assert (root.get("width"), root.get("height"), root.get("viewBox")) == ("640", "360", "0 0 640 360")
    kinds = {el.tag.removeprefix(SVG_NS) for el in root.iter()}
    assert {"rect", "polygon", "text"} <= kinds
    assert kinds & {"circle", "ellipse"}


def test_svg_escapes_the_prompt_text():
    prompt = 'a <b>bold</b> cat & "friends" under the moon'
    data = render(spec(prompt, w=512, h=512, output_format="svg"))
    assert b"&lt;b&gt;bold&lt;/b&gt; cat &amp;" in data
    root = ET.fromstring(data)
    assert root.find(f"{SVG_NS}title").text == prompt
    drawn = " ".join(t.text for t in root.iter(f"{SVG_NS}text"))
    assert "<b>bold</b>" in drawn


def test_svg_survives_control_characters_in_the_prompt():
    ET.fromstring(render(spec("bell \x07 and nul \x00 sun", output_format="svg")))


@pytest.mark.parametrize("fmt", ["jpeg", "webp"])
def test_lower_output_compression_gives_smaller_files(fmt):
    sizes = [len(render(spec(w=512, h=512, output_format=fmt, output_compression=c))) for c in (100, 60, 10)]
    assert sizes[0] > sizes[1] > sizes[2]


def test_compression_none_means_100():
    assert render(spec(output_format="jpeg")) == render(spec(output_format="jpeg", output_compression=100))


# --- background ----------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["png", "webp"])
def test_transparent_background_is_alpha_zero_around_the_subject(fmt):
    w, h = 400, 300
    alpha = pixels(render(spec(w=w, h=h, background="transparent", output_format=fmt)), "RGBA")[..., 3]
    for y, x in [(0, 0), (0, w - 1), (h - 1, 0), (h - 1, w - 1)]:
        assert alpha[y, x] == 0
    assert (alpha[:5] == 0).all() and (alpha[:, :5] == 0).all()  # the margin is background
    assert (alpha > 0).mean() > 0.05  # and something is drawn


def test_transparent_gif_has_transparent_corners_in_every_frame():
    im = decode(render(spec(background="transparent", output_format="gif", frame_count=3)))
    for k in range(im.n_frames):
        im.seek(k)
        assert im.convert("RGBA").getpixel((0, 0))[3] == 0


@pytest.mark.parametrize("fmt", ["png", "webp", "gif"])
def test_opaque_background_is_fully_opaque(fmt):
    alpha = pixels(render(spec(output_format=fmt, frame_count=2)), "RGBA")[..., 3]
    assert (alpha == 255).all()


def test_jpeg_cannot_be_transparent():
    with pytest.raises(ValueError, match="jpeg"):
        render(spec(output_format="jpeg", background="transparent"))


# --- determinism ---------------------------------------------------------------------------------

def test_same_spec_gives_identical_bytes():
    for fmt in ("png", "jpeg", "webp", "gif", "svg"):
        s = spec(output_format=fmt, frame_count=2, quality="high")
        assert render(s) == render(s)


def test_identical_bytes_across_processes_with_different_hash_seeds():
    code = ("import hashlib; from imagewidgets.offline.render import RenderSpec, render; "
            "s = RenderSpec('a teal owl in a misty forest', 128, 96, quality='high'); "
            "print(hashlib.sha256(render(s)).hexdigest())")
    digests = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                              env={**os.environ, "PYTHONHASHSEED": seed}).stdout.strip() for seed in ("1", "2")}
    here = hashlib.sha256(render(RenderSpec("a teal owl in a misty forest", 128, 96, quality="high"))).hexdigest()
    assert digests == {here}


def test_different_prompt_or_index_gives_a_different_picture():
    base = render(spec())
    assert render(spec("a blue whale in the ocean")) != base
    assert render(spec(index=1)) != base
    assert np.abs(pixels(render(spec(index=1))) - pixels(base)).mean() > 5  # visibly, not a few bytes


# --- the picture follows the prompt --------------------------------------------------------------

def mean_rgb(data: bytes) -> np.ndarray:
    return pixels(data).reshape(-1, 3).mean(axis=0)


def test_palette_follows_colour_words():
    red = mean_rgb(render(spec("a red bicycle leaning on a wall")))
    blue = mean_rgb(render(spec("a blue bicycle leaning on a wall")))
    assert red[0] > red[2] + 30
    assert blue[2] > blue[0] + 30


def test_mood_words_choose_a_palette():
    ocean = mean_rgb(render(spec("the ocean")))
    desert = mean_rgb(render(spec("the desert")))
    assert ocean[2] > ocean[0] and desert[0] > desert[2]


def test_vivid_is_more_saturated_than_natural():
    def saturation(data: bytes) -> float:
        return float(np.asarray(decode(data).convert("HSV"))[..., 1].mean())
    prompt = "a green frog on a yellow leaf"
    assert saturation(render(spec(prompt, style="vivid"))) > saturation(render(spec(prompt, style="natural"))) + 10


def test_higher_quality_draws_more_detail():
    def edges(data: bytes) -> float:
        g = pixels(data, "L").astype(np.float32)
        return float(np.abs(np.diff(g, axis=0)).mean() + np.abs(np.diff(g, axis=1)).mean())
    def svg_elements(quality: str) -> int:
        return sum(1 for _ in ET.fromstring(render(spec(quality=quality, output_format="svg"))).iter())
    assert edges(render(spec(quality="high"))) > edges(render(spec(quality="low")))
    assert svg_elements("low") < svg_elements("medium") < svg_elements("high") < svg_elements("max")


@pytest.mark.parametrize("quality", ["low", "medium", "high", "xhigh", "max", "standard", "hd"])
def test_every_quality_renders(quality):
    assert decode(render(spec(quality=quality))).size == (256, 256)


def test_prompt_text_is_drawn_legibly():
    """The caption panel carries dark-on-light or light-on-dark text: strong contrast in a band."""
    with_text = pixels(render(spec(w=512, h=512)), "L")
    without = pixels(render(spec("", w=512, h=512)), "L")
    contrast = lambda g: np.abs(np.diff(g, axis=1)).max(axis=1)  # noqa: E731
    assert (contrast(with_text) > 120).sum() > (contrast(without) > 120).sum() + 20


def test_metadata_says_procedural_not_ai():
    assert decode(render(spec())).info["Software"] == SOFTWARE
    for fmt in ("jpeg", "webp"):
        assert decode(render(spec(output_format=fmt))).getexif()[0x0131] == SOFTWARE
    assert SOFTWARE.encode() in render(spec(output_format="gif", frame_count=2))
    assert SOFTWARE.encode() in render(spec(output_format="svg"))


# --- animation -----------------------------------------------------------------------------------

@pytest.mark.parametrize("count, duration, stored", [(2, 200, 200), (9, 123, 120), (16, 55, 60)])
def test_gif_has_the_frame_count_and_rounded_durations(count, duration, stored):
    im = decode(render(spec(output_format="gif", frame_count=count, frame_duration_ms=duration)))
    assert im.n_frames == count
    durations = []
    for k in range(count):
        im.seek(k)
        durations.append(im.info["duration"])
    assert durations == [stored] * count
    assert im.info.get("loop") == 0


def test_gif_visibly_animates():
    im = decode(render(spec(output_format="gif", frame_count=4)))
    frames = []
    for k in range(4):
        im.seek(k)
        frames.append(np.asarray(im.convert("RGB"), dtype=np.int16))
    assert all(np.abs(a - b).mean() > 0.2 for a, b in zip(frames, frames[1:]))


# --- partial frames ------------------------------------------------------------------------------

@pytest.mark.parametrize("n", [0, 1, 2, 3])
def test_render_frames_gives_n_partials_and_the_same_final(n):
    s = spec(w=384, h=256)
    partials, final = render_frames(s, n)
    assert len(partials) == n
    assert final == render(s)
    assert all(decode(p).size == (384, 256) for p in partials)


@pytest.mark.parametrize("background", ["opaque", "transparent"])
def test_partials_refine_coarse_to_fine(background):
    partials, final = render_frames(spec(w=512, h=512, background=background), 3)
    target = pixels(final, "RGBA")
    diffs = [np.abs(pixels(p, "RGBA") - target).mean() for p in partials]
    assert diffs[0] > diffs[1] > diffs[2] > 0


@pytest.mark.parametrize("fmt", ["jpeg", "webp"])
def test_partials_come_in_the_output_format(fmt):
    s = spec(output_format=fmt, output_compression=70)
    partials, final = render_frames(s, 2)
    assert final == render(s)
    assert all(decode(p).format == fmt.upper() for p in partials)


def test_each_partial_is_drawn_and_encoded_before_the_final_image(monkeypatch):
    """A stream can send partial frame k as soon as it exists: the final picture is drawn only after the
    last partial has been handed out."""
    from imagewidgets.offline import render as render_module

    drawn: list[str] = []
    real = render_module._Generation.frame
    monkeypatch.setattr(render_module._Generation, "frame", lambda self, t: drawn.append("final") or real(self, t))
    frames = render_module.iter_frames(spec(w=512, h=512), 3)
    for k in range(3):
        assert decode(next(frames)).size == (512, 512)
        assert drawn == [], f"the final image was drawn before partial {k} was handed out"
    final = next(frames)
    assert drawn == ["final"] and final == render(spec(w=512, h=512))


def test_an_edits_partials_come_before_its_final_and_converge(photo):
    edit = EditInputs((photo,))
    partials, final = render_frames(spec("add a hat", quality="low"), 2, edit)
    target = pixels(final)
    diffs = [np.abs(pixels(p) - target).mean() for p in partials]
    assert diffs[0] > diffs[1] > 0
    assert final == render(spec("add a hat", quality="low"), edit)


@pytest.mark.parametrize("fmt", ["gif", "svg"])
def test_gif_and_svg_have_no_partials(fmt):
    with pytest.raises(ValueError):
        render_frames(spec(output_format=fmt), 1)
    partials, final = render_frames(spec(output_format=fmt, frame_count=2), 0)
    assert partials == [] and final == render(spec(output_format=fmt, frame_count=2))


def test_partials_out_of_range_are_refused():
    with pytest.raises(ValueError):
        render_frames(spec(), 4)


# --- edits ---------------------------------------------------------------------------------------

def hole_mask(w: int = 256, h: int = 256, box=(64, 64, 192, 160)) -> bytes:
    m = Image.new("RGBA", (w, h), (0, 0, 0, 255))
    ImageDraw.Draw(m).rectangle(box, fill=(0, 0, 0, 0))
    return png(m)


def test_strict_mask_keeps_every_unmasked_pixel_exactly(photo):
    out = pixels(render(spec("a purple dragon"), EditInputs((photo,), mask=hole_mask(), mask_strict=True)))
    src = pixels(photo)
    keep = pixels(hole_mask(), "RGBA")[..., 3] > 0
    assert (out[keep] == src[keep]).all()
    assert np.abs(out[~keep] - src[~keep]).mean() > 20  # the hole holds new content


def test_soft_mask_blends_at_the_border_and_keeps_far_pixels(photo):
    out = pixels(render(spec("a purple dragon"), EditInputs((photo,), mask=hole_mask())))
    src = pixels(photo)
    assert np.abs(out[100:130, 100:150] - src[100:130, 100:150]).mean() > 20  # inside: new
    assert (out[220:, :] == src[220:, :]).all()  # far outside: kept
    ring = np.abs(out[60:64, 100:150] - src[60:64, 100:150]).mean()  # just outside the hole: partly changed
    assert 0 < ring


def test_edit_output_has_the_spec_size(photo):
    assert decode(render(spec(w=320, h=200), EditInputs((photo,)))).size == (320, 200)


def test_edit_without_mask_changes_the_image_and_high_fidelity_keeps_more(photo):
    src = pixels(photo)
    high = np.abs(pixels(render(spec("a purple dragon"), EditInputs((photo,), input_fidelity="high"))) - src).mean()
    low = np.abs(pixels(render(spec("a purple dragon"), EditInputs((photo,), input_fidelity="low"))) - src).mean()
    assert 2 < high < low


def test_every_reference_image_is_visible(photo):
    refs = []
    for colour, fmt in (((240, 10, 10), "PNG"), ((10, 220, 30), "JPEG"), ((250, 240, 0), "WEBP")):
        buf = io.BytesIO()
        Image.new("RGB", (120, 90), colour).save(buf, fmt)
        refs.append((colour, buf.getvalue()))
    out = pixels(render(spec("a blue room", w=512, h=512), EditInputs((photo, *(b for _, b in refs)))))
    for colour, _ in refs:
        close = (np.abs(out - np.array(colour)).max(axis=-1) < 25).sum()
        assert close > 1500, colour


def test_markup_strokes_guide_the_edit(photo):
    sketch = Image.new("RGBA", (256, 256), (0, 0, 0, 0))
    ImageDraw.Draw(sketch).line([(20, 30), (110, 60), (60, 110)], fill=(255, 0, 200, 255), width=14)
    out = pixels(render(spec("a bright flower"), EditInputs((photo,), markup=png(sketch))))
    src = pixels(photo)
    under = np.asarray(sketch)[..., 3] > 0
    far = np.zeros_like(under)
    far[180:, 180:] = True
    assert np.abs(out[under] - src[under]).mean() > 4 * np.abs(out[far] - src[far]).mean() + 20
    assert out[under][:, 0].mean() > out[under][:, 1].mean()  # the magenta strokes tint the new content


def test_edits_are_deterministic(photo):
    e = EditInputs((photo,), mask=hole_mask())
    assert render(spec(), e) == render(spec(), e)


def test_edit_of_transparent_image_stays_transparent_outside_the_mask():
    src = Image.new("RGBA", (256, 256), (0, 0, 0, 0))
    ImageDraw.Draw(src).ellipse((20, 20, 120, 120), fill=(200, 50, 50, 255))
    out = pixels(render(spec(), EditInputs((png(src),), mask=hole_mask(), mask_strict=True)), "RGBA")
    assert out[250, 250, 3] == 0 and (out[70, 30] == (200, 50, 50, 255)).all()


def test_bad_image_bytes_raise_value_error():
    with pytest.raises(ValueError, match="image"):
        render(spec(), EditInputs((b"not an image",)))


# --- variations ----------------------------------------------------------------------------------

def correlation(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a.ravel().astype(np.float64), b.ravel().astype(np.float64))[0, 1])


def test_variation_is_related_to_its_source_and_differs_by_index(photo):
    src = pixels(photo, "L")
    unrelated = pixels(render(spec("a quiet harbour at dawn")), "L")
    v0 = render_variation(RenderSpec("", 256, 256, index=0), photo)
    v1 = render_variation(RenderSpec("", 256, 256, index=1), photo)
    for v in (v0, v1):
        related = correlation(pixels(v, "L"), src)
        assert related > 0.6 and related > correlation(pixels(v, "L"), unrelated) + 0.4
    assert np.abs(pixels(v0) - pixels(v1)).mean() > 5
    assert render_variation(RenderSpec("", 256, 256, index=0), photo) == v0


@pytest.mark.parametrize("fmt", ["png", "jpeg", "webp", "gif", "svg"])
def test_variation_honours_size_and_format(photo, fmt):
    data = render_variation(RenderSpec("", 300, 200, output_format=fmt, frame_count=2), photo)
    if fmt == "svg":
        root = ET.fromstring(data)
        assert (root.get("width"), root.get("height")) == ("300", "200")
    else:
        assert decode(data).size == (300, 200)


# --- the contract's guards -----------------------------------------------------------------------

@pytest.mark.parametrize("bad", [dict(quality="auto"), dict(output_format="bmp"), dict(output_compression=101),
                                 dict(background="auto"), dict(output_format="gif", frame_count=1),
                                 dict(style="loud")])
def test_unrenderable_specs_raise_value_error(bad):
    with pytest.raises(ValueError):
        render(spec(**bad))


# --- captions: one strip along the bottom ------------------------------------------------------

def _text_rows(data: bytes) -> np.ndarray:
    """Rows with glyph-like contrast (sharp light/dark steps along the row)."""
    g = pixels(data, "L")
    return np.nonzero(np.abs(np.diff(g, axis=1)).max(axis=1) > 120)[0]


def _strip_top(data: bytes) -> int:
    """The first row of the opaque caption strip: rows below it are one flat colour at the left edge."""
    g = pixels(data, "RGB")[:, 1]
    y = len(g) - 1
    while y > 0 and (g[y - 1] == g[-1]).all():
        y -= 1
    return y


def test_the_caption_is_a_compact_strip_at_the_bottom_edge():
    from imagewidgets.offline._draw import rasterize
    from imagewidgets.offline._prompt import read_prompt
    from imagewidgets.offline._scene import build_scene

    prompt = "a grey owl with big ears on a branch"
    scenes = [build_scene(read_prompt(prompt), prompt, 768, 512, level=0, index=0, transparent=False, caption=c)
              for c in (True, False)]
    with_caption, without = (np.asarray(rasterize(s), dtype=np.int16) for s in scenes)
    changed = np.nonzero(np.abs(with_caption - without).max(axis=(1, 2)))[0]
    assert len(changed) and 512 - changed.min() <= 512 * 0.1  # one line along the bottom: under a tenth
    data = render(spec(prompt, w=768, h=512, quality="low"))
    assert _strip_top(data) == changed.min()


def test_three_edits_list_every_turn_in_one_strip_that_stays_small():
    from imagewidgets.offline._encode import read_turns

    prompts = ["a grey owl with big ears", "add a hat", "add a red balloon", "now it is night with stars"]
    image = render(spec(prompts[0], w=768, h=512, quality="low"))
    for prompt in prompts[1:]:
        image = render(spec(prompt, w=768, h=512, quality="low"), EditInputs((image,)))
    assert read_turns(image) == tuple(prompts)
    top = _strip_top(image)
    assert 512 - top <= 512 * 0.16  # three lines at most (the latest turns), under a sixth of the height
    assert _text_rows(image).min() >= top  # the earlier strips are covered, not stacked up the picture


def test_the_strip_numbers_the_turns_and_keeps_the_latest():
    from imagewidgets.offline._scene import STRIP_LINES, _strip
    from imagewidgets.offline._prompt import read_prompt

    block = _strip([f"turn {k}" for k in range(1, 6)], 1024, 1024, read_prompt("x"), 900)
    assert len(block.lines) == STRIP_LINES == 3
    assert block.lines == ("3. turn 3", "4. turn 4", "5. turn 5")
    single = _strip(["a kite"], 1024, 1024, read_prompt("x"), 900)
    assert single.lines == ("a kite",)


def test_turns_in_metadata_are_read_defensively():
    from imagewidgets.offline._encode import read_turns

    assert read_turns(b"not an image") == ()
    im = Image.new("RGB", (8, 8))
    info = __import__("PIL.PngImagePlugin", fromlist=["PngInfo"]).PngInfo()
    info.add_text("imagewidgets:turns", '{"imagewidgets:turns": ["ok", 3, {"x": 1}]}')
    buf = io.BytesIO()
    im.save(buf, "PNG", pnginfo=info)
    assert read_turns(buf.getvalue()) == ("ok",)
    for fmt in ("jpeg", "webp"):
        first = render(spec("a kite", output_format=fmt))
        assert read_turns(render(spec("add a hat", output_format=fmt), EditInputs((first,)))) == ("a kite", "add a hat")


# --- edits draw what they name -------------------------------------------------------------------

@pytest.fixture
def drawn_motifs(monkeypatch):
    from imagewidgets.offline import _motifs

    seen: list[str] = []
    for name, builder in list(_motifs.BUILDERS.items()):
        monkeypatch.setitem(_motifs.BUILDERS, name, lambda *a, _n=name, _b=builder: seen.append(_n) or _b(*a))
    return seen


@pytest.mark.parametrize("prompt, motifs", [
    ("add a hat", ["hat"]),
    ("add a small red sailing boat on the water", ["boat"]),  # the water says where, it is not redrawn
    ("now it is night: dark blue sky, yellow stars and a bright moon", ["orb", "stars"]),
    ("put a kite in the sky", ["kite"]),
    ("add a lighthouse", ["lighthouse"]),
])
def test_an_edit_draws_the_things_it_names_and_nothing_else(photo, drawn_motifs, prompt, motifs):
    render(spec(prompt, quality="low"), EditInputs((photo,)))
    assert sorted(set(drawn_motifs)) == sorted(motifs)


