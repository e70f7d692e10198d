"""The widgets in a real JupyterLab (headless Chromium): the studio renders, a drag paints a
full-resolution mask, partial frames show in order before the final image, and a Generate click
adds a thumbnail and a stored turn.

Each test opens its own copy of a notebook in `notebooks/` (own folder, own evidence files) and
asserts on what the kernel wrote (evidence files) as well as on what the browser shows.
"""

from __future__ import annotations

import io
import json
import math
import re
import time
from pathlib import Path

import pytest

from .harness import (
    assert_no_cell_problems,
    drag,
    open_notebook,
    run_all,
    wait_for_file,
    wait_for_widget,
    wait_kernel_ready,
)

pytestmark = pytest.mark.browser

NOTEBOOKS = Path(__file__).parent / "notebooks"
SCREENSHOTS = Path(__file__).parent / "screenshots"


def run_notebook(page, lab, name: str, folder: str) -> Path:
    """Open notebooks/<name> as <folder>/<name>, run every cell, check no cell complained."""
    notebook = open_notebook(page, lab, NOTEBOOKS / name, dest=f"{folder}/{name}")
    wait_kernel_ready(page)
    assert run_all(page, timeout=60), "JupyterLab reports a failed cell"
    assert_no_cell_problems(page)
    return notebook


def read_json(path: Path) -> dict:
    return json.loads(wait_for_file(path).read_text())


def assert_no_widget_errors(page) -> None:
    text = page.locator(".jp-Notebook").inner_text()
    assert "Error displaying widget" not in text and "Error rendering" not in text, text[-2000:]


def click_centre(page, locator) -> None:
    """A real mouse click (move, press, release) at the centre of the element."""
    locator.scroll_into_view_if_needed()  # the notebook scrolls inside the page
    found = box(locator)
    page.mouse.click(found["x"] + found["width"] / 2, found["y"] + found["height"] / 2)


def box(locator) -> dict:
    found = locator.bounding_box()
    assert found is not None, f"{locator} has no box (not rendered)"
    return found


# --- 1. the studio renders -------------------------------------------------------------------


def test_studio_renders(page, lab):
    notebook = run_notebook(page, lab, "studio_render.ipynb", "studio_render")
    kernel = read_json(notebook.parent / "studio_render.json")
    assert kernel["turns"] == 1 and kernel["error"] == "", kernel

    studio = wait_for_widget(page, ".iw-studio")
    prompt = wait_for_widget(page, ".iw-studio .iw-prompt textarea")
    assert prompt.input_value() == "a red kite over green hills"
    assert prompt.get_attribute("placeholder") == "describe the image…"

    model = wait_for_widget(page, ".iw-studio .iw-model select")
    options = model.locator("option").all_inner_texts()
    assert len(options) >= 3, options
    assert model.input_value() == kernel["model"]

    generate = wait_for_widget(page, ".iw-studio button.iw-generate")
    assert generate.inner_text().strip() == "Generate" and generate.is_enabled()
    for cls in ("iw-edit", "iw-vary", "iw-mask-toggle", "iw-size", "iw-quality", "iw-cost"):
        wait_for_widget(page, f".iw-studio .{cls}")
    # the mainline model of Responses turns: a box showing the session's (default: a current model)
    mainline = wait_for_widget(page, ".iw-studio .iw-responses-model input")
    assert mainline.input_value() == "gpt-5.5"

    # The live area shows the generated picture, decoded, at the width asked for.
    live_image = wait_for_widget(page, ".iw-studio img.iw-live-image")
    page.wait_for_function(
        "(img) => img.complete && img.naturalWidth > 0", arg=live_image.element_handle()
    )
    assert abs(box(live_image)["width"] - 384) <= 1
    label = wait_for_widget(page, ".iw-studio .iw-live-label")
    assert label.inner_text().startswith("final · "), label.inner_text()

    # The gallery, to the right of the live area, has the turn's thumbnail, drawn (not blank).
    gallery = wait_for_widget(page, ".iw-studio .iw-gallery")
    assert box(gallery)["x"] >= box(live_image)["x"] + box(live_image)["width"] - 1
    assert page.locator(".iw-studio .iw-thumb").count() == 1
    assert gallery.inner_text().startswith("1 turn")
    thumb = wait_for_widget(page, ".iw-studio canvas.iw-thumb")
    assert distinct_colours(thumb) > 20, "the thumbnail canvas is blank"

    assert_no_widget_errors(page)
    SCREENSHOTS.mkdir(exist_ok=True)
    studio.screenshot(path=str(SCREENSHOTS / "studio.png"))


def distinct_colours(locator) -> int:
    from PIL import Image

    shot = Image.open(io.BytesIO(locator.screenshot())).convert("RGB")
    return len(shot.getcolors(maxcolors=1 << 24))


# --- 2. a drag paints the full-resolution mask ---------------------------------------------

IMAGE_SIZE = (1024, 768)
VIEW_SIZE = (512, 384)
BRUSH = 32  # canvas pixels (diameter): 64 image pixels at this 2x downscale
# A bent stroke, in canvas pixels: its middle point is far (about 100 canvas px) from the
# straight line between its ends, so a painter that ignored the moves would miss it.
STROKE = [(60, 80), (300, 220), (450, 120)]


def distance_to_path(x: float, y: float, path) -> float:
    best = math.inf
    for (ax, ay), (bx, by) in zip(path, path[1:]):
        dx, dy = bx - ax, by - ay
        t = max(0.0, min(1.0, ((x - ax) * dx + (y - ay) * dy) / (dx * dx + dy * dy)))
        best = min(best, math.hypot(x - (ax + t * dx), y - (ay + t * dy)))
    return best


def along(path, step: float):
    """Points every `step` pixels along the polyline `path`."""
    for (ax, ay), (bx, by) in zip(path, path[1:]):
        n = max(1, int(math.hypot(bx - ax, by - ay) // step))
        for i in range(n + 1):
            yield ax + (bx - ax) * i / n, ay + (by - ay) * i / n


def test_mask_drag_paints_full_resolution_mask(page, lab):
    from PIL import Image

    notebook = run_notebook(page, lab, "mask_painter.ipynb", "mask_painter")
    painter = wait_for_widget(page, ".iw-mask-painter")
    canvas = painter.locator("canvas")  # MultiCanvas: one <canvas>, its layers composited
    canvas.wait_for(state="visible")
    size = canvas.evaluate("(c) => [c.width, c.height]")
    assert tuple(size) == VIEW_SIZE, size

    drag(page, canvas, STROKE, steps=8)

    evidence = read_json(notebook.parent / "mask_painter.json")
    assert evidence["ups"] == 1 and evidence["errors"] == [], evidence
    assert evidence["mode"] == "RGBA" and tuple(evidence["size"]) == IMAGE_SIZE, evidence
    assert evidence["can_undo"] is True
    mask = Image.open(notebook.parent / "mask.png")
    assert mask.size == IMAGE_SIZE and mask.mode == "RGBA"
    alpha = mask.getchannel("A")
    scale = IMAGE_SIZE[0] / VIEW_SIZE[0]
    path = [(x * scale, y * scale) for x, y in STROKE]  # the stroke in image pixels
    radius = BRUSH / 2 * scale  # 32 image pixels

    # Under the stroke: along its centre line, and half a radius to either side of it.
    centre = list(along(path, 8))
    assert len(centre) > 100
    unpainted = [(round(x), round(y)) for x, y in centre if alpha.getpixel((round(x), round(y))) != 0]
    assert not unpainted, f"centre-line pixels not painted (alpha != 0): {unpainted[:10]}"
    for dy in (-radius / 2, radius / 2):
        off = [(x, y + dy) for x, y in centre if distance_to_path(x, y + dy, path) <= radius * 0.6]
        assert off and all(alpha.getpixel((round(x), round(y))) == 0 for x, y in off), dy

    # Far from it (more than a radius and a half away): untouched, everywhere on a grid.
    far = [
        (x, y)
        for x in range(0, IMAGE_SIZE[0], 16)
        for y in range(0, IMAGE_SIZE[1], 16)
        if distance_to_path(x, y, path) > radius * 1.5
    ]
    assert len(far) > 1500
    touched = [(x, y) for x, y in far if alpha.getpixel((x, y)) != 255]
    assert not touched, f"pixels far from the stroke are masked: {touched[:10]}"
    # Only 0 and 255 at all, and the painted share is about the stroke's area.
    histogram = alpha.histogram()
    assert sum(histogram[1:255]) == 0, "alpha values other than 0 and 255"
    length = sum(math.dist(a, b) for a, b in zip(path, path[1:]))
    expected = (length * 2 * radius + math.pi * radius**2) / (IMAGE_SIZE[0] * IMAGE_SIZE[1])
    assert 0.8 * expected < evidence["masked_fraction"] < 1.2 * expected, (evidence, expected)

    # The RGB channels are the image's own pixels, at full resolution.
    original = Image.open(notebook.parent / "image.png").convert("RGB")
    assert mask.convert("RGB").tobytes() == original.tobytes()


# --- 3. partial frames appear in order before the final image --------------------------------

# Records, in the page, every change of the live image's label text and <img> src, with the
# SHA-256 of each new image's bytes (fetched from its blob: URL before the next frame revokes it).
OBSERVE_LIVE = r"""
(root) => {
    const label = root.querySelector('.iw-live-label');
    const img = root.querySelector('img.iw-live-image');
    const log = [];
    const hashes = [];
    const norm = (t) => t.replace(/ · [\d.]+ s$/, '').trim();
    let last = null;
    const hex = (buf) => [...new Uint8Array(buf)].map((b) => b.toString(16).padStart(2, '0')).join('');
    const record = () => {
        const entry = {text: norm(label.textContent), src: img.getAttribute('src'),
                       t: performance.now(), sha256: null, bytes: null};
        if (last && last.text === entry.text && last.src === entry.src) return;
        if (!last || last.src !== entry.src) {
            hashes.push(fetch(entry.src).then((r) => r.arrayBuffer()).then(async (buf) => {
                entry.bytes = buf.byteLength;
                entry.sha256 = hex(await crypto.subtle.digest('SHA-256', buf));
            }).catch((e) => { entry.sha256 = 'fetch failed: ' + e; }));
        }
        log.push(entry);
        last = entry;
    };
    new MutationObserver(record).observe(root, {subtree: true, childList: true,
        characterData: true, attributes: true, attributeFilter: ['src']});
    record();
    window.__iwLive = async () => { await Promise.all(hashes); return log; };
}
"""
PARTIAL = re.compile(r"^partial (\d) of 3$")


def test_partial_frames_show_in_order_before_final(page, lab):
    notebook = run_notebook(page, lab, "live_stream.ipynb", "live_stream")
    live = wait_for_widget(page, ".iw-live")
    assert live.locator(".iw-live-label").inner_text() == "idle"
    live.evaluate(OBSERVE_LIVE)

    click_centre(page, wait_for_widget(page, "button.iw-test-start"))

    evidence = read_json(notebook.parent / "live_stream.json")
    page.wait_for_function(
        "() => /^final/.test(document.querySelector('.iw-live-label').textContent)"
    )
    seen = page.evaluate("() => window.__iwLive()")

    # Kernel side: three partial events 0, 1, 2 of 3, spaced by the server, then the completed one.
    events = evidence["events"]
    assert evidence["error"] is None and evidence["status"] == "done", evidence
    assert [(e["type"], e["index"]) for e in events] == [
        ("partial_image", 0), ("partial_image", 1), ("partial_image", 2), ("completed", None)
    ], events
    assert all(e["total"] == 3 for e in events[:3])
    gaps = [b["t"] - a["t"] for a, b in zip(events, events[1:3])]
    assert all(gap > 0.3 for gap in gaps), gaps  # frames arrived one by one, not all at once
    frames = [e["sha256"] for e in events[:3]]
    final = evidence["result_sha256"]
    assert len(set(frames + [final])) == 4, "partial frames and final image should all differ"
    assert events[3]["sha256"] == final == evidence["shown_sha256"]
    assert evidence["stored_status"] == "completed"
    kernel_labels = [entry["text"] for entry in evidence["labels"]]
    shown = [t for t in kernel_labels if PARTIAL.match(t) or t.startswith("final")]
    assert shown[:3] == ["partial 1 of 3", "partial 2 of 3", "partial 3 of 3"], kernel_labels
    assert len(shown) == 4 and shown[3].startswith("final · "), kernel_labels

    # Browser side: the label went partial 1, 2, 3 of 3, then final, never backwards...
    texts = [entry["text"] for entry in seen]
    steps = [t for t in texts if PARTIAL.match(t) or t.startswith("final")]
    steps = [t for i, t in enumerate(steps) if i == 0 or t != steps[i - 1]]  # src-only changes
    assert steps[:3] == ["partial 1 of 3", "partial 2 of 3", "partial 3 of 3"], texts
    assert all(t.startswith("final · ") for t in steps[3:]) and len(steps) > 3, texts
    first_final = texts.index(steps[3])
    assert not any(PARTIAL.match(t) for t in texts[first_final:]), texts
    # ...the <img> showed exactly the kernel's frames, in order, then the final image...
    images = [entry["sha256"] for entry in seen if entry["bytes"]]  # skip the empty start
    deduped = [h for i, h in enumerate(images) if i == 0 or h != images[i - 1]]
    assert deduped == frames + [final], (deduped, frames, final)
    # ...and each label appeared with its own frame on screen (the frame comes first: when
    # partial k's label appears, the <img> already shows frame k, and the final image for "final").
    sha_of = {entry["src"]: entry["sha256"] for entry in seen if entry["bytes"]}
    previous = None
    for entry in seen:
        if entry["text"] != previous:
            match = PARTIAL.match(entry["text"])
            if match:
                assert sha_of.get(entry["src"]) == frames[int(match.group(1)) - 1], (entry, seen)
            elif entry["text"].startswith("final"):
                assert sha_of.get(entry["src"]) == final, (entry, seen)
        previous = entry["text"]
    # ...and the frames reached the page spread over time, as the server sent them.
    at = {t: min(e["t"] for e in seen if e["text"] == t) for t in steps[:3]}
    assert at["partial 3 of 3"] - at["partial 1 of 3"] > 2 * 0.3 * 1000, at


# --- 4. clicking Generate adds a thumbnail and a stored turn ---------------------------------

TYPED = "a yellow submarine under the ice"


def test_generate_click_adds_thumbnail_and_turn(page, lab):
    notebook = run_notebook(page, lab, "studio_generate.ipynb", "studio_generate")
    evidence_path = notebook.parent / "studio_generate.turns.json"
    thumbs = page.locator(".iw-studio .iw-thumb")
    wait_for_widget(page, ".iw-studio .iw-thumb")
    assert thumbs.count() == 1  # the turn made before the studio was shown
    assert not evidence_path.exists()  # nothing stored since

    prompt = wait_for_widget(page, ".iw-studio .iw-prompt textarea")
    prompt.click()
    page.keyboard.type(TYPED)
    generate = wait_for_widget(page, ".iw-studio button.iw-generate")
    assert generate.is_enabled()
    click_centre(page, generate)

    page.wait_for_function(
        "() => document.querySelectorAll('.iw-studio .iw-thumb').length >= 2", timeout=30_000
    )
    turns = read_json(evidence_path)["turns"]
    assert len(turns) == 1, turns
    turn = turns[0]
    assert turn["prompt"] == TYPED, turn  # what was typed in the browser reached the kernel
    assert turn["kind"] == "generate" and turn["status"] == "completed", turn
    assert turn["session_turns"] == 2 and turn["gallery_thumbs"] == 2, turn
    assert turn["path"] and Path(turn["path"]).is_file(), turn
    # The page settles at exactly one more thumbnail, captioned with the new turn's prompt.
    time.sleep(0.3)
    assert thumbs.count() == 2
    captions = page.locator(".iw-studio .iw-thumb-caption").all_inner_texts()
    assert any(TYPED in c for c in captions), captions
    assert page.locator(".iw-studio .iw-error").inner_text() == ""
    assert_no_widget_errors(page)
    SCREENSHOTS.mkdir(exist_ok=True)
    page.locator(".iw-studio").screenshot(path=str(SCREENSHOTS / "studio_after_generate.png"))
