"""Refusals a student can understand (issue 29): which stage refused a request and why, and the very
same refused request is not sent (and paid) again unless asked."""

from __future__ import annotations

import pytest

from imagewidgets import Client, ModerationError, RepeatedRefusalError
from imagewidgets.api.refusals import REFUSED
from tests.test_magics import Recording, cell, ip, wire  # noqa: F401

LOW = {"quality": "low", "size": "1024x1024"}


@pytest.fixture(autouse=True)
def _fresh_memory():
    REFUSED.forget()
    yield
    REFUSED.forget()


def _posts(transport: Recording) -> int:
    return len(transport.bodies())


@pytest.mark.parametrize("prompt,stage", [("a forbidden kite", "input"), ("a field of bloodshed", "output")])
def test_a_responses_refusal_says_its_stage_and_categories(prompt, stage):
    transport = Recording()
    with Client(transport=transport, save_dir=None) as client:
        with pytest.raises(ModerationError) as err:
            client.respond(prompt, **LOW)
    assert err.value.stage == stage and err.value.categories == ("offline-test-word",)
    assert f"refused at the {stage} stage" in str(err.value) and "categories: offline-test-word" in str(err.value)
    assert "retry_refused=True" in str(err.value)


def test_the_very_same_refused_request_is_not_sent_again_unless_asked():
    transport = Recording()
    with Client(transport=transport, save_dir=None) as client:
        with pytest.raises(ModerationError):
            client.respond("a forbidden kite", **LOW)
        sent = _posts(transport)
        with pytest.raises(RepeatedRefusalError) as again:
            client.respond("a forbidden kite", **LOW)
        assert _posts(transport) == sent  # nothing was sent, nothing paid
        assert again.value.stage == "input" and "nothing was sent" in str(again.value)
        assert "--retry-refused" in str(again.value)
        client.respond("a kite", **LOW)  # another request goes as usual
        with pytest.raises(ModerationError):
            client.respond("a forbidden kite", quality="medium", size="1024x1024")  # changed: a new request
    with Client(transport=transport, save_dir=None, retry_refused=True) as told:
        before = _posts(transport)
        with pytest.raises(ModerationError):
            told.respond("a forbidden kite", **LOW)
        assert _posts(transport) == before + 1


def test_a_streamed_refusal_is_remembered_too():
    transport = Recording()
    with Client(transport=transport, save_dir=None) as client:
        with pytest.raises(ModerationError) as err:
            with client.respond("a field of bloodshed", stream=True, partial_images=1, **LOW) as stream:
                list(stream)
        assert err.value.stage == "output"
        with pytest.raises(RepeatedRefusalError):
            client.respond("a field of bloodshed", stream=True, partial_images=1, **LOW)


def test_an_images_api_refusal_says_the_stage_is_not_known():
    with Client(save_dir=None) as client, pytest.raises(ModerationError) as err:
        client.generate("a forbidden kite", model="gpt-image-2", quality="low", size="256x256")
    assert err.value.stage is None and "did not say at which stage" in str(err.value)


def test_the_magic_explains_a_refusal_and_resends_only_with_retry_refused(ip, wire):  # noqa: F811
    first = cell(ip, "%imagine a forbidden lighthouse -q low")
    assert first.result is None and len(first.error_lines) == 1
    assert "ModerationError" in first.stderr and "refused at the input stage" in first.stderr
    sent = _posts(wire)
    again = cell(ip, "%imagine a forbidden lighthouse -q low")
    assert again.result is None and "nothing was sent" in again.stderr and _posts(wire) == sent
    told = cell(ip, "%imagine a forbidden lighthouse -q low --retry-refused")
    assert "refused at the input stage" in told.stderr and _posts(wire) == sent + 1


def test_the_studio_explains_a_refusal_and_does_not_resend_it():
    from imagewidgets.session.session import Session
    from imagewidgets.widgets import ImageStudio

    transport = Recording()
    session = Session("refusals-studio", model="gpt-image-2", client=Client(transport=transport))
    studio = ImageStudio(session)
    studio.live.tick_s = None
    studio.quality.value = "low"
    studio.prompt.value = "a forbidden lighthouse"
    studio.generate_button.click()
    studio.wait(60)
    assert studio.error.value.startswith("ModerationError") and "refused at the input stage" in studio.error.value
    assert "categories: offline-test-word" in studio.error.value
    sent = _posts(transport)
    studio.generate_button.click()
    studio.wait(60)
    assert studio.error.value.startswith("RepeatedRefusalError") and "nothing was sent" in studio.error.value
    assert _posts(transport) == sent
