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

# retired models (dall-e-2/3, gpt-image-1, gpt-image-1.5...) serve here as fixtures of features they
# had; the twin's calendar is tested in test_calendar.py and test_lifecycle.py
pytestmark = [pytest.mark.browser, pytest.mark.calendar_off]

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

    # The live canvas shows the generated picture at the width asked for, square like the picture.
    live_image = wait_for_widget(page, ".iw-studio :is(canvas.iw-live-canvas, .iw-live-canvas canvas)")
    page.wait_for_function("(c) => c.width === 1024 && c.height === 1024", arg=live_image.element_handle())
    assert abs(box(live_image)["width"] - 384) <= 1 and abs(box(live_image)["height"] - 384) <= 1
    page.wait_for_function(f"(c) => ({DISTINCT_COLOURS_JS})(c) > 20", arg=live_image.element_handle())
    label = wait_for_widget(page, ".iw-studio .iw-live-label")
    assert label.inner_text().startswith("final · "), label.inner_text()

    # The gallery, to the right of the live area, has the turn's thumbnail, drawn (not blank).
    gallery = wait_for_widget(page, ".iw-studio .iw-gallery")
    assert box(gallery)["x"] >= box(live_image)["x"] + box(live_image)["width"] - 1
    assert page.locator(".iw-studio .iw-thumb").count() == 1
    assert gallery.inner_text().startswith("1 turn")
    thumb = wait_for_widget(page, ".iw-studio canvas.iw-thumb")
    assert distinct_colours(thumb) > 20, "the thumbnail canvas is blank"

    # Disabled controls say why where the user looks: hovering the control (or its name) finds the
    # reason as a tooltip, and the note under the controls says it in plain sight.
    for cls, reason in (("iw-style", "does not accept style (no current model takes it"),
                        ("iw-fidelity", "does not accept input fidelity")):
        select = wait_for_widget(page, f".iw-studio .{cls} select")
        assert select.is_disabled()
        for target in (select, select.locator("xpath=../..").locator(".iw-name")):
            assert reason in hover_title(page, target), (cls, hover_title(page, target))
    slider = wait_for_widget(page, ".iw-studio .iw-compression .widget-label")  # a slider's name shows it
    assert "compression applies to jpeg and webp only" in hover_title(page, slider)
    note = wait_for_widget(page, ".iw-studio .iw-note")
    assert "style (no current model takes it" in note.inner_text() and "input fidelity" in note.inner_text()
    assert "dall-e-3" not in note.inner_text()  # shut down on the suite's day: never offered

    assert_no_widget_errors(page)
    SCREENSHOTS.mkdir(exist_ok=True)
    studio.screenshot(path=str(SCREENSHOTS / "studio.png"))


def hover_title(page, locator) -> str:
    """Move the real mouse over ``locator`` and return the tooltip the browser would show there: the
    ``title`` of the element under the pointer or of its nearest ancestor that has one."""
    locator.scroll_into_view_if_needed()
    found = box(locator)
    x, y = found["x"] + found["width"] / 2, found["y"] + found["height"] / 2
    page.mouse.move(x, y)
    return page.evaluate("([x, y]) => document.elementFromPoint(x, y)?.closest('[title]')?.title || ''", [x, y])


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
    # Drawn at the size it is shown (never stretched to the output's width), with 2 canvas
    # pixels per CSS pixel so a HiDPI screen (device pixel ratio 2) shows it sharp.
    shown = canvas.evaluate("(c) => { const r = c.getBoundingClientRect(); return [r.width, r.height]; }")
    assert tuple(round(v) for v in shown) == VIEW_SIZE, shown
    size = canvas.evaluate("(c) => [c.width, c.height]")
    assert tuple(size) == (2 * VIEW_SIZE[0], 2 * VIEW_SIZE[1]), size
    status = painter.inner_text()
    assert f"shown at {VIEW_SIZE[0]}x{VIEW_SIZE[1]}" in status, status

    drag(page, canvas, [(2 * x, 2 * y) for x, y in STROKE], steps=8)  # canvas pixels

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


# --- 3. the live canvas: frames in order, the mask's outline, a cut stream's band -----------

#: JS: how many distinct colours a canvas holds (read back from its pixels, every 4th pixel)
DISTINCT_COLOURS_JS = """(c) => { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    const seen = new Set(); for (let i = 0; i < d.length; i += 16) seen.add((d[i] << 16) | (d[i+1] << 8) | d[i+2]);
    return seen.size; }"""

#: Samples a grid of the canvas's own pixels every 30 ms (below the frame counter, above a band)
#: and logs each new reading: what the page showed, in order, read back from the canvas.
SAMPLE_CANVAS = r"""
(canvas) => {
    const ctx = canvas.getContext('2d');
    const N = 12, log = [];
    let last = null;
    const read = () => {
        const w = canvas.width, h = canvas.height, px = [];
        for (let i = 0; i < N; i++) for (let j = 0; j < N; j++) {
            const x = Math.floor((i + 0.5) * w / N), y = Math.floor(h * 0.12 + (j + 0.5) * h * 0.70 / N);
            const d = ctx.getImageData(x, y, 1, 1).data;
            px.push(d[0], d[1], d[2]);
        }
        const key = w + 'x' + h + ':' + px.join(',');
        if (key !== last) { log.push({t: performance.now(), w, h, px}); last = key; }
    };
    window.__iwSampler = setInterval(read, 30);
    window.__iwSamples = () => { clearInterval(window.__iwSampler); read(); return log; };
}
"""
FRAME_TOLERANCE = 8  # PNG decoded by the browser vs by Pillow: equal but for rounding


def expected_samples(path: Path, w: int, h: int, n: int = 12) -> list[int]:
    from PIL import Image

    im = Image.open(path).convert("RGB")
    assert im.size == (w, h)
    out: list[int] = []
    for i in range(n):
        for j in range(n):
            out += im.getpixel((int((i + 0.5) * w / n), int(h * 0.12 + (j + 0.5) * h * 0.70 / n)))
    return out


def matches(sample: dict, expected: list[int]) -> bool:
    return all(abs(a - b) <= FRAME_TOLERANCE for a, b in zip(sample["px"], expected))


def canvas_pixel(page, canvas, x: int, y: int) -> list[int]:
    return page.evaluate("([c, x, y]) => Array.from(c.getContext('2d').getImageData(x, y, 1, 1).data)",
                         [canvas.element_handle(), x, y])


def open_live_canvas(page, lab) -> Path:
    return run_notebook(page, lab, "live_canvas.ipynb", "live_canvas")


def test_live_canvas_frames_appear_in_order_then_the_final_image(page, lab):
    notebook = open_live_canvas(page, lab)
    canvas = wait_for_widget(page, ".iw-test-generate :is(canvas.iw-live-canvas, .iw-live-canvas canvas)")
    assert wait_for_widget(page, ".iw-test-generate .iw-live-label").inner_text() == "idle"
    canvas.evaluate(SAMPLE_CANVAS)
    click_centre(page, wait_for_widget(page, "button.iw-test-start-generate"))

    evidence = read_json(notebook.parent / "generate.json")
    assert evidence == {"frames": 3, "status": "done", "error": None}, evidence
    page.wait_for_function("() => /^final/.test(document.querySelector('.iw-test-generate .iw-live-label')"
                           ".textContent)")
    page.wait_for_timeout(300)  # the final image's fade
    samples = page.evaluate("() => window.__iwSamples()")

    frames = notebook.parent / "frames"
    names = ["1", "2", "3", "final"]
    expected = {k: expected_samples(frames / f"generate-{k}.png", 1024, 1024) for k in names}
    assert len({tuple(v) for v in expected.values()}) == 4, "the sampled points tell the frames apart"
    seen = []
    for sample in samples:
        if (sample["w"], sample["h"]) != (1024, 1024):
            continue
        hit = next((k for k in names if matches(sample, expected[k])), None)
        if hit is not None and (not seen or seen[-1] != hit):
            seen.append(hit)
    last = samples[-1]
    diffs = {k: max(abs(a - b) for a, b in zip(last["px"], v)) for k, v in expected.items()}
    assert seen == names, (seen, len(samples), diffs, last["w"], last["h"])  # in order, then the final

    # The canvas keeps the picture's ratio at the width asked for (512 px at most here).
    found = box(canvas)
    assert found["width"] <= 513 and abs(found["width"] - found["height"]) <= 1
    # A click on the final picture shows it at full resolution.
    click_centre(page, canvas)
    full = wait_for_widget(page, ".iw-test-generate img.iw-live-full-image")
    page.wait_for_function("(img) => img.complete && img.naturalWidth === 1024", arg=full.element_handle())
    assert abs(box(full)["width"] - 1024) <= 1
    assert_no_widget_errors(page)


def test_live_canvas_outlines_the_mask_of_a_masked_edit(page, lab):
    notebook = open_live_canvas(page, lab)
    canvas = wait_for_widget(page, ".iw-test-masked :is(canvas.iw-live-canvas, .iw-live-canvas canvas)")
    click_centre(page, wait_for_widget(page, "button.iw-test-start-masked"))
    wait_for_file(notebook.parent / "frames" / "masked-1.png")
    # While it streams, the border of the mask's transparent square (256..768) is drawn in cyan on
    # all four sides at once, read back from the canvas in one go.
    border = page.wait_for_function(
        """(c) => { const ctx = c.getContext('2d');
            const cyan = ([x, y]) => { const d = ctx.getImageData(x, y, 1, 1).data;
                                       return d[0] < 60 && d[1] > 180 && d[2] > 200; };
            const inside = Array.from(ctx.getImageData(512, 512, 1, 1).data).slice(0, 3);
            const sides = [[512, 256], [256, 512], [767, 512], [512, 767]];
            return c.width === 1024 && sides.every(cyan) && {inside}; }""",
        arg=canvas.element_handle(), timeout=15000).json_value()
    assert border["inside"] != [0, 229, 255]  # only the border is drawn, not the area
    evidence = read_json(notebook.parent / "masked.json")
    assert evidence["status"] == "done" and evidence["frames"] == 3, evidence
    assert_no_widget_errors(page)


def test_live_canvas_shows_a_band_when_the_stream_is_cut(page, lab):
    notebook = open_live_canvas(page, lab)
    canvas = wait_for_widget(page, ".iw-test-cut :is(canvas.iw-live-canvas, .iw-live-canvas canvas)")
    click_centre(page, wait_for_widget(page, "button.iw-test-start-cut"))
    evidence = read_json(notebook.parent / "cut.json")
    assert evidence["status"] == "failed" and evidence["frames"] >= 1, evidence
    page.wait_for_function("() => /^failed/.test(document.querySelector('.iw-test-cut .iw-live-label')"
                           ".textContent)")
    page.wait_for_timeout(300)
    for x in (20, 1004):  # the band spans the bottom, text in the middle
        r, g, b, _a = canvas_pixel(page, canvas, x, 1024 - 20)
        assert r > 150 and g < 110 and b < 110, (x, r, g, b)
    # Above the band, the newest frame is still there.
    kept = expected_samples(notebook.parent / "frames" / f"cut-{evidence['frames']}.png", 1024, 1024, n=4)
    got = []
    for i in range(4):
        for j in range(4):
            got += canvas_pixel(page, canvas, int((i + 0.5) * 256), int(1024 * 0.12 + (j + 0.5) * 1024 * 0.70 / 4))[:3]
    assert all(abs(a - b) <= FRAME_TOLERANCE for a, b in zip(got, kept))
    SCREENSHOTS.mkdir(exist_ok=True)
    wait_for_widget(page, ".iw-test-cut").screenshot(path=str(SCREENSHOTS / "live-cut.png"))
    assert_no_widget_errors(page)


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
