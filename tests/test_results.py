"""Results display as what they are, once; files are written atomically; validation warns once."""

from __future__ import annotations

import base64
import io
import warnings

from PIL import Image

from imagewidgets.api.preview import set_preview
from imagewidgets.api.results import ImageResult, ImageSet, atomic_write


def _png(w=40, h=30) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (w, h), (1, 2, 3)).save(buf, format="PNG")
    return buf.getvalue()


def _bundle(obj):
    from IPython.core.formatters import DisplayFormatter

    data, _ = DisplayFormatter().format(obj)
    return data


def test_a_png_result_is_stored_in_a_notebook_once():
    data = _bundle(ImageResult.from_bytes(_png(), model="gpt-image-2", prompt="a test"))
    assert set(data) == {"text/plain", "text/html"}  # its preview, in an <img>; no second copy
    assert data["text/html"].count("base64,") == 1


def test_each_format_displays_as_itself_in_full():
    def encoded(fmt):
        buf = io.BytesIO()
        Image.new("RGB", (8, 8)).save(buf, format=fmt)
        return buf.getvalue()

    set_preview("full")
    try:
        _each_format_as_itself(encoded)
    finally:
        set_preview(None)


def _each_format_as_itself(encoded):
    # an <img> of its own MIME type with alt text (a bare image/png would be drawn with no alt)
    png = _bundle(ImageResult.from_bytes(encoded("PNG"), prompt="a black square"))
    assert set(png) == {"text/plain", "text/html"} and 'alt="a black square"' in png["text/html"]
    assert base64.b64decode(png["text/html"].split("base64,", 1)[1].split('"', 1)[0]) == encoded("PNG")
    assert "data:image/jpeg;base64," in _bundle(ImageResult.from_bytes(encoded("JPEG")))["text/html"]
    assert "data:image/gif;base64," in _bundle(ImageResult.from_bytes(encoded("GIF")))["text/html"]
    webp = _bundle(ImageResult.from_bytes(encoded("WEBP")))
    assert "data:image/webp;base64," in webp["text/html"]
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"></svg>'
    assert _bundle(ImageResult.from_bytes(svg))["image/svg+xml"].startswith("<svg")


def test_an_image_set_displays_as_a_grid():
    s = ImageSet([ImageResult.from_bytes(_png()), ImageResult.from_bytes(_png(20, 20))])
    html = _bundle(s)["text/html"]
    assert html.count("<img") == 2


def test_save_is_atomic_and_leaves_no_temp_files(tmp_path):
    r = ImageResult.from_bytes(_png())
    path = r.save(tmp_path / "sub" / "a.png")
    assert path.read_bytes() == r.data
    assert [p.name for p in (tmp_path / "sub").iterdir()] == ["a.png"]
    import os
    import stat

    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask  # a file the user named: the usual mode
    atomic_write(path, b"new")
    assert path.read_bytes() == b"new"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # what imagewidgets keeps itself is private
    atomic_write(path, b"newer", private=False)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask  # not mkstemp's 0600


def test_a_request_validated_once_warns_once():
    from imagewidgets.api.requests import GenerateRequest
    from imagewidgets.api.validation import validate

    req = GenerateRequest("x", model="some-local-model")
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        validate(req)
        validate(req)
        assert len(seen) == 1
        validate(req.replace(n=2))  # a changed copy is another request: checked (and warned about) again
    assert len(seen) == 2
