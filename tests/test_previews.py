"""Image outputs embed a preview (WebP, longest side 768 px), link to the original in the store and
name it in their metadata; ``full`` embeds the original as before."""

from __future__ import annotations

import base64
import io
import json
import re

import pytest
from IPython.core.formatters import DisplayFormatter
from PIL import Image

import imagewidgets as iw
from imagewidgets.api.preview import Preview, preview_settings, set_preview
from imagewidgets.api.results import ImageResult, ImageSet
from tests.photos import photo_png, psnr

_DATA_URL = re.compile(r'src="data:(image/[a-z+]+);base64,([^"]+)"')


def embedded(html_text: str) -> list[tuple[str, bytes]]:
    """The (mime type, bytes) of every data-URL image in an HTML output."""
    return [(m, base64.b64decode(b)) for m, b in _DATA_URL.findall(html_text)]


def output_bytes(bundle: dict) -> int:
    """What the output adds to a saved notebook (its JSON)."""
    return len(json.dumps(bundle))


@pytest.fixture(scope="module")
def photo():
    return ImageResult.from_bytes(photo_png(7), model="gpt-image-2", prompt="a harbour at dusk")


def test_a_1024_photo_embeds_a_768_webp_preview_8x_smaller_with_no_visible_loss(photo):
    data, meta = DisplayFormatter().format(photo)
    assert set(data) == {"text/plain", "text/html"}
    [(mime, preview)] = embedded(data["text/html"])
    assert mime == "image/webp"
    shown = Image.open(io.BytesIO(preview))
    assert shown.format == "WEBP" and shown.size == (768, 768)
    full = ImageResult.display_bundle(photo, "full")[0]
    assert output_bytes(full) / output_bytes(data) >= 8
    # at notebook width (the output is 512 CSS px wide; 768 px serves screens up to 1.5x) the
    # preview is the original as the browser would scale it: no visible difference (38+ dB on
    # a grainy photo, more on smooth pictures)
    at_width = photo.image.convert("RGB").resize((512, 512), Image.LANCZOS)
    assert psnr(shown.convert("RGB").resize((512, 512), Image.LANCZOS), at_width) >= 38
    assert 'width="512"' in data["text/html"]


def test_full_embeds_the_original_bytes_as_their_own_mime_type(photo):
    set_preview("full")
    data, meta = DisplayFormatter().format(photo)
    assert set(data) == {"text/plain", "text/html"}  # an <img> with alt text, not a bare image/png
    src = data["text/html"].split('src="', 1)[1].split('"', 1)[0]
    assert src.startswith("data:image/png;base64,") and base64.b64decode(src.split(",", 1)[1]) == photo.data
    assert 'width="512"' in data["text/html"] and f'alt="{photo.alt_text}"' in data["text/html"]
    assert "preview" not in meta["imagewidgets"]


@pytest.mark.parametrize("spec, fmt, side", [("jpeg:512", "JPEG", 512), ("1024", "WEBP", 1024),
                                             ("png:256", "PNG", 256), ("webp", "WEBP", 768)])
def test_size_and_format_are_settable(photo, spec, fmt, side):
    set_preview(spec)
    [(_, preview)] = embedded(DisplayFormatter().format(photo)[0]["text/html"])
    shown = Image.open(io.BytesIO(preview))
    assert (shown.format, max(shown.size)) == (fmt, side)


def test_configure_and_the_environment_set_the_preview(monkeypatch):
    monkeypatch.setenv("IMAGEWIDGETS_PREVIEW", "jpeg:640")
    assert preview_settings() == Preview("jpeg", 640)
    iw.configure(preview="full")
    assert preview_settings().full
    iw.configure(preview=None)
    assert preview_settings() == Preview("jpeg", 640)


@pytest.mark.parametrize("spec", ["gif", "webp:9", "huge", "webp:x", "../etc"])
def test_a_bad_preview_is_refused_naming_what_is_allowed(spec):
    with pytest.raises(iw.ParamError, match="full, webp, jpeg or png"):
        set_preview(spec)


def test_transparency_survives_the_preview():
    im = Image.new("RGBA", (1024, 1024), (0, 0, 0, 0))
    im.paste((200, 30, 30, 255), (100, 100, 900, 900))
    buf = io.BytesIO()
    im.save(buf, "PNG")
    [(_, preview)] = embedded(ImageResult.from_bytes(buf.getvalue()).display_bundle()[0]["text/html"])
    shown = Image.open(io.BytesIO(preview)).convert("RGBA")
    assert shown.getpixel((5, 5))[3] == 0 and all(abs(a - b) <= 3 for a, b in zip(shown.getpixel((384, 384)), (200, 30, 30, 255)))


def test_an_image_set_shows_previews_and_names_every_original(photo):
    other = ImageResult.from_bytes(photo_png(8))
    data, meta = DisplayFormatter().format(ImageSet([photo, other]))
    assert [m for m, _ in embedded(data["text/html"])] == ["image/webp", "image/webp"]
    assert [m["sha256"] for m in meta["imagewidgets"]["images"]] == [photo.sha256, other.sha256]


def test_the_metadata_names_the_original_in_the_store_by_hash_and_relative_path(session):
    img = session.imagine("a lighthouse at dusk", size="1024x1024", quality="medium")
    _, meta = DisplayFormatter().format(img)
    named = meta["imagewidgets"]
    assert re.fullmatch(r"images/test/turn_[0-9a-f]{12}-0\.png", named["path"])
    original = (session.store.folder / named["path"]).read_bytes()
    assert original == img.data and named["sha256"] == img.sha256
    assert (named["width"], named["height"], named["format"]) == (1024, 1024, "png")
    assert named["preview"]["format"] == "webp" and named["preview"]["width"] == 768
    # the store's index agrees (a pack finds the image by it)
    [row] = session.store.image_rows(session.current.id)
    assert (row["path"], row["sha256"]) == (named["path"], named["sha256"])


def test_the_preview_links_to_the_original_when_the_store_is_beside_the_notebook(tmp_path, monkeypatch, wire):
    monkeypatch.chdir(tmp_path)
    s = iw.Session("links", folder=tmp_path / "imagewidgets-data", client=iw.Client(transport=wire))
    img = s.imagine("a red kite", size="1024x1024", quality="low")
    data, meta = DisplayFormatter().format(img)
    href = re.search(r'<a href="([^"]+)" target="_blank"', data["text/html"]).group(1)
    assert href == "imagewidgets-data/" + meta["imagewidgets"]["path"]
    assert (tmp_path / href).read_bytes() == img.data
    assert "saved='imagewidgets-data/images/links/" in data["text/plain"]  # the same in every checkout


def test_no_link_when_the_store_is_outside_the_notebooks_folder(session, tmp_path, monkeypatch):
    img = session.imagine("a red kite", size="1024x1024", quality="low")
    sub = tmp_path / "elsewhere"  # the notebook's folder; the store is not under it
    sub.mkdir()
    monkeypatch.chdir(sub)
    assert "<a " not in DisplayFormatter().format(img)[0]["text/html"]
