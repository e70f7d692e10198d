"""LiveImage, headless, against the offline backend: frames in order, labels, the final image's
bytes, cancelling mid-stream (a slowed offline server), errors."""

from __future__ import annotations

import re
import threading
from pathlib import Path

import pytest

from imagewidgets.api.client import Client
from imagewidgets.api.errors import ParamError
from imagewidgets.offline.config import OfflineConfig
from imagewidgets.offline.server import OfflineServer
from imagewidgets.session.session import Session
from imagewidgets.widgets import LiveImage


@pytest.fixture
def session():
    return Session("live-tests")


@pytest.fixture(scope="module")
def slow_server():
    """Frames 0.3 s apart: time enough to cancel between two of them."""
    with OfflineServer(OfflineConfig(partial_interval_s=0.3)) as server:
        yield server


def record(live: LiveImage) -> list[tuple[str, bytes]]:
    """(label without the elapsed time, image bytes) each time the label changes."""
    seen: list[tuple[str, bytes]] = []

    def on_label(change):
        text = re.sub(r" · [\d.]+ s$", "", change["new"])
        if not seen or seen[-1][0] != text:
            seen.append((text, live.image.value))

    live.label.observe(on_label, names=["value"])
    return seen


def test_frames_show_in_order_with_partial_k_of_n_then_the_stored_final_image(session):
    live = LiveImage(tick_s=None)
    seen = record(live)
    events = []

    def on_event(event):
        events.append(event)
        live.on_event(event)

    live.run(session.imagine, "a fox in the snow", partial_images=3, model="gpt-image-1.5", on_event=on_event)
    result = live.wait(60)

    partials = [e for e in events if e.type == "partial_image"]
    assert [text for text, _ in seen if text.startswith("partial")] == ["partial 1 of 3", "partial 2 of 3",
                                                                        "partial 3 of 3"]
    assert [frame for text, frame in seen if text.startswith("partial")] == [e.data for e in partials]
    assert len({e.data for e in partials}) == 3  # three different frames, each replacing the last
    assert live.status == "done" and seen[-1][0].startswith("final · 1024x1024 png")
    assert live.image.value == Path(result.path).read_bytes()
    assert session.current.status == "completed" and session.current.image.path == result.path


def test_frames_reach_the_widget_as_the_bytes_they_arrived_in(session):
    live = LiveImage(tick_s=None)
    live.run(session.imagine, "a blue kite", partial_images=1, model="gpt-image-1.5", output_format="webp")
    result = live.wait(60)
    assert live.image.format == "webp" and result.format == "webp"
    assert live.image.value == result.data


def test_on_event_works_as_a_plain_session_callback(session):
    live = LiveImage(tick_s=None)
    result = session.imagine("a green door", partial_images=2, model="gpt-image-1.5", on_event=live.on_event)
    assert live.frame == 2 and live.total == 2
    assert live.image.value == Path(result.path).read_bytes()


def test_watch_calls_a_session_method_by_name(session):
    live = LiveImage(tick_s=None)
    live.watch(session, "imagine", "a lighthouse", partial_images=1, model="gpt-image-1.5")
    first = live.wait(60)
    live.watch(session, "edit", "make it night", partial_images=1, model="gpt-image-1.5")
    edited = live.wait(60)
    assert live.image.value == Path(edited.path).read_bytes()
    assert session.current.parent_id == session.turns[0].id and first.path != edited.path


def test_cancel_keeps_the_newest_frame_and_stores_it(slow_server):
    session = Session("cancel", client=Client(base_url=slow_server.base_url))
    live = LiveImage(tick_s=None)
    first_frame = threading.Event()
    live.observe(lambda change: change["new"] >= 1 and first_frame.set(), names=["frame"])

    live.run(session.imagine, "a slow sunrise", partial_images=3, model="gpt-image-1.5")
    assert first_frame.wait(30)
    live.cancel_button.click()
    result = live.wait(30)

    turn = session.turns[-1]
    assert live.status == "cancelled" and turn.status == "cancelled"
    assert live.frame < 3 and live.label.value.startswith(f"cancelled · kept partial {live.frame} of 3")
    assert result.partial and Path(result.path).read_bytes() == live.image.value
    assert live.cancel_button.disabled


def test_a_failed_request_says_why_in_the_label_and_the_future(session):
    live = LiveImage(tick_s=None)
    future = live.run(session.imagine, "", model="gpt-image-1.5")
    with pytest.raises(ParamError):
        live.wait(30)
    assert isinstance(future.exception(), ParamError)
    assert live.status == "failed" and live.label.value.startswith("failed · ParamError: prompt=")


def test_a_second_run_while_one_is_running_is_refused(slow_server):
    session = Session("busy", client=Client(base_url=slow_server.base_url))
    live = LiveImage(tick_s=None)
    live.run(session.imagine, "a slow owl", partial_images=2, model="gpt-image-1.5")
    try:
        with pytest.raises(RuntimeError, match="already running"):
            live.run(session.imagine, "another owl")
    finally:
        live.cancel()
        live.wait(30)


def test_an_error_in_on_event_is_kept_in_the_output_and_the_stream_goes_on(session):
    live = LiveImage(tick_s=None)
    live.show = None  # type: ignore[assignment]  # break the widget on purpose
    result = session.imagine("a red door", partial_images=1, model="gpt-image-1.5", on_event=live.on_event)
    assert result.path is not None
    assert "TypeError" in "".join(o.get("text", "") for o in live.output.outputs)


def test_the_elapsed_time_ticks_while_waiting():
    live = LiveImage(tick_s=0.01)
    release = threading.Event()
    ticked = threading.Event()
    live.observe(lambda change: change["new"] > 0 and ticked.set(), names=["elapsed_s"])
    live.run(lambda: release.wait(30), events=False)
    assert ticked.wait(10)
    assert live.label.value.startswith("waiting for the first frame")
    release.set()
    live.wait(10)
    assert live.status == "done"


def test_a_frame_is_handed_to_the_widget_without_a_copy():
    from imagewidgets.api.results import PartialImageEvent

    live = LiveImage(tick_s=None)
    data = b"\xff\xd8\xff\xe0 not decoded, not re-encoded"
    live.on_event(PartialImageEvent(index=0, data=data, format="jpeg", total=2))
    assert live.image.value.obj is data and live.image.format == "jpeg"
    assert live.label.value.startswith("partial 1 of 2")
