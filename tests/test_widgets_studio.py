"""ImageStudio, headless, against the offline backend: controls follow the model table, the cost
follows the controls, clicks run requests through the session, errors show on one line."""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

import pytest

from imagewidgets.api.models import get_model
from imagewidgets.session.session import Session
from imagewidgets.widgets import ImageStudio
from imagewidgets.widgets.gallery import Gallery

# retired models (dall-e-2/3, gpt-image-1, gpt-image-1.5...) serve here as fixtures of features they
# had; the twin's calendar is tested in test_calendar.py and test_lifecycle.py
pytestmark = pytest.mark.calendar_off


@pytest.fixture
def session():
    return Session("studio-tests", model="gpt-image-1.5")


@pytest.fixture
def studio(session):
    studio = ImageStudio(session)
    studio.live.tick_s = None
    studio.quality.value = "low"
    return studio


def run(studio: ImageStudio, button, prompt: str | None = None):
    if prompt is not None:
        studio.prompt.value = prompt
    button.click()
    return studio.wait(60)


# ---------------------------------------------------------------- choices follow the model
def test_dall_e_3_offers_only_its_sizes_and_qualities(studio):
    studio.model.value = "dall-e-3"
    assert studio.size.options == ("1024x1024", "1792x1024", "1024x1792")
    assert studio.quality.options == ("standard", "hd")
    assert studio.size.value == "1024x1024" and studio.quality.value == "standard"


def test_dall_e_3_disables_what_it_does_not_accept_and_says_why(studio):
    studio.model.value = "dall-e-3"
    for control in (studio.compression, studio.background, studio.output_format, studio.moderation,
                    studio.input_fidelity, studio.n, studio.partial_images):
        assert control.disabled, control
    assert studio.background.tooltip == "dall-e-3 does not accept background"
    assert "does not accept output compression" in studio.compression.tooltip
    assert studio.edit_button.disabled and studio.edit_button.tooltip == "dall-e-3 cannot edit"
    assert studio.vary_button.disabled and not studio.generate_button.disabled


def test_gpt_image_1_mini_offers_input_fidelity_low_only(studio):
    studio.model.value = "gpt-image-1-mini"
    assert studio.input_fidelity.options == ("low",) and not studio.input_fidelity.disabled


def test_switching_back_restores_the_models_choices(studio):
    studio.model.value = "dall-e-3"
    studio.model.value = "gpt-image-1.5"
    spec = get_model("gpt-image-1.5")
    assert studio.size.options == spec.sizes + ("auto",)
    assert studio.output_format.options == spec.output_formats
    assert not studio.background.disabled and not studio.n.disabled


def test_a_choice_the_new_model_also_accepts_is_kept(studio):
    studio.size.value = "1536x1024"
    studio.model.value = "gpt-image-1-mini"
    assert studio.size.value == "1536x1024"


@pytest.mark.parametrize("fmt, enabled", [("png", False), ("jpeg", True), ("webp", True)])
def test_compression_is_enabled_only_for_jpeg_and_webp(studio, fmt, enabled):
    studio.output_format.value = fmt
    assert studio.compression.disabled is not enabled
    assert ("output_compression" in studio.options()) is enabled


def test_options_send_only_what_the_model_accepts(studio):
    studio.model.value = "dall-e-3"
    assert studio.options() == {"model": "dall-e-3", "size": "1024x1024", "quality": "standard"}
    studio.model.value = "gpt-image-1-mini"
    assert "input_fidelity" not in studio.options("generate")
    assert studio.options("edit")["input_fidelity"] == "low"


# ---------------------------------------------------------------- cost
def test_the_cost_label_changes_when_quality_changes(studio):
    studio.prompt.value = "a kite"
    low = studio.cost.value
    studio.quality.value = "high"
    assert studio.cost.value != low and studio.cost.value.startswith("≤ $")  # size is still auto
    assert studio.cost.value == str(studio.estimate())
    studio.size.value = "1024x1024"
    assert studio.cost.value.startswith("≈ $") and "dearest" not in studio.cost.value
    studio.quality.value = "auto"
    assert studio.cost.value.startswith("≤ $") and "auto size/quality estimated at their dearest" in studio.cost.value


def test_the_cost_label_follows_model_size_n_and_partials(studio):
    seen = {studio.cost.value}
    for control, value in ((studio.size, "1536x1024"), (studio.n, 3), (studio.partial_images, 3),
                           (studio.model, "dall-e-3")):
        control.value = value
        seen.add(studio.cost.value)
    assert len(seen) == 5


# ---------------------------------------------------------------- clicks
def test_generate_stores_a_turn_and_shows_its_image(studio, session):
    result = run(studio, studio.generate_button, "a fox in the snow")
    assert studio.error.value == "" and len(session.turns) == 1
    turn = session.turns[0]
    assert turn.status == "completed" and turn.kind == "generate" and turn.params["quality"] == "low"
    assert studio.live.image.value == Path(result.path).read_bytes() == Path(turn.image.path).read_bytes()
    assert set(studio.gallery.thumbs) == {turn.id}
    assert not studio.generate_button.disabled and studio.cancel_button.disabled


@pytest.mark.pictures("realistic")  # API-size pictures: no limit below them
def test_generate_streams_the_chosen_number_of_partial_frames(studio):
    frames = []
    studio.live.observe(lambda c: frames.append(c["new"]), names=["frame"])
    studio.partial_images.value = 3
    run(studio, studio.generate_button, "a slow river")
    assert [f for f in frames if f] == [1, 2, 3] and studio.live.total == 3


def test_n_above_one_makes_that_many_images(studio, session):
    studio.n.value = 2
    result = run(studio, studio.generate_button, "two pebbles")
    # gpt-image-1.5 through the Responses API: two calls, two sibling turns, one grid to pick from
    assert len(result) == 2 and len(session.turns) == 2 and len({t.group_id for t in session.turns}) == 1
    assert studio.live.image.value == Path(result[0].path).read_bytes()
    assert len(studio.variants.buttons) == 2


def test_edit_continues_from_the_current_turn(studio, session):
    run(studio, studio.generate_button, "a house")
    run(studio, studio.edit_button, "paint it blue")
    first, edit = session.turns
    assert edit.kind == "edit" and edit.parent_id == first.id and studio.error.value == ""


def test_clicking_a_gallery_thumbnail_makes_the_next_edit_branch_from_it(studio, session):
    run(studio, studio.generate_button, "a boat")
    run(studio, studio.generate_button, "a plane")
    boat = session.turns[0]
    msg = {"content": {"data": {"method": "custom", "content": {"event": "mouse_down", "x": 5, "y": 5}}},
           "buffers": []}
    studio.gallery.thumbs[boat.id].comm.handle_msg(msg)
    assert session.current.id == boat.id
    run(studio, studio.edit_button, "add sails")
    assert session.turns[-1].parent_id == boat.id


def test_edit_sends_the_painted_mask(studio, session):
    run(studio, studio.generate_button, "a meadow")
    studio.mask_toggle.value = True
    painter = studio.painter
    assert painter is not None and studio.mask_box.children == (painter,)
    painter.paint_rect(0, 0, 512, 512)
    sent = "sha256:" + hashlib.sha256(painter.mask).hexdigest()
    run(studio, studio.edit_button, "add a pond here")
    edit = session.turns[-1]
    assert studio.error.value == "" and edit.parent_id == session.turns[0].id
    masks = [i["fingerprint"] for i in edit.inputs if i["role"] == "mask"]
    assert masks == [sent]
    assert not painter.has_mask  # the painter moved on to the new current image: a mask belongs to one picture
    studio.mask_toggle.value = False
    assert studio.painter is None and studio.mask_box.children == ()


def test_the_mask_toggle_needs_an_image_first(studio):
    studio.mask_toggle.value = True
    assert studio.mask_toggle.value is False and "generate an image" in studio.error.value


def test_vary_makes_variations_of_the_current_image_with_dall_e_2(studio, session):
    studio.model.value = "dall-e-2"
    assert not studio.vary_button.disabled
    studio.size.value = "256x256"
    run(studio, studio.generate_button, "a square tile")
    run(studio, studio.vary_button)
    vary = session.turns[-1]
    assert studio.error.value == "" and vary.kind == "vary" and vary.parent_id == session.turns[0].id


def test_cancel_stops_the_stream_and_keeps_the_newest_frame(tmp_path):
    from imagewidgets.api.client import Client
    from imagewidgets.offline.config import OfflineConfig
    from imagewidgets.offline.server import OfflineServer

    with OfflineServer(OfflineConfig(partial_interval_s=0.3)) as server:
        session = Session("studio-cancel", model="gpt-image-1.5", client=Client(base_url=server.base_url))
        studio = ImageStudio(session)
        shown = threading.Event()
        studio.live.observe(lambda c: c["new"] and shown.set(), names=["frame"])
        studio.partial_images.value = 3
        studio.prompt.value = "a slow sunset"
        studio.generate_button.click()
        assert shown.wait(30) and studio.generate_button.disabled and not studio.cancel_button.disabled
        studio.cancel_button.click()
        result = studio.wait(30)
    assert session.turns[0].status == "cancelled" and studio.error.value == ""
    assert Path(result.path).read_bytes() == studio.live.image.value


# ---------------------------------------------------------------- errors
def test_a_param_error_shows_on_one_line_in_the_error_area(studio, session):
    studio.model.value = "dall-e-3"
    run(studio, studio.generate_button, "x" * 4001)
    assert studio.error.value.startswith("ParamError: prompt=")
    assert "\n" not in studio.error.value and studio.error.layout.display is None
    assert not studio.generate_button.disabled  # ready for the next try


def test_an_api_error_shows_in_the_error_area_and_clears_on_the_next_click(studio):
    run(studio, studio.generate_button, "something forbidden")
    assert studio.error.value.startswith("ModerationError:")
    run(studio, studio.generate_button, "something allowed")
    assert studio.error.value == "" and studio.error.layout.display == "none"


def test_the_studio_can_share_a_gallery_class_with_the_session(studio):
    assert isinstance(studio.gallery, Gallery) and studio.gallery.session is studio.session
    assert studio.model.value == "gpt-image-1.5"
    assert studio.output.outputs == ()


def test_free_size_models_offer_valid_wxh_presets(tmp_path):
    from imagewidgets import Session
    from imagewidgets.api.models import get_model
    from imagewidgets.widgets.studio import ImageStudio

    studio = ImageStudio(Session("presets", folder=tmp_path / "store"))
    studio.model.value = "gpt-image-2"
    assert "1280x720" in studio.size.options and "3840x2160" in studio.size.options
    assert all(get_model("gpt-image-2").size_error(o) is None for o in studio.size.options)
    studio.model.value = "gpt-image-1.5"
    assert "1280x720" not in studio.size.options


# ---------------------------------------------------------------- style (dall-e-3)
@pytest.fixture
def wired_studio(wire, tmp_path):
    """A studio whose session's requests are recorded on the wire (``wire.calls``)."""
    from imagewidgets import Client

    session = Session("studio-wire", model="gpt-image-2", folder=tmp_path / "store", client=Client(transport=wire))
    studio = ImageStudio(session)
    studio.live.tick_s = None
    studio.partial_images.value = 0
    return studio


def test_style_is_offered_only_for_models_with_styles(studio):
    # dall-e-3, the only model with styles, is shut down on the pinned day: the tooltip says no current
    # model takes it and names its live replacement, never dall-e-3
    assert studio.style.disabled and studio.style.tooltip == (
        "gpt-image-1.5 does not accept style (no current model takes it: the models that took it are shut "
        "down, replaced by gpt-image-2)")
    assert studio.style.label == "n/a" and studio.style.value == ""  # shown greyed, never an empty box
    studio.model.value = "dall-e-3"
    assert not studio.style.disabled and "vivid or natural" in studio.style.tooltip
    assert [value for _, value in studio.style.options] == ["", "vivid", "natural"]
    studio.style.value = "natural"
    studio.model.value = "gpt-image-2"
    assert studio.style.disabled and "style" not in studio.options()


def test_a_chosen_style_reaches_the_request_the_cost_and_the_wire(wired_studio, wire):
    studio = wired_studio
    studio.model.value = "dall-e-3"
    assert "style" not in studio.options()  # "default": the API's own style
    studio.style.value = "natural"
    assert studio.options()["style"] == "natural" and studio.request().style == "natural"
    assert studio.cost.value == str(studio.estimate())
    run(studio, studio.generate_button, "a lighthouse in fog")
    assert studio.error.value == ""
    assert wire.calls[-1].endpoint == "/images/generations" and wire.calls[-1].json()["style"] == "natural"
    assert studio.session.turns[-1].params["style"] == "natural"


# ---------------------------------------------------------------- free sizes (gpt-image-2 and newer)
def test_free_size_models_take_a_typed_size_and_others_keep_a_plain_choice(wired_studio):
    import ipywidgets as W

    studio = wired_studio
    assert isinstance(studio.size, W.Combobox) and studio.size.ensure_option is False
    studio.model.value = "gpt-image-1.5"
    assert isinstance(studio.size, W.Dropdown)
    studio.model.value = "gpt-image-2.6-flare"  # other sizes pass to the server, but no free rule
    assert isinstance(studio.size, W.Dropdown)


def test_a_typed_free_size_reaches_the_request_and_the_wire(wired_studio, wire):
    studio = wired_studio
    studio.size.value = " 1600 X 896 "
    assert studio.size.value == "1600x896" and studio.options()["size"] == "1600x896"
    assert studio.request().size == "1600x896" and not studio.generate_button.disabled
    run(studio, studio.generate_button, "a wide valley")
    assert studio.error.value == ""
    call = wire.calls[-1]  # gpt-image-2 goes through the Responses API by default: the size is the tool's
    sent = call.json()["tools"][0] if call.endpoint == "/responses" else call.json()
    assert sent["size"] == "1600x896"
    assert studio.session.turns[-1].params["size"] == "1600x896"


def test_an_invalid_typed_size_shows_the_reason_and_sends_nothing(wired_studio, wire):
    studio = wired_studio
    studio.size.value = "1000x1000"
    reason = get_model("gpt-image-2").size_error("1000x1000")
    assert reason and reason in studio.error.value and studio.error.layout.display is None
    assert studio.generate_button.disabled and reason in studio.generate_button.tooltip
    assert studio.cost.value == "≈ $?" and reason in studio.cost.tooltip
    studio.generate()  # as a click from code would, past the disabled button
    studio.wait(10)
    assert wire.calls == [] and studio.session.turns == []
    studio.size.value = "1024x1024"
    assert studio.error.value == "" and not studio.generate_button.disabled


def test_fixing_the_size_does_not_clear_another_error(wired_studio):
    studio = wired_studio
    run(studio, studio.generate_button, "something forbidden")
    assert studio.error.value.startswith("ModerationError:")
    studio.size.value = "1000x1000"
    studio.size.value = "1024x1024"
    assert studio.error.value == ""  # the size error replaced it, and went when fixed
    run(studio, studio.generate_button, "something forbidden")
    studio.size.value = "1280x720"  # a valid change leaves the API's error in place
    assert studio.error.value.startswith("ModerationError:")


# ---------------------------------------------------------------- switching models keeps settings
def test_switching_model_and_back_keeps_every_setting_the_model_accepts(studio):
    studio.model.value = "gpt-image-2"
    studio.quality.value = "low"
    studio.size.value = "1536x1024"
    low = studio.cost.value
    studio.model.value = "dall-e-3"
    assert studio.quality.value == "standard" and studio.size.value == "1792x1024"  # the nearest it has
    note = studio.note.value
    assert "quality low → standard" in note and "size 1536x1024 → 1792x1024" in note and "estimate" in note
    studio.model.value = "gpt-image-2"
    assert studio.quality.value == "low" and studio.size.value == "1536x1024"
    assert studio.cost.value == low


def test_the_note_says_why_controls_are_off(studio):
    studio.model.value = "gpt-image-2"
    note = studio.note.value
    assert note.startswith("Off for gpt-image-2: ") and "style (no current model takes it" in note
    assert "input fidelity (no current model takes it" in note and "gpt-image-2.6-sunburst" in note
    assert "dall-e-3" not in note and "gpt-image-1.5" not in note
    assert "compression applies to jpeg and webp only" in note
    studio.output_format.value = "jpeg"
    assert "compression" not in studio.note.value


def test_a_users_choice_clears_the_changed_note(studio):
    studio.quality.value = "high"
    studio.model.value = "dall-e-3"
    assert "quality high → hd" in studio.note.value
    studio.quality.value = "standard"
    assert "Changed" not in studio.note.value
    studio.model.value = "gpt-image-1.5"
    assert studio.quality.value == "medium"  # the last choice was standard: its nearest


def test_the_live_area_shows_the_sessions_current_picture():
    session = Session("studio-current")
    first = session.imagine("a green door", model="gpt-image-2")
    studio = ImageStudio(session)
    assert bytes(studio.live.image.value) == first.data and studio.live.status == "done"
    assert session.current.id in studio.live.label.value
    empty = ImageStudio(Session("studio-empty"))
    assert empty.live.label.value.startswith("no picture yet")
