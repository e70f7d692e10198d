"""The mainline model of Responses turns is a setting: Session, configure, %imagine_config and the
studio, with one default (models.DEFAULT_RESPONSES_MODEL) — checked on the wire."""

from __future__ import annotations

from IPython.core.interactiveshell import InteractiveShell
from traitlets.config import Config

from imagewidgets.api.client import Client
from imagewidgets.api.models import DEFAULT_RESPONSES_MODEL
from imagewidgets.session import session as session_mod
from imagewidgets.session.session import Session, configure, default_session
import pytest

# retired models (dall-e-2/3, gpt-image-1, gpt-image-1.5...) serve here as fixtures of features they
# had; the twin's calendar is tested in test_calendar.py and test_lifecycle.py
pytestmark = pytest.mark.calendar_off


def _responses_models(wire) -> list[str]:
    return [c.json()["model"] for c in wire.calls if c.endpoint == "/responses"]


def test_the_default_is_current_and_in_one_place(wire, tmp_path):
    from imagewidgets.api import lifecycle
    from imagewidgets.api.requests import ResponsesRequest

    assert ResponsesRequest("x").responses_model == DEFAULT_RESPONSES_MODEL == "gpt-5.5"
    assert lifecycle.lifecycle_of(DEFAULT_RESPONSES_MODEL).shutdown_date is None
    s = Session("d", folder=tmp_path / "s", client=Client(transport=wire))
    s.imagine("a lighthouse", quality="low")
    assert s.responses_model == "gpt-5.5" and _responses_models(wire) == ["gpt-5.5"]


def test_session_setting_reaches_the_wire_and_a_call_still_wins(wire, tmp_path):
    s = Session("r", folder=tmp_path / "s", client=Client(transport=wire), responses_model="gpt-5.4")
    s.imagine("a lighthouse", quality="low")
    s.edit("at night", quality="low")
    s.edit("with snow", quality="low", responses_model="gpt-6-sol")
    assert _responses_models(wire) == ["gpt-5.4", "gpt-5.4", "gpt-6-sol"]
    s.responses_model = None
    assert s.responses_model == DEFAULT_RESPONSES_MODEL


def test_configure_sets_it_for_the_default_session(wire, tmp_path):
    configure(responses_model="gpt-5.4", folder=str(tmp_path / "c"))
    s = default_session()
    s.client = Client(transport=wire)
    s.imagine("a kite", quality="low")
    assert _responses_models(wire) == ["gpt-5.4"]
    configure(responses_model=None)
    assert default_session().responses_model == DEFAULT_RESPONSES_MODEL


def test_imagine_config_responses_model_in_a_real_shell(wire, tmp_path, capsys):
    InteractiveShell.clear_instance()
    ip = InteractiveShell.instance(config=Config())
    ip.extension_manager.load_extension("imagewidgets")
    try:
        ip.user_ns["s"] = Session("m", folder=tmp_path / "m", client=Client(transport=wire))
        ip.run_line_magic("imagine_config", "--session s")
        capsys.readouterr()
        ip.run_line_magic("imagine_config", "--responses-model gpt-5.4")
        assert "responses model: gpt-5.4" in capsys.readouterr().out
        ip.run_line_magic("imagine", "-q low a harbour at dawn")
        assert _responses_models(wire) == ["gpt-5.4"]
        ip.run_line_magic("imagine_config", "--responses-model default")
        assert f"responses model: {DEFAULT_RESPONSES_MODEL}" in capsys.readouterr().out
    finally:
        ip.extension_manager.unload_extension("imagewidgets")
        InteractiveShell.clear_instance()
        session_mod.reset_settings()  # the default session these magics made is forgotten


def test_studio_offers_current_mainline_models_and_sets_the_session(wire, tmp_path):
    from imagewidgets.widgets import ImageStudio

    s = Session("st", folder=tmp_path / "st", client=Client(transport=wire), model="gpt-image-2")
    studio = ImageStudio(s)
    studio.live.tick_s = None
    assert studio.responses_model.value == DEFAULT_RESPONSES_MODEL
    assert "gpt-5" not in studio.responses_model.options  # shuts down 2026-12-11: not offered
    studio.responses_model.value = "gpt-5.4"
    studio.quality.value = "low"
    studio.prompt.value = "a red kite"
    studio.generate_button.click()
    studio.wait(60)
    assert s.responses_model == "gpt-5.4" and _responses_models(wire) == ["gpt-5.4"]
    studio.model.value = "dall-e-2"
    assert studio.responses_model.disabled
    studio.model.value = "gpt-image-1.5"
    assert studio.model.tooltip == "gpt-image-1.5: shut down on 2026-12-01, replaced by gpt-image-2.6-sunburst"
