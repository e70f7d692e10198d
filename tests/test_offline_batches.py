"""The offline backend's Files and Batch APIs: real input files, a background worker at a set pace,
output and error files in the API's line format, faults, cancellation, and restarts."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from imagewidgets import Client
from imagewidgets.api.batches import OutputLine
from imagewidgets.api.errors import BadRequestError, NotFoundError
from imagewidgets.offline.cli import build_parser, config_from_args
from imagewidgets.offline.config import OfflineConfig
from imagewidgets.offline.server import OfflineServer

from .fixtures_offline import decode

# retired models (dall-e-2/3, gpt-image-1, gpt-image-1.5...) serve here as fixtures of features they
# had; the twin's calendar is tested in test_calendar.py and test_lifecycle.py
pytestmark = pytest.mark.calendar_off

_WAIT_S = 60


def _line(cid: str, prompt: str = "a small red fox", url: str = "/v1/images/generations") -> dict:
    return {"custom_id": cid, "method": "POST", "url": url,
            "body": {"model": "dall-e-2", "prompt": prompt, "size": "256x256", "response_format": "b64_json"}}


def _jsonl(lines: list[dict]) -> bytes:
    return b"".join(json.dumps(line).encode() + b"\n" for line in lines)


def _submit(client: Client, lines: list[dict]):
    f = client.files.upload(_jsonl(lines), filename="in.jsonl", purpose="batch")
    return client.batches.create(f.id, "/v1/images/generations", metadata={"who": "test"})


def _until(client: Client, batch_id: str, pred, timeout: float = _WAIT_S):
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        b = client.batches.retrieve(batch_id)
        if not seen or seen[-1] != b.status:
            seen.append(b.status)
        if pred(b):
            return b, seen
        time.sleep(0.05)
    raise AssertionError(f"batch {batch_id} stayed {seen}")


def _ended(b) -> bool:
    return b.terminal


def _lines(client: Client, file_id: str | None) -> list[OutputLine]:
    return [OutputLine.parse(raw) for raw in client.files.lines(file_id)] if file_id else []


@pytest.fixture
def server():
    with OfflineServer(OfflineConfig(batch_rate=50)) as srv:
        yield srv


def test_a_batch_runs_through_the_api_statuses_and_writes_its_output_file(server):
    client = Client(base_url=server.base_url)
    batch = _submit(client, [_line("a"), _line("b", "a blue owl")])
    assert batch.status == "validating" and batch.metadata == {"who": "test"}
    done, seen = _until(client, batch.id, _ended)
    order = ["validating", "in_progress", "finalizing", "completed"]
    assert done.status == "completed" and [order.index(st) for st in seen] == sorted(order.index(st) for st in seen)
    assert (done.request_counts.total, done.request_counts.completed, done.request_counts.failed) == (2, 2, 0)
    assert done.error_file_id is None
    out = _lines(client, done.output_file_id)
    assert sorted(o.custom_id for o in out) == ["a", "b"]
    for o in out:
        assert o.ok and o.status_code == 200 and o.request_id.startswith("req_")
        assert decode(o.body["data"][0]["b64_json"]).size == (256, 256)
    raw = json.loads(client.files.content(done.output_file_id).splitlines()[0])
    assert set(raw) == {"id", "custom_id", "response", "error"} and raw["id"].startswith("batch_req_")
    info = client.files.retrieve(done.output_file_id)
    assert info.purpose == "batch_output" and info.bytes == len(client.files.content(done.output_file_id))


def test_a_share_of_lines_fail_into_the_error_file_with_the_apis_error(offline_server):
    client = Client(base_url=offline_server(batch_fail_rate=0.5, seed=3).base_url)
    lines = [_line(f"c{i}") for i in range(6)] + [_line("blocked", "something forbidden")]
    done, _ = _until(client, _submit(client, lines).id, _ended)
    ok, bad = _lines(client, done.output_file_id), _lines(client, done.error_file_id)
    assert done.status == "completed"
    assert (done.request_counts.completed, done.request_counts.failed) == (len(ok), len(bad)) == (3, 4)
    # the draw depends on the seed and the custom_id only: the same lines fail on every run
    assert sorted(o.custom_id for o in ok) == ["c2", "c3", "c4"]
    failures = {o.custom_id: (o.status_code, o.body["error"]) for o in bad}
    assert {cid: code for cid, (code, _) in failures.items()} == {"c0": 500, "c1": 500, "c5": 500, "blocked": 400}
    assert "fail rate" in failures["c0"][1]["message"] and failures["blocked"][1]["code"] == "moderation_blocked"


def test_moderation_blocks_a_line_not_the_batch(server):
    client = Client(base_url=server.base_url)
    done, _ = _until(client, _submit(client, [_line("ok"), _line("no", "forbidden words")]).id, _ended)
    bad = _lines(client, done.error_file_id)
    assert [(o.custom_id, o.status_code, o.body["error"]["code"]) for o in bad] == [("no", 400, "moderation_blocked")]


def test_an_input_file_that_breaks_the_rules_fails_the_batch_with_line_numbers(server):
    client = Client(base_url=server.base_url)
    lines = [_line("a"), _line("a"), _line("b", url="/v1/images/edits")]
    failed, _ = _until(client, _submit(client, lines).id, _ended)
    assert failed.status == "failed" and failed.output_file_id is None
    assert {(e["line"], e["code"]) for e in failed.errors} == {(2, "duplicate_custom_id"), (3, "mismatched_endpoint")}


def test_wrong_batch_requests_are_clear_4xx_answers(server):
    client = Client(base_url=server.base_url, max_retries=0)
    image_file = client.files.upload(b"{}\n", filename="x.jsonl", purpose="user_data")
    with pytest.raises(BadRequestError, match="purpose 'batch'"):
        client.batches.create(image_file.id, "/v1/images/generations")
    with pytest.raises(NotFoundError):
        client.batches.create("file-nope", "/v1/images/generations")
    with pytest.raises(NotFoundError):
        client.batches.retrieve("batch_nope")
    http = client.http
    bad = http.post("/batches", json={"input_file_id": image_file.id, "endpoint": "/v1/chat/completions",
                                      "completion_window": "24h"})
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "endpoint"
    bad = http.post("/batches", json={"input_file_id": image_file.id, "endpoint": "/v1/images/generations",
                                      "completion_window": "1h"})
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "completion_window"
    assert http.get("/batches", params={"limit": "0"}).status_code == 400
    assert http.get("/files", params={"order": "sideways"}).status_code == 400


def test_cancel_stops_a_running_batch_and_keeps_what_finished(offline_server):
    client = Client(base_url=offline_server(batch_rate=4).base_url)
    batch = _submit(client, [_line(f"c{i}") for i in range(8)])
    _until(client, batch.id, lambda b: b.request_counts.completed >= 1)
    assert client.batches.cancel(batch.id).status == "cancelling"
    done, seen = _until(client, batch.id, _ended)
    assert done.status == "cancelled" and done.raw["cancelled_at"] and seen[-1] == "cancelled"
    out = _lines(client, done.output_file_id)
    assert 1 <= len(out) < 8 and len(out) == done.request_counts.completed
    with pytest.raises(BadRequestError, match="Cannot cancel"):
        Client(base_url=client.base_url, max_retries=0).batches.cancel(batch.id)


def test_a_batch_carries_on_after_a_serve_restart_with_a_state_dir(tmp_path):
    state = tmp_path / "state"
    with OfflineServer(OfflineConfig(batch_rate=5, state_dir=str(state))) as first:
        client = Client(base_url=first.base_url)
        batch = _submit(client, [_line(f"c{i}") for i in range(6)])
        _until(client, batch.id, lambda b: b.request_counts.completed >= 2)
    rec = json.loads((state / "batches" / f"{batch.id}.json").read_text())
    assert rec["status"] == "in_progress"
    with open(state / "files" / f"{rec['_output_file']}.bin", "ab") as f:
        f.write(b'{"id": "batch_req_torn", "custom_id": "c5", "resp')  # a line cut by the crash
    with OfflineServer(OfflineConfig(batch_rate=50, state_dir=str(state))) as second:
        client = Client(base_url=second.base_url)
        done, _ = _until(client, batch.id, _ended)
        out = _lines(client, done.output_file_id)
    assert done.status == "completed" and done.request_counts.completed == 6
    assert sorted(o.custom_id for o in out) == [f"c{i}" for i in range(6)]  # each line once


def test_files_are_listed_retrieved_read_and_deleted(server):
    client = Client(base_url=server.base_url)
    a = client.files.upload(b'{"x": 1}\n', filename="a.jsonl", purpose="batch")
    b = client.files.upload(b'{"y": 2}\n', filename="b.jsonl", purpose="user_data")
    assert {f.id for f in client.files.list()} >= {a.id, b.id}
    assert [f.id for f in client.files.list(purpose="batch")] == [a.id]
    assert client.files.retrieve(a.id).filename == "a.jsonl"
    assert client.files.content(a.id) == b'{"x": 1}\n'
    assert client.files.delete(a.id) is True
    with pytest.raises(NotFoundError):
        Client(base_url=server.base_url, max_retries=0).files.retrieve(a.id)


def test_serve_takes_a_batch_rate_per_second():
    args = build_parser().parse_args(["--batch-rate", "20/s", "--batch-fail-rate", "0.1"])
    config = config_from_args(args)
    assert (config.batch_rate, config.batch_fail_rate) == (20.0, 0.1)
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--batch-rate", "fast"])
