"""LiveImage's per-frame cost: from a partial frame's arrival to the widget's value being set,
as a ratio to decoding and re-encoding the same frame with Pillow, measured in the same run.

The frames are real partial frames (1024x1024, png / jpeg / webp) streamed by the offline server.
The widget side is ``LiveImage.on_event(event)`` (image value and format in one message, plus the
"partial k of n" label), with the Image's comm replaced by one that serializes each message the
way ipykernel does (jupyter_client's Session: JSON, HMAC signature, binary buffers) without a
socket. The baseline is what a widget that re-renders frames would do at the least: Pillow
decodes the frame and encodes it again in its own format at default settings.

    python bench/bench_live_frames.py [--repeat 30] [--json out.json]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))

FORMATS = ("png", "jpeg", "webp")
PIL_FORMAT = {"png": "PNG", "jpeg": "JPEG", "webp": "WEBP"}


class KernelLikeComm:
    """Serializes every message as ipykernel would before the socket write, then drops it."""

    kernel = True

    def __init__(self, comm_id: str) -> None:
        from jupyter_client.session import Session

        self.comm_id = comm_id
        self.session = Session(key=b"bench-key", username="bench")
        self.bytes_out = 0

    def send(self, data=None, metadata=None, buffers=None):
        msg = self.session.msg("comm_msg", {"comm_id": self.comm_id, "data": data}, metadata=metadata or {})
        frames = self.session.serialize(msg)
        frames.extend(memoryview(b).cast("B") for b in buffers or [])  # zero-copy, as pyzmq sends them
        self.bytes_out += sum(len(f) for f in frames)

    def on_msg(self, callback):
        pass

    def close(self, *args, **kwargs):
        pass


def stream_frames(fmt: str, count: int = 3) -> list:
    """Partial-frame events of one 1024x1024 generation, as the client hands them over."""
    from imagewidgets import Client
    from imagewidgets.offline.config import OfflineConfig
    from imagewidgets.offline.server import OfflineServer

    with OfflineServer(OfflineConfig()) as server, Client(base_url=server.base_url) as client:
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


def median_per_frame(fn, frames, repeat: int) -> float:
    for f in frames:  # warm up
        fn(f)
    times = []
    for _ in range(repeat):
        for f in frames:
            t = time.perf_counter()
            fn(f)
            times.append(time.perf_counter() - t)
    return statistics.median(times)


def pillow_roundtrip(event) -> bytes:
    from PIL import Image

    with Image.open(io.BytesIO(event.data)) as im:
        im.load()
        out = io.BytesIO()
        im.save(out, PIL_FORMAT[event.format])
    return out.getvalue()


def measure(live, comm: KernelLikeComm, source: str, frames: list, repeat: int) -> dict:
    fmt = frames[0].format
    assert len(frames) >= 2 and all(f.format == fmt for f in frames), fmt
    sent_before = comm.bytes_out
    widget = median_per_frame(live.on_event, frames, repeat)
    assert live.image.value.obj is frames[-1].data, "the widget must hold the frame's own bytes (no copy)"
    assert comm.bytes_out > sent_before
    baseline = median_per_frame(pillow_roundtrip, frames, repeat)
    kb = statistics.mean(len(f.data) for f in frames) / 1024
    return {"frames": source, "format": fmt, "frame_kb": round(kb, 1), "widget_ms": widget * 1e3,
            "pillow_roundtrip_ms": baseline * 1e3, "ratio": widget / baseline}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--json", default=None)
    args = ap.parse_args()

    from imagewidgets.widgets import LiveImage

    live = LiveImage(tick_s=None)
    comm = KernelLikeComm(live.image.model_id)
    live.image.comm = comm
    live.start()

    rows = [measure(live, comm, source, make(fmt), args.repeat)
            for source, make in (("offline", stream_frames), ("photo", photo_frames)) for fmt in FORMATS]

    print(f"LiveImage.on_event vs Pillow decode + re-encode, 1024x1024 frames, median of "
          f"{args.repeat}x per frame ({platform.python_implementation()} {platform.python_version()})")
    print(f"{'frames':<9}{'format':<7}{'frame KB':>10}{'widget ms':>12}{'Pillow ms':>12}{'ratio':>10}")
    for r in rows:
        print(f"{r['frames']:<9}{r['format']:<7}{r['frame_kb']:>10.1f}{r['widget_ms']:>12.3f}"
              f"{r['pillow_roundtrip_ms']:>12.2f}{r['ratio']:>10.4f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"benchmark": "live_frames", "repeat": args.repeat, "rows": rows}, f, indent=2)


if __name__ == "__main__":
    main()
