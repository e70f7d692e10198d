"""The offline app as an HTTP API: error bodies and statuses, the demo switches, state that
outlives the app, request ids, and the loopback server."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import time

import httpx2
import pytest

from imagewidgets.offline.config import OfflineConfig
from imagewidgets.offline.server import OfflineServer, embedded_base_url, embedded_server, stop_embedded

from .fixtures_offline import asgi_client, make_offline_app, mask_png, offline_server, png, sse_events  # noqa: F401

# retired models (dall-e-2/3, gpt-image-1, gpt-image-1.5...) serve here as fixtures of features they
# had; the twin's calendar is tested in test_calendar.py and test_lifecycle.py
pytestmark = [pytest.mark.anyio, pytest.mark.calendar_off]


@pytest.fixture
def anyio_backend():
    return "asyncio"


def _data_url(data: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(data).decode()


def _error(r: httpx2.Response) -> dict:
    body = r.json()
    assert set(body) == {"error"} and set(body["error"]) == {"message", "type", "param", "code"}
    return body["error"]


GEN = "/images/generations"
LOW = {"model": "gpt-image-1.5", "quality": "low"}

# (body, the param the 400 names): one per kind of rule the shared validation enforces
GENERATION_ERRORS = [
    ({"prompt": "x", "model": "dall-e-3", "n": 2}, "n"),
    ({"prompt": "x", "model": "gpt-image-1.5", "n": 11}, "n"),
    ({"prompt": "x", "model": "gpt-image-1.5", "size": "640x480"}, "size"),
    ({"prompt": "x", "model": "gpt-image-2", "size": "1000x1000"}, "size"),
    ({"prompt": "x", "model": "gpt-image-1.5", "quality": "hd"}, "quality"),
    ({"prompt": "x", "model": "gpt-image-1.5", "output_compression": 50}, "output_compression"),
    ({"prompt": "x", "model": "gpt-image-1.5", "output_format": "jpeg", "background": "transparent"}, "background"),
    ({"prompt": "x", "model": "gpt-image-1.5", "partial_images": 2}, "partial_images"),
    ({"prompt": "x", "model": "gpt-image-1.5", "stream": True, "partial_images": 4}, "partial_images"),
    ({"prompt": "x", "model": "gpt-image-1.5", "style": "vivid"}, "style"),
    ({"prompt": "x", "model": "gpt-image-1.5", "response_format": "url"}, "response_format"),
    ({"prompt": "x", "model": "dall-e-3", "stream": True}, "stream"),
    ({"prompt": "x", "model": "gpt-image-2", "frame_count": 4}, "frame_count"),
    ({"prompt": "x", "model": "gpt-image-2", "output_format": "svg", "n": 2}, "n"),
    ({"prompt": "x", "model": "dall-e-2", "output_format": "png"}, "output_format"),
    ({"model": "gpt-image-1.5"}, "prompt"),
    ({"prompt": "x" * 1001, "model": "dall-e-2"}, "prompt"),
    ({"prompt": "x", "model": "gpt-image-1.5", "colour": "red"}, "colour"),
]


@pytest.mark.parametrize("body,param", GENERATION_ERRORS, ids=[p for _, p in GENERATION_ERRORS])
async def test_generation_rule_broken_is_400_naming_the_param(body, param):
    async with asgi_client(make_offline_app()) as c:
        r = await c.post(GEN, json=body)
    assert r.status_code == 400
    err = _error(r)
    assert err["param"] == param and err["type"] == "invalid_request_error" and err["message"]
    assert r.headers["x-request-id"].startswith("req_")


EDIT_ERRORS = [
    ({"model": "gpt-image-2", "input_fidelity": "high"}, [png(64, 64)], None, "input_fidelity"),
    ({"model": "dall-e-2"}, [png(64, 64), png(64, 64)], None, "image"),
    ({"model": "dall-e-2"}, [png(64, 32)], None, "image"),
    ({"model": "gpt-image-1.5"}, [png(64, 64)], png(64, 64), "mask"),  # no alpha channel
    ({"model": "gpt-image-1.5"}, [png(64, 64)], mask_png(32, 32, (0, 0, 8, 8)), "mask"),  # wrong size
    ({"model": "dall-e-3"}, [png(64, 64)], None, "model"),
]


@pytest.mark.parametrize("fields,images,mask,param", EDIT_ERRORS, ids=[e[-1] + str(i) for i, e in enumerate(EDIT_ERRORS)])
async def test_edit_rule_broken_is_400_naming_the_param(fields, images, mask, param):
    files = [("image[]" if len(images) > 1 else "image", (f"{i}.png", data, "image/png")) for i, data in enumerate(images)]
    if mask is not None:
        files.append(("mask", ("mask.png", mask, "image/png")))
    async with asgi_client(make_offline_app()) as c:
        r = await c.post("/images/edits", data={"prompt": "p", **fields}, files=files)
    assert r.status_code == 400, r.text
    assert _error(r)["param"] == param


async def test_markup_on_a_model_without_markup_is_400():
    async with asgi_client(make_offline_app()) as c:
        r = await c.post("/images/edits", data={"prompt": "p", "model": "gpt-image-1.5"},
                         files=[("image", ("a.png", png(64, 64), "image/png")),
                                ("markup", ("m.png", png(64, 64, mode="RGBA"), "image/png"))])
    assert r.status_code == 400 and _error(r)["param"] == "markup"


async def test_variation_of_a_non_square_image_is_400():
    async with asgi_client(make_offline_app()) as c:
        r = await c.post("/images/variations", files={"image": ("a.png", png(64, 32), "image/png")})
    assert r.status_code == 400 and _error(r)["param"] == "image"


async def test_not_an_image_is_400_naming_the_part():
    async with asgi_client(make_offline_app()) as c:
        r = await c.post("/images/edits", data={"prompt": "p", "model": "gpt-image-1.5"},
                         files={"image": ("a.png", b"not an image at all", "image/png")})
    assert r.status_code == 400 and _error(r)["param"] == "image"


async def test_unknown_model_is_404_model_not_found():
    async with asgi_client(make_offline_app()) as c:
        r = await c.post(GEN, json={"prompt": "x", "model": "gpt-image-99"})
        r2 = await c.post("/responses", json={"model": "gpt-5", "input": "x",
                                              "tools": [{"type": "image_generation", "model": "nope"}]})
    assert r.status_code == 404 and _error(r)["code"] == "model_not_found" and _error(r)["param"] == "model"
    assert r2.status_code == 404 and _error(r2)["param"] == "tools[0].model"


async def test_unknown_model_warns_nothing_on_the_server(recwarn):
    async with asgi_client(make_offline_app()) as c:
        await c.post(GEN, json={"prompt": "x", "model": "gpt-image-99"})
    assert not [w for w in recwarn if "table" in str(w.message)]


async def test_responses_without_the_image_tool_is_400():
    async with asgi_client(make_offline_app()) as c:
        r = await c.post("/responses", json={"model": "gpt-5", "input": "hello"})
    assert r.status_code == 400 and _error(r)["param"] == "tools"


async def test_unknown_response_id_is_404():
    async with asgi_client(make_offline_app()) as c:
        r = await c.get("/responses/resp_doesnotexist")
    assert r.status_code == 404 and "resp_doesnotexist" in _error(r)["message"]


async def test_unknown_previous_response_id_is_400():
    async with asgi_client(make_offline_app()) as c:
        r = await c.post("/responses", json={"model": "gpt-5", "input": "x", "previous_response_id": "resp_nope",
                                             "tools": [{"type": "image_generation"}]})
    assert r.status_code == 400
    assert _error(r)["param"] == "previous_response_id" and _error(r)["code"] == "previous_response_not_found"


async def test_unknown_url_is_a_json_404_with_request_id():
    async with asgi_client(make_offline_app()) as c:
        r = await c.get("/no/such/thing")
    assert r.status_code == 404 and _error(r)["message"] and r.headers["x-request-id"]


async def test_every_answer_carries_a_request_id_and_the_backend_header():
    async with asgi_client(make_offline_app(rate_limit=100)) as c:
        answers = [await c.get("/models"), await c.post(GEN, json={"prompt": "a kite", **LOW}),
                   await c.post(GEN, json={"prompt": ""}), await c.get("/files/file-x"),
                   await c.get("http://offline.test/")]
    ids = [r.headers["x-request-id"] for r in answers]
    assert len(set(ids)) == len(ids) and all(i.startswith("req_") for i in ids)
    assert all(r.headers["x-imagewidgets-backend"] == "offline-renderer" for r in answers)


async def test_api_key_missing_or_wrong_is_401_and_the_right_key_passes():
    async with asgi_client(make_offline_app(require_api_key="sk-right-key-1234")) as c:
        missing = await c.get("/models")
        wrong = await c.get("/models", headers={"Authorization": "Bearer sk-wrong-key-9999"})
        right = await c.get("/models", headers={"Authorization": "Bearer sk-right-key-1234"})
    assert missing.status_code == 401 and "API key" in _error(missing)["message"]
    assert wrong.status_code == 401 and _error(wrong)["code"] == "invalid_api_key"
    assert "sk-wrong-key-9999" not in _error(wrong)["message"]  # the key is redacted
    assert right.status_code == 200 and missing.headers["x-request-id"]


async def test_rate_limit_answers_429_with_retry_after_and_ratelimit_headers():
    async with asgi_client(make_offline_app(rate_limit=2, rate_window_s=30)) as c:
        ok = [await c.get("/models") for _ in range(2)]
        limited = await c.get("/models")
    assert [r.status_code for r in ok] == [200, 200]
    assert ok[0].headers["x-ratelimit-limit-requests"] == "2"
    assert ok[1].headers["x-ratelimit-remaining-requests"] == "0"
    assert limited.status_code == 429 and _error(limited)["code"] == "rate_limit_exceeded"
    assert 1 <= int(limited.headers["retry-after"]) <= 30
    assert limited.headers["x-ratelimit-remaining-requests"] == "0"
    assert limited.headers["x-ratelimit-reset-requests"].endswith("s")


async def test_images_per_minute_counts_images_and_answers_429_like_the_api():
    """``images_per_minute`` counts ``n`` of each request (JSON or multipart) inside ``rate_window_s``."""
    body = {"model": "gpt-image-2", "prompt": "a kite", "size": "256x256", "quality": "low"}
    async with asgi_client(make_offline_app(images_per_minute=3, rate_window_s=30)) as c:
        two = await c.post("/images/generations", json={**body, "n": 2})
        one = await c.post("/images/edits", files={"image": ("a.png", png(), "image/png")},
                           data={"prompt": "a kite", "model": "gpt-image-2", "n": "1"})
        limited = await c.post("/images/generations", json=body)
        listed = await c.get("/models")  # not an image: not counted, not limited
    assert (two.status_code, one.status_code, listed.status_code) == (200, 200, 200)
    assert len(two.json()["data"]) == 2
    assert two.headers["x-ratelimit-limit-images"] == "3" and two.headers["x-ratelimit-remaining-images"] == "1"
    assert one.headers["x-ratelimit-remaining-images"] == "0"
    assert limited.status_code == 429 and _error(limited)["code"] == "rate_limit_exceeded"
    assert "Limit 3, Used 3, Requested 1" in _error(limited)["message"]
    assert 1 <= int(limited.headers["retry-after"]) <= 30
    assert 0 < int(limited.headers["retry-after-ms"]) <= 30_000
    assert limited.headers["x-ratelimit-remaining-images"] == "0"
    assert limited.headers["x-ratelimit-reset-images"].endswith("s")


def test_images_per_minute_window_frees_room_as_it_slides(offline_server):
    limited = offline_server(images_per_minute=1, rate_window_s=2)  # longer than one drawing on a busy machine
    body = {"model": "gpt-image-2", "prompt": "a kite", "size": "256x256", "quality": "low"}
    first = httpx2.post(limited.base_url + "/images/generations", json=body, timeout=30)
    second = httpx2.post(limited.base_url + "/images/generations", json=body, timeout=30)
    assert (first.status_code, second.status_code) == (200, 429)
    time.sleep(int(second.headers["retry-after-ms"]) / 1000)
    assert httpx2.post(limited.base_url + "/images/generations", json=body, timeout=30).status_code == 200


async def test_fail_first_answers_503_then_serves():
    async with asgi_client(make_offline_app(fail_first=2)) as c:
        statuses = [(await c.get("/models")).status_code for _ in range(3)]
    assert statuses == [503, 503, 200]


async def test_fail_rate_answers_500_deterministically_for_a_seed():
    async def run(seed: int) -> list[int]:
        async with asgi_client(make_offline_app(fail_rate=0.5, seed=seed)) as c:
            return [(await c.get("/models")).status_code for _ in range(12)]

    first, again = await run(7), await run(7)
    assert first == again and set(first) == {200, 500}


async def test_server_errors_have_the_api_error_body():
    async with asgi_client(make_offline_app(fail_rate=1.0)) as c:
        r = await c.get("/models")
    assert r.status_code == 500 and _error(r)["type"] == "server_error"


async def test_latency_delays_the_answer():
    async with asgi_client(make_offline_app(latency_s=0.2)) as c:
        t0 = time.monotonic()
        await c.get("/models")
    assert time.monotonic() - t0 >= 0.2


async def test_cut_stream_after_ends_the_stream_without_completed():
    async with asgi_client(make_offline_app(cut_stream_after=2)) as c:
        r = await c.post(GEN, json={"prompt": "a kite", "stream": True, "partial_images": 3, **LOW})
    events = sse_events(r.text.splitlines())
    assert [e for e, _ in events] == ["image_generation.partial_image"] * 2


async def test_stream_sends_exactly_the_partials_then_completed_for_each_image():
    async with asgi_client(make_offline_app()) as c:
        r = await c.post(GEN, json={"prompt": "a kite", "stream": True, "partial_images": 2, "n": 2, **LOW})
    assert r.headers["content-type"].startswith("text/event-stream")
    kinds = [(e, d.get("partial_image_index")) for e, d in sse_events(r.text.splitlines())]
    one = [("image_generation.partial_image", 0), ("image_generation.partial_image", 1),
           ("image_generation.completed", None)]
    assert kinds == one + one


async def test_streamed_usage_counts_100_tokens_per_partial_image():
    async with asgi_client(make_offline_app()) as c:
        plain = (await c.post(GEN, json={"prompt": "a kite", "size": "1024x1024", **LOW})).json()
        r = await c.post(GEN, json={"prompt": "a kite", "size": "1024x1024", "stream": True, "partial_images": 3, **LOW})
    completed = sse_events(r.text.splitlines())[-1][1]
    assert plain["usage"]["output_tokens"] == 272  # the seed's table: low, 1024x1024
    assert completed["usage"]["output_tokens"] == 272 + 300


async def test_edit_usage_counts_input_image_tokens_more_with_high_fidelity():
    async def edit(fidelity: str) -> dict:
        async with asgi_client(make_offline_app()) as c:
            r = await c.post("/images/edits", data={"prompt": "p", "input_fidelity": fidelity, **LOW},
                             files={"image": ("a.png", png(256, 256), "image/png")})
        return r.json()["usage"]

    low, high = await edit("low"), await edit("high")
    assert 0 < low["input_tokens_details"]["image_tokens"] < high["input_tokens_details"]["image_tokens"]
    assert low["total_tokens"] == low["input_tokens"] + low["output_tokens"]


async def test_moderation_blocks_test_words_and_low_lets_some_through():
    async with asgi_client(make_offline_app()) as c:
        blocked = await c.post(GEN, json={"prompt": "a gore scene", **LOW})
        low = await c.post(GEN, json={"prompt": "a gore scene", "moderation": "low", **LOW})
        always = await c.post(GEN, json={"prompt": "something forbidden", "moderation": "low", **LOW})
    assert blocked.status_code == 400 and _error(blocked)["code"] == "moderation_blocked"
    assert low.status_code == 200
    assert always.status_code == 400 and _error(always)["code"] == "moderation_blocked"


async def test_moderation_can_be_switched_off():
    async with asgi_client(make_offline_app(moderation=False)) as c:
        r = await c.post(GEN, json={"prompt": "something forbidden", **LOW})
    assert r.status_code == 200


async def test_moderation_on_responses_fails_the_call_with_its_error():
    async with asgi_client(make_offline_app()) as c:
        r = await c.post("/responses", json={"model": "gpt-5", "input": "something forbidden",
                                             "tools": [{"type": "image_generation", "quality": "low"}]})
    call = r.json()["output"][0]
    assert r.status_code == 200 and call["status"] == "failed" and call["result"] is None
    assert call["error"]["code"] == "moderation_blocked"


async def test_state_persists_across_a_new_app_on_the_same_folder(tmp_path):
    folder = str(tmp_path / "state")
    async with asgi_client(make_offline_app(state_dir=folder)) as c:
        f = (await c.post("/files", files={"file": ("a.png", png(32, 32), "image/png")},
                          data={"purpose": "vision"})).json()
        first = (await c.post("/responses", json={"model": "gpt-5", "input": "a lighthouse",
                                                  "tools": [{"type": "image_generation", "quality": "low"}]})).json()
    async with asgi_client(make_offline_app(state_dir=folder)) as c:  # a new app, as in a new process
        again = (await c.get(f"/responses/{first['id']}")).json()
        content = await c.get(f"/files/{f['id']}/content")
        second = await c.post("/responses", json={"model": "gpt-5", "input": "at night", "previous_response_id":
                                                   first["id"], "tools": [{"type": "image_generation", "quality": "low"}]})
    assert again == first
    assert content.content == png(32, 32) and content.headers["content-type"] == "image/png"
    assert second.status_code == 200 and second.json()["output"][0]["action"] == "edit"


async def test_memory_state_is_forgotten_by_a_new_app():
    async with asgi_client(make_offline_app()) as c:
        rid = (await c.post("/responses", json={"model": "gpt-5", "input": "a lighthouse",
                                                "tools": [{"type": "image_generation", "quality": "low"}]})).json()["id"]
    async with asgi_client(make_offline_app()) as c:
        assert (await c.get(f"/responses/{rid}")).status_code == 404


async def test_files_upload_get_content_delete():
    async with asgi_client(make_offline_app()) as c:
        f = (await c.post("/files", files={"file": ("a.png", png(), "image/png")}, data={"purpose": "user_data"})).json()
        got = (await c.get(f"/files/{f['id']}")).json()
        bad = await c.post("/files", files={"file": ("a.png", png(), "image/png")}, data={"purpose": "memes"})
        deleted = (await c.delete(f"/files/{f['id']}")).json()
        gone = await c.get(f"/files/{f['id']}")
    assert got == f and f["object"] == "file" and f["bytes"] == len(png()) and f["id"].startswith("file-")
    assert bad.status_code == 400 and _error(bad)["param"] == "purpose"
    assert deleted == {"id": f["id"], "object": "file", "deleted": True} and gone.status_code == 404


async def test_edit_json_form_takes_data_urls_and_file_ids():
    async with asgi_client(make_offline_app()) as c:
        f = (await c.post("/files", files={"file": ("m.png", mask_png(64, 64, (0, 0, 32, 32)), "image/png")},
                          data={"purpose": "vision"})).json()
        r = await c.post("/images/edits", json={
            "prompt": "add a moon", **LOW, "images": [{"image_url": _data_url(png(64, 64))}, {"file_id": f["id"]}],
            "mask": {"file_id": f["id"]}})
        missing = await c.post("/images/edits", json={"prompt": "p", **LOW, "images": [{"file_id": "file-nope"}]})
    assert r.status_code == 200, r.text
    assert r.json()["usage"]["input_tokens_details"]["image_tokens"] > 0
    assert missing.status_code == 400 and _error(missing)["code"] == "image_file_not_found"


async def test_edit_form_fields_nest_like_svg_model():
    async with asgi_client(make_offline_app()) as c:
        r = await c.post("/images/edits", data={"prompt": "an icon", "model": "gpt-image-2", "output_format": "svg",
                                                "svg[model]": "gpt-5", "svg[reasoning][effort]": "low"},
                         files={"image": ("a.png", png(64, 64), "image/png")})
        bad = await c.post("/images/edits", data={"prompt": "an icon", "model": "gpt-image-2", "output_format": "svg",
                                                  "svg[colour]": "red"},
                           files={"image": ("a.png", png(64, 64), "image/png")})
    assert r.status_code == 200, r.text
    assert r.json()["output_format"] == "svg" and bad.status_code == 400 and _error(bad)["param"] == "svg"


async def test_responses_tool_takes_an_input_image_mask():
    image = _data_url(png(64, 64))
    async with asgi_client(make_offline_app()) as c:
        r = await c.post("/responses", json={
            "model": "gpt-5", "tools": [{"type": "image_generation", "quality": "low", "model": "gpt-image-1.5",
                                         "input_image_mask": {"image_url": _data_url(mask_png(64, 64, (0, 0, 32, 32)))}}],
            "input": [{"role": "user", "content": [{"type": "input_text", "text": "a moon here"},
                                                   {"type": "input_image", "image_url": image}]}]})
        wrong = await c.post("/responses", json={
            "model": "gpt-5", "tools": [{"type": "image_generation", "input_image_mask": {"image_url": image}}],
            "input": [{"role": "user", "content": [{"type": "input_text", "text": "x"},
                                                   {"type": "input_image", "image_url": image}]}]})
    assert r.status_code == 200 and r.json()["output"][0]["action"] == "edit"
    assert wrong.status_code == 400 and _error(wrong)["param"] == "tools[0].input_image_mask"  # no alpha


async def test_dalle_urls_are_served():
    async with asgi_client(make_offline_app()) as c:
        body = (await c.post(GEN, json={"prompt": "a kite", "model": "dall-e-2", "size": "256x256"})).json()
        image = await c.get(body["data"][0]["url"])
    assert "b64_json" not in body["data"][0] and "usage" not in body
    assert image.status_code == 200 and image.content.startswith(b"\x89PNG")


async def test_models_lists_the_table_honestly():
    from imagewidgets.api.models import MODELS

    async with asgi_client(make_offline_app()) as c:
        r = await c.get("/models")
        one = await c.get("/models/dall-e-3")
        none = await c.get("/models/gpt-99")
    ids = [m["id"] for m in r.json()["data"]]
    assert ids[:len(MODELS)] == list(MODELS) and all(m["object"] == "model" for m in r.json()["data"])
    assert "gpt-5.5" in ids  # and the mainline models whose dates we know, for lifecycle checks
    assert all(m["backend"] == "offline-renderer" for m in r.json()["data"])
    assert one.json()["shutdown_date"] == "2026-05-12" and none.status_code == 404


def test_config_reads_environment_variables():
    env = {"IMAGEWIDGETS_OFFLINE_LATENCY_S": "0.5", "IMAGEWIDGETS_OFFLINE_RATE_LIMIT": "3",
           "IMAGEWIDGETS_OFFLINE_MODERATION": "off", "IMAGEWIDGETS_OFFLINE_BLOCKED_WORDS": "Spam, eggs",
           "IMAGEWIDGETS_OFFLINE_STATE_DIR": "/tmp/x"}
    cfg = OfflineConfig.from_env(env, fail_first=2)
    assert (cfg.latency_s, cfg.rate_limit, cfg.moderation, cfg.blocked_words, cfg.state_dir, cfg.fail_first) == (
        0.5, 3, False, ("spam", "eggs"), "/tmp/x", 2)
    with pytest.raises(ValueError, match="RATE_LIMIT"):
        OfflineConfig.from_env({"IMAGEWIDGETS_OFFLINE_RATE_LIMIT": "many"})


def test_serve_flags_override_the_environment(monkeypatch):
    from imagewidgets.offline.cli import build_parser, config_from_args

    monkeypatch.setenv("IMAGEWIDGETS_OFFLINE_LATENCY_S", "2")
    monkeypatch.setenv("IMAGEWIDGETS_OFFLINE_FAIL_FIRST", "4")
    cfg = config_from_args(build_parser().parse_args(["--latency", "0.1", "--no-moderation", "--rate-limit", "5"]))
    assert (cfg.latency_s, cfg.fail_first, cfg.moderation, cfg.rate_limit) == (0.1, 4, False, 5)


def test_offline_server_starts_serves_and_stops():
    with OfflineServer() as server:
        assert server.port > 0 and server.base_url == f"http://127.0.0.1:{server.port}/v1" and server.running
        r = httpx2.get(server.base_url + "/models")
        assert r.status_code == 200 and r.headers["x-request-id"]
    assert not server.running
    with pytest.raises(httpx2.ConnectError):
        httpx2.get(server.base_url + "/models", timeout=2)


@pytest.mark.parametrize("path, fields", [("/files", [("purpose", (None, "batch"))]),
                                          ("/content_provenance_checks", [])])
def test_a_file_upload_refuses_an_unknown_field_and_a_missing_file_naming_them(offline_server, path, fields):
    """Both multipart file endpoints read their form alike: an unknown field is named, not dropped."""
    server = offline_server()
    unknown = httpx2.post(server.base_url + path, files=[*fields, ("file", ("a.png", png(64, 64))),
                                                         ("colour", (None, "red"))])
    assert unknown.status_code == 400 and _error(unknown)["param"] == "colour"
    assert _error(unknown)["message"] == "Unrecognized request argument supplied: colour"
    missing = httpx2.post(server.base_url + path, files=[*fields, ("file", (None, "not a file"))])
    assert missing.status_code == 400 and _error(missing)["param"] == "file"
    assert _error(missing)["code"] == "missing_required_parameter"


def test_offline_server_fixture_applies_switches(offline_server):
    server = offline_server(fail_first=1)
    assert httpx2.get(server.base_url + "/models").status_code == 503
    assert httpx2.get(server.base_url + "/models").status_code == 200


def test_embedded_base_url_is_one_server_per_process_in_imagewidgets_home():
    stop_embedded()  # another test may have started it under its own IMAGEWIDGETS_HOME
    try:
        first = embedded_base_url()
        assert embedded_base_url() == first
        server = embedded_server()
        assert server.base_url == first and server.running
        assert server.config.state_dir == os.path.join(os.environ["IMAGEWIDGETS_HOME"], "offline-state")
        assert httpx2.get(first + "/models").status_code == 200
    finally:
        stop_embedded()


def test_a_client_with_no_key_starts_the_twin_through_the_hook_the_api_layer_keeps(tmp_path):
    """The api layer never imports offline: ``imagewidgets/__init__`` registers the starter, which
    loads the twin only on the first request (a fresh process, so nothing else loaded it before)."""
    code = ("import sys\n"
            "from imagewidgets.api.client import Client\n"
            "c = Client(api_key=None, base_url=None, save_dir=None)\n"
            "assert 'imagewidgets.offline.server' not in sys.modules, 'loaded before first use'\n"
            "img = c.generate('a red kite', model='gpt-image-2', size='1024x1024', quality='low').image\n"
            "assert img.size == (1024, 1024), img.size\n"
            "url = c.base_url\n"
            "assert 'imagewidgets.offline.server' in sys.modules\n"
            "from imagewidgets.offline.server import embedded_base_url\n"
            "assert url == embedded_base_url() and url.startswith('http://127.0.0.1:'), url\n"
            "print(c.backend)\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    env["IMAGEWIDGETS_HOME"] = str(tmp_path)
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, env=env).stdout
    assert out.startswith("offline renderer (procedural, not AI) at http://127.0.0.1:"), out


def test_with_no_starter_registered_a_client_with_no_key_says_what_to_set(monkeypatch):
    from imagewidgets.api import embedded
    from imagewidgets.api.client import Client
    from imagewidgets.api.errors import APIConnectionError

    previous = embedded.set_starter(None)
    try:
        with pytest.raises(APIConnectionError, match="OPENAI_API_KEY"):
            Client(api_key=None, base_url=None, save_dir=None).base_url
    finally:
        embedded.set_starter(previous)
    assert previous is not None  # ``import imagewidgets`` registered the twin's starter


def test_importing_the_offline_package_is_light():
    code = ("import sys, imagewidgets.offline, imagewidgets.offline.config, imagewidgets.offline.server; "
            "imagewidgets.offline.OfflineConfig, imagewidgets.offline.embedded_base_url; "
            "heavy = [m for m in ('starlette', 'uvicorn', 'anyio') if m in sys.modules]; "
            "assert not heavy, heavy")
    subprocess.run([sys.executable, "-c", code], check=True)


async def test_a_failure_mid_stream_becomes_an_error_event(monkeypatch):
    from imagewidgets.offline import imaging

    async def broken(*args, **kwargs):
        raise RuntimeError("renderer exploded")
        yield b""  # an async generator, like the real one

    monkeypatch.setattr(imaging, "render_frames", broken)
    async with asgi_client(make_offline_app()) as c:
        r = await c.post(GEN, json={"prompt": "a kite", "stream": True, "partial_images": 1, **LOW})
    (kind, data), = sse_events(r.text.splitlines())
    assert r.status_code == 200 and kind == "error" and data["error"]["type"] == "server_error"


def test_the_sdk_retries_scripted_503s_and_honours_retry_after(offline_server):
    import openai

    flaky = offline_server(fail_first=2)
    sdk = openai.OpenAI(base_url=flaky.base_url, api_key="test", max_retries=2)
    assert sdk.models.list().data  # two 503s, then served
    limited = offline_server(rate_limit=1, rate_window_s=0.5)
    sdk = openai.OpenAI(base_url=limited.base_url, api_key="test", max_retries=2)
    sdk.models.list()
    raw = sdk.models.with_raw_response.list()  # a 429 first; the SDK waits as told and retries
    assert raw.retries_taken >= 1 and raw.http_response.status_code == 200


# ---------------------------------------------------------------- state is bounded
async def test_memory_state_forgets_the_least_recently_used_responses_past_its_limit():
    tool = [{"type": "image_generation", "quality": "low", "size": "1024x1024"}]
    app = make_offline_app(memory_limit_mb=0.15)  # a turn here is ~65 kB (its call image + response)
    state = app.state.backend.state
    async with asgi_client(app) as c:
        ids = []
        for prompt in ("a red kite", "a blue owl", "a green frog", "a yellow sun"):
            r = await c.post("/responses", json={"model": "gpt-5", "input": prompt, "tools": tool})
            ids.append(r.json()["id"])
            if len(ids) == 2:
                assert (await c.get(f"/responses/{ids[0]}")).status_code == 200  # used: kept longer
        assert state.size <= 0.15 * 2**20
        known = [(await c.get(f"/responses/{i}")).status_code == 200 for i in ids]
        assert known[-1] and not all(known)  # the newest is there, older ones went
        gone = ids[known.index(False)]
        r = await c.post("/responses", json={"model": "gpt-5", "input": "again", "previous_response_id": gone,
                                             "tools": tool})
    # a forgotten id is answered as the API answers an expired one (the session then sends the image)
    assert r.status_code == 400 and r.json()["error"]["code"] == "previous_response_not_found"


def test_memory_state_accounts_bytes_and_keeps_a_rewritten_records_blob():
    from imagewidgets.offline.state import MemoryState

    state = MemoryState(max_bytes=1000)
    state.put("files", "a", {"n": 1}, b"x" * 400)
    state.put("files", "b", {"n": 2}, b"y" * 400)
    assert state.get("files", "a") == {"n": 1}  # touch a: b is now the least recently used
    state.put("files", "c", {"n": 3}, b"z" * 400)
    assert state.get("files", "b") is None and state.blob("files", "a") == b"x" * 400
    state.put("files", "a", {"n": 10})  # rewritten without a blob: keeps its blob
    assert state.blob("files", "a") == b"x" * 400 and state.get("files", "a") == {"n": 10}
    assert state.delete("files", "a") and not state.delete("files", "a")
    assert state.size == len('{"n": 3}') + 400
    assert MemoryState().max_bytes is None  # unbounded unless asked


async def test_a_state_folder_forgets_records_older_than_its_ttl_at_start(tmp_path):
    folder = tmp_path / "state"
    async with asgi_client(make_offline_app(state_dir=str(folder))) as c:
        old = (await c.post("/files", files={"file": ("a.png", png(32, 32), "image/png")},
                            data={"purpose": "vision"})).json()["id"]
        new = (await c.post("/files", files={"file": ("b.png", png(16, 16), "image/png")},
                            data={"purpose": "vision"})).json()["id"]
    month_ago = time.time() - 31 * 86400
    for ext in ("json", "bin"):
        os.utime(folder / "files" / f"{old}.{ext}", (month_ago, month_ago))
    async with asgi_client(make_offline_app(state_dir=str(folder), state_ttl_days=0)) as c:  # 0: keep all
        assert (await c.get(f"/files/{old}")).status_code == 200
    async with asgi_client(make_offline_app(state_dir=str(folder))) as c:  # default: 30 days
        assert (await c.get(f"/files/{old}")).status_code == 404
        assert (await c.get(f"/files/{new}/content")).content == png(16, 16)
    assert not (folder / "files" / f"{old}.bin").exists()


def test_state_limits_come_from_the_environment_and_the_serve_flags(monkeypatch):
    from imagewidgets.offline.cli import build_parser, config_from_args

    cfg = OfflineConfig.from_env({"IMAGEWIDGETS_OFFLINE_MEMORY_LIMIT_MB": "64", "IMAGEWIDGETS_OFFLINE_STATE_TTL_DAYS": "7"})
    assert (cfg.memory_limit_mb, cfg.state_ttl_days) == (64.0, 7.0)
    assert (OfflineConfig().memory_limit_mb, OfflineConfig().state_ttl_days) == (512.0, 30.0)
    monkeypatch.setenv("IMAGEWIDGETS_OFFLINE_MEMORY_LIMIT_MB", "64")
    cfg = config_from_args(build_parser().parse_args(["--memory-limit", "0", "--state-ttl", "1.5"]))
    assert (cfg.memory_limit_mb, cfg.state_ttl_days) == (0.0, 1.5)
