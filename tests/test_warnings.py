"""Warnings point at the user's line, however deep imagewidgets noticed (validation runs inside the
client, the session's recorder and the sweep)."""

from __future__ import annotations

import warnings

import pytest

from imagewidgets.api.requests import GenerateRequest
from imagewidgets.api.validation import UnknownModelWarning, validate

TRANSPARENT = dict(model="gpt-image-2", background="transparent", quality="low", size="1024x1024", api="images")


def test_validating_a_request_warns_at_the_callers_line():
    with pytest.warns(UnknownModelWarning) as caught:
        validate(GenerateRequest("a kite", model="my-own-model"))
    assert caught[0].filename == __file__


def test_a_session_call_warns_at_the_callers_line(session):
    with pytest.warns(UserWarning, match="in preview on gpt-image-2") as caught:
        session.imagine("a glass of water", **TRANSPARENT)
    # our warnings only: a socket another test left to the garbage collector may warn here too
    assert [w.filename for w in caught if not issubclass(w.category, ResourceWarning)] == [__file__]


def test_a_client_call_warns_at_the_callers_line(session):
    with pytest.warns(UserWarning, match="in preview") as caught:
        session.client.generate("a glass jug", **{k: v for k, v in TRANSPARENT.items() if k != "api"})
    assert caught[0].filename == __file__


def test_a_sweep_warns_at_the_callers_line(session):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        session.sweep(["a glass bowl"], progress=False, **TRANSPARENT)
    assert {w.filename for w in caught if "preview" in str(w.message)} == {__file__}
