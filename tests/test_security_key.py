"""The API key and the organisation/project headers go only to the configured API origin
(issue 12, item 4): image URLs on another host, and redirects to one, are fetched without them.
Two real loopback servers: the "API" and a "CDN" that records what it is sent."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from imagewidgets import AsyncClient, Client
from tests.spec_server import png

# retired models (dall-e-2/3, gpt-image-1, gpt-image-1.5...) serve here as fixtures of features they
# had; the twin's calendar is tested in test_calendar.py and test_lifecycle.py
pytestmark = pytest.mark.calendar_off

KEY = "sk-test-0123456789abcdefSECRET"
CREDENTIALS = ("authorization", "openai-organization", "openai-project")


class _Recorder(ThreadingHTTPServer):
    def __init__(self, answer) -> None:
        self.seen: list[dict[str, str]] = []
        self.answer = answer
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _any(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                if length:
                    self.rfile.read(length)
                server.seen.append({"path": self.path, **{k.lower(): v for k, v in self.headers.items()}})
                status, headers, body = server.answer(self.path)
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _any

            def log_message(self, *args) -> None:  # quiet
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


@pytest.fixture
def servers():
    cdn = _Recorder(lambda path: (200, {"content-type": "image/png"}, png()))

    def api_answer(path: str):
        if path.startswith("/v1/images/generations"):
            body = {"created": 1, "data": [{"url": f"{cdn.url}/img/1.png"}, {"url": f"{api.url}/v1/moved/2.png"},
                                           {"url": f"{api.url}/v1/own/3.png"}]}
            return 200, {"content-type": "application/json"}, json.dumps(body).encode()
        if path.startswith("/v1/moved/"):  # the API's own URL redirects to the CDN
            return 302, {"location": f"{cdn.url}/img/2.png"}, b""
        return 200, {"content-type": "image/png"}, png()

    api = _Recorder(api_answer)
    yield api, cdn
    for s in (api, cdn):
        s.shutdown()
        s.server_close()


def _client_kwargs(api) -> dict:
    return dict(api_key=KEY, base_url=f"{api.url}/v1", organization="org-mine", project="proj_mine", save_dir=None)


def _check(api, cdn) -> None:
    posts = [h for h in api.seen if h["path"] == "/v1/images/generations"]
    assert posts and posts[0]["authorization"] == f"Bearer {KEY}"
    assert posts[0]["openai-organization"] == "org-mine" and posts[0]["openai-project"] == "proj_mine"
    own = [h for h in api.seen if h["path"].startswith("/v1/own/")]
    assert own and own[0]["authorization"] == f"Bearer {KEY}"  # the API's own image URL: same origin
    assert sorted(h["path"] for h in cdn.seen) == ["/img/1.png", "/img/2.png"]
    for h in cdn.seen:
        assert not set(CREDENTIALS) & set(h), h
        assert KEY not in json.dumps(h)


def test_image_urls_on_another_origin_get_no_credentials(servers):
    api, cdn = servers
    with Client(**_client_kwargs(api)) as client:
        images = client.generate("a fox", model="dall-e-2", response_format="url", n=3)
    assert [img.data for img in images] == [png()] * 3
    _check(api, cdn)


@pytest.mark.anyio
async def test_the_async_client_also_keeps_the_key_home(servers):
    api, cdn = servers
    async with AsyncClient(**_client_kwargs(api)) as client:
        images = await client.generate("a fox", model="dall-e-2", response_format="url", n=3)
    assert len(images) == 3
    _check(api, cdn)


def test_another_port_on_the_same_host_is_another_origin(servers):
    api, cdn = servers
    assert api.url.rsplit(":", 1)[0] == cdn.url.rsplit(":", 1)[0]  # both 127.0.0.1: only the port differs
    with Client(**_client_kwargs(api)) as client:
        client.generate("a fox", model="dall-e-2", response_format="url", n=3)
    assert all("authorization" not in h for h in cdn.seen)
