"""Outpainting: ``session.extend`` / ``%edit --extend WxH --anchor ...`` put the current image on a
larger canvas of a size the model makes, mask the new area and send the edit; the offline renderer
continues the scene there and, for dall-e-2, keeps the old area pixel-exact."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from PIL import Image

from imagewidgets import ParamError
from imagewidgets.api.outpaint import extend_canvas, plan_extend
from imagewidgets.widgets import MaskPainter
from tests.fixtures_offline import picture

# retired models (dall-e-2/3, gpt-image-1, gpt-image-1.5...) serve here as fixtures of features they
# had; the twin's calendar is tested in test_calendar.py and test_lifecycle.py
pytestmark = pytest.mark.calendar_off


def pixels(data: bytes, mode: str = "RGB") -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert(mode), dtype=np.int16)


def posts(wire) -> int:
    return sum(c.method == "POST" for c in wire.calls)


# -- the plan: sizes from the model table ------------------------------------------------------


def test_a_size_and_an_anchor_place_the_picture():
    plan = plan_extend((1024, 1024), model="gpt-image-1.5", size="1536x1024", anchor="left")
    assert plan.box == (0, 0, 1024, 1024) and plan.margins == {"left": 0, "top": 0, "right": 512, "bottom": 0}
    plan = plan_extend((1024, 1024), model="gpt-image-1.5", size="1024x1536", anchor="center")
    assert plan.box == (0, 256, 1024, 1280)
    assert plan_extend((1024, 1024), model="gpt-image-1.5", left=512).box == (512, 0, 1536, 1024)


def test_a_canvas_the_model_does_not_make_is_refused_with_the_sizes_that_fit():
    with pytest.raises(ParamError) as e:
        plan_extend((1024, 1024), model="gpt-image-1.5", right=100)
    assert e.value.param == "size" and "1124x1024" in str(e.value)
    assert "1536x1024, 1024x1536" in str(e.value)
    assert plan_extend((1024, 1024), model="gpt-image-2", right=112).size == "1136x1024"  # free WxH
    with pytest.raises(ParamError, match="larger than the image"):
        plan_extend((1024, 1024), size="512x512")
    with pytest.raises(ParamError, match="anchor"):
        plan_extend((1024, 1024), size="1536x1024", anchor="middle")


def test_the_canvas_is_transparent_and_the_mask_opens_the_new_area():
    plan = plan_extend((64, 64), size="128x64", anchor="right")
    canvas, mask = extend_canvas(picture(64, 64), plan)
    c, m = pixels(canvas, "RGBA"), pixels(mask, "RGBA")
    assert c.shape == (64, 128, 4) and (c[:, :64, 3] == 0).all() and (c[:, 64:, 3] == 255).all()
    assert (c[:, 64:, :3] == pixels(picture(64, 64))).all()
    assert (m[:, :64, 3] == 0).all() and (m[:, 64:, 3] == 255).all()


# -- the session -------------------------------------------------------------------------------


def test_extend_sends_the_canvas_and_the_mask_to_the_image_api(session, wire):
    base = session.imagine("a sandy beach", model="gpt-image-1.5", size="1024x1024", quality="low", api="images")
    out = session.extend("more beach", right=512, model="gpt-image-1.5", quality="low", api="images")
    call = wire.calls[-1]
    assert call.endpoint == "/images/edits" and b'name="mask"' in call.body
    assert b'name="size"\r\n\r\n1536x1024' in call.body
    assert (out.width, out.height) == (1536, 1024)
    assert session.current.parent_id == session.turns[0].id and base is not None
    assert out.outside_mask_change is not None  # an outpaint is a masked edit: measured too


def test_extend_through_the_responses_api_sends_the_canvas_as_an_input_image(session, wire):
    session.imagine("a sandy beach", size="1024x1024", quality="low")
    out = session.extend(size="1536x1024", anchor="left", quality="low")
    body = wire.calls[-1].json()
    assert "previous_response_id" not in body  # the canvas is a new picture
    image = [c for c in body["input"][0]["content"] if c["type"] == "input_image"][0]
    canvas = pixels(base64.b64decode(image["image_url"].split(",", 1)[1]), "RGBA")
    assert canvas.shape == (1024, 1536, 4) and (canvas[:, 1024:, 3] == 0).all()
    assert "input_image_mask" in body["tools"][0] and body["tools"][0]["size"] == "1536x1024"
    assert (out.width, out.height) == (1536, 1024)


def test_a_refused_extend_sends_nothing(session, wire):
    session.imagine("a beach", model="gpt-image-1.5", size="1024x1024", quality="low")
    before = posts(wire)
    with pytest.raises(ParamError):
        session.extend(right=100, model="gpt-image-1.5")
    with pytest.raises(ParamError):
        session.extend()
    assert posts(wire) == before


def test_dall_e_2_keeps_the_old_area_pixel_exact_and_continues_the_scene(session):
    old = session.imagine("a sandy beach under a blue sky", model="dall-e-2", size="512x512")
    out = session.extend(size="1024x1024", anchor="center", model="dall-e-2")
    got, before = pixels(out.data), pixels(old.data)
    assert got.shape == (1024, 1024, 3)
    assert (got[256:768, 256:768] == before).all()  # the old picture, untouched
    # the new area is filled, and continues the picture: beside the seam it looks like the old edge
    new = np.concatenate([got[:256].reshape(-1, 3), got[768:].reshape(-1, 3)])
    assert new.std() > 5
    seams = np.concatenate([  # each pixel pair across the four seams, new side minus old side
        np.abs(got[256:768, 255] - got[256:768, 256]).mean(axis=1), np.abs(got[256:768, 768] - got[256:768, 767]).mean(axis=1),
        np.abs(got[255, 256:768] - got[256, 256:768]).mean(axis=1), np.abs(got[768, 256:768] - got[767, 256:768]).mean(axis=1)])
    assert (seams < 12).mean() > 0.5  # mostly no edge: the picture goes on (the new shapes cross it in places)
    assert (got[0:8, 0:8] != 0).any() and (got[:256] != 255).any()


# -- the magic and the painter -----------------------------------------------------------------


def test_the_edit_magic_extends_with_an_anchor(tmp_path):
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.utils.capture import capture_output
    from traitlets.config import Config

    from imagewidgets import Client, Session
    from tests.wire import RecordingTransport

    InteractiveShell.clear_instance()
    ip = InteractiveShell.instance(config=Config())
    with capture_output():
        ip.extension_manager.load_extension("imagewidgets")
    try:
        wire = RecordingTransport()
        ip.user_ns["s"] = Session("m", folder=tmp_path / "store", client=Client(transport=wire))
        with capture_output() as cap:
            ip.run_line_magic("imagine_config", "--session s")
            ip.run_cell("%imagine a beach -q low -s 1024x1024 -m gpt-image-1.5")
            ip.run_cell("wide = %edit more beach --extend 1536x1024 --anchor left -q low -m gpt-image-1.5")
        assert cap.stderr == ""
        assert (ip.user_ns["wide"].width, ip.user_ns["wide"].height) == (1536, 1024)
        with capture_output() as cap:
            ip.run_cell("%edit more --extend 1600x1024 -m gpt-image-1.5")
        assert cap.stderr.startswith("%edit: --extend '1600x1024' is not allowed for gpt-image-1.5")
    finally:
        ip.extension_manager.unload_extension("imagewidgets")
        InteractiveShell.clear_instance()


def test_the_painter_shows_the_new_canvas_and_the_session_fills_it(session, wire):
    base = session.imagine("a beach", model="gpt-image-1.5", size="1024x1024", quality="low", api="images")
    painter = MaskPainter(base, model="gpt-image-1.5")
    assert "1536x1024" in painter._extend.size.options
    painter._extend.size.value, painter._extend.anchor.value = "1536x1024", "right"
    painter._extend.button.click()
    assert painter.image.size == (1536, 1024) and painter.extended_from == (1024, 1024)
    assert painter.mask_array[:, :512].all() and not painter.mask_array[:, 512:].any()
    assert "extended from 1024x1024" in painter._status.value
    out = session.extend("more beach", mask=painter, model="gpt-image-1.5", quality="low", api="images")
    assert (out.width, out.height) == (1536, 1024)
    painter._extend.back.click()
    assert painter.image.size == (1024, 1024) and painter.extended_from is None
