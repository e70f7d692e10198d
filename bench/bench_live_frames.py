"""LiveImage's per-frame cost on the kernel side: bytes sent to the browser and time, for the canvas
view beside the plain ``ipywidgets.Image`` path it replaced and beside decoding + re-encoding the
frame with Pillow, all measured in the same run.

The frames are real partial frames (1024x1024, png / jpeg / webp) streamed by the offline server,
and photo-like frames as heavy as real ones. Every widget's comm is replaced by one that serializes
each message the way ipykernel does (jupyter_client's Session: JSON, HMAC signature, binary
buffers) without a socket, so "bytes" are what would go to the browser: the frame's Image model
(opened once per frame, its bytes as they arrived) and the canvas's draw commands.

- ``image``: the 0.1 path: one ``ipywidgets.Image`` whose value is replaced by each frame.
- ``canvas``: ``LiveImage.on_event`` with the fade off: one message that decodes the frame on an
  off-screen canvas, draws it with its overlays on the visible one, and asks for an ack.
- ``canvas+fade``: the default 160 ms fade: the same message with the fade's steps and sleeps in
  it (the browser plays them; before double buffering a kernel thread sent four redraws).
  With fake comms no ack comes back, so every frame is sent (no pacing): the worst case.
- ``pillow``: what a widget that re-renders frames would do at least: decode, encode again.

    python bench/bench_live_frames.py [--repeat 10] [--json out.json]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import statistics
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))

FORMATS = ("png", "jpeg", "webp")
PIL_FORMAT = {"png": "PNG", "jpeg": "JPEG", "webp": "WEBP"}


class Meter:
    """Bytes every fake comm would have written to the kernel's socket."""

    bytes_out = 0
    lock = threading.Lock()

    @classmethod
    def add(cls, n: int) -> None:
        with cls.lock:
            cls.bytes_out += n


class KernelLikeComm:
    """Serializes every message as ipykernel would before the socket write, then drops it."""

    kernel = True
    _session = None

    def __init__(self, target_name: str = "", data=None, buffers=None, metadata=None, comm_id=None, **_kw):
        import uuid

        self.comm_id = comm_id or uuid.uuid4().hex
        self._write("comm_open", {"comm_id": self.comm_id, "target_name": target_name, "data": data},
                    metadata, buffers)

    @classmethod
    def session(cls):
        if cls._session is None:
            from jupyter_client.session import Session

            cls._session = Session(key=b"bench-key", username="bench")
        return cls._session

    def _write(self, kind: str, content: dict, metadata, buffers) -> None:
        msg = self.session().msg(kind, content, metadata=metadata or {})
        frames = self.session().serialize(msg)
        frames.extend(memoryview(b).cast("B") for b in buffers or [])  # zero-copy, as pyzmq sends them
        Meter.add(sum(len(f) for f in frames))

    def send(self, data=None, metadata=None, buffers=None):
        self._write("comm_msg", {"comm_id": self.comm_id, "data": data}, metadata, buffers)

    def on_msg(self, callback):
        pass

    def close(self, *args, **kwargs):
        self._write("comm_close", {"comm_id": self.comm_id, "data": {}}, None, None)


def install_fake_comms() -> None:
    import ipywidgets.comm

    ipywidgets.comm.create_comm = lambda *a, **kw: KernelLikeComm(*a, **kw)


def stream_frames(fmt: str, count: int = 3) -> list:
    """Partial-frame events of one 1024x1024 generation, as the client hands them over."""
    from imagewidgets import Client
    from imagewidgets.offline.config import OfflineConfig
    from imagewidgets.offline.server import OfflineServer

    with OfflineServer(OfflineConfig(partial_interval_s=0)) as server, Client(base_url=server.base_url) as client:
        with client.generate("a harbour at dawn, boats and gulls", model="gpt-image-1.5", size="1024x1024",
                             quality="medium", output_format=fmt, stream=True, partial_images=count) as stream:
            return [e for e in stream if e.type == "partial_image"]


def photo_frames(fmt: str, count: int = 3) -> list:
    """Frames as heavy as real ones (a photo-like 1024x1024 picture: gradients, texture, noise),
    wrapped in the events the client makes; the offline renderer's flat pictures compress far better."""
    import numpy as np
    from PIL import Image

    from imagewidgets.api.results import PartialImageEvent

    rng = np.random.default_rng(7)
    y, x = np.mgrid[0:1024, 0:1024].astype(np.float32) / 1024
    events = []
    for k in range(count):
        base = np.stack([np.sin(6 * x + k) * 90 + 128, np.cos(5 * y - k) * 90 + 128, (x + y) * 110 + 10], -1)
        noise = rng.normal(0, 12 / (k + 1), base.shape)  # later frames are cleaner, as partials are
        im = Image.fromarray(np.clip(base + noise, 0, 255).astype(np.uint8), "RGB")
        out = io.BytesIO()
        im.save(out, PIL_FORMAT[fmt])
        events.append(PartialImageEvent(index=k, data=out.getvalue(), format=fmt, size="1024x1024", total=count))
    return events


# -- the four ways to put a frame on screen ---------------------------------------------------------

def image_path():
    import ipywidgets as W

    image = W.Image(format="png")

    def show(event) -> None:
        with image.hold_sync():
            image.format = event.format
            image.value = event.data

    return show, None


def canvas_path(fade_ms: float):
    from imagewidgets.widgets import LiveImage

    live = LiveImage(tick_s=None, fade_ms=fade_ms)
    live.start()
    redraw_s = [0.0]
    original = live._redraw

    def timed_redraw(*a, **kw):  # the fade thread's redraws: kernel time after on_event returned
        t = time.perf_counter()
        try:
            return original(*a, **kw)
        finally:
            if threading.current_thread() is not threading.main_thread():
                redraw_s[0] += time.perf_counter() - t

    live._redraw = timed_redraw

    def show(event) -> None:
        live.on_event(event)
        assert live.image.value.obj is event.data, "the frame's own bytes, not a copy"

    def settle() -> float:
        """Wait for a fade to finish; seconds its thread spent redrawing."""
        if fade_ms:
            time.sleep(fade_ms / 1000 + 0.05)
        spent, redraw_s[0] = redraw_s[0], 0.0
        return spent

    return show, settle


def pillow_roundtrip(event) -> bytes:
    from PIL import Image

    with Image.open(io.BytesIO(event.data)) as im:
        im.load()
        out = io.BytesIO()
        im.save(out, PIL_FORMAT[event.format])
    return out.getvalue()


def measure(show, settle, frames: list, repeat: int) -> tuple[float, float]:
    """(median seconds per frame, median bytes per frame)."""
    import dataclasses

    times, sizes = [], []
    for i in range(repeat + 1):
        # each round new bytes, as a stream brings (a widget skips a value equal to the one it has)
        fresh = [dataclasses.replace(f, data=f.data + i.to_bytes(2, "big")) for f in frames]
        for f in fresh:
            before = Meter.bytes_out
            t = time.perf_counter()
            show(f)
            took = time.perf_counter() - t
            if settle is not None:
                took += settle()
            if i:  # the first round warms up
                times.append(took)
                sizes.append(Meter.bytes_out - before)
    return statistics.median(times), statistics.median(sizes)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=10)
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    install_fake_comms()

    rows = []
    for source, make in (("offline", stream_frames), ("photo", photo_frames)):
        for fmt in FORMATS:
            frames = make(fmt)
            image_s, image_b = measure(*image_path(), frames, args.repeat)
            canvas_s, canvas_b = measure(*canvas_path(0), frames, args.repeat)
            fade_s, fade_b = measure(*canvas_path(160), frames, args.repeat)
            pillow_s, _ = measure(pillow_roundtrip, None, frames, args.repeat)
            rows.append({"frames": source, "format": fmt,
                         "frame_kb": round(statistics.mean(len(f.data) for f in frames) / 1024, 1),
                         "image_kb": image_b / 1024, "canvas_kb": canvas_b / 1024, "fade_kb": fade_b / 1024,
                         "image_ms": image_s * 1e3, "canvas_ms": canvas_s * 1e3, "fade_ms": fade_s * 1e3,
                         "pillow_ms": pillow_s * 1e3,
                         "bytes_canvas_vs_image": canvas_b / image_b, "bytes_fade_vs_image": fade_b / image_b,
                         "time_canvas_vs_pillow": canvas_s / pillow_s, "time_fade_vs_pillow": fade_s / pillow_s})

    print(f"A partial frame into the live view, 1024x1024, median of {args.repeat} rounds "
          f"({platform.python_implementation()} {platform.python_version()})")
    head = (f"{'frames':<8}{'fmt':<6}{'frame KB':>9}{'sent KB: image':>15}{'canvas':>8}{'+fade':>8}"
            f"{'ms: image':>10}{'canvas':>8}{'+fade':>8}{'pillow':>8}"
            f"{'bytes canvas/image':>20}{'+fade':>7}{'time canvas/pillow':>20}{'+fade':>7}")
    print(head)
    for r in rows:
        print(f"{r['frames']:<8}{r['format']:<6}{r['frame_kb']:>9.1f}{r['image_kb']:>15.1f}{r['canvas_kb']:>8.1f}"
              f"{r['fade_kb']:>8.1f}{r['image_ms']:>10.3f}{r['canvas_ms']:>8.3f}{r['fade_ms']:>8.3f}"
              f"{r['pillow_ms']:>8.2f}{r['bytes_canvas_vs_image']:>20.3f}{r['bytes_fade_vs_image']:>7.3f}"
              f"{r['time_canvas_vs_pillow']:>20.4f}{r['time_fade_vs_pillow']:>7.4f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"benchmark": "live_frames", "repeat": args.repeat, "rows": rows}, f, indent=2)


if __name__ == "__main__":
    main()
