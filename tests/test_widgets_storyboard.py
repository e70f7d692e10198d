"""The storyboard strip widget: a redo button and a pin toggle under each panel (headless: the
buttons' handlers called as a click would)."""

from __future__ import annotations

from imagewidgets import Client, Session
from imagewidgets.widgets import StoryboardStrip

PANELS = ["Milo wakes up in a forest", "Milo finds a map", "Milo sets sail on the sea"]


def _board(tmp_path, wire):
    s = Session("strip", folder=tmp_path / "store", client=Client(transport=wire), quality="low", size="512x512")
    s.imagine("Milo the orange fox with a blue scarf")
    s.pin(name="Milo")
    return s, s.storyboard(PANELS)


def test_the_redo_button_draws_the_panel_again_in_place(tmp_path, wire):
    s, board = _board(tmp_path, wire)
    strip = StoryboardStrip(board)
    assert [c.value for c in strip.captions] == [f"<b>{n}.</b> {p}" for n, p in enumerate(PANELS, 1)]
    before, old = strip.pictures[1].value, board[1].id
    strip.redo_buttons[1].click()
    assert board[1].id != old and strip.pictures[1].value != before
    assert strip.pictures[0].value and "panel 2 redrawn" in strip.status.value
    assert s.storyboards()[-1].panels[1].turn_id == board[1].id


def test_the_pin_toggle_pins_and_unpins_a_panel(tmp_path, wire):
    s, board = _board(tmp_path, wire)
    strip = StoryboardStrip(board)
    strip.pin_toggles[2].value = True
    assert [(p.name, p.turn_id) for p in s.pins()][-1] == ("panel 3", board[2].id)
    strip.pin_toggles[2].value = False
    assert [p.name for p in s.pins()] == ["Milo"]
    assert not strip.output.outputs  # no error was reported


def test_the_gallery_pin_toggle_pins_a_turn_and_the_studio_prices_it(tmp_path, wire):
    from imagewidgets.widgets import ImageStudio

    s = Session("studio-pins", folder=tmp_path / "store", client=Client(transport=wire), quality="low",
                size="1024x1024")
    first = s.imagine("Milo the orange fox with a blue scarf")
    studio = ImageStudio(s)
    studio.prompt.value = "Milo finds a map"
    plain = studio.estimate()
    toggle = studio.gallery.pin_toggles[s.turns[0].id]
    toggle.value = True  # what a click on the gallery's pin toggle does
    assert [(p.name, p.turn_id) for p in s.pins()] == [("#1", s.turns[0].id)]
    assert "every turn carries: #1 (character)" in studio.pins_note.value
    assert studio.estimate().input_image_tokens > plain.input_image_tokens == 0
    s.imagine("Milo finds a map")
    assert "📌 #1 (character)" in studio.gallery._captions[s.turns[-1].id].description
    assert studio.gallery.pin_toggles[s.turns[0].id].value  # still on after the refresh
    studio.gallery.pin_toggles[s.turns[0].id].value = False
    assert s.pins() == [] and studio.pins_note.value == ""
    assert not studio.gallery.output.outputs and not studio.output.outputs and first is not None
