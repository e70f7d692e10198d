"""``imagewidgets doctor``: local checks one line each, and ``--live`` reporting exactly the ways a
server's answers differ from the offline twin's — never the key.

The "live API" here is a second offline server on loopback whose answers were altered on purpose
(a missing field, an extra stream event, a renamed error code): the report must name exactly those.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from imagewidgets.doctor import checks as C
from imagewidgets.doctor.live import compare, run_live
from imagewidgets.doctor.shapes import diff_shapes, shape_of

# retired models (dall-e-2/3, gpt-image-1, gpt-image-1.5...) serve here as fixtures of features they
# had; the twin's calendar is tested in test_calendar.py and test_lifecycle.py
pytestmark = pytest.mark.calendar_off

KEY = "sk-doctor-test-SECRET-0123456789"


def _cli(*args: str, env: dict | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    full = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "imagewidgets.cli", "doctor", *args], capture_output=True,
                          text=True, env=full, cwd=cwd, stdin=subprocess.DEVNULL, timeout=120)


# -- an upstream whose answers differ from the twin in three known ways ---------------------------

def _altered(app):
    """Wrap the offline app: generations lose ``created``, streams gain a heartbeat event before the
    completed one, and error codes are renamed."""

    async def wrapped(scope, receive, send):
        if scope["type"] != "http" or not scope["path"].endswith("/images/generations"):
            return await app(scope, receive, send)
        start: dict = {}
        chunks: list[bytes] = []
        streaming = False

        async def intercept(message):
            nonlocal streaming
            if message["type"] == "http.response.start":
                start.update(message)
                ctype = dict(message.get("headers") or []).get(b"content-type", b"")
                streaming = ctype.startswith(b"text/event-stream")
                if streaming:
                    await send(message)
                return
            body = message.get("body", b"")
            if streaming:
                if b"image_generation.completed" in body:
                    extra = b'event: image_generation.heartbeat\ndata: {"type": "image_generation.heartbeat"}\n\n'
                    await send({"type": "http.response.body", "body": extra, "more_body": True})
                await send(message)
                return
            chunks.append(body)
            if message.get("more_body"):
                return
            doc = json.loads(b"".join(chunks) or b"null")
            if isinstance(doc, dict) and "error" in doc:
                doc["error"]["code"] = f"{doc['error'].get('code')}_renamed"
            elif isinstance(doc, dict):
                doc.pop("created", None)
            data = json.dumps(doc).encode()
            headers = [(k, v) for k, v in start.get("headers", []) if k != b"content-length"]
            headers.append((b"content-length", str(len(data)).encode()))
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": data})

        return await app(scope, receive, intercept)

    return wrapped


class _Counting:
    """Count every request the wrapped app receives."""

    def __init__(self, app):
        self.app, self.calls = app, 0

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            self.calls += 1
        return await self.app(scope, receive, send)


@pytest.fixture
def upstream(monkeypatch):
    """``upstream(altered=bool)`` -> a started loopback server requiring ``KEY``; ``.counter.calls``."""
    from imagewidgets.offline import app as app_mod
    from imagewidgets.offline.config import OfflineConfig
    from imagewidgets.offline.server import OfflineServer

    started = []

    def start(altered: bool = True):
        real = app_mod.create_app
        counter = None

        def create(config):
            nonlocal counter
            inner = real(config)
            counter = _Counting(_altered(inner) if altered else inner)
            return counter

        monkeypatch.setattr(app_mod, "create_app", create)
        server = OfflineServer(OfflineConfig(require_api_key=KEY, partial_interval_s=0.0)).start()
        monkeypatch.setattr(app_mod, "create_app", real)
        server.counter = counter
        started.append(server)
        return server

    yield start
    for s in started:
        s.stop()


# -- shapes ---------------------------------------------------------------------------------------

def test_a_shape_keeps_keys_and_types_never_values():
    body = {"created": 1, "data": [{"b64_json": "iVBORw0KGgo" * 50, "revised_prompt": None}],
            "usage": {"total_tokens": 7}}
    shape = shape_of(body)
    assert shape == {"created": "number", "data": [{"b64_json": "string", "revised_prompt": "null"}],
                     "usage": {"total_tokens": "number"}}
    assert "iVBOR" not in json.dumps(shape)


def test_shape_differences_are_lines_naming_the_field():
    live = {"data": [{"b64_json": "string"}], "usage": {"input_tokens": "number"}}
    twin = {"created": "number", "data": [{"b64_json": "string"}], "usage": {"input_tokens": "string"}}
    assert diff_shapes(live, twin, "generate") == [
        "generate: created: only offline (number)",
        "generate: usage.input_tokens: number on the live API, string offline",
    ]


# -- local checks ---------------------------------------------------------------------------------

def test_every_local_check_passes_or_warns_on_this_machine(tmp_path):
    checks = C.run_checks(store=tmp_path / "store")
    names = [c.name for c in checks]
    assert names == ["python", "packages", "backend", "api key", "store", "front-end", "kernel", "offline",
                     "lifecycle"]
    assert {c.status for c in checks} <= {"ok", "warn"}, C.render_text(checks)
    by = {c.name: c for c in checks}
    assert by["front-end"].status == "ok"
    assert "offline renderer" in by["backend"].detail
    assert "drew a 1024x1024 image" in by["offline"].detail


def test_backend_says_where_it_was_configured(monkeypatch):
    from imagewidgets.api import config

    monkeypatch.setenv("OPENAI_BASE_URL", "https://example.test/v1")
    assert "environment (OPENAI_BASE_URL)" in C.check_backend().detail
    monkeypatch.setitem(config.defaults, "base_url", "https://other.test/v1")
    assert "%imagine_config" in C.check_backend().detail
    assert "from argument" in C.check_backend("https://third.test/v1").detail


def test_a_plain_http_api_beyond_this_machine_warns_the_key_would_travel_in_clear(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    check = C.check_backend("http://10.1.2.3:8000/v1")
    assert check.status == "warn" and "https://" in check.fix
    assert C.check_backend("http://127.0.0.1:8000/v1").status == "ok"


def test_the_key_check_says_where_the_key_is_from_and_never_shows_it(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    check = C.check_key()
    assert check.status == "ok" and "OPENAI_API_KEY" in check.detail
    assert KEY not in str(check) and KEY[:12] not in str(check)
    monkeypatch.delenv("OPENAI_API_KEY")
    monkeypatch.setenv("OPENAI_BASE_URL", "https://compatible.test/v1")
    assert C.check_key().status == "warn"


def test_a_store_others_can_read_warns_with_the_chmod(tmp_path):
    folder = tmp_path / "store"
    folder.mkdir()
    folder.chmod(0o755)
    check = C.check_store(folder)
    assert check.status == "warn" and check.fix == f"chmod 700 {folder}"
    folder.chmod(0o700)
    assert C.check_store(folder).status == "ok"


def test_a_missing_front_end_extension_fails_and_names_the_fix(monkeypatch, tmp_path):
    monkeypatch.setattr(C, "_labextension_dirs", lambda: [tmp_path])
    check = C.check_frontend()
    assert check.status == "fail"
    assert "@jupyter-widgets/jupyterlab-manager" in check.detail and "ipycanvas" in check.detail
    assert "Loading widget" in check.detail and "pip install ipywidgets ipycanvas" in check.fix


def test_a_disabled_front_end_extension_fails(monkeypatch, tmp_path):
    (tmp_path / "labconfig").mkdir()
    (tmp_path / "labconfig" / "page_config.json").write_text(json.dumps({"disabledExtensions": {"ipycanvas": True}}))
    monkeypatch.setenv("JUPYTER_CONFIG_DIR", str(tmp_path))
    check = C.check_frontend()
    assert check.status == "fail" and "jupyter labextension enable ipycanvas" in check.fix


def test_vscode_and_colab_are_named_with_their_limits():
    assert "VS Code" in C.check_kernel({"VSCODE_PID": "1"}, {}).detail
    colab = C.check_kernel({}, {"google.colab": object()})
    assert colab.status == "warn" and "enable_custom_widget_manager" in colab.fix
    assert C.check_kernel({}, {}).status == "ok"


def test_lifecycle_comes_from_the_servers_model_list():
    listed = [{"id": "gpt-image-1.5", "shutdown_date": "2026-12-01"}, {"id": "gpt-image-2"},
              {"id": "dall-e-3", "shutdown_date": "2026-05-12"}]
    soon = C.check_lifecycle(today=date(2026, 11, 20), list_models=lambda: listed)
    assert soon.status == "warn"
    assert "from the server's model list" in soon.detail
    assert "gpt-image-1.5 (on 2026-12-01" in soon.detail and "dall-e-3 (since 2026-05-12" in soon.detail
    after = C.check_lifecycle(today=date(2026, 12, 2), list_models=lambda: listed)
    assert after.status == "ok" and "gpt-image-1.5 (since 2026-12-01" in after.detail


def test_lifecycle_falls_back_to_the_table_when_the_server_says_nothing():
    check = C.check_lifecycle(today=date(2026, 11, 30), list_models=lambda: [{"id": "gpt-image-2"}])
    assert "from the model table" in check.detail


def test_the_command_prints_one_line_per_check_and_exits_0(tmp_path):
    out = _cli(env={"IMAGEWIDGETS_STORE": str(tmp_path / "s")}, cwd=tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr
    lines = [line for line in out.stdout.splitlines() if line[:5].strip() in ("ok", "warn", "fail")]
    assert len(lines) == 9
    assert "imagewidgets doctor:" in out.stdout.splitlines()[-1]
    assert "Traceback" not in out.stderr


# -- --live ---------------------------------------------------------------------------------------

def test_live_reports_exactly_the_servers_differences_and_never_the_key(upstream, tmp_path):
    server = upstream(altered=True)
    report_path = tmp_path / "report.json"
    out = _cli("--live", "--yes", "--no-offline", "--base-url", server.base_url, "--report", str(report_path),
               env={"OPENAI_API_KEY": KEY, "IMAGEWIDGETS_STORE": str(tmp_path / "s")}, cwd=tmp_path)
    assert out.returncode == 3, out.stdout + out.stderr
    report = json.loads(report_path.read_text())
    assert sorted(report["differences"]) == sorted([
        "generate: created: only offline (number)",
        "stream-generate: events: live [image_generation.partial_image, image_generation.heartbeat, "
        "image_generation.completed], offline [image_generation.partial_image, image_generation.completed]",
        f"invalid-request: error.code: {report['probes'][-1]['live']['error']['code']!r} on the live API, "
        f"{report['probes'][-1]['offline']['error']['code']!r} offline",
    ])
    assert report["probes"][-1]["live"]["error"]["code"].endswith("_renamed")
    assert [p["name"] for p in report["probes"]] == ["generate", "stream-generate", "masked-edit",
                                                      "responses-turn-1", "responses-turn-2", "file-input",
                                                      "invalid-request"]
    assert all(p["live"]["status"] == 200 for p in report["probes"][:-1])
    for text in (out.stdout, out.stderr, report_path.read_text()):
        assert KEY not in text
    assert "kite" not in report_path.read_text()  # no prompts unless asked
    assert "3 difference(s)" in out.stdout


def test_live_against_an_unaltered_server_finds_no_difference(upstream, tmp_path):
    server = upstream(altered=False)
    out = _cli("--live", "--yes", "--no-offline", "--base-url", server.base_url, "--report",
               str(tmp_path / "r.json"), "--include-prompts",
               env={"OPENAI_API_KEY": KEY, "IMAGEWIDGETS_STORE": str(tmp_path / "s")}, cwd=tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "no differences in shape" in out.stdout
    assert "kite" in (tmp_path / "r.json").read_text()  # prompts only with --include-prompts


def test_live_states_the_price_and_sends_nothing_unless_confirmed(upstream, tmp_path):
    server = upstream(altered=False)
    out = _cli("--live", "--no-offline", "--base-url", server.base_url,
               env={"OPENAI_API_KEY": KEY, "IMAGEWIDGETS_STORE": str(tmp_path / "s")}, cwd=tmp_path)
    assert out.returncode == 4
    assert "$" in out.stdout and "requests" in out.stdout and "pass --yes" in out.stdout
    calls_after_checks = server.counter.calls
    assert calls_after_checks <= 1  # the lifecycle check's GET /models, nothing paid
    declined = run_live(base_url=server.base_url, confirm=lambda text: False)
    assert declined is None and server.counter.calls == calls_after_checks


def test_compare_names_status_and_error_fields():
    from imagewidgets.doctor.live import Observation

    a = Observation(status=400, error={"type": "invalid_request_error", "code": "x", "param": "size"})
    b = Observation(status=404, error={"type": "invalid_request_error", "code": "x", "param": None})
    assert compare("p", a, b) == ["p: HTTP status 400 on the live API, 404 offline",
                                  "p: error.param: 'size' on the live API, None offline"]


# -- in a notebook ----------------------------------------------------------------------------------

def test_imagine_doctor_shows_the_checks_in_a_real_ipython(tmp_path, capsys):
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    try:
        shell.run_line_magic("load_ext", "imagewidgets")
        report = shell.run_line_magic("imagine_doctor", "--no-offline")
        assert [c.name for c in report.checks][:3] == ["python", "packages", "backend"]
        html = report._repr_html_()
        assert "<table" in html and "front-end" in html
        assert "imagewidgets doctor:" in str(report)
    finally:
        shell.run_line_magic("unload_ext", "imagewidgets")
        InteractiveShell.clear_instance()


def test_the_report_keeps_no_copy_of_a_key_the_server_echoed_encoded():
    """A server may echo the key in what the report keeps (error codes, event names, keys of a shape):
    plain, base64 at any alignment, URL-safe base64, hex. None of it survives, in the file or on screen."""
    import base64

    from imagewidgets.doctor.live import LiveReport, Observation

    echoes = [KEY, base64.b64encode(KEY.encode()).decode(), base64.b64encode(b"Bearer " + KEY.encode()).decode(),
              base64.urlsafe_b64encode(b"x" + KEY.encode()).decode(), base64.b64encode(b"ab" + KEY.encode()).decode(),
              KEY.encode().hex()]
    live = Observation(status=400, shape={e: "string" for e in echoes}, events=echoes,
                       error={"type": echoes[1], "code": echoes[2], "param": echoes[3]})
    twin = Observation(status=400, shape={}, events=[], error={"type": "t", "code": "c", "param": None})
    report = LiveReport(base_url="http://127.0.0.1:1/v1", model="gpt-image-2", estimate_usd=0.1, secrets=(KEY,))
    report.probes.append({"name": "p", "live": live.to_dict(), "offline": twin.to_dict()})
    report.differences += compare("p", live, twin)
    for text in (report.to_json(), report.text()):
        for echo in echoes:
            assert echo not in text
        for token in text.replace('"', " ").replace("'", " ").replace(",", " ").replace("[", " ").split():
            for decode in (base64.b64decode, base64.urlsafe_b64decode, bytes.fromhex):
                for pad in ("", "=", "=="):
                    try:
                        assert KEY.encode() not in decode(token.strip(":]") + pad)
                    except (ValueError, TypeError):
                        pass
