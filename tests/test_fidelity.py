"""Did the edit stay inside the mask? ``outside_mask_change`` on every masked edit, the history
shows it, ``result.diff(parent)`` draws it, and ``keep_outside_mask`` puts the outside back while
keeping the API's own image."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from PIL import Image

from imagewidgets import ParamError
from imagewidgets.api.fidelity import diff_heatmap, keep_outside, outside_mask_change
from imagewidgets.widgets import MaskPainter
from tests.fixtures_offline import mask_png, picture

# retired models (dall-e-2/3, gpt-image-1, gpt-image-1.5...) serve here as fixtures of features they
# had; the twin's calendar is tested in test_calendar.py and test_lifecycle.py
pytestmark = pytest.mark.calendar_off

LOW = {"quality": "low", "size": "512x512"}  # gpt-image-2 takes any WxH in steps of 16: small is fast
SIDE = 512
BOX = (128, 128, 384, 384)  # the painted square: alpha 0 there


def pixels(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"), dtype=np.int16)


def outside() -> np.ndarray:
    keep = np.ones((SIDE, SIDE), bool)
    keep[BOX[1]:BOX[3], BOX[0]:BOX[2]] = False
    return keep


@pytest.fixture
def garden(session):
    session.imagine("a green garden lawn", **LOW)
    return session


# -- the measure -------------------------------------------------------------------------------


def test_the_measure_counts_changed_pixels_outside_the_mask_only():
    a = np.zeros((100, 100, 3), np.uint8)
    b = a.copy()
    b[0:10, :] = 200  # 10% of the picture changes, all of it outside the mask
    b[40:60, 40:60] = 255  # inside the mask: not counted
    enc = [io.BytesIO() for _ in range(2)]
    Image.fromarray(a).save(enc[0], "PNG")
    Image.fromarray(b).save(enc[1], "PNG")
    mask = mask_png(100, 100, (40, 40, 60, 60))
    change = outside_mask_change(enc[0].getvalue(), enc[1].getvalue(), mask)
    assert change.pixels == 100 * 100 - 400
    assert change.share == pytest.approx(1000 / 9600, abs=1e-6)
    assert change.mean_diff == pytest.approx(200 * 1000 / 9600, rel=1e-3)


@pytest.mark.parametrize("api", ("images", "responses"))
def test_every_masked_edit_carries_outside_mask_change_and_the_history_shows_it(garden, api):
    edited = garden.edit("a round pond", mask=mask_png(SIDE, SIDE, BOX), api=api, **LOW)
    change = edited.outside_mask_change
    # the offline gpt-image renderer blends a band outside the mask, as the models may: measured, not zero
    assert 0 < change["share"] < 0.2 and change["mean_diff"] > 0 and change["pixels"] == SIDE * SIDE - 256 * 256
    assert garden.current.image.outside_mask_change == change  # stored with the image
    row = garden.history().rows[-1]
    assert row["outside_mask_change"].startswith(f"{change['share']:.1%}")
    assert "outside_mask_change" in garden.history()._repr_html_()


def test_dall_e_2_keeps_the_outside_exactly_and_says_so(session):
    base = session.imagine("a green lawn", model="dall-e-2", size="256x256")
    edited = session.edit("a pond", mask=mask_png(256, 256, (64, 64, 192, 192)), model="dall-e-2", size="256x256")
    assert edited.outside_mask_change["share"] == 0.0 and base is not None


def test_an_edit_without_a_mask_has_no_measure(garden):
    assert garden.edit("make it autumn", **LOW).outside_mask_change is None


def test_diff_draws_a_heat_map_over_the_picture(garden):
    parent = garden.current.image
    edited = garden.edit("a round pond", mask=mask_png(SIDE, SIDE, BOX), api="images", **LOW)
    heat = edited.diff(parent)
    assert (heat.width, heat.height, heat.format) == (SIDE, SIDE, "png")
    hp = pixels(heat.data)
    red = (hp[..., 0] > 200) & (hp[..., 2] < 80)  # heat colours: red/yellow, no blue
    assert red[256, 256]  # the pond: changed
    assert not red[20, 20]  # a far corner: unchanged, grey
    same = pixels(diff_heatmap(parent.data, parent.data))
    assert (np.abs(same[..., 0] - same[..., 2]) < 2).all()  # nothing differs: all grey


# -- keeping the outside -----------------------------------------------------------------------


@pytest.mark.parametrize("api", ("images", "responses"))
def test_keep_outside_mask_stores_the_composite_and_keeps_the_raw_image(garden, wire, api):
    parent = garden.current.image
    edited = garden.edit("a round pond", mask=mask_png(SIDE, SIDE, BOX), api=api, keep_outside_mask=True, **LOW)
    got, before = pixels(edited.data), pixels(parent.data)
    keep = outside()
    assert (got[keep] == before[keep]).all()  # outside: the parent's pixels, exactly
    raw = edited.raw
    assert raw.data != edited.data and raw.path.is_file() and raw.path.name.endswith("-raw.png")
    assert (pixels(raw.data)[~keep] == got[~keep]).all()  # inside: the API's pixels
    # the figure is the stored picture's: nothing changed outside; the API's picture's is named as such
    assert edited.outside_mask_change["share"] == 0.0 and edited.outside_mask_change["mean_diff"] == 0.0
    assert edited.raw_outside_mask_change["share"] > 0
    assert raw.outside_mask_change == edited.raw_outside_mask_change  # .raw reports its own figure
    again = garden.turn(garden.current.id)
    stored = garden.store.load_images(again)[0]
    assert stored.raw_path == raw.path and stored.path.read_bytes() == edited.data
    assert stored.outside_mask_change == edited.outside_mask_change
    assert stored.raw_outside_mask_change == edited.raw_outside_mask_change  # survives the store
    shown = garden.history().rows[-1]["outside_mask_change"]
    assert shown.startswith("0.0% (mean 0.0); outside kept (the API's picture: ")
    assert f"{edited.raw_outside_mask_change['share']:.1%}" in shown
    assert "outside mask changed 0.0% (kept the parent's; the API's picture" in edited._caption()


def test_feather_softens_the_seam_inside_the_mask_only(garden):
    parent = garden.current.image
    edited = garden.edit("a round pond", mask=mask_png(SIDE, SIDE, BOX), api="images", keep_outside_mask=True,
                         feather=16, **LOW)
    got, before, raw = pixels(edited.data), pixels(parent.data), pixels(edited.raw.data)
    keep = outside()
    assert (got[keep] == before[keep]).all()
    assert (got[256, 256] == raw[256, 256]).all()  # the middle of the mask: the edit
    edge = got[256, 130]  # 2 px inside the mask: between the two
    assert not (edge == raw[256, 130]).all()


def test_a_continued_responses_chain_sends_the_composite(garden, wire):
    edited = garden.edit("a round pond", mask=mask_png(SIDE, SIDE, BOX), keep_outside_mask=True, **LOW)
    garden.edit("add ducks", **LOW)
    body = wire.calls[-1].json()
    assert "previous_response_id" not in body  # the server holds the raw answer, not the composite
    sent = [c for c in body["input"][0]["content"] if c["type"] == "input_image"]
    assert base64.b64decode(sent[0]["image_url"].split(",", 1)[1]) == edited.data


def test_keep_outside_needs_a_mask_and_sends_nothing_without_one(garden, wire):
    before = len(wire.calls)
    with pytest.raises(ParamError, match="keep_outside_mask"):
        garden.edit("a pond", keep_outside_mask=True, **LOW)
    with pytest.raises(ParamError, match="feather"):
        garden.edit("a pond", mask=mask_png(SIDE, SIDE, BOX), keep_outside_mask=True, feather=-1, **LOW)
    assert len(wire.calls) == before


def test_replay_tells_a_kept_outside_from_a_plain_edit(garden, wire):
    plain = garden.edit("a round pond", mask=mask_png(SIDE, SIDE, BOX), api="images", **LOW)
    garden.checkout(garden.turns[0])
    kept = garden.edit("a round pond", mask=mask_png(SIDE, SIDE, BOX), api="images", keep_outside_mask=True, **LOW)
    # the same edit was sent twice (no replay): the same pixels, each file with its own C2PA manifest
    assert not np.array_equal(np.asarray(kept.image), np.asarray(plain.image))
    assert np.array_equal(np.asarray(kept.raw.image), np.asarray(plain.image))


def test_keep_outside_composites_a_png_exactly():
    from tests.fixtures_offline import png

    a, b = picture(64, 64), png(64, 64, (255, 0, 0))
    mixed = pixels(keep_outside(a, b, mask_png(64, 64, (0, 0, 32, 32))))
    assert (mixed[32:, :] == pixels(a)[32:, :]).all() and (mixed[:32, 32:] == pixels(a)[:32, 32:]).all()
    assert (mixed[:32, :32] == (255, 0, 0)).all()


# -- the magic and the studio ------------------------------------------------------------------


def test_the_edit_magic_keeps_the_outside(tmp_path):
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
        s = Session("m", folder=tmp_path / "store", client=Client(transport=RecordingTransport()))
        ip.user_ns["s"] = s
        with capture_output() as cap:
            ip.run_line_magic("imagine_config", "--session s")
            ip.run_cell("base = %imagine a lawn -q low -s 512x512")
            ip.user_ns["painter"] = painter = MaskPainter(ip.user_ns["base"])
            painter.paint_rect(*BOX)
            ip.run_cell("out = %edit a pond --mask painter --keep-outside --feather 4 -q low -s 512x512")
        assert cap.stderr == ""
        out, base = ip.user_ns["out"], ip.user_ns["base"]
        assert (pixels(out.data)[outside()] == pixels(base.data)[outside()]).all()
        assert out.raw.data != out.data and out.params["feather"] == 4
    finally:
        ip.extension_manager.unload_extension("imagewidgets")
        InteractiveShell.clear_instance()


def test_the_studio_checkbox_keeps_the_outside(tmp_path):
    from imagewidgets import Client, Session
    from imagewidgets.widgets import ImageStudio
    from tests.wire import RecordingTransport

    s = Session("st", folder=tmp_path / "store", client=Client(transport=RecordingTransport()))
    studio = ImageStudio(s)
    studio.live.tick_s = None
    studio.quality.value = "low"
    studio.size.value = "512x512"
    studio.prompt.value = "a lawn"
    studio.generate_button.click()
    studio.wait(60)
    base = s.current.image
    studio.mask_toggle.value = True
    studio.painter.paint_rect(*BOX)
    studio.keep_outside.value = True
    studio.prompt.value = "a pond"
    studio.edit_button.click()
    studio.wait(60)
    assert studio.error.value == ""
    img = s.current.image
    assert img.raw_path is not None
    assert (pixels(img.data)[outside()] == pixels(base.data)[outside()]).all()
