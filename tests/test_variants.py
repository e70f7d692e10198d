"""Variants: ``n > 1`` on the Responses API makes n parallel calls (sibling turns, budget reserved
for all n first); on the Image API one call. ``pick``, ``%edit --pick``, the grid and the gallery
make a variant the base of the next edit, and the lineage shows the siblings."""

from __future__ import annotations

import threading

import pytest

from imagewidgets import BudgetExceededError, Client, ParamError, Session
from imagewidgets.api.results import ImageSet
from tests.wire import RecordingTransport

LOW = {"quality": "low", "size": "1024x1024"}


def responses_posts(wire) -> list:
    return [c for c in wire.calls if c.method == "POST" and c.endpoint == "/responses"]


def test_n_on_the_responses_api_makes_n_sibling_turns_with_their_own_response_ids(session, wire):
    out = session.imagine("a lighthouse at dusk", n=3, **LOW)
    assert isinstance(out, ImageSet) and len(out) == 3
    assert len(responses_posts(wire)) == 3
    assert len({img.data for img in out}) == 3  # three pictures to choose from
    turns = session.turns
    assert len(turns) == 3 and len({t.group_id for t in turns}) == 1 and turns[0].group_id
    assert len({t.response_id for t in turns}) == 3 and all(t.parent_id is None for t in turns)
    assert [t.variant for t, _ in session.variants] == [0, 1, 2]
    assert session.current.id == session.variants[0][0].id
    assert "#3 · " in out._repr_html_()  # the static grid numbers them as --pick does


def test_variant_edits_are_siblings_under_the_turn_they_continue(session, wire):
    session.imagine("a harbour", **LOW)
    root = session.current
    session.edit("add boats", n=2, **LOW)
    kids = session.children(root)
    assert len(kids) == 2 and {k.group_id for k in kids} != {None}
    assert all(c.json()["previous_response_id"] == root.response_id for c in responses_posts(wire)[1:])


def test_the_calls_run_in_parallel_but_bounded(tmp_path, monkeypatch):
    from imagewidgets.session import variants

    monkeypatch.setattr(variants, "MAX_PARALLEL", 2)
    in_flight, peak, lock = [0], [0], threading.Lock()

    class Counting(RecordingTransport):
        def handle_request(self, request):
            with lock:
                in_flight[0] += 1
                peak[0] = max(peak[0], in_flight[0])
            try:
                return super().handle_request(request)
            finally:
                with lock:
                    in_flight[0] -= 1

    wire = Counting()
    s = Session("p", folder=tmp_path / "store", client=Client(transport=wire))
    s.imagine("a fox", n=5, **LOW)
    assert len(responses_posts(wire)) == 5 and peak[0] <= 2


def test_the_budget_is_reserved_for_all_n_before_the_first_is_sent(wire, tmp_path):
    s = Session("b", folder=tmp_path / "store", client=Client(transport=wire), budget_usd=0.10)
    with pytest.raises(BudgetExceededError):
        s.imagine("an owl", n=4, quality="medium", size="1024x1024")  # one fits (about $0.053), four do not
    assert wire.calls == [] and s.turns == []
    s.imagine("an owl", n=1, quality="medium", size="1024x1024")
    assert len(wire.calls) == 1


def test_the_image_api_makes_n_images_in_one_call(session, wire):
    out = session.imagine("two kites", n=2, api="images", **LOW)
    assert len(out) == 2 and len(wire.calls) == 1 and len(session.turns) == 1
    assert [i for _, i in session.variants] == [0, 1]


@pytest.mark.parametrize("api", ("responses", "images"))
def test_pick_makes_that_variant_the_base_of_the_next_edit(session, wire, api):
    out = session.imagine("a garden", n=3, api=api, **LOW)
    turn = session.pick(2)
    assert session.current.id == turn.id and session.current.image.data == out[2].data
    session.edit("add a pond", api=api, **LOW)
    sent = wire.calls[-1]
    if api == "responses":
        assert sent.json()["previous_response_id"] == turn.response_id
    else:
        assert out[2].data in sent.body and out[0].data not in sent.body
    assert session.current.parent_id == turn.id


def test_a_picked_image_survives_reopening_the_session(session, wire):
    session.imagine("two kites", n=2, api="images", **LOW)
    session.pick(1)
    again = Session("test", folder=session.store.folder, client=Client(transport=wire))
    assert again.current.picked == 1 and again.current.image.data == session.variants[1][0].images[1].data


def test_pick_says_what_is_wrong(session):
    with pytest.raises(ParamError, match="no call of this session made several images"):
        session.pick(0)
    session.imagine("a kite", n=2, **LOW)
    with pytest.raises(ParamError, match="0 to 1"):
        session.pick(2)


def test_replaying_variants_gives_back_each_variant(session, wire):
    first = session.imagine("a meadow", n=3, **LOW)
    again = session.imagine("a meadow", n=3, **LOW)
    assert [i.data for i in again] == [i.data for i in first]
    assert len(responses_posts(wire)) == 3  # the second call was replayed from the store, free
    assert {t.status for t in session.turns[3:]} == {"replayed"}


def test_the_lineage_shows_the_siblings(session):
    session.imagine("a harbour", **LOW)
    session.edit("add boats", n=2, **LOW)
    text = repr(session.lineage())
    assert "variant #1" in text and "variant #2" in text
    assert "variant #2" in session.lineage()._repr_html_()


# -- the grid, the gallery and the magic -------------------------------------------------------


def test_the_grid_continues_from_the_clicked_variant(session, wire):
    from imagewidgets.widgets import VariantGrid

    out = session.imagine("a garden", n=3, **LOW)
    grid = VariantGrid(session)
    assert len(grid.buttons) == 3 and grid.picked == 0
    grid.buttons[1].click()
    assert grid.picked == 1 and session.current.image.data == out[1].data
    assert grid.buttons[1].button_style == "success" and grid.buttons[0].button_style == ""
    bundle = grid._repr_mimebundle_()
    bundle = bundle[0] if isinstance(bundle, tuple) else bundle
    assert "s.pick(1)" in bundle["text/html"] and "application/vnd.jupyter.widget-view+json" in bundle
    session.edit("add a pond", **LOW)
    assert wire.calls[-1].json()["previous_response_id"] == session.variants[1][0].response_id


def test_a_click_in_the_gallery_picks_a_variant(session):
    from imagewidgets.widgets import Gallery

    session.imagine("a garden", n=2, **LOW)
    gallery = Gallery(session)
    second = session.variants[1][0]
    assert "variant 2" in gallery._captions[second.id].description
    msg = {"content": {"data": {"method": "custom", "content": {"event": "mouse_down", "x": 5, "y": 5}}},
           "buffers": []}
    gallery.thumbs[second.id].comm.handle_msg(msg)
    assert session.current.id == second.id


def test_edit_pick_in_the_magic_continues_from_that_variant(tmp_path):
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.utils.capture import capture_output
    from traitlets.config import Config

    from imagewidgets.widgets import VariantGrid

    InteractiveShell.clear_instance()
    ip = InteractiveShell.instance(config=Config())
    with capture_output():
        ip.extension_manager.load_extension("imagewidgets")
    try:
        wire = RecordingTransport()
        ip.user_ns["s"] = Session("m", folder=tmp_path / "store", client=Client(transport=wire))
        with capture_output() as cap:
            ip.run_line_magic("imagine_config", "--session s")
            ip.run_cell("grid_out = %imagine a garden -n 3 -q low -s 1024x1024")
        assert any("VariantGrid" in o.data.get("text/plain", "") for o in cap.outputs)
        assert isinstance(ip.user_ns["grid_out"], ImageSet)
        s = ip.user_ns["s"]
        third = s.variants[2][0]
        with capture_output() as cap:
            ip.run_cell("%edit add a pond --pick 3")
        assert cap.stderr == ""
        assert wire.calls[-1].json()["previous_response_id"] == third.response_id
        with capture_output() as cap:
            ip.run_cell("%edit add a pond --pick 9")
        assert "--pick 9" in cap.stderr and "1 to 3" in cap.stderr
        assert VariantGrid  # the grid class the magic shows
    finally:
        ip.extension_manager.unload_extension("imagewidgets")
        InteractiveShell.clear_instance()


def test_the_studio_shows_a_grid_for_n_above_one(tmp_path):
    from imagewidgets.widgets import ImageStudio

    wire = RecordingTransport()
    s = Session("st", folder=tmp_path / "store", client=Client(transport=wire))
    studio = ImageStudio(s)
    studio.live.tick_s = None
    studio.quality.value = "low"
    studio.n.value = 2
    studio.prompt.value = "a garden"
    studio.generate_button.click()
    studio.wait(60)
    assert studio.error.value == "" and len(responses_posts(wire)) == 2
    assert studio.variants is not None and len(studio.variants.buttons) == 2
    studio.variants.buttons[1].click()
    assert s.current.id == s.variants[1][0].id
