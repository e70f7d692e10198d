"""The class waits in line instead of failing (issue 29): an upstream with an images-per-minute limit
(``imagewidgets serve --images-per-minute``, a compressed minute) behind the gateway's fair queue."""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx2
import openai
import pytest

from imagewidgets.gateway import ClassRules, GatewayServer
from imagewidgets.gateway.queue import KeyLimits
from tests.gateway_fixtures import UPSTREAM_KEY, read_ready_line, start_process

pytestmark = pytest.mark.timeout(180)

IMAGE = {"model": "gpt-image-2", "size": "256x256", "quality": "low"}
WINDOW_S = 5.0  # the upstream's "minute": longer than the class takes to get in line on a busy machine


@pytest.fixture(scope="module")
def limited_upstream():
    """``imagewidgets serve --images-per-minute N --rate-window S`` requiring the teacher's key, one per
    (N, S): each test uses its own, so no test meets a window another one filled."""
    procs = {}

    def start(images: int = 20, window: float = WINDOW_S) -> str:
        if (images, window) not in procs:
            proc = start_process(["serve", "--port", "0", "--quiet", "--require-api-key", UPSTREAM_KEY,
                                  "--images-per-minute", str(images), "--rate-window", str(window)])
            procs[(images, window)] = (proc, read_ready_line(proc)[1])
        return procs[(images, window)][1]

    yield start
    for proc, _ in procs.values():
        proc.terminate()
        proc.communicate(timeout=10)


def _gateway(tmp_path, upstream: str, limits: KeyLimits, name: str = "g") -> GatewayServer:
    return GatewayServer(upstream, api_key=UPSTREAM_KEY, db=tmp_path / f"{name}.sqlite3", key_limits=limits,
                         rules=ClassRules(requests_per_minute=None, concurrent=None)).start()


def _sdk(gw: GatewayServer, token: str) -> openai.OpenAI:
    # max_retries=0: a 429 would raise here, so none may reach the participant
    return openai.OpenAI(base_url=gw.base_url, api_key=token, max_retries=0, timeout=120)


def _fill_the_window(gw: GatewayServer) -> None:
    """The teacher's demo just used the key's 20 images: the class's burst meets a full window (so the
    whole class is in line before the first room appears, and "at every point" covers everyone)."""
    [(_, teacher)] = gw.store.add_participants(1, budget_usd=10, prefix="teacher")
    sdk = _sdk(gw, teacher)
    with ThreadPoolExecutor(max_workers=2) as pool:
        demos = list(pool.map(lambda _: sdk.images.generate(prompt="a demo kite", n=10, **IMAGE), range(2)))
    assert [len(d.data) for d in demos] == [10, 10]


def _ask(sdk: openai.OpenAI, k: int) -> str:
    if k == 0:  # one of each participant's two requests streams, through the official SDK unchanged
        events = [e.type for e in sdk.images.generate(prompt="a paper boat", stream=True, partial_images=1,
                                                       **IMAGE)]
        assert events[-1] == "image_generation.completed"
        return "streamed"
    raw = sdk.images.with_raw_response.generate(prompt="a lighthouse", **IMAGE)
    assert len(raw.parse().data) == 1
    return raw.headers.get("x-imagewidgets-queue", "")


@pytest.mark.parametrize("told", [True, False], ids=["teacher-set-limit", "limit-learned-from-headers"])
def test_forty_participants_asking_two_images_each_wait_in_a_fair_line_and_none_sees_a_429(
        limited_upstream, tmp_path, told):
    window = WINDOW_S if told else WINDOW_S + 0.5  # its own upstream: no window the other case filled
    upstream = limited_upstream(20, window)
    limits = KeyLimits(images_per_minute=20 if told else None, window_s=window, max_wait_s=120)
    with _gateway(tmp_path, upstream, limits) as gw:
        queue = gw.app.state.gateway.queue
        class_ = gw.store.add_participants(40, budget_usd=5)
        ids = {who.id for who, _ in class_}
        clients = [(_sdk(gw, token), k) for _, token in class_ for k in (0, 1)]
        ready = threading.Barrier(len(clients) + 1)

        def ask(client_k):
            ready.wait()  # everyone asks at once
            return _ask(*client_k)

        with ThreadPoolExecutor(max_workers=len(clients)) as pool:
            asked = [pool.submit(ask, ck) for ck in clients]
            _fill_the_window(gw)
            assert queue.limits() == {"images": 20}  # set by the teacher, or learned from x-ratelimit-*-images
            ready.wait()
            answers = [a.result() for a in asked]  # raises if any request failed
        assert len(answers) == 80
        # the line formed: most requests waited, and the answers that did not stream say so
        assert len([a for a in answers if a.startswith("waited=")]) >= 30
        # every participant had both images, and every ledger row was settled
        rows = [r for r in gw.store.ledger() if r["participant_id"] in ids]
        assert len(rows) == 80 and {r["state"] for r in rows} == {"settled"}
        # fairness at every point: the order the line let requests go to the upstream (429s undone)
        served = dict.fromkeys(ids, 0)
        order = [pid for pid in queue.dispatched if pid in ids]
        assert len(order) == 80
        for step, pid in enumerate(order):
            served[pid] += 1
            assert max(served.values()) - min(served.values()) <= 1, f"unfair after {step + 1} requests"


def test_an_upstream_429_goes_back_in_line_and_never_reaches_the_participant(limited_upstream, tmp_path):
    """The gateway knows no limit: the upstream's 429 (limit 1 image per 1.5 s) teaches it, and the
    refused request is sent again when the upstream said, the participant seeing only a wait."""
    upstream = limited_upstream(1, 1.5)
    with _gateway(tmp_path, upstream, KeyLimits(window_s=1.5), "learn") as gw:
        queue = gw.app.state.gateway.queue
        tokens = [token for _, token in gw.store.add_participants(3, budget_usd=5)]
        with ThreadPoolExecutor(max_workers=3) as pool:
            answers = list(pool.map(lambda t: _ask(_sdk(gw, t), 1), tokens))
        assert len(answers) == 3
        assert queue.upstream_429s >= 1 and queue.learned == {"images": 1}
        assert [r["state"] for r in gw.store.ledger()] == ["settled"] * 3


def test_a_wait_beyond_max_wait_is_a_429_that_names_the_wait_and_sends_nothing(limited_upstream, tmp_path):
    upstream = limited_upstream(1, 30)
    with _gateway(tmp_path, upstream, KeyLimits(images_per_minute=1, window_s=30, max_wait_s=5), "long") as gw:
        [(first, a), (second, b)] = gw.store.add_participants(2, budget_usd=5)
        _ask(_sdk(gw, a), 1)
        started = time.monotonic()
        with pytest.raises(openai.RateLimitError) as err:
            _sdk(gw, b).images.generate(prompt="a fox", **IMAGE)
        assert time.monotonic() - started < 5  # refused at once, not after waiting in vain
        body = err.value.body
        assert body["code"] == "queue_wait_too_long" and body["type"] == "requests"
        assert "1st in line" in body["message"] and "at most 5 s" in body["message"]
        assert err.value.response.headers["x-should-retry"] == "false"
        assert 20 <= int(err.value.response.headers["retry-after"]) <= 30
        assert gw.store.spent(second.id) == 0 and gw.store.ledger(second.id)[0]["state"] == "released"
        assert gw.app.state.gateway.queue.upstream_429s == 0  # nothing was sent to be refused


def test_a_waiting_stream_says_its_place_before_the_first_frame(limited_upstream, tmp_path):
    upstream = limited_upstream(1, 5)  # long enough that the first request surely still holds it
    with _gateway(tmp_path, upstream, KeyLimits(images_per_minute=1, window_s=5), "place") as gw:
        [(_, a), (_, b)] = gw.store.add_participants(2, budget_usd=5)
        _ask(_sdk(gw, a), 1)
        lines = []
        with httpx2.stream("POST", gw.base_url + "/images/generations", timeout=60,
                           headers={"Authorization": f"Bearer {b}"},
                           json={"prompt": "an owl", "stream": True, "partial_images": 1, **IMAGE}) as r:
            assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
            for line in r.iter_lines():
                lines.append(line)
    comments = [line for line in lines if line.startswith(": imagewidgets.queue {")]
    first_frame = next(i for i, line in enumerate(lines) if line.startswith("data:"))
    assert comments and lines.index(comments[0]) < first_frame
    said = json.loads(comments[0].split(" ", 2)[2])
    assert said["position"] == 1 and 1 <= said["eta_s"] <= 5 and said["text"].startswith("1st in line, about")
    assert '"image_generation.completed"' in lines[-1] or any("completed" in line for line in lines)


def test_the_package_shows_its_place_in_line_before_the_first_frame(limited_upstream, tmp_path):
    """``imagewidgets``' stream yields a ``QueueEvent`` ("1st in line, about 2 s") before the frames, and
    the live canvas (the magics' and the studio's) says it on its label."""
    from imagewidgets import Client
    from imagewidgets.api.results import QueueEvent
    from imagewidgets.widgets.live import LiveImage

    upstream = limited_upstream(1, 5.5)
    with _gateway(tmp_path, upstream, KeyLimits(images_per_minute=1, window_s=5.5), "shown") as gw:
        [(_, a), (_, b)] = gw.store.add_participants(2, budget_usd=5)
        _ask(_sdk(gw, a), 1)
        live, labels = LiveImage(tick_s=None), []
        live.start()
        client = Client(base_url=gw.base_url, api_key=b, save_dir=None, max_retries=0)
        events = []
        with client.generate("an owl", stream=True, partial_images=1, **IMAGE) as stream:
            for event in stream:
                events.append(event)
                live.on_event(event)
                labels.append(live.label.value)
    kinds = [e.type for e in events]
    assert kinds[0] == "queue" and kinds[-1] == "completed" and "partial_image" in kinds
    first = events[0]
    assert isinstance(first, QueueEvent) and first.position == 1 and first.text.startswith("1st in line, about ")
    assert labels[0].startswith("1st in line, about ")
    assert labels[kinds.index("partial_image")].startswith("partial 1 of 1")


def _dashboard(gw: GatewayServer, admin: str) -> dict:
    r = httpx2.get(gw.origin + "/dashboard/api/state", headers={"Authorization": f"Bearer {admin}"}, timeout=30)
    assert r.status_code == 200
    return r.json()


def test_the_dashboard_shows_the_line_its_waits_and_the_limits_learned(limited_upstream, tmp_path):
    upstream = limited_upstream(1, 6)
    with _gateway(tmp_path, upstream, KeyLimits(window_s=6), "teacher") as gw:
        admin = gw.store.new_admin_token()
        [(_, a), (_, b)] = gw.store.add_participants(2, budget_usd=5)
        _ask(_sdk(gw, a), 1)  # the upstream's headers: 1 image per window, none left
        with ThreadPoolExecutor(max_workers=1) as pool:
            waiting = pool.submit(_ask, _sdk(gw, b), 1)
            seen = None
            for _ in range(250):  # until p02's request is in line (it is, within a few ms)
                seen = _dashboard(gw, admin)["line"]
                if seen["waiting"]:
                    break
                time.sleep(0.02)
            assert waiting.result().startswith("waited=")
        after = _dashboard(gw, admin)["line"]
    assert seen["waiting"][0]["label"] == "p02" and seen["waiting"][0]["position"] == 1
    assert 0 < seen["waiting"][0]["eta_s"] <= 6
    assert seen["learned"] == {"images": 1} and seen["limits"] == {"images": 1} and seen["set"] == {}
    assert after["waiting"] == [] and after["waits"]["count"] == 1 and after["waits"]["longest_s"] > 0


def test_moderation_refusals_reach_the_participant_explained_and_the_dashboard_per_participant(tmp_path):
    from imagewidgets import Client, ModerationError
    from imagewidgets.api.refusals import REFUSED

    REFUSED.forget()
    with GatewayServer("offline", db=tmp_path / "m.sqlite3",
                       rules=ClassRules(requests_per_minute=None, concurrent=None)) as gw:
        admin = gw.store.new_admin_token()
        [(who, token), (other, _)] = gw.store.add_participants(2, budget_usd=5)
        client = Client(base_url=gw.base_url, api_key=token, save_dir=None, max_retries=0)
        stages = []
        for prompt, stream in (("a forbidden kite", False), ("a field of bloodshed", True)):
            with pytest.raises(ModerationError) as err:
                out = client.respond(prompt, quality="low", size="1024x1024", stream=stream)
                if stream:
                    list(out)
            stages.append(err.value.stage)
        with pytest.raises(ModerationError):
            client.generate("a forbidden kite", model="gpt-image-2", quality="low", size="256x256")
        state = _dashboard(gw, admin)
    REFUSED.forget()
    assert stages == ["input", "output"]
    rows = {p["label"]: p for p in state["participants"]}
    refused = rows[who.label]["moderation"]
    assert [(m["stage"], m["categories"], m["endpoint"]) for m in reversed(refused)] == [
        ("input", ["offline-test-word"], "responses"), ("output", ["offline-test-word"], "responses"),
        (None, [], "generations")]
    assert rows[other.label]["moderation"] == []


# ---------------------------------------------------------------- the line itself, in process


def test_the_line_serves_participants_round_robin_and_a_newcomer_does_not_wait_behind_a_burst():
    import asyncio

    from imagewidgets.gateway.queue import FairQueue

    async def main() -> list[str]:
        line = FairQueue(lambda: KeyLimits(images_per_minute=1, window_s=0.05))
        went: list[str] = []

        async def ask(who: str, pid: int) -> None:
            await line.wait(line.ticket(pid, who))
            went.append(who)

        first = asyncio.ensure_future(ask("a1", 1))  # takes the window
        await asyncio.sleep(0)
        burst = [asyncio.ensure_future(ask(f"a{k}", 1)) for k in (2, 3, 4)]  # a's burst waits ...
        await asyncio.sleep(0)
        others = [asyncio.ensure_future(ask("b1", 2)), asyncio.ensure_future(ask("c1", 3))]  # ... b and c come
        await asyncio.gather(first, *burst, *others)
        return went

    # a was served once already: b and c, who were not, go before a's next ones
    assert asyncio.run(main()) == ["a1", "b1", "c1", "a2", "a3", "a4"]


def test_reset_durations_read_as_the_api_writes_them():
    from imagewidgets.gateway.queue import parse_duration

    assert [parse_duration(v) for v in ("1s", "6m0s", "0.5s", "120ms", "1h2m3.5s", "2.5", "soon", None)] == [
        1.0, 360.0, 0.5, 0.12, 3723.5, 2.5, None, None]


def test_a_participant_who_leaves_the_line_is_not_charged_and_nothing_is_sent_for_them(limited_upstream, tmp_path):
    upstream = limited_upstream(1, 31)
    with _gateway(tmp_path, upstream, KeyLimits(images_per_minute=1, window_s=31, max_wait_s=60), "leave") as gw:
        [(_, a), (who, b)] = gw.store.add_participants(2, budget_usd=5)
        _ask(_sdk(gw, a), 1)
        queue = gw.app.state.gateway.queue
        with httpx2.stream("POST", gw.base_url + "/images/generations", timeout=60,
                           headers={"Authorization": f"Bearer {b}"},
                           json={"prompt": "an owl", "stream": True, **IMAGE}) as r:
            assert next(r.iter_lines()).startswith(": imagewidgets.queue {")  # in line ...
        for _ in range(200):  # ... and gone: the gateway notices the closed connection
            if not queue.snapshot()["waiting"] and gw.store.ledger(who.id)[0]["state"] == "released":
                break
            time.sleep(0.02)
        assert queue.snapshot()["waiting"] == [] and gw.store.ledger(who.id)[0]["state"] == "released"
        assert gw.store.spent(who.id) == 0 and list(queue.dispatched).count(who.id) == 0
