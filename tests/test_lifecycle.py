"""Model lifecycle: the server's models list first, the table as fallback, refusals before
anything is sent, one warning within 30 days, and the offline backend's calendar (--as-of).

Every test pins "today" (api.lifecycle.clock); none depends on the real date."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings
from datetime import date

import pytest

from imagewidgets.api import lifecycle
from imagewidgets.api.client import AsyncClient, Client
from imagewidgets.api.errors import ModelShutDownError, NotFoundError
from imagewidgets.api.lifecycle import RetiredModelWarning, lifecycle_of
from imagewidgets.api.models import DEFAULT_RESPONSES_MODEL

from .fixtures_offline import asgi_client, make_offline_app
from .spec_server import SpecServer

OPENAI = "https://api.openai.com/v1"


def on(monkeypatch, day: str) -> None:
    monkeypatch.setattr(lifecycle, "clock", lambda: date.fromisoformat(day))


def openai_client(server: SpecServer, **kw) -> Client:
    return Client(api_key="sk-test", base_url=OPENAI, transport=server.transport(), **kw)


def test_a_shut_down_model_is_refused_before_sending_naming_the_replacement(monkeypatch):
    on(monkeypatch, "2026-12-02")
    server = SpecServer()  # no models list: the table decides
    with pytest.raises(ModelShutDownError) as e:
        openai_client(server).generate("x", model="gpt-image-1.5")
    assert server.requests == []  # nothing paid for
    assert len(server.model_reads) == 1
    text = str(e.value)
    assert "gpt-image-1.5 shut down on api.openai.com on 2026-12-01" in text
    assert "use gpt-image-2.6-sunburst instead" in text and "allow_shut_down" in text
    for model in ("gpt-image-1-mini", "chatgpt-image-latest"):
        with pytest.raises(ModelShutDownError, match="use gpt-image-2.6-sunburst instead"):
            openai_client(server).generate("x", model=model)
    with pytest.raises(ModelShutDownError, match="use gpt-image-2.5-sunburst instead"):
        openai_client(server).generate("x", model="gpt-image-1")
    assert server.requests == []


def test_the_day_before_it_warns_once_with_the_date(monkeypatch):
    on(monkeypatch, "2026-11-30")
    server = SpecServer()
    c = openai_client(server)
    with pytest.warns(RetiredModelWarning, match=r"gpt-image-1.5 shuts down on api.openai.com on 2026-12-01 "
                                                 r"\(in 1 day, per imagewidgets' model table\); use gpt-image-2.6-sunburst"):
        c.generate("x", model="gpt-image-1.5")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        c.generate("x", model="gpt-image-1.5")  # once per process and server
        c.generate("x", model="gpt-image-2")  # no date announced: silent
    assert len(server.requests) == 3


def test_more_than_30_days_ahead_is_silent(monkeypatch):
    on(monkeypatch, "2026-10-31")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        openai_client(SpecServer()).generate("x", model="gpt-image-1.5")


def test_the_servers_list_overrides_the_table_and_silence_falls_back(monkeypatch):
    on(monkeypatch, "2027-03-02")
    server = SpecServer(models=[
        {"id": "gpt-image-2", "object": "model", "created": 1, "owned_by": "openai", "shutdown_date": "2027-03-01"},
        {"id": "gpt-image-1.5", "object": "model", "created": 1, "owned_by": "openai", "shutdown_date": None},
        {"id": "gpt-image-2.5-flare", "object": "model", "created": 1, "owned_by": "openai",
         "shutdown_date": "not a date; rm -rf /"},
    ])
    c = openai_client(server)
    with pytest.raises(ModelShutDownError, match=r"gpt-image-2 shut down on api.openai.com on 2027-03-01 "
                                                 r"\(per the server's models list\)"):
        c.generate("x", model="gpt-image-2")
    with pytest.raises(ModelShutDownError, match="per imagewidgets' model table"):
        c.generate("x", model="gpt-image-1.5")  # the list is silent about it: the table's date
    c.generate("x", model="gpt-image-2.5-flare")  # a garbled date is no date
    assert len(server.requests) == 1 and len(server.model_reads) == 1


def test_the_list_is_read_once_per_base_url_and_kept_on_disk_a_day(monkeypatch, tmp_path):
    on(monkeypatch, "2026-11-15")
    server = SpecServer(models=[{"id": "gpt-image-2", "object": "model", "created": 1, "owned_by": "openai"}])
    openai_client(server).generate("x")
    openai_client(server).generate("x")
    assert len(server.model_reads) == 1
    cached = list((tmp_path / "iw-home" / "cache").glob("models-*.json"))
    assert len(cached) == 1 and json.loads(cached[0].read_text())["base_url"] == OPENAI
    assert "sk-test" not in cached[0].read_text()
    lifecycle._memory.clear()  # a new process: the disk copy answers
    openai_client(server).generate("x")
    assert len(server.model_reads) == 1
    lifecycle._memory.clear()
    real_time = lifecycle.time.time
    monkeypatch.setattr(lifecycle.time, "time", lambda: real_time() + lifecycle.CACHE_TTL_S + 60)
    openai_client(server).generate("x")  # a day later: read again
    assert len(server.model_reads) == 2


def test_allow_shut_down_lets_it_through_with_a_warning(monkeypatch):
    on(monkeypatch, "2026-12-02")
    server = SpecServer()
    with pytest.warns(RetiredModelWarning, match="sent anyway"):
        openai_client(server, allow_shut_down=["gpt-image-1.5"]).generate("x", model="gpt-image-1.5")
    assert server.body_json()["model"] == "gpt-image-1.5"
    with pytest.raises(ModelShutDownError):
        openai_client(server, allow_shut_down=["gpt-image-1.5"]).generate("x", model="gpt-image-1-mini")


def test_unknown_servers_stay_permissive(monkeypatch):
    on(monkeypatch, "2027-06-01")
    server = SpecServer()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Client(api_key="sk", base_url="http://localhost:9/v1", transport=server.transport()).generate(
            "x", model="gpt-image-1.5")
    assert len(server.requests) == 1 and server.model_reads == []


def test_responses_turns_check_the_mainline_model_too(monkeypatch):
    on(monkeypatch, "2026-12-12")
    server = SpecServer()
    c = openai_client(server)
    assert DEFAULT_RESPONSES_MODEL == "gpt-5.5" and lifecycle_of("gpt-5.5").shutdown_date is None
    c.respond("a fox")  # the default mainline model is current
    assert server.body_json()["model"] == "gpt-5.5"
    with pytest.raises(ModelShutDownError, match="gpt-5 shut down on api.openai.com on 2026-12-11.*use gpt-6.1-sol"):
        c.respond("a fox", responses_model="gpt-5")
    with pytest.raises(ModelShutDownError, match="gpt-5-mini shut down .*use gpt-6.1-terra"):
        c.respond("a fox", responses_model="gpt-5-mini")
    assert len(server.requests) == 1


def test_async_client_checks_the_same_way(monkeypatch):
    import anyio

    on(monkeypatch, "2026-12-02")
    server = SpecServer()

    async def main():
        c = AsyncClient(api_key="sk", base_url=OPENAI, transport=server.transport())
        with pytest.raises(ModelShutDownError):
            await c.generate("x", model="gpt-image-1.5")
        await c.generate("x", model="gpt-image-2")
        await c.aclose()

    anyio.run(main)
    assert len(server.requests) == 1 and len(server.model_reads) == 1


def test_client_models_reports_the_lifecycle_as_of_today(monkeypatch):
    on(monkeypatch, "2026-12-02")
    server = SpecServer(models=[{"id": "gpt-image-2", "object": "model", "created": 1, "owned_by": "openai",
                                 "shutdown_date": "2027-05-01"}])
    rows = {r["model"]: r for r in openai_client(server).models()}
    assert rows["gpt-image-1.5"]["status"] == "shut down" and rows["gpt-image-1.5"]["source"] == "table"
    assert rows["gpt-image-2"] == {"model": "gpt-image-2", "kind": "image", "status": "shutting down",
                                   "shutdown_date": "2027-05-01", "replacement": None, "source": "server"}
    assert rows["gpt-5"]["kind"] == "mainline" and rows["gpt-5"]["status"] == "shutting down"


# -- the offline backend's calendar ------------------------------------------------------------


@pytest.mark.anyio
async def test_offline_calendar_answers_shut_down_models_like_the_live_api():
    app = make_offline_app(as_of="2026-12-02")
    async with asgi_client(app) as c:
        gone = await c.post("/images/generations", json={"model": "gpt-image-1.5", "prompt": "x"})
        ok = await c.post("/images/generations", json={"model": "gpt-image-2", "prompt": "x", "quality": "low"})
        listed = [m["id"] for m in (await c.get("/models")).json()["data"]]
        one = await c.get("/models/gpt-image-1.5")
        resp_ok = await c.post("/responses", json={"model": "gpt-5", "input": "a fox",
                                                   "tools": [{"type": "image_generation", "quality": "low"}]})
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "model_not_found"
    assert gone.json()["error"]["message"] == ("The model `gpt-image-1.5` was shut down on 2026-12-01 and is "
                                               "no longer served. Use gpt-image-2.6-sunburst instead.")
    assert ok.status_code == 200 and one.status_code == 404
    assert "gpt-image-1.5" not in listed and "gpt-image-2" in listed and "gpt-5" in listed
    assert resp_ok.status_code == 200  # gpt-5 serves until 2026-12-11
    async with asgi_client(make_offline_app(as_of="2026-12-11")) as c:
        resp_gone = await c.post("/responses", json={"model": "gpt-5", "input": "a fox",
                                                     "tools": [{"type": "image_generation"}]})
    assert resp_gone.status_code == 404 and resp_gone.json()["error"]["code"] == "model_not_found"
    async with asgi_client(make_offline_app(calendar=False)) as c:  # no calendar: every model, with its dates
        data = {m["id"]: m for m in (await c.get("/models")).json()["data"]}
    assert data["gpt-image-1.5"]["shutdown_date"] == "2026-12-01" and data["gpt-image-2"]["shutdown_date"] is None


def test_rehearsing_a_migration_against_the_calendar(monkeypatch, offline_server):
    """A class on 2026-11-30 rehearses 2026-12-02: the server answers 404 as the live API will
    (and, like it, no longer lists the model), and the client's error names the replacement."""
    on(monkeypatch, "2026-11-30")
    srv = offline_server(as_of="2026-12-02")
    c = Client(base_url=srv.base_url, check_lifecycle=True)
    with pytest.raises(NotFoundError) as e:
        c.generate("x", model="gpt-image-1.5")
    assert "model_not_found" in str(e.value) and "use gpt-image-2.6-sunburst instead" in str(e.value)
    assert c.generate("x", model="gpt-image-2", quality="low").width > 0


def test_any_server_can_opt_in_to_its_own_list(monkeypatch, offline_server):
    on(monkeypatch, "2026-11-30")
    srv = offline_server(calendar=False)  # no calendar: serves everything, and lists the dates
    c = Client(base_url=srv.base_url, check_lifecycle=True)
    with pytest.warns(RetiredModelWarning, match=r"on 2026-12-01 \(in 1 day, per the server's models list\)"):
        c.generate("x", model="gpt-image-1.5", quality="low")
    on(monkeypatch, "2026-12-02")  # the day after: refused before sending, from the server's date
    with pytest.raises(ModelShutDownError, match="per the server's models list"):
        c.generate("x", model="gpt-image-1.5")


def test_serve_as_of_flag_and_environment(monkeypatch):
    from imagewidgets.offline.cli import build_parser, config_from_args
    from imagewidgets.offline.config import OfflineConfig

    assert config_from_args(build_parser().parse_args(["--as-of", "2026-12-02"])).as_of == "2026-12-02"
    assert OfflineConfig.from_env({"IMAGEWIDGETS_OFFLINE_AS_OF": "2026-12-11"}).as_of == "2026-12-11"
    with pytest.raises(ValueError, match="is not a date like 2026-12-02"):
        OfflineConfig(as_of="next tuesday")
    out = subprocess.run([sys.executable, "-m", "imagewidgets.cli", "serve", "--as-of", "soon", "--port", "0"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode != 0 and "not a date" in out.stderr and "Traceback" not in out.stderr


def test_imagewidgets_models_prints_the_lifecycle_as_of_a_day():
    out = subprocess.run([sys.executable, "-m", "imagewidgets.cli", "models", "--as-of", "2026-12-02"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    lines = {line.split()[0]: line.split() for line in out.stdout.splitlines()[1:]}
    assert lines["gpt-image-1.5"][2:4] == ["shut", "down"] and "2026-12-01" in lines["gpt-image-1.5"]
    assert lines["gpt-5"][2:4] == ["shutting", "down"] and lines["gpt-5.5"][2] == "live"
    bad = subprocess.run([sys.executable, "-m", "imagewidgets.cli", "models", "--as-of", "soon"],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "not a date" in bad.stderr and "Traceback" not in bad.stderr
