"""Class money is safe (issue 28): every request priced at its worst, every id owned, every error path
settled at once. Against the offline backend (``imagewidgets serve``) where its behaviour matters, and
against a fake upstream reporting random honest usage (tests/gateway_fake_upstream.py) elsewhere."""

from __future__ import annotations

import asyncio
import json
import socket
import time

import httpx2
import openai
import pytest

from imagewidgets.gateway import ClassRules, GatewayServer
from imagewidgets.gateway.pricing import quote
from tests.gateway_fake_upstream import FakeUpstream
from tests.gateway_fixtures import UPSTREAM_KEY, gateway, upstreams  # noqa: F401

pytestmark = pytest.mark.timeout(180)

#: the lowest input text price in the table ($ per million tokens): a token of text costs at least this
TEXT_PER_M = 5.0
TOOL = {"type": "image_generation", "model": "gpt-image-2", "quality": "low", "size": "1024x1024"}


@pytest.fixture(scope="module")
def fake():
    up = FakeUpstream(UPSTREAM_KEY, seed=28).start()
    yield up
    up.stop()


@pytest.fixture
def fake_gateway(fake, tmp_path):
    """``fake_gateway(**rules)`` -> a started GatewayServer in front of the fake upstream."""
    started = []

    def start(upstream_url: str | None = None, **rules) -> GatewayServer:
        rules = {"requests_per_minute": None, "concurrent": None, **rules}
        gw = GatewayServer(upstream_url or fake.base_url, api_key=UPSTREAM_KEY, rules=ClassRules(**rules),
                           db=tmp_path / f"g{len(started)}.sqlite3").start()
        started.append(gw)
        return gw

    yield start
    for gw in started:
        gw.stop()


def participant(gw, budget: float = 1.0):
    [(who, token)] = gw.store.add_participants(1, budget_usd=budget)
    return who, token


def auth(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def open_rows(gw) -> list[dict]:
    return [r for r in gw.store.ledger() if r["state"] == "reserved"]


def settled_soon(gw, who_id: int | None = None, wait_s: float = 3.0) -> list[dict]:
    """The ledger once no row is open (a stream's row closes as its connection does); fails if one stays."""
    deadline = time.monotonic() + wait_s
    while open_rows(gw) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert open_rows(gw) == [], "a reservation outlived its request"
    return gw.store.ledger(who_id)


def cut_after(gw, token: str, path: str, body: dict, events: int) -> int:
    """Open a stream, read ``events`` events, close the connection. Returns how many were read."""
    seen = 0
    with httpx2.Client(base_url=gw.base_url, timeout=60) as http:
        with http.stream("POST", path, json=body, headers=auth(token)) as r:
            assert r.status_code == 200, r.read()
            for line in r.iter_lines():
                if line.startswith("data:"):
                    seen += 1
                    if seen >= events:
                        break
    return seen


# -- High 1: a stream the participant cuts is charged ------------------------------------------------------


def test_a_stream_the_participant_cuts_after_the_third_partial_is_charged_not_released(offline_server, tmp_path):
    """The upstream goes on after the participant left, and bills: the gateway reads it to its end and
    charges the usage it reports."""
    upstream = offline_server(require_api_key=UPSTREAM_KEY, partial_interval_s=0.3)
    with GatewayServer(upstream.base_url, api_key=UPSTREAM_KEY, db=tmp_path / "g.sqlite3",
                       rules=ClassRules(requests_per_minute=None, concurrent=None)) as gw:
        who, token = participant(gw, budget=5.0)
        body = {"model": "gpt-image-2", "prompt": "an owl", "quality": "low", "size": "1024x1024", "stream": True,
                "partial_images": 3}
        for _ in range(4):
            assert cut_after(gw, token, "/images/generations", body, 3) == 3
        sdk = openai.OpenAI(base_url=gw.base_url, api_key=token, max_retries=0)
        with sdk.responses.create(model="gpt-5.5", input="a fox", stream=True,
                                  tools=[{**TOOL, "partial_images": 3}]) as stream:
            for event in stream:
                if event.type == "response.image_generation_call.partial_image":
                    break                                        # the participant leaves mid-image
        rows = settled_soon(gw, who.id, wait_s=20)
        assert len(rows) == 5
        assert [r["state"] for r in rows] == ["settled"] * 5     # none released: the upstream was paid
        for r in rows:
            assert 0 < r["charged_usd"] <= r["reserved_usd"]      # what the usage said, when it came
            assert "stream cut" not in (r["note"] or "") and r["status"] == 200
        assert len(upstream.app.state.backend.stream_log) > 0
        assert gw.store.spent(who.id) == pytest.approx(sum(r["charged_usd"] for r in rows))


def test_a_cut_stream_whose_end_never_comes_is_charged_its_reservation(fake_gateway, fake):
    gw = fake_gateway()
    who, token = participant(gw)
    body = {"model": "gpt-image-2", "prompt": "[upcut] a kite", "quality": "low", "size": "1024x1024",
            "stream": True, "partial_images": 3}
    cut_after(gw, token, "/images/generations", body, 1)         # the participant leaves; the upstream then breaks
    [row] = settled_soon(gw, who.id)
    assert row["state"] == "settled" and row["charged_usd"] == pytest.approx(row["reserved_usd"])
    assert "stream cut before its end" in row["note"]


def test_a_stream_cut_after_its_usage_arrived_is_charged_that_usage(fake_gateway, fake):
    gw = fake_gateway()
    who, token = participant(gw)
    body = {"model": "gpt-image-2", "prompt": "a kite", "quality": "low", "size": "1024x1024", "stream": True,
            "partial_images": 2}
    cut_after(gw, token, "/images/generations", body, 3)         # 2 partials + the completed event (with usage)
    [row] = settled_soon(gw, who.id)
    assert row["state"] == "settled" and row["charged_usd"] <= row["reserved_usd"]
    assert "stream cut" not in (row["note"] or "")               # charged from its usage, not the reservation


# -- High 2 + Medium 4: every byte of text is priced ---------------------------------------------------------


def test_text_that_starts_with_data_is_priced_and_ten_concurrent_turns_stay_in_budget(fake_gateway, fake):
    body = {"model": "gpt-5.5", "tools": [TOOL], "input": "data:" + "x" * 30_000}
    assert quote("responses", body).usd >= 30_000 * TEXT_PER_M / 1e6    # ~$0.15, not $0.0016
    fake.always_max = True
    try:
        gw = fake_gateway()
        who, token = participant(gw, budget=0.50)                # each turn may cost ~$0.37: room for one

        async def burst():
            async with httpx2.AsyncClient(base_url=gw.base_url, timeout=60) as http:
                return await asyncio.gather(*(http.post("/responses", headers=auth(token), json={
                    **body, "input": [{"role": "user", "content": [{"type": "input_text",
                                                                    "text": f"data:{i}" + "y" * 30_000}]}]})
                    for i in range(10)))

        answers = asyncio.run(burst())
    finally:
        fake.always_max = False
    assert sorted(r.status_code for r in answers) == [200] + [429] * 9
    rows = settled_soon(gw, who.id)
    assert gw.store.spent(who.id) <= 0.50 + 1e-9
    assert all(r["charged_usd"] <= r["reserved_usd"] + 1e-12 for r in rows)


def test_a_400k_function_description_or_json_schema_is_priced_as_400k_tokens():
    small = {"model": "gpt-5.5", "input": "hi", "tools": [TOOL], "max_output_tokens": 100}
    base = quote("responses", small).usd
    fn = {**small, "tools": [TOOL, {"type": "function", "name": "f", "description": "d" * 400_000,
                                    "parameters": {"type": "object"}}]}
    schema = {**small, "text": {"format": {"type": "json_schema", "name": "s",
                                           "schema": {"type": "object", "description": "e" * 400_000}}}}
    unicode = {**small, "instructions": "é" * 100_000}                  # 2 bytes each: 200k bytes
    by_url = {**small, "input": [{"role": "user", "content": [
        {"type": "input_image", "image_url": "https://example.org/a.png"}]}]}
    assert quote("responses", by_url).usd > base                          # an image by URL is priced too
    for body, tokens in ((fn, 400_000), (schema, 400_000), (unicode, 200_000)):
        assert quote("responses", body).usd - base >= tokens * TEXT_PER_M / 1e6 * 0.999


def test_a_long_function_description_through_the_gateway_is_refused_for_the_budget(fake_gateway, fake):
    gw = fake_gateway(tools=("image_generation", "function"))
    who, token = participant(gw, budget=0.10)
    sent = len(fake.log)
    r = httpx2.post(gw.base_url + "/responses", headers=auth(token), timeout=60, json={
        "model": "gpt-5.5", "input": "draw", "tools": [TOOL, {"type": "function", "name": "f",
                                                              "description": "d" * 400_000}]})
    assert r.status_code == 429 and r.json()["error"]["code"] == "insufficient_quota"
    assert len(fake.log) == sent and gw.store.ledger(who.id) == []


def test_every_model_quality_and_size_left_open_is_priced_at_least_at_what_the_table_says_it_may_draw():
    """For each image model of the price table, each quality and size a request may leave open: the
    quote holds the output tokens of every choice the server could make (``api.cost``'s own figure)."""
    from imagewidgets.api.cost import PRICES, output_tokens_for, prices_for
    from imagewidgets.api.models import get_model

    for model in PRICES:
        spec = get_model(model)
        if spec is None or prices_for(model).per_image:
            continue
        qualities = [q for q in spec.qualities if q != "auto"]
        for quality in [*qualities, "auto", None]:
            for size in [*spec.sizes, "auto", None]:
                body = {"model": model, "prompt": "x", **({"quality": quality} if quality else {}),
                        **({"size": size} if size else {})}
                worst = max(output_tokens_for(model, q, s)[0]
                            for q in ([quality] if quality in qualities else qualities)
                            for s in ([size] if size in spec.sizes else spec.sizes))
                assert quote("generations", body).usd >= worst * prices_for(model).image_output / 1e6, body


# -- Medium 3: allow-lists for the mainline model and tools; output capped ---------------------------------


def test_the_mainline_model_and_tools_are_allow_listed_and_output_is_capped(fake_gateway, fake):
    gw = fake_gateway(models=("gpt-image-2",))
    who, token = participant(gw, budget=0.10)
    sent = len(fake.log)
    for body, param, code in (
            ({"model": "gpt-5.5-pro", "input": "x", "tools": [TOOL]}, "model", "model_not_allowed"),
            ({"model": "gpt-5.5", "input": "x", "tools": [TOOL, {"type": "web_search"}]}, "tools[1].type",
             "tool_not_allowed"),
            ({"model": "gpt-5.5", "input": "x", "tools": [{"type": "code_interpreter", "container": {"type": "auto"}},
                                                          TOOL]}, "tools[0].type", "tool_not_allowed")):
        r = httpx2.post(gw.base_url + "/responses", headers=auth(token), json=body, timeout=60)
        assert r.status_code == 400 and (r.json()["error"]["param"], r.json()["error"]["code"]) == (param, code)
    assert len(fake.log) == sent                                    # nothing went upstream
    fake.always_max = True                                          # the upstream uses every token it may
    try:
        r = httpx2.post(gw.base_url + "/responses", headers=auth(token), timeout=60,
                        json={"model": "gpt-5.5", "input": "a kite", "tools": [TOOL], "max_output_tokens": 200_000})
    finally:
        fake.always_max = False
    assert r.status_code == 200
    forwarded = fake.log[-1]["body"]
    assert forwarded["max_output_tokens"] == ClassRules().max_output_tokens and forwarded["max_tool_calls"] == 1
    [row] = settled_soon(gw, who.id)
    assert row["charged_usd"] <= row["reserved_usd"] <= 0.10        # the worst case fit the reservation
    assert gw.store.spent(who.id) <= 0.10


def test_the_teacher_widens_the_lists_with_flags():
    from imagewidgets.gateway.cli import _rules, _serve_parser

    rules = _rules(_serve_parser().parse_args(["--mainline-models", "gpt-5.5,gpt-5.4", "--tools",
                                                "image_generation,web_search", "--max-output-tokens", "1000"]))
    assert (rules.mainline_models, rules.tools, rules.max_output_tokens) == (
        ("gpt-5.5", "gpt-5.4"), ("image_generation", "web_search"), 1000)
    default = _rules(_serve_parser().parse_args([]))
    assert (default.mainline_models, default.tools) == (("gpt-5.5",), ("image_generation",))
    assert _rules(_serve_parser().parse_args(["--mainline-models", "any"])).mainline_models == ()
    assert ClassRules.from_json({"models": ["gpt-image-2"]}).tools == ("image_generation",)  # an older rule set


# -- Medium 5: every error path releases or settles at once -----------------------------------------------


def test_every_error_path_releases_or_settles_at_once(fake_gateway, fake, monkeypatch):
    gw = fake_gateway()
    who, token = participant(gw, budget=5.0)
    gen = {"model": "gpt-image-2", "prompt": "x", "quality": "low", "size": "1024x1024"}
    steps = []

    def step(name: str, expect: int, *, path="/images/generations", body=None, headers=None, content=None):
        h = {**auth(token), **(headers or {})}
        with httpx2.Client(base_url=gw.base_url, timeout=60) as http:
            if content is not None:
                r = http.post(path, content=content, headers=h)
            else:
                r = http.post(path, json=body if body is not None else gen, headers=h)
        assert r.status_code == expect, (name, r.status_code, r.text)
        assert open_rows(gw) == [], f"{name}: a row stayed reserved"
        assert gw.app.state.gateway.limiter.active(who.id) == 0, f"{name}: a slot stayed taken"
        steps.append(name)
        return r

    for header in ("Accept", "OpenAI-Beta"):
        r = step(f"non-ASCII {header}", 400, headers={header: "ünïcode".encode()})
        assert r.json()["error"]["param"] == header.lower()
    step("non-ASCII Content-Type", 400, content=json.dumps(gen).encode(),
         headers={"Content-Type": "application/json; é".encode()})
    step("upstream 500", 500, body={**gen, "prompt": "[fail500]"})
    step("usage the gateway cannot read", 200, body={**gen, "prompt": "[garbage]"})
    step("no usage reported", 200, body={**gen, "prompt": "[nousage]"})
    step("upstream cuts the stream", 200, body={**gen, "prompt": "[upcut]", "stream": True, "partial_images": 3})
    cut_after(gw, token, "/images/generations", {**gen, "stream": True, "partial_images": 3}, 1)
    settled_soon(gw)
    steps.append("participant cuts the stream")

    from imagewidgets.api import _http

    real = _http.open_upstream

    async def crash(*args, **kw):  # a bug in the gateway while forwarding
        raise RuntimeError("boom")

    monkeypatch.setattr(_http, "open_upstream", crash)
    r = step("gateway crash while forwarding", 500)
    assert r.json()["error"]["code"] == "gateway_error"
    monkeypatch.setattr(_http, "open_upstream", real)
    ledger = {r["id"]: r for r in gw.store.ledger(who.id)}
    states = [r["state"] for r in sorted(ledger.values(), key=lambda r: r["id"])]
    # 500 released; garbage and no usage charged the reservation; upstream cut released; participant cut
    # charged; the crash released (it never reached the upstream)
    assert states == ["released", "settled", "settled", "released", "settled", "released"], states
    rows = sorted(ledger.values(), key=lambda r: r["id"])
    assert rows[1]["charged_usd"] == pytest.approx(rows[1]["reserved_usd"])
    assert rows[2]["charged_usd"] == pytest.approx(rows[2]["reserved_usd"])
    unreachable = fake_gateway(upstream_url="http://127.0.0.1:9/v1")
    other, tok2 = participant(unreachable)
    r = httpx2.post(unreachable.base_url + "/images/generations", json=gen, headers=auth(tok2), timeout=60)
    assert r.status_code == 502 and open_rows(unreachable) == []
    assert gw.store.close_interrupted() == 0                    # nothing left for a restart to charge
    assert len(steps) == 9


# -- Medium 6: ids default deny ------------------------------------------------------------------------------


def test_item_references_conversations_and_other_unknown_ids_are_404_and_never_forwarded(fake_gateway, fake):
    gw = fake_gateway()
    who, token = participant(gw)
    own = httpx2.post(gw.base_url + "/responses", headers=auth(token), timeout=60,
                      json={"model": "gpt-5.5", "input": "a kite", "tools": [TOOL]}).json()
    own_item = own["output"][0]["id"]
    sent = len(fake.log)
    base = {"model": "gpt-5.5", "tools": [TOOL]}
    for extra, param in (
            ({"input": [{"type": "item_reference", "id": "msg_someone_else"}]}, "input[0].id"),
            ({"input": [{"type": "message", "id": "msg_x", "role": "assistant",
                         "content": [{"type": "output_text", "text": "hi"}]}]}, "input[0].id"),
            ({"input": "hi", "conversation": "conv_teacher"}, "conversation"),
            ({"input": "hi", "conversation": {"id": "conv_teacher"}}, "conversation"),
            ({"input": "hi", "prompt": {"id": "pmpt_teacher"}}, "prompt.id"),
            ({"input": [{"type": "item_reference", "id": 12}]}, "input[0].id")):
        r = httpx2.post(gw.base_url + "/responses", headers=auth(token), json={**base, **extra}, timeout=60)
        assert r.status_code == 404 and r.json()["error"]["param"] == param, (extra, r.text)
    assert len(fake.log) == sent
    r = httpx2.post(gw.base_url + "/responses", headers=auth(token), timeout=60,
                    json={**base, "input": [{"type": "item_reference", "id": own_item}, {"role": "user",
                                                                                          "content": "again"}]})
    assert r.status_code == 200                                   # one's own item may be referenced
    _, other = participant(gw)
    r = httpx2.post(gw.base_url + "/responses", headers=auth(other), timeout=60,
                    json={**base, "input": [{"type": "item_reference", "id": own_item}]})
    assert r.status_code == 404


# -- Low: hostile bodies, body timeout, uploads, previous_response_id -------------------------------------------


def _hostile_bodies() -> list[tuple[str, dict]]:
    values = [None, True, False, -1, 0, 2**63, 1e308, "", "ü" * 3, "data:x", [], [1], {}, {"a": {"b": []}},
              [{"type": "image_generation"}], "\u0000"]
    gen = {"model": "gpt-image-2", "prompt": "x", "quality": "low", "size": "1024x1024"}
    resp = {"model": "gpt-5.5", "input": "x", "tools": [TOOL]}
    out = []
    for name in ("model", "prompt", "n", "size", "quality", "partial_images", "stream", "output_compression"):
        out += [("/images/generations", {**gen, name: v}) for v in values]
    for name in ("model", "input", "instructions", "tools", "tool_choice", "previous_response_id",
                 "max_output_tokens", "stream", "conversation"):
        out += [("/responses", {**resp, name: v}) for v in values]
    for name in ("model", "size", "quality", "partial_images"):
        out += [("/responses", {**resp, "tools": [{**TOOL, name: v}]}) for v in values]
    out += [("/responses", {**resp, "input": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["x"]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}),
            ("/responses", {**resp, "tools": [1, "x"]}), ("/responses", {**resp, "input": [{"id": None}]})]
    return out


def test_hostile_bodies_are_400_never_500_and_leave_no_reservation(fake_gateway):
    gw = fake_gateway()
    _, token = participant(gw, budget=1000.0)
    bodies = _hostile_bodies()
    assert len(bodies) >= 236
    fives = []
    with httpx2.Client(base_url=gw.base_url, timeout=60) as http:
        for path, body in bodies:
            r = http.post(path, json=body, headers=auth(token))
            if r.status_code >= 500:
                fives.append((path, json.dumps(body)[:200], r.status_code, r.text[:200]))
            elif r.status_code >= 400:
                assert r.json()["error"]["message"]
        deep = b'{"model": "gpt-5.5", "input": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
        assert http.post("/responses", content=deep, headers=auth(token)).status_code == 400
    assert fives == []
    assert open_rows(gw) == []


def test_a_body_that_never_finishes_is_cut_off(fake_gateway, monkeypatch):
    from imagewidgets.gateway import bodies

    monkeypatch.setattr(bodies, "BODY_TIMEOUT_S", 1.0)
    gw = fake_gateway()
    _, token = participant(gw)
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", gw.port), timeout=10) as sock:
        sock.sendall(f"POST /v1/images/generations HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n"
                     "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"prompt\": ".encode())
        answer = b""
        while chunk := sock.recv(65536):                        # the gateway closes the connection
            answer += chunk
        answer = answer.decode("latin-1")
    assert answer.startswith("HTTP/1.1 408") and "request_timeout" in answer
    assert time.monotonic() - started < 8
    assert open_rows(gw) == [] and gw.store.ledger() == []


def test_file_uploads_count_against_the_participants_rate_limit(fake_gateway, fake):
    gw = fake_gateway(requests_per_minute=3)
    _, token = participant(gw)
    codes = [httpx2.post(gw.base_url + "/files", headers=auth(token), timeout=60, data={"purpose": "vision"},
                         files={"file": ("a.png", b"\x89PNG", "image/png")}).status_code for _ in range(5)]
    assert codes[3:] == [429, 429]


def test_a_list_or_object_previous_response_id_is_400_and_keep_alive_survives(fake_gateway):
    gw = fake_gateway()
    _, token = participant(gw)
    with httpx2.Client(base_url=gw.base_url, timeout=60) as http:
        for bad in (["resp_1"], {"id": "resp_1"}, 7):
            r = http.post("/responses", headers=auth(token), json={"model": "gpt-5.5", "input": "x", "tools": [TOOL],
                                                                   "previous_response_id": bad})
            assert r.status_code == 400 and r.json()["error"]["param"] == "previous_response_id"
            ok = http.post("/responses", headers=auth(token), json={"model": "gpt-5.5", "input": "x",
                                                                    "tools": [TOOL]})
            assert ok.status_code == 200


# -- Also through the gateway: files.list, models.retrieve, batches ------------------------------------------


def test_files_list_models_retrieve_and_batches_through_the_official_sdk(gateway):
    gw = gateway(models=("gpt-image-2",))
    _, alice = participant(gw)
    _, bob = participant(gw)
    a = openai.OpenAI(base_url=gw.base_url, api_key=alice, max_retries=0)
    b = openai.OpenAI(base_url=gw.base_url, api_key=bob, max_retries=0)
    from PIL import Image
    import io

    png = io.BytesIO()
    Image.new("RGB", (16, 16)).save(png, format="PNG")
    mine = a.files.create(file=("a.png", png.getvalue(), "image/png"), purpose="vision")
    assert [f.id for f in a.files.list()] == [mine.id] and list(b.files.list()) == []
    assert [f.id for f in a.files.list(purpose="batch")] == []
    assert a.models.retrieve("gpt-image-2").id == "gpt-image-2"
    assert a.models.retrieve("gpt-5.5").id == "gpt-5.5"
    with pytest.raises(openai.NotFoundError) as err:
        a.models.retrieve("gpt-image-1")
    assert err.value.code == "model_not_found"
    with pytest.raises(openai.PermissionDeniedError) as err:
        a.batches.create(input_file_id=mine.id, endpoint="/v1/images/generations", completion_window="24h")
    assert err.value.code == "batches_not_served" and "cannot be held against your budget" in err.value.message
    with pytest.raises(openai.PermissionDeniedError):
        a.batches.list()


# -- Done means: the property ----------------------------------------------------------------------------------


def test_property_no_participant_spends_more_than_budget_plus_one_reservation(fake_gateway, fake):
    """Random request shapes and cuts against random honest usage: no participant ever spends more than its
    budget plus one request's reservation, no charge exceeds its reservation, a stream the upstream
    finished or the participant cut is never free, and no reservation outlives its request."""
    from hypothesis import HealthCheck, given, settings, strategies as st

    gw = fake_gateway(tools=("image_generation", "function"))
    stats = {"settled": 0, "cut": 0, "released": 0, "refused": 0}
    shapes = st.fixed_dictionaries({
        "endpoint": st.sampled_from(["images", "responses"]),
        "model": st.sampled_from(["gpt-image-2", "gpt-image-1", "gpt-image-2.5-sunburst", None]),
        "quality": st.sampled_from(["low", "medium", "high", "auto", None]),
        "size": st.sampled_from(["1024x1024", "1536x1024", "auto", None]),
        "n": st.integers(1, 3),
        "stream": st.booleans(),
        "partials": st.integers(0, 3),
        "text": st.text(min_size=0, max_size=300),
        "data_text": st.integers(0, 20_000),
        "function_description": st.integers(0, 5_000),
        "max_output_tokens": st.sampled_from([None, 50, 4000, 200_000]),
        "chain": st.booleans(),
        "cut_after": st.sampled_from([None, 1, 2, 3, 5]),
        "trouble": st.sampled_from(["", "", "", "[nousage]", "[fail500]", "[upcut]"]),
    })

    @settings(max_examples=25, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
    @given(budget=st.floats(0.01, 0.6), requests=st.lists(shapes, min_size=1, max_size=6))
    def run(budget: float, requests: list[dict]) -> None:
        who, token = participant(gw, budget=budget)
        chain: list[str] = []

        def body_of(s: dict) -> tuple[str, dict]:
            words = s["trouble"] + s["text"] + ("data:" + "z" * s["data_text"] if s["data_text"] else "")
            if s["endpoint"] == "images":
                body = {"prompt": words or "x", "n": s["n"]}
                for k in ("model", "quality", "size"):
                    if s[k] is not None:
                        body[k] = s[k]
                if s["stream"]:
                    body.update(stream=True, partial_images=s["partials"])
                return "/images/generations", body
            tool = {"type": "image_generation", **{k: s[k] for k in ("model", "quality", "size") if s[k]}}
            if s["stream"]:
                tool["partial_images"] = s["partials"]
            body = {"model": "gpt-5.5", "input": words or "x", "tools": [tool], "stream": s["stream"]}
            if s["function_description"]:
                body["tools"].append({"type": "function", "name": "f", "description": "d" * s["function_description"]})
            if s["max_output_tokens"]:
                body["max_output_tokens"] = s["max_output_tokens"]
            if s["chain"] and chain:
                body["previous_response_id"] = chain[-1]
            return "/responses", body

        async def one(http: httpx2.AsyncClient, s: dict) -> None:
            path, body = body_of(s)
            if not s["stream"]:
                r = await http.post(path, json=body, headers=auth(token))
                if r.status_code == 200 and path == "/responses":
                    chain.append(r.json()["id"])
                return
            seen = 0
            async with http.stream("POST", path, json=body, headers=auth(token)) as r:
                async for line in r.aiter_lines():
                    if line.startswith("data:"):
                        seen += 1
                        if '"response.completed"' in line:
                            chain.append(json.loads(line[5:])["response"]["id"])
                        if s["cut_after"] is not None and seen >= s["cut_after"]:
                            stats["cut"] += 1
                            break

        async def all_of() -> None:
            async with httpx2.AsyncClient(base_url=gw.base_url, timeout=60) as http:
                half = len(requests) // 2   # the first half one by one (chains), the rest at once
                for s in requests[:half]:
                    await one(http, s)
                await asyncio.gather(*(one(http, s) for s in requests[half:]))

        asyncio.run(all_of())
        rows = settled_soon(gw, who.id)
        spent = gw.store.spent(who.id)
        biggest = max((r["reserved_usd"] for r in rows), default=0.0)
        assert spent <= budget + biggest + 1e-9
        for r in rows:
            assert r["charged_usd"] <= r["reserved_usd"] + 1e-12, r
            if r["status"] == 200 and r["stream"]:
                assert r["state"] == "settled" or "broke off" in (r["note"] or ""), r
            stats[r["state"]] += 1
        stats["refused"] += len(requests) - len(rows)

    run()
    # the examples did reach every path: charged from usage, cut and charged, released, refused for the budget
    assert stats["settled"] >= 20 and stats["cut"] >= 3 and stats["released"] >= 2 and stats["refused"] >= 5, stats
