"""``imagewidgets demo``: a short story on the offline backend, every image saved to disk.

It generates two images, streams one with partial frames, then tells a three-turn edit story
through the Responses API and writes an HTML report of the whole session. With no
``OPENAI_API_KEY`` it runs on the offline renderer (procedural pictures, not AI); pass
``--online`` to use the configured key and base URL instead.

The command's switches are read in ``cli`` (``demo_main``), like every other command's, so this
module never imports ``cli``::

    from imagewidgets.demo import run_demo
    run_demo(Path("demo-out"))
"""

from __future__ import annotations

import os
import time
from pathlib import Path

__all__ = ["run_demo"]

STORY = [
    ("imagine", "a white lighthouse on a green cliff above a blue sea at sunset"),
    ("edit", "add a small red sailing boat on the water"),
    ("edit", "now it is night: dark blue sky, yellow stars and a bright moon"),
]


def _paid(turn) -> str:
    """What a turn cost, said plainly: a repeat is replayed from the store for nothing."""
    if turn.status == "replayed":
        return "replayed from the store, $0"
    return f"${turn.cost or 0:.4f}"


def run_demo(out: Path, *, online: bool = False, say=print) -> dict:
    """Run the demo into ``out``; returns what it wrote (for tests).

    Running it again replays every request from the store (same request, same backend): nothing is
    sent or paid, and the output says so where it happens.
    """
    from .api.client import Client
    from .session.session import Session

    out.mkdir(parents=True, exist_ok=True)
    client = Client() if online else Client(base_url="offline")
    say(f"imagewidgets demo — backend: {client.backend}")
    session = Session("demo", folder=out / "store", client=client)
    from .api.results import ImageResult, ImageSet

    before = {t.id for t in session.turns}
    written: dict[str, list[Path]] = {"images": [], "partials": []}

    say("1. two images from one prompt (n=2, low quality)")
    pair = session.imagine("a yellow kite with a long orange tail over green hills", n=2,
                           quality="low", size="1536x1024", api="images")
    assert isinstance(pair, ImageSet) and session.current is not None  # n=2: a set of two, one turn
    for img in pair:
        assert img.path is not None  # a session stores every image it is paid for
        written["images"].append(img.path)
        say(f"   saved {img.path} ({img.width}x{img.height} {img.format}, {_paid(session.current)})")

    say("2. streaming with two partial images")
    started = time.perf_counter()

    def on_event(event) -> None:
        if event.type == "partial_image":
            say(f"   partial {event.index + 1} of {event.total} after {time.perf_counter() - started:.2f}s "
                f"({len(event.data)} bytes)")

    streamed = session.imagine("an owl made of river water, teal and silver", stream=True,
                               partial_images=2, quality="medium", size="1024x1024", api="images",
                               on_event=on_event)
    assert isinstance(streamed, ImageResult) and streamed.path is not None and session.current is not None
    written["images"].append(streamed.path)
    how = ("replayed from the store, $0: nothing streamed" if session.current.status == "replayed"
           else f"after {time.perf_counter() - started:.2f}s, {_paid(session.current)}")
    say(f"   final image saved {streamed.path} ({how})")

    say("3. a three-turn story through the Responses API (previous_response_id)")
    for kind, prompt in STORY:
        result = getattr(session, kind)(prompt, quality="low", size="1536x1024", api="responses")
        turn = session.current
        assert isinstance(result, ImageResult) and result.path is not None and turn is not None
        written["images"].append(result.path)
        say(f"   {kind:7} {prompt!r}\n"
            f"           -> {result.path.name}, response {turn.response_id}, {_paid(turn)}")

    report = session.export(out / "report.html")
    session.export(out / "session.json")
    written["report"] = [report]
    this_run = [t for t in session.turns if t.id not in before]
    replayed = [t for t in this_run if t.status == "replayed"]
    spent_now = sum(t.cost or 0 for t in this_run if t.status != "replayed")
    note = "nothing was charged: the offline renderer reports usage with the real token table" \
        if client.config.offline else "charged by the API"
    if replayed:
        say(f"This run: ${spent_now:.4f}; {len(replayed)} of {len(this_run)} requests replayed from the store, $0.")
        made = len(session.turns) - sum(t.status == "replayed" for t in session.turns)
        say(f"Session 'demo' in all: {made} requests made for ${session.spent_usd:.4f} ({note}), "
            f"{len(session.turns) - made} replayed; the report lists both.")
    else:
        say(f"Spent ${spent_now:.4f} ({note}).")
    home = os.environ.get("IMAGEWIDGETS_HOME") or "~/.imagewidgets"
    say(f"Report: {report}")
    if not online:
        say(f"The offline backend keeps its responses under {home}/offline-state (IMAGEWIDGETS_HOME).")
    return written
