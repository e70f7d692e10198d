"""The class gateway between participants and a real upstream (``imagewidgets serve --require-api-key``
on loopback): charging from usage, isolation, revocation, budget atomicity, refusals, upstream faults."""

from __future__ import annotations

import asyncio
import time

import httpx2
import openai
import pytest

from imagewidgets import Client
from imagewidgets.api.errors import AuthenticationError, NotFoundError, RateLimitError, ServerError, StreamError
from imagewidgets.gateway.pricing import quote
from tests.gateway_fixtures import UPSTREAM_KEY, gateway, upstreams  # noqa: F401

# retired models (dall-e-2/3, gpt-image-1, gpt-image-1.5...) serve here as fixtures of features they
# had; the twin's calendar is tested in test_calendar.py and test_lifecycle.py; the upstreams draw
# real-size pictures (a 1024x1024 PNG ~2.2 MB): the relay carries what the API sends
pytestmark = [pytest.mark.timeout(120), pytest.mark.calendar_off, pytest.mark.pictures("realistic")]

SMALL = {"model": "dall-e-2", "size": "256x256", "quality": "standard", "response_format": "b64_json"}


def participant(gw, budget: float = 1.0):
    [(who, token)] = gw.store.add_participants(1, budget_usd=budget)
    return who, token


def client(gw, token: str) -> Client:
    return Client(base_url=gw.base_url, api_key=token, save_dir=None, max_retries=0)


def post(gw, token: str | None, path: str, body: dict) -> httpx2.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx2.post(gw.base_url + path, json=body, headers=headers, timeout=60)


def test_a_participant_generates_through_the_gateway_and_is_charged_what_usage_says(gateway):
    gw = gateway()
    who, token = participant(gw)
    img = client(gw, token).generate("a red kite", model="gpt-image-1", quality="low", size="1024x1024")
    assert img.size == "1024x1024" and img.data[:8] == b"\x89PNG\r\n\x1a\n"
    [row] = gw.store.ledger(who.id)
    assert row["state"] == "settled" and row["status"] == 200
    assert row["charged_usd"] == pytest.approx(img.cost)            # the cost from the answer's usage
    assert row["charged_usd"] <= row["reserved_usd"]                # the reservation was an upper bound
    assert gw.store.spent(who.id) == pytest.approx(img.cost)


def test_the_official_sdk_streams_through_the_gateway_frame_by_frame(offline_server, tmp_path):
    """Each partial image reaches the participant before the upstream has even produced the next one."""
    from imagewidgets.gateway import ClassRules, GatewayServer

    upstream = offline_server(require_api_key=UPSTREAM_KEY, partial_interval_s=0.4)
    with GatewayServer(upstream.base_url, api_key=UPSTREAM_KEY, db=tmp_path / "g.sqlite3",
                       rules=ClassRules(requests_per_minute=None)) as gw:
        who, token = participant(gw)
        sdk = openai.OpenAI(base_url=gw.base_url, api_key=token, max_retries=0)
        arrived = []
        stream = sdk.images.generate(model="gpt-image-1", prompt="an owl", quality="low", size="1024x1024",
                                     stream=True, partial_images=3)
        for event in stream:
            arrived.append((event.type, time.time()))
        assert gw.store.ledger(who.id)[0]["state"] == "settled"
    log = [e for e in upstream.app.state.backend.stream_log]
    sent = [e["sent_at"] for e in log]
    assert [t for t, _ in arrived] == ["image_generation.partial_image"] * 3 + ["image_generation.completed"]
    for k in range(3):
        assert arrived[k][1] < sent[k + 1], f"frame {k} was held back until frame {k + 1} existed"


def test_participants_see_only_their_own_responses_files_and_images(gateway):
    gw = gateway()
    _, alice = participant(gw)
    _, bob = participant(gw)
    a = client(gw, alice)
    turn = a.respond("a fox in the snow", model="gpt-image-1", quality="low", size="1024x1024")
    upload = a.upload(turn.data)
    # alice's own ids work: a chain continues, retrieval answers
    night = a.respond("now at night", model="gpt-image-1", quality="low", size="1024x1024",
                      previous_response_id=turn.response_id)
    assert night.response_id != turn.response_id
    assert a.retrieve_response(turn.response_id)["id"] == turn.response_id
    # bob meets alice's ids as if they did not exist
    b = client(gw, bob)
    with pytest.raises(NotFoundError, match="not found"):
        b.retrieve_response(turn.response_id)
    for path in (f"/files/{upload.id}", f"/files/{upload.id}/content"):
        r = httpx2.get(gw.base_url + path, headers={"Authorization": f"Bearer {bob}"})
        assert r.status_code == 404 and r.json()["error"]["message"] == f"No such File object: {upload.id}"
    r = post(gw, bob, "/responses", {"model": "gpt-5.5", "input": "and a moon",
                                     "tools": [{"type": "image_generation", "model": "gpt-image-1"}],
                                     "previous_response_id": turn.response_id})
    assert r.status_code == 404 and r.json()["error"]["code"] == "previous_response_not_found"
    r2 = post(gw, bob, "/responses", {"model": "gpt-5.5", "input": "and a moon",
                                      "tools": [{"type": "image_generation", "model": "gpt-image-1"}],
                                      "previous_response_id": "resp_doesnotexist"})
    assert r2.json()["error"]["message"].replace("resp_doesnotexist", turn.response_id) == r.json()["error"]["message"]
    with pytest.raises(NotFoundError):
        b.edit("paint it blue", image=upload.id, model="gpt-image-1", quality="low")
    with pytest.raises(NotFoundError):
        b.respond("again", images=[upload.id], model="gpt-image-1", quality="low")
    r = post(gw, bob, "/responses", {"model": "gpt-5.5", "tools": [{"type": "image_generation"}],
                                     "input": [{"type": "image_generation_call", "id": night.call_id}]})
    assert r.status_code == 404
    sdk_a = openai.OpenAI(base_url=gw.base_url, api_key=alice, max_retries=0)
    sdk_b = openai.OpenAI(base_url=gw.base_url, api_key=bob, max_retries=0)
    assert [f.id for f in sdk_a.files.list()] == [upload.id]              # one's own files only
    assert [f.id for f in sdk_b.files.list()] == []
    assert gw.store.ledger(gw.store.participant_for_token(bob).id) == []       # nothing forwarded for bob


def test_files_list_fetches_each_owned_file_by_its_declared_path_and_skips_an_id_no_path_may_hold(gateway):
    """The gateway lists a participant's files by retrieving each from the upstream through the
    endpoint table (``retrieve_file``, the id checked): an id an upstream once answered that would
    walk to another endpoint (``../batches``) is never sent, and the list holds only real files."""
    import io

    from PIL import Image

    gw = gateway()
    who, token = participant(gw)
    png = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(png, "PNG")
    upload = client(gw, token).upload(png.getvalue())
    gw.store.own(who.id, "file", "../batches")
    sdk = openai.OpenAI(base_url=gw.base_url, api_key=token, max_retries=0)
    assert [f.id for f in sdk.files.list()] == [upload.id]


def test_a_revoked_token_is_refused_at_once_and_forwards_nothing(gateway):
    gw = gateway()
    who, token = participant(gw)
    c = client(gw, token)
    c.generate("one", **SMALL)
    gw.store.revoke(who.id)
    with pytest.raises(AuthenticationError, match="switched off") as err:
        c.generate("two", **SMALL)
    assert err.value.status == 401 and err.value.code == "token_revoked"
    assert len(gw.store.ledger(who.id)) == 1
    with pytest.raises(AuthenticationError, match="not one of this class"):
        client(gw, "iwp_madeup").generate("three", **SMALL)
    admin = gw.store.new_admin_token()
    with pytest.raises(AuthenticationError):  # the teacher's token is not a participant's
        client(gw, admin).generate("four", **SMALL)


def test_forty_concurrent_requests_against_a_budget_for_ten_let_exactly_ten_through(gateway):
    gw = gateway()
    body = {"prompt": "a small kite", **SMALL}
    each = quote("generations", body).usd
    who, token = participant(gw, budget=each * 10.5)

    async def burst() -> list[httpx2.Response]:
        async with httpx2.AsyncClient(base_url=gw.base_url, timeout=120,
                                      limits=httpx2.Limits(max_connections=40)) as http:
            return await asyncio.gather(*(http.post("/images/generations", json=body,
                                                    headers={"Authorization": f"Bearer {token}"})
                                          for _ in range(40)))

    answers = asyncio.run(burst())
    statuses = sorted(r.status_code for r in answers)
    assert statuses == [200] * 10 + [429] * 30
    refused = [r for r in answers if r.status_code == 429]
    assert {r.json()["error"]["code"] for r in refused} == {"insufficient_quota"}
    assert all(r.headers["x-should-retry"] == "false" for r in refused)
    assert "budget is used up" in refused[0].json()["error"]["message"]
    ledger = gw.store.ledger(who.id)
    assert [row["state"] for row in ledger] == ["settled"] * 10      # only ten reached the upstream
    assert gw.store.spent(who.id) <= who.budget_usd


def test_the_class_cap_and_the_allow_list_refuse_before_anything_is_forwarded(gateway):
    gw = gateway(models=("dall-e-2", "gpt-image-1"), qualities=("low", "standard"), total_cap_usd=0.02)
    _, alice = participant(gw)
    who_b, bob = participant(gw)
    r = post(gw, alice, "/images/generations", {"prompt": "x", "model": "gpt-image-1", "quality": "high"})
    assert r.status_code == 400
    assert r.json()["error"] == {"message": "This class may use quality 'low' or 'standard'; your request asked "
                                 "for 'high'. Change quality and run it again.", "type": "invalid_request_error",
                                 "param": "quality", "code": "quality_not_allowed"}
    r = post(gw, alice, "/responses", {"model": "gpt-5.5", "input": "x",
                                       "tools": [{"type": "image_generation", "model": "gpt-image-2"}]})
    assert r.status_code == 400 and r.json()["error"]["param"] == "tools[0].model"
    assert post(gw, alice, "/images/generations", {"prompt": "x", **SMALL}).status_code == 200
    r = post(gw, bob, "/images/generations", {"prompt": "x", **SMALL})
    assert r.status_code == 429 and "class has used its whole budget" in r.json()["error"]["message"]
    assert gw.store.ledger(who_b.id) == []


def test_rate_and_concurrency_limits_answer_429_with_retry_after(gateway):
    gw = gateway(requests_per_minute=2)
    who, token = participant(gw)
    for _ in range(2):
        assert post(gw, token, "/images/generations", {"prompt": "x", **SMALL}).status_code == 200
    r = post(gw, token, "/images/generations", {"prompt": "x", **SMALL})
    assert r.status_code == 429 and r.json()["error"]["code"] == "rate_limit_exceeded"
    assert 1 <= int(r.headers["retry-after"]) <= 60
    assert len(gw.store.ledger(who.id)) == 2


def test_pausing_the_class_refuses_everyone_until_resumed(gateway):
    gw = gateway()
    _, token = participant(gw)
    gw.store.set_setting("paused", True)
    with pytest.raises(ServerError, match="paused the class"):
        client(gw, token).generate("x", **SMALL)
    gw.store.set_setting("paused", False)
    client(gw, token).generate("x", **SMALL)


def test_an_upstream_429_beyond_the_longest_wait_is_the_gateways_429_naming_the_wait_and_costs_nothing(gateway):
    """Issue 29: an upstream 429 goes back in line; when the wait it asks (here ~60 s) is beyond the
    teacher's --max-wait, the participant gets the gateway's 429 naming it, never the upstream's."""
    from imagewidgets.gateway.queue import KeyLimits

    gw = gateway("limited")
    gw.store.set_setting("key_limits", KeyLimits(max_wait_s=5).to_json())
    who, token = participant(gw)
    assert post(gw, token, "/images/generations", {"prompt": "x", **SMALL}).status_code == 200
    r = post(gw, token, "/images/generations", {"prompt": "x", **SMALL})
    assert r.status_code == 429 and int(r.headers["retry-after"]) >= 30
    assert r.json()["error"]["code"] == "queue_wait_too_long" and "at most 5 s" in r.json()["error"]["message"]
    states = [row["state"] for row in gw.store.ledger(who.id)]
    assert states == ["released", "settled"]
    assert gw.store.spent(who.id) == pytest.approx(0.016)


def test_an_upstream_500_is_an_api_error_and_costs_nothing(gateway):
    gw = gateway("failing")
    who, token = participant(gw)
    with pytest.raises(ServerError) as err:
        client(gw, token).generate("x", **SMALL)
    assert err.value.status == 500 and err.value.type == "server_error"
    assert gw.store.spent(who.id) == 0 and gw.store.ledger(who.id)[0]["state"] == "released"


def test_a_stream_cut_upstream_ends_in_an_api_error_and_costs_nothing(gateway):
    gw = gateway("cutting")
    who, token = participant(gw)
    with pytest.raises(StreamError, match="broke off") as err:
        with client(gw, token).generate("x", model="gpt-image-1", quality="low", stream=True,
                                        partial_images=3) as stream:
            list(stream)
    assert err.value.code == "stream_interrupted"
    sdk = openai.OpenAI(base_url=gw.base_url, api_key=token, max_retries=0)
    events = list(sdk.responses.create(model="gpt-5.5", input="a fox", stream=True,
                                       tools=[{"type": "image_generation", "model": "gpt-image-1",
                                               "quality": "low", "partial_images": 2}]))
    assert events[-1].type == "error" and events[-1].code == "stream_interrupted"   # the SDK's typed error event
    assert "not charged" in events[-1].message
    assert gw.store.spent(who.id) == 0
    assert [row["state"] for row in gw.store.ledger(who.id)] == ["released", "released"]


def test_a_refused_upstream_key_tells_the_participant_to_ask_the_teacher(upstreams, tmp_path):
    from imagewidgets.gateway import GatewayServer

    with GatewayServer(upstreams["plain"], api_key="sk-wrong-key-XYZ", db=tmp_path / "g.sqlite3") as gw:
        who, token = participant(gw)
        r = post(gw, token, "/images/generations", {"prompt": "x", **SMALL})
    assert r.status_code == 502 and r.json()["error"]["code"] == "upstream_key_refused"
    assert "sk-wrong" not in r.text and "XYZ" not in r.text


def test_the_ledger_and_tokens_survive_a_restart(gateway, tmp_path):
    db = tmp_path / "class.sqlite3"
    gw = gateway(db=db)
    who, token = participant(gw)
    client(gw, token).generate("x", **SMALL)
    open_row = gw.store.reserve(who.id, 0.5, endpoint="generations", model="dall-e-2", stream=False)
    gw.stop()
    raw = db.read_bytes()
    assert token.encode() not in raw and token[4:].encode() not in raw     # only the hash is stored
    again = gateway(db=db)
    assert again.store.spent(who.id) == pytest.approx(0.016 + 0.5)       # the open reservation is charged
    assert [r["state"] for r in again.store.ledger(who.id)] == ["settled", "settled"]
    assert open_row.id is not None
    client(again, token).generate("y", **SMALL)
    assert len(again.store.ledger(who.id)) == 3


def test_models_are_listed_as_the_class_allows(gateway):
    gw = gateway(models=("gpt-image-1",))
    _, token = participant(gw)
    sdk = openai.OpenAI(base_url=gw.base_url, api_key=token, max_retries=0)
    assert [m.id for m in sdk.models.list()] == ["gpt-image-1", "gpt-5.5"]   # the image model, the mainline one


def test_magics_work_through_the_gateway(gateway, tmp_path):
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.utils.capture import capture_output
    from traitlets.config import Config

    gw = gateway()
    who, token = participant(gw)
    shell = InteractiveShell.instance(config=Config())
    try:
        shell.run_line_magic("load_ext", "imagewidgets")
        with capture_output() as shown:
            shell.run_line_magic("imagine_config", f"--base-url {gw.base_url} --api-key {token}")
        assert gw.base_url in shown.stdout and token not in shown.stdout
        img = shell.run_line_magic("imagine", "a paper boat --model gpt-image-1 --quality low --size 1024x1024")
        assert img.size == "1024x1024"
    finally:
        shell.run_line_magic("unload_ext", "imagewidgets")
        InteractiveShell.clear_instance()
    assert gw.store.ledger(who.id)[0]["state"] == "settled"


def test_a_used_up_budget_is_one_clear_error_and_no_retry(gateway):
    gw = gateway()
    who, token = participant(gw, budget=0.001)
    retrying = Client(base_url=gw.base_url, api_key=token, save_dir=None, max_retries=3)
    with pytest.raises(RateLimitError) as err:
        retrying.generate("x", **SMALL)
    assert str(err.value).startswith("429 Your workshop budget is used up: this request could cost up to $0.0160")
    assert "retry" not in str(err.value)
    assert gw.store.summary()[0]["refused"] == 1 and gw.store.ledger(who.id) == []


def test_a_session_chains_its_edits_through_the_gateway(gateway, tmp_path):
    from imagewidgets import Session

    gw = gateway()
    who, token = participant(gw)
    s = Session("class", folder=tmp_path / "store", client=client(gw, token), model="gpt-image-1",
                size="1024x1024", quality="low")
    first = s.imagine("a lighthouse at dusk")
    second = s.edit("add a red sailing boat")
    assert second.data != first.data and [t.prompt for t in s.turns] == ["a lighthouse at dusk",
                                                                        "add a red sailing boat"]
    ledger = gw.store.ledger(who.id)
    assert [r["state"] for r in ledger] == ["settled", "settled"]
    assert gw.store.spent(who.id) == pytest.approx(sum(r["charged_usd"] for r in ledger))


def test_a_participant_may_run_only_so_many_requests_at_once():
    from imagewidgets.gateway.rules import ClassRules, Limiter, Refusal

    limiter, rules = Limiter(), ClassRules(requests_per_minute=None, concurrent=1)
    limiter.acquire(1, rules)
    limiter.acquire(2, rules)                                   # another participant is not held up
    with pytest.raises(Refusal) as refused:
        limiter.acquire(1, rules)
    assert (refused.value.status, refused.value.code, refused.value.headers) == (
        429, "too_many_concurrent_requests", {"retry-after": "1"})
    assert "1 request(s) running" in refused.value.message
    limiter.release(1)
    limiter.acquire(1, rules)


def test_provenance_checks_stored_responses_and_background_turns_through_the_gateway(gateway):
    """Issue 30: a provenance check is forwarded (free); a participant deletes and lists the input of
    their own responses only; a background turn is refused before it is forwarded (it could not be
    priced when it answers)."""
    gw = gateway()
    who, alice = participant(gw)
    _, bob = participant(gw)
    a = client(gw, alice)
    turn = a.respond("a fox in the snow", model="gpt-image-2", quality="low", size="1024x1024")
    check = a.check_provenance(turn)
    assert check.c2pa == "detected" and check.validation_state == "valid"  # the upstream twin signs its images
    items = httpx2.get(f"{gw.base_url}/responses/{turn.response_id}/input_items",
                       headers={"Authorization": f"Bearer {alice}"})
    assert items.status_code == 200 and items.json()["data"][0]["content"][0]["text"] == "a fox in the snow"
    for method in ("GET", "DELETE"):
        r = httpx2.request(method, f"{gw.base_url}/responses/{turn.response_id}" + ("/input_items" if method == "GET" else ""),
                           headers={"Authorization": f"Bearer {bob}"})
        assert r.status_code == 404
    r = httpx2.delete(f"{gw.base_url}/responses/{turn.response_id}", headers={"Authorization": f"Bearer {alice}"})
    assert r.status_code == 200 and r.json()["deleted"] is True
    charged = len(gw.store.ledger(who.id))
    r = post(gw, alice, "/responses", {"model": "gpt-5.5", "input": "a kite", "background": True,
                                       "tools": [{"type": "image_generation", "model": "gpt-image-2"}]})
    assert r.status_code == 400 and r.json()["error"]["param"] == "background"
    assert len(gw.store.ledger(who.id)) == charged  # nothing forwarded, nothing reserved
