"""Gallery, headless, against the offline backend: thumbnails per turn, lineage, clicks that check
out a turn (delivered as ipycanvas delivers a browser click), updates as turns are stored."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from imagewidgets.session.session import Session
from imagewidgets.widgets import Gallery
from imagewidgets.widgets.gallery import thumbnail

# retired models (dall-e-2/3, gpt-image-1, gpt-image-1.5...) serve here as fixtures of features they
# had; the twin's calendar is tested in test_calendar.py and test_lifecycle.py
pytestmark = pytest.mark.calendar_off

FAST = {"model": "gpt-image-1.5", "quality": "low"}


@pytest.fixture
def session():
    return Session("gallery-tests")


def click(canvas, x=10, y=10) -> None:
    """A mouse click, exactly as the kernel receives it from the canvas view."""
    msg = {"content": {"data": {"method": "custom", "content": {"event": "mouse_down", "x": x, "y": y}}},
           "buffers": []}
    canvas.comm.handle_msg(msg)


def captions(gallery: Gallery) -> list[str]:
    return [row.children[1].description for row in gallery.rows.children]


def test_a_thumbnail_appears_for_each_stored_turn(session):
    gallery = Gallery(session)
    assert gallery.rows.children == () and gallery.header.value.startswith("0 turns")
    a = session.imagine("a red kite", **FAST)
    session.imagine("a blue boat", **FAST)
    assert len(gallery.rows.children) == 2 and set(gallery.thumbs) == {t.id for t in session.turns}
    assert "a red kite" in captions(gallery)[0] and "#1" in captions(gallery)[0]
    assert f"${session.turns[0].cost:.4f}" in captions(gallery)[0]
    assert gallery.header.value.startswith("2 turns")
    assert a.path is not None


def test_an_existing_session_is_shown_when_the_gallery_opens(session):
    session.imagine("a lantern", **FAST)
    assert len(Gallery(session).thumbs) == 1


def test_thumbnails_are_small_and_made_once(session):
    result = session.imagine("a striped cat", **FAST)
    data, fmt, w, h = thumbnail(result)
    assert fmt in ("png", "jpeg") and max(w, h) == 128
    assert Image.open(io.BytesIO(data)).size == (w, h)
    assert thumbnail(result) is thumbnail(result)


def test_clicking_a_thumbnail_checks_out_that_turn(session):
    first = session.imagine("a castle", **FAST)
    session.imagine("a river", **FAST)
    gallery = Gallery(session)
    turn_a = session.turns[0]
    assert session.current.id != turn_a.id

    click(gallery.thumbs[turn_a.id])

    assert session.current.id == turn_a.id and gallery.selected == turn_a.id
    assert "iw-thumb-current" in gallery.rows.children[0]._dom_classes
    edited = session.edit("add a flag", **FAST)
    assert session.current.parent_id == turn_a.id and first.path != edited.path


def test_clicking_a_caption_picks_the_turn_as_the_thumbnail_does(session):
    session.imagine("a castle <b>on a hill</b>", model="gpt-image-2", quality="low")
    session.imagine("a river", model="gpt-image-2", quality="low")
    gallery = Gallery(session)
    turn_a = session.turns[0]
    caption = gallery._captions[turn_a.id]
    assert caption.description.split("\n") == [f"#1 generate · ${turn_a.cost:.4f}", "a castle <b>on a hill</b>"]
    assert caption.tooltip == turn_a.prompt  # plain text: a button's words are never read as HTML
    caption.click()  # what the browser's click sends
    assert session.current.id == turn_a.id and gallery.selected == turn_a.id
    assert "iw-thumb-current" in gallery.rows.children[0]._dom_classes


def test_lineage_shows_where_each_turn_comes_from_and_indents_branches(session):
    gallery = Gallery(session)
    session.imagine("a tree", **FAST)                      # 1
    session.edit("add apples", **FAST)                     # 2 from 1
    click(gallery.thumbs[session.turns[0].id])
    session.edit("add snow", **FAST)                       # 3 from 1: a branch
    text = captions(gallery)
    margins = [row.layout.margin for row in gallery.rows.children]
    assert [t.startswith("#1 ") for t in text] == [True, False, False]
    assert "↳ from #1" in text[1] and "↳ from #1" in text[2]
    assert margins[0] == margins[1] and margins[2] != margins[0]  # the branch is indented
    assert gallery.selected == session.turns[2].id  # the new turn is current


def test_on_select_callbacks_see_the_turn(session):
    session.imagine("a bell", **FAST)
    gallery = Gallery(session)
    seen = []
    gallery.on_select(seen.append)
    click(gallery.thumbs[session.turns[0].id])
    assert [t.id for t in seen] == [session.turns[0].id]


def test_a_failed_turn_shows_a_placeholder_not_a_thumbnail(session):
    gallery = Gallery(session)
    with pytest.raises(Exception):
        session.imagine("forbidden things", **FAST)  # the offline moderation blocks it
    failed = [t for t in session.turns if t.status == "failed"]
    assert failed and failed[0].id not in gallery.thumbs
    assert "failed" in captions(gallery)[-1]


def test_a_new_browser_view_gets_the_thumbnail_redrawn(session, monkeypatch):
    from ipycanvas.canvas import COMMANDS

    session.imagine("a comet", **FAST)
    gallery = Gallery(session)
    canvas = gallery.thumbs[session.turns[0].id]
    sent = []
    monkeypatch.setattr(canvas._canvas_manager, "send_draw_command",
                        lambda widget, command, *args, **kw: sent.append((widget, command)))
    msg = {"content": {"data": {"method": "custom", "content": {"event": "client_ready"}}}, "buffers": []}
    canvas.comm.handle_msg(msg)
    assert sent == [(canvas, COMMANDS["drawImage"])]


def test_a_closed_gallery_stops_following_the_session(tmp_path):
    from imagewidgets import Session
    from imagewidgets.widgets.gallery import Gallery

    s = Session("closing", folder=tmp_path / "store")
    g = Gallery(s)
    s.imagine("a blue bird", quality="low", size="1024x1024")
    assert len(g.thumbs) == 1
    g.close()
    s.imagine("a green bird", quality="low", size="1024x1024")
    assert len(g.thumbs) == 1 and g._on_turn not in s._callbacks


def test_thumbnails_are_sharp_on_hidpi_screens(session):
    session.imagine("a red kite", model="gpt-image-2", quality="low")
    gallery = Gallery(session, thumb_size=96)
    canvas = gallery.thumbs[session.turns[0].id]
    shown = int(canvas.layout.width.removesuffix("px")), int(canvas.layout.height.removesuffix("px"))
    assert max(shown) == 96 and (canvas.width, canvas.height) == (2 * shown[0], 2 * shown[1])
    assert Gallery(session, thumb_size=96, pixel_ratio=1).thumbs[session.turns[0].id].width == shown[0]
