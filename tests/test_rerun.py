"""Migration: session.rerun re-runs a turn or a branch with another model as new turns, and
shows old and new side by side with their costs (issue 13, item 4)."""

from __future__ import annotations

import pytest
from IPython.core.interactiveshell import InteractiveShell
from traitlets.config import Config

from imagewidgets.api.errors import ParamError
from imagewidgets.session import session as session_mod

from .fixtures_offline import png

# retired models (dall-e-2/3, gpt-image-1, gpt-image-1.5...) serve here as fixtures of features they
# had; the twin's calendar is tested in test_calendar.py and test_lifecycle.py
pytestmark = pytest.mark.calendar_off


def _posts(wire) -> list:
    return [c for c in wire.calls if c.method == "POST"]


def test_a_branch_is_re_run_from_its_root_as_new_turns(session, wire):
    root = session.turn(session.imagine("a lighthouse at dusk", model="gpt-image-1.5", quality="low",
                                        size="1024x1024", api="images").path.name.rsplit("-", 1)[0])
    session.edit("add a red boat", model="gpt-image-1.5", quality="low", size="1024x1024", api="images")
    leaf = session.current
    before = list(session.turns)
    sent = len(_posts(wire))
    cmp = session.rerun(leaf, model="gpt-image-2")
    assert [o.id for o, _ in cmp.pairs] == [root.id, leaf.id]
    new_root, new_leaf = cmp.new_turns
    assert new_root.model == new_leaf.model == "gpt-image-2"
    assert new_root.parent_id is None and new_leaf.parent_id == new_root.id  # the edit continues the new root
    assert new_leaf.note == f"re-run of {leaf.id} (gpt-image-1.5) with gpt-image-2"
    assert session.turns[: len(before)] == before and len(session.turns) == len(before) + 2
    assert len(_posts(wire)) == sent + 2
    bodies = [c.json() if c.content_type.startswith("application/json") else None for c in _posts(wire)[-2:]]
    assert bodies[0]["model"] == "gpt-image-2" and bodies[0]["quality"] == "low"
    assert new_leaf.image.path.exists() and new_root.cost > 0 and cmp.new_cost == new_root.cost + new_leaf.cost
    html = cmp._repr_html_()
    assert html.count("<img") == 4 and "gpt-image-1.5" in html and f"${cmp.new_cost:.4f}" in html
    reopened = type(session)(session.name, folder=session.store.folder)
    assert reopened.turn(new_leaf.id).note.startswith("re-run of")  # the note is stored


def test_only_the_turn_and_options_the_new_model_refuses_are_named(session, wire):
    session.imagine("a kite", model="gpt-image-1.5", quality="low", size="1024x1024", input_fidelity=None,
                    api="images", output_format="jpeg", output_compression=50)
    cmp = session.rerun(session.current, model="dall-e-3", branch=False)
    old, new = cmp.pairs[0]
    assert new.model == "dall-e-3" and "quality=low" in cmp.dropped[old.id]
    assert cmp.rows()[0]["dropped"]


def test_unrerunnable_turns_are_refused_before_anything_is_sent(session, wire):
    session.imagine("a kite", model="gpt-image-1.5", quality="low", size="1024x1024", api="images")
    session.edit("make it red", mask=_holed_mask(), model="gpt-image-1.5", quality="low",
                 size="1024x1024", api="images")
    sent = len(_posts(wire))
    with pytest.raises(ParamError, match="mask"):
        session.rerun(session.current, model="gpt-image-2")
    assert len(_posts(wire)) == sent and len(session.turns) == 2


def test_the_magic_re_runs_and_shows_the_comparison(session, wire, capsys):
    session.imagine("a harbour", model="gpt-image-1.5", quality="low", size="1024x1024")
    InteractiveShell.clear_instance()
    ip = InteractiveShell.instance(config=Config())
    ip.extension_manager.load_extension("imagewidgets")
    try:
        ip.user_ns["s"] = session
        ip.run_line_magic("imagine_config", "--session s")
        cmp = ip.run_line_magic("imagine_history", f"--rerun {session.current.id} --to gpt-image-2")
        assert cmp.new_turns[0].model == "gpt-image-2"
        capsys.readouterr()
        assert ip.run_line_magic("imagine_history", "--to gpt-image-2") is None
        assert "--rerun TURN --to MODEL" in capsys.readouterr().err
    finally:
        ip.extension_manager.unload_extension("imagewidgets")
        InteractiveShell.clear_instance()
        session_mod.reset_settings()  # the default session these magics made is forgotten


def _holed_mask() -> bytes:
    import io

    from PIL import Image

    im = Image.new("RGBA", (1024, 1024), (0, 0, 0, 255))
    im.paste((0, 0, 0, 0), (100, 100, 300, 300))
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    return buf.getvalue()
