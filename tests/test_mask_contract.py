"""The mask contract on every path: the Image API's ``mask``/``markup`` and the Responses tool's
``input_image_mask``, through the client, the session, the magics, the studio and the offline
server. A refused mask sends nothing (the request counts are asserted)."""

from __future__ import annotations

import io
import warnings

import pytest
from PIL import Image

from imagewidgets import Client, ParamError, Session
from imagewidgets.api.masks import MaskWarning
from imagewidgets.widgets import MaskPainter
from tests.fixtures_offline import mask_png, picture

# retired models (dall-e-2/3, gpt-image-1, gpt-image-1.5...) serve here as fixtures of features they
# had; the twin's calendar is tested in test_calendar.py and test_lifecycle.py
pytestmark = pytest.mark.calendar_off

LOW = {"quality": "low", "size": "1024x1024"}
APIS = ("images", "responses")


def posts(wire) -> int:
    return sum(c.method == "POST" for c in wire.calls)


def rgba(width: int, height: int, alpha: int) -> bytes:
    buf = io.BytesIO()
    Image.new("RGBA", (width, height), (0, 0, 0, alpha)).save(buf, format="PNG")
    return buf.getvalue()


def exif_rotated_jpeg(width: int, height: int) -> bytes:
    """A JPEG stored ``width`` x ``height`` whose EXIF says: turn it a quarter (shown height x width)."""
    im = Image.new("RGB", (width, height), (200, 120, 40))
    exif = Image.Exif()
    exif[0x0112] = 6
    buf = io.BytesIO()
    im.save(buf, format="JPEG", exif=exif.tobytes())
    return buf.getvalue()


@pytest.fixture
def started(session):
    """A session whose current turn is a 1024x1024 image, and the POST count after making it."""
    session.imagine("a garden with a lawn", **LOW)
    return session


# -- the README's example: a painter made on another picture, nothing painted ------------------


@pytest.mark.parametrize("api", APIS)
def test_a_painter_made_on_another_image_is_refused_naming_both_sizes(started, wire, api):
    painter = MaskPainter(picture(1536, 1024))
    before = posts(wire)
    with pytest.raises(ParamError) as e:
        started.edit("a pond", mask=painter, api=api, **LOW)
    text = str(e.value)
    assert e.value.param == "mask" and "1536x1024" in text and "1024x1024" in text
    assert "MaskPainter" in text
    assert posts(wire) == before  # nothing sent, nothing paid


@pytest.mark.parametrize("api", APIS)
def test_an_opaque_mask_is_refused_with_the_fix(started, wire, api):
    painter = MaskPainter(started.current.image)  # the right picture, but nothing painted
    before = posts(wire)
    with pytest.raises(ParamError) as e:
        started.edit("a pond", mask=painter, api=api, **LOW)
    text = str(e.value)
    assert "no transparent pixel" in text and "nothing may change" in text
    assert "paint where the edit should go" in text
    assert posts(wire) == before


@pytest.mark.parametrize("api", APIS)
def test_a_mask_without_alpha_is_refused(started, wire, api):
    buf = io.BytesIO()
    Image.new("RGB", (1024, 1024), "white").save(buf, format="PNG")
    before = posts(wire)
    with pytest.raises(ParamError) as e:
        started.edit("a pond", mask=buf.getvalue(), api=api, **LOW)
    assert "no alpha channel" in str(e.value)
    assert posts(wire) == before


@pytest.mark.parametrize("api", APIS)
def test_a_fully_transparent_mask_warns_and_is_sent(started, wire, api):
    before = posts(wire)
    with pytest.warns(MaskWarning, match="the whole image may change"):
        started.edit("a pond", mask=rgba(1024, 1024, 0), api=api, **LOW)
    assert posts(wire) == before + 1


@pytest.mark.parametrize("api", APIS)
def test_a_painted_mask_is_sent_as_painted(started, wire, api):
    painter = MaskPainter(started.current.image)
    painter.paint_rect(100, 100, 400, 300)
    with warnings.catch_warnings():
        warnings.simplefilter("error", MaskWarning)
        started.edit("a pond", mask=painter, api=api, **LOW)
    call = wire.calls[-1]
    if api == "images":
        assert call.endpoint == "/images/edits" and painter.mask in call.body
    else:
        tool = call.json()["tools"][0]
        assert tool["input_image_mask"]["image_url"].startswith("data:image/png;base64,")
        assert call.json()["previous_response_id"] == started.turns[0].response_id


@pytest.mark.parametrize("api", APIS)
def test_the_size_is_the_first_images_after_exif_orientation(session, wire, api):
    photo = exif_rotated_jpeg(96, 64)  # stored 96x64, shown 64x96
    with pytest.raises(ParamError) as e:
        session.edit("a hat", image=photo, mask=mask_png(96, 64, (0, 0, 8, 8)), api=api, model="gpt-image-1.5")
    assert "64x96" in str(e.value) and "96x64" in str(e.value)
    assert posts(wire) == 0
    session.edit("a hat", image=photo, mask=mask_png(64, 96, (0, 0, 8, 8)), api=api, model="gpt-image-1.5",
                 quality="low")
    assert posts(wire) == 1


# -- markup: the same rules --------------------------------------------------------------------


def test_markup_needs_a_transparent_pixel_and_the_right_size(session, wire):
    base = picture(256, 256)
    opts = {"image": base, "model": "gpt-image-2.5-flare", "api": "images", "quality": "low"}
    with pytest.raises(ParamError) as e:
        session.edit("a kite", markup=rgba(256, 256, 255), **opts)
    assert e.value.param == "markup" and "would cover the whole picture" in str(e.value)
    with pytest.raises(ParamError) as e:
        session.edit("a kite", markup=rgba(128, 128, 0), **opts)
    assert e.value.param == "markup" and "128x128" in str(e.value) and "256x256" in str(e.value)
    assert posts(wire) == 0
    with pytest.warns(MaskWarning, match="nothing drawn"):
        session.edit("a kite", markup=rgba(256, 256, 0), **opts)
    painter = MaskPainter(base)
    painter.mode = "markup"
    painter.paint_stroke([(10, 10), (200, 200)], 4)
    session.edit("a kite string", markup=painter.markup, **opts)
    assert posts(wire) == 2


# -- the client, on both APIs ------------------------------------------------------------------


def test_the_client_checks_masks_on_both_apis_before_sending(wire):
    client = Client(transport=wire)
    opaque = rgba(64, 64, 255)
    with pytest.raises(ParamError, match="no transparent pixel"):
        client.edit("x", picture(64, 64), mask=opaque, model="gpt-image-1.5")
    with pytest.raises(ParamError, match="no transparent pixel"):
        client.respond("x", picture(64, 64), mask=opaque)
    # continuing a response: the mask itself is checked, and its size when the caller gives the base
    with pytest.raises(ParamError, match="no transparent pixel"):
        client.respond("x", mask=opaque, previous_response_id="resp_123")
    with pytest.raises(ParamError, match="32x32"):
        client.respond("x", mask=mask_png(32, 32, (0, 0, 4, 4)), previous_response_id="resp_123",
                       base_image=picture(64, 64))
    with pytest.raises(ParamError, match="no image for the mask"):
        client.respond("x", mask=mask_png(64, 64, (0, 0, 4, 4)))
    assert wire.calls == []


def test_the_offline_server_checks_a_chained_mask_against_the_previous_image(wire):
    client = Client(transport=wire)
    first = client.respond("a lawn", size="1024x1024", quality="low")
    # a client that does not know the base cannot check the size: the server does, with the same rule
    from imagewidgets.api.errors import BadRequestError

    with pytest.raises(BadRequestError) as e:
        client.respond("a pond", mask=mask_png(512, 512, (0, 0, 64, 64)), previous_response_id=first.response_id)
    assert e.value.param == "tools[0].input_image_mask" and "1024x1024" in str(e.value)
    ok = client.respond("a pond", mask=mask_png(1024, 1024, (0, 0, 64, 64)), previous_response_id=first.response_id,
                        quality="low")
    assert ok.width == 1024


# -- the magics and the studio -----------------------------------------------------------------


def test_the_edit_magic_refuses_a_painter_of_another_picture_in_one_line(tmp_path):
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.utils.capture import capture_output
    from traitlets.config import Config

    from tests.wire import RecordingTransport

    InteractiveShell.clear_instance()
    ip = InteractiveShell.instance(config=Config())
    with capture_output():
        ip.extension_manager.load_extension("imagewidgets")
    try:
        wire = RecordingTransport()
        ip.user_ns["s"] = Session("m", folder=tmp_path / "store", client=Client(transport=wire))
        ip.user_ns["painter"] = MaskPainter(picture(1536, 1024))
        with capture_output() as cap:
            ip.run_line_magic("imagine_config", "--session s")
            ip.run_cell("%imagine a garden -q low -s 1024x1024")
            ip.run_cell("%edit a pond --mask painter")
        assert posts(wire) == 1  # the %imagine only
        lines = [line for line in cap.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("%edit: --mask")
        assert "1536x1024" in lines[0] and "1024x1024" in lines[0]
    finally:
        ip.extension_manager.unload_extension("imagewidgets")
        InteractiveShell.clear_instance()


def test_the_studio_shows_the_refusal_and_sends_nothing(wire, tmp_path):
    from imagewidgets.widgets import ImageStudio

    s = Session("st", folder=tmp_path / "store", client=Client(transport=wire), model="gpt-image-1.5")
    studio = ImageStudio(s)
    studio.live.tick_s = None
    studio.quality.value = "low"
    studio.prompt.value = "a garden"
    studio.generate_button.click()
    studio.wait(60)
    other = MaskPainter(picture(512, 512))
    other.paint_rect(0, 0, 100, 100)
    studio.painter = other
    before = posts(wire)
    studio.prompt.value = "a pond"
    studio.edit_button.click()
    studio.wait(60)
    assert "512x512" in studio.error.value and "1024x1024" in studio.error.value
    assert posts(wire) == before
