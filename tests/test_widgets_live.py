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

# retired models (dall-e-2/3, gpt-image-1, gpt-image-1.5...) serve here as fixtures of features they
# had; the twin's calendar is tested in test_calendar.py and test_lifecycle.py
pytestmark = pytest.mark.calendar_off


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


@pytest.mark.pictures("realistic")  # API-size pictures: no limit below them
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


@pytest.mark.pictures("realistic")  # API-size pictures: no limit below them
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


# --- the canvas view (issue: live partial images on ipycanvas) ---------------------------------

@pytest.fixture
def drawn(monkeypatch):
    """Every canvas command sent, decoded: (canvas, name, args)."""
    from ipycanvas import canvas as cv
    from ipywidgets.widgets.widget import _instances

    names = {code: name for name, code in cv.COMMANDS.items()}
    attrs = {code: name for name, code in cv.Canvas.ATTRS.items()}
    log: list[tuple] = []
    decoded: dict[str, bytes] = {}  # off-screen canvas -> the bytes last decoded onto it
    original = cv._CANVAS_MANAGER.send_command

    def record(canvas, command, buffers=[]):  # noqa: B006 - ipycanvas's own signature
        batch = command if command and isinstance(command[0], list) else [command]
        for name, args, *_ in batch:
            if names[name] == "set":
                log.append((canvas, f"set {attrs.get(args[0], args[0])}", args[1:]))
            elif names[name] == "drawImage":
                # an Image: the bytes drawn, read now (it may close later); a canvas (the frames'
                # off-screen copies): the bytes last decoded onto it
                ref = str(args[0]).removeprefix("IPY_MODEL_")
                model = _instances.get(ref)
                if isinstance(model, cv.Canvas):
                    data = decoded.get(ref)
                else:
                    data = bytes(model.value) if model is not None else None
                    decoded[canvas.model_id] = data
                log.append((canvas, "drawImage", [args[0], data]))
            else:
                log.append((canvas, names[name], args))
        return original(canvas, command, buffers)

    monkeypatch.setattr(cv._CANVAS_MANAGER, "send_command", record)
    return log


def _drawn_images(log, live) -> list[bytes]:
    """The bytes of each Image widget drawn on ``live``'s canvas, in order (switches skipped)."""
    outline = f"IPY_MODEL_{live._outline_buffer.model_id}"
    return [args[1] for canvas, name, args in log
            if name == "drawImage" and canvas is live.canvas and args[1] and args[0] != outline]


def test_each_frame_is_drawn_on_the_canvas_from_its_undecoded_bytes(session, drawn):
    live = LiveImage(tick_s=None, fade_ms=0)
    events = []
    live.run(session.imagine, "a fox in the snow", partial_images=3, model="gpt-image-1.5",
             on_event=lambda e: (events.append(e), live.on_event(e)))
    result = live.wait(60)
    frames = [e.data for e in events if e.type == "partial_image"]
    images = _drawn_images(drawn, live)
    deduped = [b for i, b in enumerate(images) if i == 0 or b != images[i - 1]]
    assert deduped == frames + [result.data]
    assert (live.canvas.width, live.canvas.height) == (1024, 1024)


def test_the_next_frame_fades_in_over_the_previous_one(session, drawn):
    from imagewidgets.api.results import PartialImageEvent

    live = LiveImage(tick_s=None, fade_ms=40)
    first = PartialImageEvent(index=0, data=_png((200, 0, 0)), total=2, size="64x64")
    second = PartialImageEvent(index=1, data=_png((0, 0, 200)), total=2, size="64x64")
    live.on_event(first)
    live.on_event(second)
    deadline = threading.Event()
    deadline.wait(0.3)  # the fade's steps run in a thread, 10 ms apart
    alphas = [args[0] for _c, name, args in drawn if name == "set global_alpha"]
    assert 0.25 in alphas and 0.5 in alphas and 0.75 in alphas  # four steps over the old frame
    steps = _drawn_images(drawn, live)
    # first frame alone; then three steps of (old under new at 0.25, 0.5, 0.75); then the new alone
    assert steps == [first.data] + [first.data, second.data] * 3 + [second.data]
    assert live.image.value == second.data


def test_frames_arriving_at_once_end_on_the_newest(drawn):
    from imagewidgets.api.results import PartialImageEvent

    live = LiveImage(tick_s=None, fade_ms=2000)  # a slow fade (run by the browser), then frames at once
    for i, colour in enumerate([(200, 0, 0), (0, 200, 0), (0, 0, 200)]):
        live.on_event(PartialImageEvent(index=i, data=_png(colour), total=3, size="64x64"))
    assert live.image.value == _png((0, 0, 200)) and live.frame == 3


def _ack(live: LiveImage, seq: int) -> None:
    """What the browser sends when it has processed a frame's message: the ack canvas's pixels."""
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGBA", (1, 1), ((seq >> 16) & 255, (seq >> 8) & 255, seq & 255, 255)).save(out, format="PNG")
    live._ack.set_trait("image_data", out.getvalue())


def _in_thread(fn, *args, **kwargs) -> None:
    """Call ``fn`` in a worker thread, as a stream run by ``LiveImage.run`` (or the studio) does."""
    worker = threading.Thread(target=fn, args=args, kwargs=kwargs)
    worker.start()
    worker.join(10)


def test_a_busy_browser_gets_only_the_newest_frame_and_always_the_final(drawn):
    from imagewidgets.api.results import PartialImageEvent

    live = LiveImage(tick_s=None, fade_ms=0)
    _ack(live, 0)  # this browser answers (a page is open and the kernel is free)
    frames = [_png(c) for c in [(200, 0, 0), (0, 200, 0), (0, 0, 200), (90, 90, 90)]]
    live.start()
    for k in range(3):  # the browser is busy with the first: the second waits, the third replaces it
        _in_thread(live.on_event, PartialImageEvent(index=k, data=frames[k], total=3, size="64x64"))
    assert _drawn_images(drawn, live) == [frames[0]] and live.label.value.startswith("partial 3 of 3")
    _ack(live, live._seq)  # frame 1 is on screen: the newest waiting one goes
    assert _drawn_images(drawn, live) == [frames[0], frames[2]]
    _in_thread(live.show, frames[3], size="64x64")  # the final, while frame 3 decodes
    _ack(live, live._seq - 1)  # a stale answer changes nothing
    assert _drawn_images(drawn, live)[-1] == frames[2]
    _ack(live, live._seq)
    assert _drawn_images(drawn, live) == [frames[0], frames[2], frames[3]]
    # never a "clear" of the visible canvas (it would blank the page until the next decode)
    assert not [name for c, name, _a in drawn if c is live.canvas and name == "clear"]


def test_a_browser_that_stops_answering_still_gets_the_newest_frame(drawn, monkeypatch):
    from imagewidgets.api.results import PartialImageEvent
    from imagewidgets.widgets import live as live_module

    monkeypatch.setattr(live_module, "_ACK_TIMEOUT_S", 0.05)
    live = LiveImage(tick_s=None, fade_ms=0)
    _ack(live, 0)
    frames = [_png((200, 0, 0)), _png((0, 0, 200))]
    for k in range(2):
        _in_thread(live.on_event, PartialImageEvent(index=k, data=frames[k], total=2, size="64x64"))
    assert _drawn_images(drawn, live) == frames[:1]  # the second waits for an answer that never comes
    for _ in range(100):
        if _drawn_images(drawn, live)[-1:] == [frames[1]]:
            break
        threading.Event().wait(0.02)
    assert _drawn_images(drawn, live) == frames


def test_frames_shown_from_the_kernels_main_thread_are_never_held_back(drawn):
    # a cell streaming in the foreground (the magics): the kernel cannot read the browser's
    # answers until the cell ends, so nothing waits for them
    from imagewidgets.api.results import PartialImageEvent

    live = LiveImage(tick_s=None, fade_ms=0)
    _ack(live, 0)
    frames = [_png((200, 0, 0)), _png((0, 200, 0)), _png((0, 0, 200))]
    for k in range(3):
        live.on_event(PartialImageEvent(index=k, data=frames[k], total=3, size="64x64"))
    assert _drawn_images(drawn, live) == frames


def test_the_box_takes_the_width_the_final_image_is_shown_at(session):
    from imagewidgets.api.results import shown_width

    live = LiveImage(tick_s=None, fade_ms=0)
    live.run(session.imagine, "a wide harbour", size="1536x1024", partial_images=1, model="gpt-image-2")
    assert live.layout.width == "512px" and (live.canvas.width, live.canvas.height) == (1536, 1024)  # at once
    result = live.wait(60)
    assert live.layout.width == f"{shown_width(result.width)}px" and live.layout.max_width == "100%"
    bundle, meta = result.display_bundle("full")
    assert 'width="512"' in bundle["text/html"] and "alt=" in bundle["text/html"]  # the original, in an <img>


def test_a_masked_edit_outlines_the_mask_on_each_frame(session, drawn):
    import io

    import numpy as np
    from PIL import Image

    session.imagine("a lighthouse", model="gpt-image-1.5")
    mask = Image.new("RGBA", (1024, 1024), (0, 0, 0, 255))
    mask.paste((0, 0, 0, 0), (256, 256, 768, 768))
    buf = io.BytesIO()
    mask.save(buf, format="PNG")
    live = LiveImage(tick_s=None, fade_ms=0)
    live.watch(session, "edit", "add a red boat", mask=buf.getvalue(), partial_images=2, model="gpt-image-1.5")
    live.wait(60)
    outline = np.asarray(Image.open(io.BytesIO(bytes(live._outline.value))))
    assert outline.shape == (1024, 1024, 4)
    assert outline[256, 512, 3] == 255 and outline[512, 256, 3] == 255  # on the border
    assert outline[512, 512, 3] == 0 and outline[100, 100, 3] == 0  # inside and outside: clear
    drawn_models = [args[0] for _c, name, args in drawn if name == "drawImage"]
    assert f"IPY_MODEL_{live._outline.model_id}" in drawn_models


def test_a_cut_stream_draws_the_stopped_band_and_keeps_the_frame(drawn):
    with OfflineServer(OfflineConfig(cut_stream_after=2)) as server:
        session = Session("cut", client=Client(base_url=server.base_url, max_retries=0))
        live = LiveImage(tick_s=None, fade_ms=0)
        live.run(session.imagine, "a storm at sea", partial_images=3, model="gpt-image-1.5", api="images")
        with pytest.raises(Exception):
            live.wait(60)
    texts = [args[0] for _c, name, args in drawn if name == "fillText"]
    assert live.status == "failed" and live.frame >= 1
    assert "stopped — newest frame kept" in texts
    assert session.turns[-1].image is not None and session.turns[-1].image.partial


def test_the_counter_and_time_are_drawn_while_running_not_on_the_final_picture(session, drawn):
    live = LiveImage(tick_s=None, fade_ms=0)
    live.run(session.imagine, "a kite", partial_images=2, model="gpt-image-1.5")
    live.wait(60)
    texts = [args[0] for _c, name, args in drawn if name == "fillText"]
    assert any(t.startswith("partial 1 of 2 · ") for t in texts)
    assert any(t.startswith("partial 2 of 2 · ") for t in texts)
    last_clear = max(i for i, (c, name, _a) in enumerate(drawn) if name == "clearRect" and c is live.canvas)
    assert not [a for _c, name, a in drawn[last_clear:] if name == "fillText"]  # the final image is clean


def test_the_canvas_fills_the_width_with_the_pictures_own_ratio(session):
    live = LiveImage(width=384, tick_s=None, fade_ms=0)
    live.run(session.imagine, "a wide harbour", size="1536x1024", partial_images=1, model="gpt-image-1.5")
    live.wait(60)
    assert (live.canvas.width, live.canvas.height) == (1536, 1024)  # drawn at the image's resolution
    assert live.canvas.layout.width == "100%" and live.canvas.layout.height == "auto"
    assert live.layout.width == "384px" and LiveImage().layout.width == "100%"


def test_a_click_on_the_final_image_shows_it_at_full_size(session):
    live = LiveImage(tick_s=None, fade_ms=0)
    live.run(session.imagine, "a red kite", size="1536x1024", model="gpt-image-1.5")
    result = live.wait(60)
    assert live.full.layout.display == "none"
    live.canvas._handle_frontend_event(live.canvas, {"event": "mouse_down", "x": 5, "y": 5}, [])
    assert live.full.layout.display is None
    (full,) = live.full.children
    assert bytes(full.value) == result.data and full.layout.width == "1536px"
    live.canvas._handle_frontend_event(live.canvas, {"event": "mouse_down", "x": 5, "y": 5}, [])
    assert live.full.layout.display == "none"


def test_the_gallery_preview_is_the_same_view(session):
    from imagewidgets.widgets import Gallery

    first = session.imagine("a green door", model="gpt-image-1.5")
    session.imagine("a blue door", model="gpt-image-1.5")
    gallery = Gallery(session, preview=True)
    assert isinstance(gallery.preview, LiveImage)
    gallery.select(session.turns[0])
    assert bytes(gallery.preview.image.value) == first.data and gallery.preview.status == "done"


def _png(colour) -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (64, 64), colour).save(out, format="PNG")
    return out.getvalue()
