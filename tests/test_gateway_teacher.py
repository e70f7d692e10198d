"""The teacher's side of the class gateway: the command line, the slips, the dashboard's API, and the
upstream key's secrecy (grepped in every answer, log line and file of a real run)."""

from __future__ import annotations

import csv
import os
import re
import stat
import time

import httpx2
import pytest

from imagewidgets.gateway.cli import exposure_warning
from tests.gateway_fixtures import UPSTREAM_KEY, cli, gateway, read_ready_line, start_process, upstreams  # noqa: F401

# retired models (dall-e-2/3, gpt-image-1, gpt-image-1.5...) serve here as fixtures of features they
# had; the twin's calendar is tested in test_calendar.py and test_lifecycle.py
pytestmark = [pytest.mark.timeout(120), pytest.mark.calendar_off]

SMALL = {"model": "dall-e-2", "size": "256x256", "quality": "standard", "response_format": "b64_json"}


def test_participants_add_writes_a_csv_and_printable_slips_readable_by_the_teacher_only(tmp_path):
    db = tmp_path / "class.sqlite3"
    names = tmp_path / "names.txt"
    names.write_text("Ada\n<script>alert(1)</script>\n", encoding="utf-8")
    run = cli("gateway", "participants", "--db", str(db), "add", "3", "--budget-usd", "2",
              "--out", str(tmp_path / "class.csv"), "--url", "http://10.0.0.5:8080/v1", "--names", str(names))
    assert run.returncode == 0, run.stderr
    assert "3 participants, $2.00 each" in run.stdout
    rows = list(csv.DictReader(open(tmp_path / "class.csv", encoding="utf-8")))
    assert [r["label"] for r in rows] == ["Ada", "<script>alert(1)</script>", "p01"]
    assert all(re.fullmatch(r"iwp_[A-Za-z0-9_-]{32}", r["token"]) for r in rows)
    assert {r["budget_usd"] for r in rows} == {"2.00"} and {r["base_url"] for r in rows} == {"http://10.0.0.5:8080/v1"}
    page = (tmp_path / "class.html").read_text(encoding="utf-8")
    assert page.count('class="slip"') == 3 and "<script>alert" not in page and "&lt;script&gt;" in page
    assert f"%imagine_config --base-url http://10.0.0.5:8080/v1 --api-key {rows[0]['token']}" in page
    for name in ("class.csv", "class.html"):
        assert stat.S_IMODE(os.stat(tmp_path / name).st_mode) == 0o600
    raw = db.read_bytes()
    assert not any(r["token"].encode() in raw for r in rows)  # only hashes are kept
    listed = cli("gateway", "participants", "--db", str(db), "list")
    assert "Ada" in listed.stdout and "budget $2.00" in listed.stdout and "iwp_" not in listed.stdout
    assert cli("gateway", "participants", "--db", str(db), "revoke", "p01").returncode == 0
    assert "revoked" in cli("gateway", "participants", "--db", str(db), "list").stdout.splitlines()[2]


def test_the_gateway_needs_the_key_in_its_own_environment(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "OPENAI_API_KEY"}
    run = cli("gateway", "--upstream", "https://api.openai.com/v1", "--db", str(tmp_path / "g.sqlite3"),
              env={**env, "OPENAI_API_KEY": ""})
    assert run.returncode == 2 and "set OPENAI_API_KEY in the gateway's environment" in run.stderr
    run = cli("gateway", "--upstream", "ftp://example.test", env={"OPENAI_API_KEY": "sk-x"})
    assert run.returncode == 2 and "--upstream must be an http(s) URL" in run.stderr


def test_listening_beyond_the_machine_without_tls_warns():
    assert exposure_warning("127.0.0.1", tls=False) is None and exposure_warning("::1", tls=False) is None
    assert exposure_warning("localhost", tls=False) is None
    assert exposure_warning("0.0.0.0", tls=True) is None
    warning = exposure_warning("0.0.0.0", tls=False)
    assert "without TLS" in warning and "reverse proxy" in warning


def test_the_dashboard_api_needs_the_admin_token_and_its_controls_act_at_once(gateway):
    gw = gateway()
    [(alice, alice_token), (bob, bob_token)] = gw.store.add_participants(2, budget_usd=1)
    admin = gw.store.new_admin_token()
    api = gw.origin + "/dashboard/api"
    as_admin = {"Authorization": f"Bearer {admin}"}
    for headers in ({}, {"Authorization": f"Bearer {alice_token}"}, {"Authorization": "Bearer iwa_guess"}):
        r = httpx2.get(api + "/state", headers=headers)
        assert r.status_code == 401 and r.json()["error"]["code"] == "admin_token_required"
    generated = httpx2.post(gw.base_url + "/images/generations", json={"prompt": "a kite", **SMALL},
                            headers={"Authorization": f"Bearer {alice_token}"}, timeout=60)
    assert generated.status_code == 200
    state = httpx2.get(api + "/state", headers=as_admin).json()
    row = state["participants"][0]
    assert (row["label"], row["requests"], row["spent_usd"]) == ("p01", 1, pytest.approx(0.016))
    assert state["recent"][0]["state"] == "settled" and state["totals"]["requests"] == 1
    # the newest image reaches the gallery (thumbnails are made after the participant has the image)
    for _ in range(100):
        state = httpx2.get(api + "/state", headers=as_admin).json()
        if state["images"]:
            break
        time.sleep(0.05)
    [image] = state["images"]
    assert image["label"] == "p01" and image["prompt"] == "a kite"
    thumb = httpx2.get(f"{api}/images/{image['id']}", headers=as_admin)
    assert thumb.headers["content-type"] == "image/jpeg" and thumb.content[:2] == b"\xff\xd8"
    assert httpx2.get(f"{api}/images/{image['id']}").status_code == 401
    # controls
    assert httpx2.post(f"{api}/participants/{bob.id}/budget", json={"budget_usd": "lots"},
                       headers=as_admin).status_code == 400
    assert httpx2.post(f"{api}/participants/{bob.id}/budget", json={"budget_usd": 0.001},
                       headers=as_admin).json() == {"id": bob.id, "budget_usd": 0.001}
    r = httpx2.post(gw.base_url + "/images/generations", json={"prompt": "x", **SMALL},
                    headers={"Authorization": f"Bearer {bob_token}"}, timeout=60)
    assert r.status_code == 429 and r.json()["error"]["code"] == "insufficient_quota"
    httpx2.post(f"{api}/participants/{alice.id}/revoke", json={"revoked": True}, headers=as_admin)
    r = httpx2.post(gw.base_url + "/images/generations", json={"prompt": "x", **SMALL},
                    headers={"Authorization": f"Bearer {alice_token}"}, timeout=60)
    assert r.status_code == 401 and r.json()["error"]["code"] == "token_revoked"
    httpx2.post(f"{api}/pause", json={"paused": True}, headers=as_admin)
    assert httpx2.get(api + "/state", headers=as_admin).json()["paused"] is True
    r = httpx2.post(gw.base_url + "/images/generations", json={"prompt": "x", **SMALL},
                    headers={"Authorization": f"Bearer {bob_token}"}, timeout=60)
    assert r.status_code == 503 and r.json()["error"]["code"] == "class_paused"
    assert httpx2.post(gw.base_url + "/images/generations", json={"prompt": "x", **SMALL},
                       headers=as_admin).status_code == 401      # the admin token is not a participant's


def test_the_upstream_key_never_appears_in_answers_logs_pages_or_files(upstreams, tmp_path):
    """A whole class session through the real command, then every byte it produced is searched."""
    db = tmp_path / "class.sqlite3"
    assert cli("gateway", "participants", "--db", str(db), "add", "2", "--budget-usd", "0.05",
               "--out", str(tmp_path / "class.csv")).returncode == 0
    p01, p02 = [r["token"] for r in csv.DictReader(open(tmp_path / "class.csv", encoding="utf-8"))]
    proc = start_process(["gateway", "--upstream", upstreams["plain"], "--db", str(db), "--port", "0"],
                         env={"OPENAI_API_KEY": UPSTREAM_KEY})
    answers: list[bytes] = []
    try:
        line, base = read_ready_line(proc)
        dash_line = proc.stdout.readline()
        admin = re.search(r"#token=(iwa_\S+)", dash_line).group(1)
        origin = base.removesuffix("/v1")

        def call(method: str, url: str, token: str | None, **kw) -> httpx2.Response:
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            r = httpx2.request(method, url, headers=headers, timeout=60, **kw)
            answers.append(str(r.status_code).encode() + repr(r.headers.multi_items()).encode() + r.content)
            return r

        gen = base + "/images/generations"
        assert call("POST", gen, p01, json={"prompt": "a kite", **SMALL}).status_code == 200
        streamed = call("POST", gen, p01, json={"prompt": "an owl", "model": "gpt-image-1", "quality": "low",
                                                "size": "1024x1024", "stream": True, "partial_images": 1})
        assert b"image_generation.completed" in streamed.content
        assert call("POST", gen, p01, json={"prompt": "x", "model": "gpt-image-1", "quality": "high",
                                             "n": 4}).status_code == 429                   # budget
        assert call("POST", gen, p01, json={"prompt": "x", "model": "gpt-image-1",
                                             "size": "999x999", "quality": "low"}).status_code == 400        # upstream says no
        assert call("POST", gen, "iwp_nobody", json={"prompt": "x"}).status_code == 401
        assert call("POST", gen, None, json={"prompt": "x"}).status_code == 401
        assert call("GET", base + "/responses/resp_x", p02).status_code == 404
        assert call("GET", base + "/batches", p02).status_code == 403               # refused by name
        assert call("POST", gen, p01, content=b"{not json").status_code == 400
        assert call("GET", origin + "/dashboard", None).status_code == 200
        assert call("GET", origin + "/dashboard/api/state", admin).status_code == 200
        assert call("GET", origin + "/dashboard/api/state", p01).status_code == 401
        call("POST", origin + "/dashboard/api/participants/2/revoke", admin, json={"revoked": True})
        assert call("POST", gen, p02, json={"prompt": "x", **SMALL}).status_code == 401
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=20)
    logs = (line + dash_line + out + err).encode()
    assert b"p01 generations dall-e-2: charged $0.0160" in logs              # the teacher's log says what happened
    files = {str(p): p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    assert any(name.endswith("class.sqlite3") for name in files)
    secret_bits = [UPSTREAM_KEY.encode(), UPSTREAM_KEY[-16:].encode()]
    for where, data in [("logs", logs), *(("answer", a) for a in answers), *files.items()]:
        for bit in secret_bits:
            assert bit not in data, f"the upstream key leaked into {where}"
    for name, data in files.items():  # tokens only on the teacher's slips; the store keeps hashes
        if not name.endswith(("class.csv", "class.html")):
            assert p01.encode() not in data and p02.encode() not in data and admin.encode() not in data, name
    assert p01.encode() not in logs and p02.encode() not in logs
