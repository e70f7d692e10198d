"""``session.sweep(..., batch=True)``: a grid as a Batch API job, recorded before it is sent, resumed
after a restart, read into turns line by line, at half price."""

from __future__ import annotations

import json
import time

import pytest

from imagewidgets import BudgetExceededError, Client, ParamError, Session
from imagewidgets.api import batches as api_batches
from imagewidgets.api.batches import Batches, request_line, split_lines
from imagewidgets.api.cost import estimate
from imagewidgets.api.errors import APIConnectionError
from imagewidgets.api.inputs import ImageInput
from imagewidgets.api.requests import EditRequest, GenerateRequest, VariationRequest
from imagewidgets.offline.config import OfflineConfig
from imagewidgets.offline.server import OfflineServer
from imagewidgets.session.batch import BatchJob
from imagewidgets.session.batch_store import BatchRecords
from tests.wire import RecordingTransport

from .fixtures_offline import decode, png

# retired models (dall-e-2/3, gpt-image-1, gpt-image-1.5...) serve here as fixtures of features they
# had; the twin's calendar is tested in test_calendar.py and test_lifecycle.py.
#: real-size pictures (a 1024x1024 PNG ~2.2 MB) from every twin these tests talk to: sweeps and
#: batches store them and must hold paths, not pictures (tests/fixtures_offline.py)
pytestmark = [pytest.mark.calendar_off, pytest.mark.pictures("realistic")]

#: dall-e-2 at 256x256 renders fastest offline; its listed price is $0.016 an image
GRID = {"prompts": ["a red fox", "a blue owl"], "size": "256x256", "model": "dall-e-2", "n": [1, 2]}
LISTED = 0.016


@pytest.fixture
def server(tmp_path):
    with OfflineServer(OfflineConfig.from_env(batch_rate=100, state_dir=str(tmp_path / "server-state"))) as srv:
        yield srv


def _session(server, tmp_path, wire=None, **kw) -> Session:
    client = Client(base_url=server.base_url, transport=wire)
    return Session("grid", folder=tmp_path / "store", client=client, **kw)


def _endpoints(wire) -> list[str]:
    return [f"{c.method} {c.endpoint}" for c in wire.calls]


def test_a_batch_sweep_stores_every_cell_as_a_turn_at_half_price(server, tmp_path):
    wire = RecordingTransport()
    s = _session(server, tmp_path, wire)
    job = s.sweep(**GRID, batch=True, progress=False)
    assert isinstance(job, BatchJob) and job.status in ("validating", "in_progress", "finalizing", "completed")
    sent = _endpoints(wire)
    assert sent == ["POST /files", "POST /batches"]  # no image endpoint is called directly
    uploaded = [json.loads(line) for line in wire.calls[0].body.splitlines() if line.startswith(b'{"custom_id"')]
    assert [u["url"] for u in uploaded] == ["/v1/images/generations"] * 4
    assert json.loads(wire.calls[1].body)["metadata"]["imagewidgets_job"] == job.id
    grid = job.wait(poll_s=0.05).results()
    assert [r["status"] for r in grid.rows] == ["completed"] * 4 and grid.errors == [None] * 4
    assert not any(c.endpoint.startswith("/images") for c in wire.calls)
    assert [r["cost_usd"] for r in grid.rows] == pytest.approx([LISTED / 2, LISTED, LISTED / 2, LISTED])
    assert s.spent_usd == pytest.approx(3 * LISTED) and grid.cost_usd == pytest.approx(3 * LISTED)
    for row, turn in zip(grid.rows, grid.turns):
        assert len(turn.images) == row["n"]
        for img in turn.images:
            assert decode(img.path.read_bytes()).size == (256, 256)
        assert turn.prompt == row["prompt"] and "Batch API" in turn.note
    assert "completed · 4/4 answered, 4 stored" in repr(job)


def test_estimates_use_the_batch_price():
    req = GenerateRequest("a kite", model="gpt-image-1", quality="low", size="1024x1024")
    assert estimate(req, batch=True).usd == pytest.approx(estimate(req).usd / 2)
    assert any("Batch API" in a for a in estimate(req, batch=True).assumptions)


def test_the_budget_refuses_a_batch_that_does_not_fit_before_anything_is_uploaded(server, tmp_path):
    wire = RecordingTransport()
    s = _session(server, tmp_path, wire, budget_usd=0.04)  # the grid needs 6 images x 0.016 / 2 = 0.048
    with pytest.raises(BudgetExceededError):
        s.sweep(**GRID, batch=True, progress=False)
    assert wire.calls == [] and s.batches() == [] and s.remaining_usd == pytest.approx(0.04)


def test_the_budget_holds_the_whole_batch_until_its_answers_are_read_even_after_a_restart(server, tmp_path):
    s = _session(server, tmp_path, budget_usd=1.0)
    job = s.sweep(**GRID, batch=True, progress=False)
    assert s.remaining_usd == pytest.approx(1.0 - 3 * LISTED)
    reopened = _session(server, tmp_path, budget_usd=1.0)  # a new kernel: the job is still outstanding
    assert reopened.remaining_usd == pytest.approx(1.0 - 3 * LISTED)
    reopened.batch(job.id).wait(poll_s=0.05)
    assert reopened.remaining_usd == pytest.approx(1.0 - 3 * LISTED)  # now spent, no longer reserved
    assert reopened.spent_usd == pytest.approx(3 * LISTED)


def test_a_restarted_session_lists_the_job_and_resumes_it(server, tmp_path):
    job = _session(server, tmp_path).sweep(**GRID, batch=True, progress=False)
    later = _session(server, tmp_path)
    assert [j.id for j in later.batches()] == [job.id]
    assert later.batch(job.batch_ids[0]).id == job.id  # the remote batch id finds it too
    grid = later.batch(job.id).wait(poll_s=0.05).results()
    assert [r["status"] for r in grid.rows] == ["completed"] * 4
    assert len(later.turns) == 4 and len({t.id for t in later.turns}) == 4


def test_a_lost_create_answer_adopts_the_batch_instead_of_creating_a_second(server, tmp_path, monkeypatch):
    real_create = Batches.create

    def create_then_lose_the_answer(self, *args, **kwargs):
        real_create(self, *args, **kwargs)
        raise APIConnectionError("could not connect to the API: ReadError")

    monkeypatch.setattr(Batches, "create", create_then_lose_the_answer)
    s = _session(server, tmp_path)
    job = s.sweep(**GRID, batch=True, progress=False)
    remote = [b for b in Client(base_url=server.base_url).batches.list() if b.metadata.get("imagewidgets_job") == job.id]
    assert [b.id for b in remote] == job.batch_ids and len(remote) == 1


def test_a_crash_between_create_and_record_is_resumed_without_a_second_batch(server, tmp_path, monkeypatch):
    real_create = Batches.create

    def create_then_die(self, *args, **kwargs):
        real_create(self, *args, **kwargs)
        raise KeyboardInterrupt  # the kernel is killed before the batch id is recorded

    monkeypatch.setattr(Batches, "create", create_then_die)
    with pytest.raises(KeyboardInterrupt):
        _session(server, tmp_path).sweep(**GRID, batch=True, progress=False)
    monkeypatch.setattr(Batches, "create", real_create)
    later = _session(server, tmp_path)
    (job,) = later.batches()
    assert job.status == "submitting" and job.parts[0].input_file_id and job.parts[0].batch_id is None
    grid = job.wait(poll_s=0.05).results()
    assert [r["status"] for r in grid.rows] == ["completed"] * 4
    remote = [b for b in Client(base_url=server.base_url).batches.list() if b.metadata.get("imagewidgets_job") == job.id]
    assert len(remote) == 1


def test_failed_lines_become_failed_turns_with_the_apis_error(tmp_path):
    with OfflineServer(OfflineConfig.from_env(batch_rate=100, batch_fail_rate=1.0)) as srv:
        s = _session(srv, tmp_path, budget_usd=1.0)
        grid = s.sweep(prompts=["a fox", "something forbidden"], size="256x256", model="dall-e-2",
                       batch=True, progress=False).wait(poll_s=0.05).results()
    assert [r["status"] for r in grid.rows] == ["failed", "failed"]
    assert all("ServerError" in r["error"] and "fail rate" in r["error"] for r in grid.rows)
    assert s.spent_usd == 0 and s.remaining_usd == pytest.approx(1.0)  # nothing paid, nothing held


def test_a_moderated_line_is_a_failed_cell_beside_the_others(server, tmp_path):
    s = _session(server, tmp_path)
    grid = s.sweep(prompts=["a fox", "something forbidden"], size="256x256", model="dall-e-2",
                   batch=True, progress=False).wait(poll_s=0.05).results()
    assert [r["status"] for r in grid.rows] == ["completed", "failed"]
    assert "moderation_blocked" in grid.rows[1]["error"] or "ModerationError" in grid.rows[1]["error"]


def test_cancel_keeps_what_finished_and_marks_the_rest_not_run(tmp_path):
    with OfflineServer(OfflineConfig.from_env(batch_rate=3)) as srv:
        s = _session(srv, tmp_path)
        job = s.sweep(prompts=[f"fox {i}" for i in range(8)], size="256x256", model="dall-e-2",
                      batch=True, progress=False)
        deadline = time.monotonic() + 60
        while job.refresh().summary()["answered"] < 1 and time.monotonic() < deadline:
            time.sleep(0.02)
        grid = job.cancel().wait(poll_s=0.05).results()
    statuses = [r["status"] for r in grid.rows]
    assert job.status == "cancelled" and "completed" in statuses and "failed" in statuses
    assert all("not run: the batch was cancelled" in r["error"] for r in grid.rows if r["status"] == "failed")


def test_a_sweep_above_the_per_file_limit_is_split_into_several_batches(server, tmp_path, monkeypatch):
    monkeypatch.setattr(api_batches, "MAX_REQUESTS_PER_FILE", 2)
    s = _session(server, tmp_path)
    job = s.sweep(prompts=["a", "b", "c", "d", "e"], size="256x256", model="dall-e-2", batch=True, progress=False)
    assert len(job.parts) == 3 and len(set(job.batch_ids)) == 3
    assert [r["status"] for r in job.wait(poll_s=0.05).results().rows] == ["completed"] * 5


def test_split_lines_keeps_each_part_within_both_limits():
    assert split_lines([10] * 5, max_requests=2, max_bytes=1000) == [range(0, 2), range(2, 4), range(4, 5)]
    assert split_lines([60, 50, 30, 80], max_requests=10, max_bytes=100) == [range(0, 1), range(1, 3), range(3, 4)]
    with pytest.raises(ParamError):
        split_lines([200], max_bytes=100)


def test_request_lines_carry_edits_as_json_with_file_ids_and_refuse_bytes():
    edit = EditRequest("add a hat", images=[ImageInput.coerce("file-abc123")], model="gpt-image-1.5")
    line = json.loads(request_line("c1", edit))
    assert line["url"] == "/v1/images/edits" and line["body"]["images"] == [{"file_id": "file-abc123"}]
    with pytest.raises(ParamError, match="file ids or URLs"):
        request_line("c2", EditRequest("add a hat", images=[png()], model="gpt-image-1.5"))
    with pytest.raises(ParamError, match="batchable"):
        request_line("c3", VariationRequest(png(256, 256)))


def test_cells_already_stored_are_replayed_and_not_sent_again(server, tmp_path):
    s = _session(server, tmp_path)
    s.sweep(**GRID, batch=True, progress=False).wait(poll_s=0.05)
    wire = RecordingTransport()
    again = _session(server, tmp_path, wire).sweep(**GRID, batch=True, progress=False)
    assert wire.calls == [] and again.done and again.status == "completed"
    assert [r["status"] for r in again.results().rows] == ["replayed"] * 4
    direct = _session(server, tmp_path, wire)
    direct.imagine("a blue owl", model="dall-e-2", size="256x256", n=2)  # a batch cell, asked for directly
    assert wire.calls == [] and direct.turns[-1].status == "replayed"


def test_reading_the_output_again_stores_nothing_twice(server, tmp_path):
    s = _session(server, tmp_path)
    job = s.sweep(**GRID, batch=True, progress=False).wait(poll_s=0.05)
    images = sum(len(s.store.image_rows(t.id)) for t in s.turns)
    BatchRecords(s.store).set_part(job.id, 0, read=0)
    job.refresh()
    assert len(s.store.turns("grid")) == 4 and sum(len(s.store.image_rows(t.id)) for t in s.turns) == images == 6


def test_the_job_shows_its_progress_as_text_and_html(server, tmp_path, capsys):
    s = _session(server, tmp_path)
    job = s.sweep(**GRID, batch=True)  # progress on, no kernel: a text line
    assert f"batch job {job.id}:" in capsys.readouterr().out
    job.wait(poll_s=0.05)
    assert "<progress value='4' max='4'" in job._repr_html_() and "half price" in job._repr_html_()


def test_batched_edits_upload_each_image_once_and_replay_like_direct_edits(server, tmp_path):
    wire = RecordingTransport()
    s = _session(server, tmp_path, wire)
    source = s.run(GenerateRequest("a plain teapot", model="dall-e-2", size="256x256"))
    edits = dict(prompts=["add a red hat", "add a blue scarf"], image=source, model="gpt-image-1.5",
                 quality="low", size="1024x1024", batch=True, progress=False)
    wire.calls.clear()
    grid = s.sweep(**edits).wait(poll_s=0.05).results()
    assert [r["status"] for r in grid.rows] == ["completed", "completed"]
    assert [t.kind for t in grid.turns] == ["edit", "edit"] and {t.parent_id for t in grid.turns} == {source.id}
    uploads = [c for c in wire.calls if c.endpoint == "/files" and c.method == "POST"]
    assert len(uploads) == 2 and b'name="purpose"\r\n\r\nvision' in uploads[0].body  # the image once, then the JSONL
    lines = [json.loads(line) for line in uploads[1].body.splitlines() if line.startswith(b'{"custom_id"')]
    assert {line["url"] for line in lines} == {"/v1/images/edits"}
    file_ids = {line["body"]["images"][0]["file_id"] for line in lines}
    assert len(file_ids) == 1 and file_ids.pop().startswith("file-")
    wire.calls.clear()
    s.sweep(**{**edits, "prompts": ["add a green bow"]}).wait(poll_s=0.05)
    assert sum(c.endpoint == "/files" and c.method == "POST" for c in wire.calls) == 1  # only the JSONL: id reused
    wire.calls.clear()
    replayed = s.edit("add a red hat", image=source, model="gpt-image-1.5", quality="low", size="1024x1024", api="images")
    assert wire.calls == [] and s.turns[-1].status == "replayed" and replayed.path is not None


def test_a_finished_job_holds_paths_not_pictures_in_memory(server, tmp_path):
    s = _session(server, tmp_path)
    grid = s.sweep(**GRID, batch=True, progress=False).wait(poll_s=0.05).results()
    grid._repr_html_()
    assert all(t._images is None for t in s.turns)  # every image read from disk when asked, then let go
    assert all(row["path"] and decode(open(row["path"], "rb").read()) for row in grid.rows)
    assert [len(t.images) for t in grid.turns] == [1, 2, 1, 2]  # and still there when asked


def test_odd_output_lines_are_read_as_failures_never_as_crashes():
    from imagewidgets.api.batches import OutputLine

    for bad in ('[1, 2]', '"text"', 'not json'):
        with pytest.raises(ValueError):
            OutputLine.parse(bad)
    odd = OutputLine.parse('{"custom_id": 5, "response": {"status_code": "200", "body": []}, "error": "boom"}')
    assert (odd.custom_id, odd.status_code, odd.body, odd.error, odd.ok) == ("5", None, {}, None, False)
    assert "status None" in odd.message
