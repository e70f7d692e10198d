"""Widget state is traitlets: ``ImageStudio.busy`` says a click's request is running, and the
buttons follow it; a callback's error goes to the widget's ``Output`` through one helper."""

from __future__ import annotations

import ipywidgets as W

from imagewidgets.session.session import Session
from imagewidgets.widgets import ImageStudio
from imagewidgets.widgets._util import reported
import pytest

# retired models (dall-e-2/3, gpt-image-1, gpt-image-1.5...) serve here as fixtures of features they
# had; the twin's calendar is tested in test_calendar.py and test_lifecycle.py
pytestmark = pytest.mark.calendar_off


def test_busy_is_true_while_a_click_runs_and_the_buttons_follow_it():
    studio = ImageStudio(Session("busy", model="gpt-image-1.5"))
    studio.live.tick_s = None
    studio.quality.value = "low"
    seen = []
    studio.observe(lambda c: seen.append((c["new"], studio.generate_button.disabled, studio.edit_button.disabled)),
                   names=["busy"])
    studio.prompt.value = "a paper lantern"
    studio.generate_button.click()
    assert studio.wait(60) is not None
    assert seen == [(True, True, True), (False, False, False)] and studio.busy is False


class _Widget:
    def __init__(self) -> None:
        self.output = W.Output()
        self.cleaned = 0

    def _cleanup(self) -> None:
        self.cleaned += 1

    @reported(cleanup="_cleanup")
    def fails(self) -> None:
        raise ValueError("a broken callback")

    @reported
    def works(self) -> int:
        return 7


def test_a_callback_error_is_kept_in_the_output_and_the_cleanup_runs():
    w = _Widget()
    assert w.fails() is None and w.works() == 7 and w.cleaned == 1
    (text,) = [o["text"] for o in w.output.outputs]
    assert "Traceback" in text and "ValueError: a broken callback" in text
