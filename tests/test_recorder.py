"""The recorder is a collaborator with a public ``begin`` / ``finish`` / ``fail``: any runner (the
session's verbs, the sweep, a batch runner) records its requests as turns through it."""

from __future__ import annotations

import pytest

from imagewidgets import Client, Session
from imagewidgets.api.errors import BudgetExceededError, ServerError
from imagewidgets.api.requests import GenerateRequest


@pytest.fixture
def s(wire, tmp_path):
    session = Session("rec", folder=tmp_path / "store", client=Client(transport=wire), budget_usd=1.0)
    yield session
    session.client.close()


def test_begin_holds_the_estimate_and_finish_stores_the_images_and_releases_it(s, wire):
    heard = []
    s.on_turn(heard.append)
    req = GenerateRequest("a paper boat", quality="low", size="1024x1024")
    turn = s.recorder.begin(req)
    assert turn.status == "running" and s.turns == [turn] and wire.calls == []
    assert s.remaining_usd < 1.0  # the estimate is held while the request is in flight
    turn = s.recorder.finish(turn, s.client.run(req))
    assert turn.status == "completed" and turn.image.path.exists() and turn.cost > 0
    assert s.current is turn and heard == [turn] and len(wire.calls) == 1
    assert s.remaining_usd == pytest.approx(1.0 - turn.cost)
    again = s.recorder.begin(req)  # the same request again: answered from the store, nothing sent
    assert again.status == "replayed" and again.image.data == turn.image.data and len(wire.calls) == 1


def test_fail_records_the_error_and_releases_the_hold(s):
    turn = s.recorder.begin(GenerateRequest("a kite", quality="low"), make_current=False)
    s.recorder.fail(turn, ServerError("the server fell over", status=500))
    assert turn.status == "failed" and "fell over" in turn.error
    assert s.remaining_usd == pytest.approx(1.0) and s.current is None
    assert s.store.turns("rec")[0].status == "failed"


def test_begin_refuses_what_the_budget_cannot_pay_before_storing_anything(s, wire):
    s.budget_usd = 0.000001
    with pytest.raises(BudgetExceededError):
        s.recorder.begin(GenerateRequest("an expensive poster", quality="high"))
    assert s.turns == [] and wire.calls == []
