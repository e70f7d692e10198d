"""The live canvas on a busy machine (issue 27): Chromium's CPU throttled 4x, frames as heavy as
the API's (photo-like PNGs of about 2 MB from a canned Image API, one every 2 s), the live
canvases sampled every 30 ms while `%imagine -p 3`, the studio's Generate and a masked
`%edit -p 3` stream:

- not one blank sample from the first frame drawn until the final (the old view cleared the
  canvas before each frame and showed white until the browser had decoded the next);
- every partial frame is drawn at least once, in order, then the final;
- the box has one size from the first frame to the final picture (the magics' final image, which
  replaces the live view, is shown at the same size);
- a masked edit's outline is on every sample.

Screenshots of the stream, the variant grid and the gallery at 1x and 2x device pixel ratio are
written to tests/browser/screenshots/live-busy/ (git-ignored) for a person to look at.
"""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest

from ..photos import photo
from .harness import (
    assert_no_cell_problems,
    open_notebook,
    run_new_cell,
    run_all,
    wait_for_file,
    wait_for_widget,
    wait_kernel_ready,
)

pytestmark = pytest.mark.browser

HERE = Path(__file__).parent
NOTEBOOKS = HERE / "notebooks"
ARTIFACTS = HERE / "screenshots" / "live-busy"
THROTTLE = 4  # Chromium's CPU slowed 4x (CDP Emulation.setCPUThrottlingRate)
SIDE = 1024
N = 5  # sampled grid: N x N points below the counter, off the mask's border (few: reading is work too)
TOLERANCE = 8
OUTLINE_POINTS = [(512, 256), (256, 512), (767, 512), (512, 767)]  # on the mask's border
CYAN = (0, 229, 255)

#: Every 30 ms, every live canvas on the page: its pixels at the grid and on the mask's border,
#: its drawing size and its displayed box. Each canvas gets a number the first time it is seen.
SAMPLER = r"""
([n, outline]) => {
    const ids = new WeakMap(); let next = 0; const log = [];
    const read = () => {
        const t = performance.now();
        for (const c of document.querySelectorAll('canvas.iw-live-canvas, .iw-live-canvas canvas')) {
            if (!ids.has(c)) ids.set(c, next++);
            const ctx = c.getContext('2d'), w = c.width, h = c.height, px = [], ol = [];
            for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
                const x = Math.floor((i + 0.5) * w / n), y = Math.floor(h * 0.12 + (j + 0.5) * h * 0.76 / n);
                px.push(...ctx.getImageData(x, y, 1, 1).data);
            }
            for (const [x, y] of outline) ol.push(...ctx.getImageData(x * w / 1024, y * h / 1024, 1, 1).data);
            const r = c.getBoundingClientRect();
            log.push({id: ids.get(c), t, w, h, bw: r.width, bh: r.height, px, ol,
                      studio: !!c.closest('.iw-test-studio')});
        }
    };
    const heights = [];  // the last cell's output area: a live view replaced by its final image
    const outputs = () => {
        const cells = document.querySelectorAll('.jp-Notebook .jp-Cell');
        const area = cells.length && cells[cells.length - 1].querySelector('.jp-OutputArea');
        heights.push({t: performance.now(), h: area ? area.getBoundingClientRect().height : 0,
                      img: !!(area && area.querySelector('img')), canvas: !!(area && area.querySelector('canvas'))});
    };
    window.__iwTimer = setInterval(() => { read(); outputs(); }, 30);
    window.__iwLog = log;
    window.__iwHeights = heights;
    window.__iwStop = () => { clearInterval(window.__iwTimer); return log; };
}
"""


def expected(path: Path) -> list[int]:
    """RGB at the sampled grid of a frame, as Pillow decodes it (the browser decodes PNG the same)."""
    from PIL import Image

    im = Image.open(path).convert("RGB")
    w, h = im.size
    out: list[int] = []
    for i in range(N):
        for j in range(N):
            out += im.getpixel((int((i + 0.5) * w / N), int(h * 0.12 + (j + 0.5) * h * 0.76 / N)))
    return out


def rgb(sample: dict, key: str = "px") -> list[int]:
    values = sample[key]
    return [v for k, v in enumerate(values) if k % 4 != 3]


def matches(sample: dict, want: list[int]) -> bool:
    return all(abs(a - b) <= TOLERANCE for a, b in zip(rgb(sample), want))


def blank(sample: dict) -> bool:
    """Nothing drawn (transparent) or one flat colour (a cleared or placeholder canvas)."""
    alphas = sample["px"][3::4]
    colours = {tuple(sample["px"][k:k + 3]) for k in range(0, len(sample["px"]), 4)}
    return max(alphas) == 0 or len(colours) == 1


def outlined(sample: dict) -> bool:
    ol = sample["ol"]
    return all(all(abs(ol[4 * k + c] - CYAN[c]) <= 40 for c in range(3)) for k in range(len(OUTLINE_POINTS)))


def write_frames(folder: Path) -> dict[str, dict[str, list[int]]]:
    """Photo-like frames (about 2 MB each) for the canned API, a mask, and each frame's samples."""
    frames = folder / "frames"
    frames.mkdir(parents=True, exist_ok=True)
    want: dict[str, dict[str, list[int]]] = {}
    for kind, seed in (("generate", 100), ("edit", 200)):
        want[kind] = {}
        for k, name in enumerate(("1", "2", "3", "final")):
            path = frames / f"{kind}-{name}.png"
            photo(seed + k, SIDE).save(path, "PNG")
            assert path.stat().st_size > 1_500_000, path.stat().st_size  # as heavy as the API's
            want[kind][name] = expected(path)
    from PIL import Image

    mask = Image.new("RGBA", (SIDE, SIDE), (0, 0, 0, 255))
    mask.paste((0, 0, 0, 0), (256, 256, 768, 768))
    mask.save(folder / "mask.png")
    shutil.copyfile(HERE / "canned_images.py", folder / "canned_images.py")
    return want


def frames_seen(samples: list[dict], want: dict[str, list[int]]) -> list[str]:
    """The frames recognised in the samples, in order (repeats collapsed)."""
    return [name for name, _t in timeline(samples, want)]


def timeline(samples: list[dict], want: dict[str, list[int]]) -> list[tuple[str, float]]:
    """(frame, ms since the first sample) each time a new frame is recognised."""
    seen: list[tuple[str, float]] = []
    for sample in samples:
        hit = next((name for name, values in want.items() if matches(sample, values)), None)
        if hit is not None and (not seen or seen[-1][0] != hit):
            seen.append((hit, round(sample["t"] - samples[0]["t"])))
    return seen


def from_first_frame(samples: list[dict], want: dict[str, list[int]], until_final: bool) -> list[dict]:
    """The samples from the first frame drawn until the final one drawn (or the canvas's last)."""
    start = next(k for k, s in enumerate(samples) if any(matches(s, want[p]) for p in ("1", "2", "3")))
    end = len(samples)
    if until_final:
        end = next(k for k, s in enumerate(samples) if matches(s, want["final"])) + 1
    return samples[start:end]


def check_stream(samples: list[dict], want: dict[str, list[int]], *, until_final: bool,
                 outline: bool = False) -> dict:
    window = from_first_frame(samples, want, until_final)
    seen = frames_seen(window, want)
    blanks = [s["t"] for s in window if blank(s)]
    assert not blanks, f"{len(blanks)} blank samples of {len(window)} (at {blanks[:5]} ms)"
    partials = [name for name in seen if name != "final"]
    assert partials == ["1", "2", "3"], (timeline(samples, want), round(samples[-1]["t"] - samples[0]["t"]))
    if until_final:
        assert seen[-1] == "final", seen
    boxes = {(round(s["bw"]), round(s["bh"])) for s in window}
    assert len(boxes) == 1, f"the box changed size while streaming: {boxes}"
    if outline:
        missing = [s["t"] for s in window if not outlined(s)]
        assert not missing, f"the mask's outline is missing on {len(missing)} of {len(window)} samples"
    return {"samples": len(window), "seen": seen, "box": boxes.pop(),
            "ms": round(window[-1]["t"] - window[0]["t"])}


def start_sampling(page) -> None:
    page.evaluate(SAMPLER, [N, OUTLINE_POINTS])


def stop_sampling(page) -> list[dict]:
    return page.evaluate("() => window.__iwStop()")


def by_canvas(samples: list[dict]) -> dict[int, list[dict]]:
    out: dict[int, list[dict]] = {}
    for s in samples:
        out.setdefault(s["id"], []).append(s)
    return out


def assert_no_collapse(page, stream: dict) -> None:
    """From the live view's first sample on, the cell's output never got shorter than the picture:
    the final image took the live view's place without the page jumping (not even while it loaded)."""
    heights = page.evaluate("() => window.__iwHeights")
    shown = [h for h in heights if h["canvas"] or h["img"]]
    assert shown, "no live view or image was seen in the cell's output"
    low = [h for h in shown if h["h"] < stream["box"][1] - 1]
    stream["output_heights"] = sorted({round(h["h"]) for h in shown})
    assert not low, f"the output shrank below the picture ({stream['box']}) {len(low)} times: {low[:3]}"


def run_cell(page, code: str) -> None:
    assert run_new_cell(page, code) is not False, code


def last_output_image(page):
    """The final image the magic left in the last cell's output (decoded), once the live view is gone."""
    last = page.locator(".jp-Notebook .jp-Cell").last
    img = last.locator(".jp-OutputArea-output img").first
    img.wait_for(state="visible", timeout=60_000)
    page.wait_for_function("(img) => img.complete && img.naturalWidth > 0", arg=img.element_handle())
    assert last.locator("canvas").count() == 0, "the live view is still there"
    return img


def throttle(page, rate: int) -> None:
    cdp = page.context.new_cdp_session(page)
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": rate})


def test_live_canvas_never_blinks_on_a_busy_machine(page, lab):
    folder = lab.root_dir / "live_busy"
    want = write_frames(folder)
    notebook = open_notebook(page, lab, NOTEBOOKS / "live_busy.ipynb", dest="live_busy/live_busy.ipynb")
    wait_kernel_ready(page)
    assert run_all(page, timeout=90), "JupyterLab reports a failed cell"
    wait_for_widget(page, ".iw-test-studio .iw-live-canvas")
    throttle(page, THROTTLE)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    report: dict = {"throttle": THROTTLE, "frame_bytes": (notebook.parent / "frames/generate-1.png").stat().st_size}

    # 1. %imagine -p 3: the view lives in the cell's output until the final image replaces it
    start_sampling(page)
    run_cell(page, "%imagine a harbour at dawn -p 3 --size 1024x1024 --quality high")
    final = last_output_image(page)
    samples = by_canvas(stop_sampling(page))
    magic = [s for s in samples.values() if not s[0]["studio"]]
    assert len(magic) == 1, f"{len(magic)} live canvases for one %imagine"
    report["imagine"] = check_stream(magic[0], want["generate"], until_final=False)
    assert_no_collapse(page, report["imagine"])
    final_box = final.bounding_box()
    assert final_box is not None
    canvas_box = report["imagine"]["box"]
    assert abs(final_box["width"] - canvas_box[0]) <= 1 and abs(final_box["height"] - canvas_box[1]) <= 1, (
        final_box, canvas_box)  # the final image takes the live view's place at its size
    assert abs(final_box["width"] - 512) <= 1  # the width rule of image outputs: 512 px at most

    # 2. the studio's Generate: the final picture stays in the same canvas
    studio_canvas = wait_for_widget(page, ".iw-test-studio :is(canvas.iw-live-canvas, .iw-live-canvas canvas)")
    studio_canvas.scroll_into_view_if_needed()
    start_sampling(page)
    page.locator(".iw-test-studio button.iw-generate").click()
    page.wait_for_function(
        "([want, tol]) => window.__iwLog.some(s => s.studio && s.px.filter((v, k) => k % 4 != 3)"
        ".every((v, k) => Math.abs(v - want[k]) <= tol))",
        arg=[want["generate"]["final"], TOLERANCE], timeout=60_000)
    page.wait_for_timeout(500)
    samples = by_canvas(stop_sampling(page))
    studio = [s for s in samples.values() if s[0]["studio"]]
    assert len(studio) == 1
    report["studio"] = check_stream(studio[0], want["generate"], until_final=True)
    after = [(round(s["bw"]), round(s["bh"])) for s in studio[0][-5:]]
    assert set(after) == {report["studio"]["box"]}, (after, report["studio"]["box"])  # same box after the final
    page.locator(".iw-test-studio").screenshot(path=str(ARTIFACTS / "studio-final-1x.png"))
    # the studio's run is paced by the browser's answers (the kernel is free while it streams)
    run_cell(page, "Path('acks.json').write_text(json.dumps({'acks': studio.live._acks_seen}))")
    assert json.loads(wait_for_file(notebook.parent / "acks.json").read_text()) == {"acks": True}

    # 3. a masked streamed edit: the mask's outline on every frame
    start_sampling(page)
    run_cell(page, "%edit a red boat in the square --mask mask.png -p 3")
    final = last_output_image(page)
    samples = by_canvas(stop_sampling(page))
    masked = [s for s in samples.values() if not s[0]["studio"]]
    assert len(masked) == 1
    report["masked_edit"] = check_stream(masked[0], want["edit"], until_final=False, outline=True)
    assert_no_collapse(page, report["masked_edit"])
    final_box = final.bounding_box()
    assert abs(final_box["width"] - report["masked_edit"]["box"][0]) <= 1
    assert abs(final_box["height"] - report["masked_edit"]["box"][1]) <= 1
    assert_no_cell_problems(page)
    (ARTIFACTS / "busy-report.json").write_text(json.dumps(report, indent=1))


@pytest.mark.parametrize("dpr", [1, 2])
def test_screenshots_of_the_stream_the_grid_and_the_gallery(browser, lab, dpr):
    """At 1x and 2x device pixel ratio: the grid's buttons show their whole words (number
    included), a click on a gallery caption picks that turn, and a masked edit streams with its
    outline; screenshots of each go to tests/browser/screenshots/live-busy/."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, device_scale_factor=dpr)
    context.set_default_timeout(60_000)
    page = context.new_page()
    try:
        open_notebook(page, lab, NOTEBOOKS / "widgets_look.ipynb", dest=f"widgets_look_{dpr}x/widgets_look.ipynb")
        wait_kernel_ready(page)
        assert run_all(page, timeout=120), "JupyterLab reports a failed cell"
        assert_no_cell_problems(page)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)

        grid = wait_for_widget(page, ".iw-test-grid")
        pictures = grid.locator("img")
        for i in range(pictures.count()):
            page.wait_for_function("(img) => img.complete && img.naturalWidth > 0",
                                   arg=pictures.nth(i).element_handle())
        buttons = grid.locator("button.iw-variant-pick")
        assert buttons.all_inner_texts() == ["continue from #1", "continue from #2", "continue from #3"]
        for i in range(3):  # the words fit: nothing cut, the number shown
            assert buttons.nth(i).evaluate("(b) => b.scrollWidth <= b.clientWidth + 1"), buttons.nth(i).inner_text()
        grid.screenshot(path=str(ARTIFACTS / f"variants-{dpr}x.png"))

        gallery = wait_for_widget(page, ".iw-test-gallery")
        captions = gallery.locator("button.iw-thumb-caption")
        assert captions.count() == 2  # the call that made three variants, and the edit
        rows = gallery.locator(".iw-gallery-row")
        current = [i for i in range(rows.count()) if "iw-thumb-current" in (rows.nth(i).get_attribute("class") or "")]
        target = next(i for i in range(rows.count()) if i not in current)
        rows.nth(target).locator("button.iw-thumb-caption").click()  # the words, not the thumbnail
        page.wait_for_function("(row) => row.classList.contains('iw-thumb-current')",
                               arg=rows.nth(target).element_handle())
        text = captions.nth(target).inner_text()
        assert text.startswith("#") and "\n" in text, text  # number and kind, then the prompt below
        gallery.screenshot(path=str(ARTIFACTS / f"gallery-{dpr}x.png"))

        stream = wait_for_widget(page, ".iw-test-stream")
        start = page.locator("button.iw-test-start")
        start.scroll_into_view_if_needed()
        start.click()
        page.wait_for_function("() => /^partial 2 of 3/.test(document.querySelector("
                               "'.iw-test-stream .iw-live-label').textContent)", timeout=60_000)
        page.wait_for_timeout(800)  # the frame's decode and fade
        canvas = stream.locator("canvas").first
        r, g, b, _a = canvas.evaluate("(c) => Array.from(c.getContext('2d').getImageData(512, 256, 1, 1).data)")
        assert abs(r - CYAN[0]) <= 40 and abs(g - CYAN[1]) <= 40 and abs(b - CYAN[2]) <= 40, (r, g, b)
        stream.screenshot(path=str(ARTIFACTS / f"stream-{dpr}x.png"))
        box = canvas.bounding_box()
        assert box is not None and abs(box["width"] - 512) <= 1 and abs(box["height"] - 512) <= 1, box
    finally:
        context.close()
        lab.shutdown_kernels()
