"""The magics in a real IPython shell against the offline backend: what reaches the wire, what is
shown, what is returned, and how mistakes read."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from email.parser import BytesParser
from email.policy import default as email_policy

import httpx2
import numpy as np
import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output
from PIL import Image
from traitlets.config import Config

from imagewidgets.magics import magics as magics_mod
from imagewidgets.api.config import settings
from imagewidgets.session import session as session_mod
from imagewidgets.magics._args import split_line
from imagewidgets.api.client import Client
from imagewidgets.api.results import ImageResult, ImageSet, PartialImageEvent
from imagewidgets.session.session import Session

# retired models (dall-e-2/3, gpt-image-1, gpt-image-1.5...) serve here as fixtures of features they
# had; the twin's calendar is tested in test_calendar.py and test_lifecycle.py
pytestmark = pytest.mark.calendar_off

# -- fixtures ----------------------------------------------------------------------------------


class Recording(httpx2.BaseTransport):
    """The real HTTP path to the offline server, with every request kept for inspection."""

    def __init__(self) -> None:
        self.inner = httpx2.HTTPTransport()
        self.requests: list[httpx2.Request] = []

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        request.read()
        self.requests.append(request)
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()

    def bodies(self, path_end: str = "") -> list[dict]:
        return [body(r) for r in self.requests if r.method == "POST" and r.url.path.endswith(path_end)]

    def last(self) -> tuple[str, dict]:
        r = [r for r in self.requests if r.method == "POST"][-1]
        return r.url.path.removeprefix("/v1"), body(r)


def body(request: httpx2.Request) -> dict:
    """A request's JSON body, or its multipart fields (files as bytes; repeated names as lists)."""
    ctype = request.headers["content-type"]
    if ctype.startswith("application/json"):
        return json.loads(request.content)
    msg = BytesParser(policy=email_policy).parsebytes(
        b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + request.content)
    fields: dict = {}
    for part in msg.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        fields.setdefault(name, []).append(payload if part.get_filename() else payload.decode())
    return {k: v[0] if len(v) == 1 else v for k, v in fields.items()}


def tool(b: dict) -> dict:
    return b["tools"][0]


def texts(b: dict) -> list[str]:
    return [c["text"] for c in b["input"][0]["content"] if c["type"] == "input_text"]


@pytest.fixture
def ip(capsys):
    InteractiveShell.clear_instance()
    shell = InteractiveShell.instance(config=Config())
    shell.extension_manager.load_extension("imagewidgets")
    shell.banner_text = capsys.readouterr().out
    yield shell
    magics = magics_mod._loaded.get(id(shell), (None,))[0]
    for s in [settings.made_default_session(), *(magics._named.values() if magics else [])]:
        if s is not None:
            s.client.close()
    shell.extension_manager.unload_extension("imagewidgets")
    InteractiveShell.clear_instance()


@pytest.fixture
def wire(ip):
    """A session whose client records every request, made the magics' session via %imagine_config."""
    transport = Recording()
    ip.user_ns["s"] = Session("magics", client=Client(transport=transport))
    ip.run_line_magic("imagine_config", "--session s")
    yield transport
    transport.close()


class Run:
    """What one cell did: its result, display outputs, stdout and stderr."""

    def __init__(self, ip, source: str) -> None:
        with capture_output() as cap:
            self.exec = ip.run_cell(source)
        self.result = self.exec.result
        self.outputs = cap.outputs
        self.stdout = cap.stdout
        self.stderr = cap.stderr

    @property
    def error_lines(self) -> list[str]:
        return self.stderr.strip().splitlines()

    def images(self) -> list[bytes]:
        """The bytes of the images embedded as image/png (partial frames in a plain shell) or as an
        ``<img>``'s PNG data URL (originals shown in full)."""
        out = []
        for o in self.outputs:
            if "image/png" in o.data:
                out.append(base64.b64decode(o.data["image/png"]))
            elif 'src="data:image/png;base64,' in o.data.get("text/html", ""):
                out.append(base64.b64decode(o.data["text/html"].split("base64,", 1)[1].split('"', 1)[0]))
        return out

    def shown(self) -> list[str]:
        """The content hashes of the stored images shown (each output's metadata names its original)."""
        return [o.metadata["imagewidgets"]["sha256"] for o in self.outputs
                if "sha256" in (o.metadata or {}).get("imagewidgets", {})]


def cell(ip, source: str) -> Run:
    return Run(ip, source)


# -- loading -----------------------------------------------------------------------------------


def test_load_banner_names_the_offline_backend_the_store_and_the_edit_takeover(ip, tmp_path):
    text = ip.banner_text
    lines = text.strip().splitlines()
    assert len(lines) == 2  # two short lines at most
    assert len(lines[0].replace(str(tmp_path / "iw-store"), "FOLDER")) <= 100 and len(lines[1]) <= 100
    assert "offline renderer (procedural, not AI)" in text
    assert str(tmp_path / "iw-store") in text
    assert "%ipython_edit" in text and "%imedit" in text and "%edit" in text


def test_load_banner_shows_the_url_and_never_the_key(monkeypatch, capsys):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-very-SECRET-key")
    monkeypatch.setenv("OPENAI_BASE_URL", "https://example.test/v1")
    magics_mod.load_ipython_extension(shell := InteractiveShell.instance(config=Config()))
    try:
        text = capsys.readouterr().out
        assert "https://example.test/v1" in text and "SECRET" not in text
    finally:
        magics_mod.unload_ipython_extension(shell)
        InteractiveShell.clear_instance()


def test_loading_the_extension_imports_no_widget_server_or_imaging_code():
    code = ("import sys\n"
            "from IPython.core.interactiveshell import InteractiveShell\n"
            "InteractiveShell.instance().extension_manager.load_extension('imagewidgets')\n"
            "heavy = ('ipywidgets', 'ipycanvas', 'uvicorn', 'starlette', 'imagewidgets.widgets',\n"
            "         'imagewidgets.offline.server', 'PIL.Image', 'numpy')\n"
            "print([m for m in heavy if m in sys.modules])\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "[]"


def test_ipythons_edit_stays_reachable_and_comes_back_on_unload(ip):
    ours = ip.find_line_magic("edit")
    theirs = ip.find_line_magic("ipython_edit")
    assert ours.__func__.__module__ == "imagewidgets.magics.magics"
    assert theirs.__func__.__module__.startswith("IPython")
    assert ip.find_cell_magic("edit") is not None and ip.find_line_magic("imedit") is not None
    ip.extension_manager.unload_extension("imagewidgets")
    assert ip.find_line_magic("edit").__func__ is theirs.__func__
    assert ip.find_line_magic("imagine") is None and ip.find_line_magic("ipython_edit") is None
    ip.extension_manager.load_extension("imagewidgets")  # for the fixture's teardown


def test_help_documents_every_option_with_examples(ip):
    doc = ip.find_line_magic("imagine").__doc__
    for option in ("--model", "-m", "--size", "-s", "--quality", "-q", "-n", "--format", "-f", "--compression",
                   "--background", "-b", "--moderation", "--partial-images", "-p", "--api", "--session",
                   "--out", "--no-display", "--refresh", "Examples", "%%imagine"):
        assert option in doc, option
    edit_doc = ip.find_line_magic("edit").__doc__
    for option in ("--image", "--mask", "--input-fidelity", "%ipython_edit", "%imedit"):
        assert option in edit_doc, option
    assert "gpt-image-2.5-sunburst" in doc  # the model table feeds the help (live models only)
    assert "gpt-image-1.5" not in doc  # shut down on the pinned day: never offered


# -- options on the wire -----------------------------------------------------------------------


def test_every_imagine_option_reaches_the_responses_tool(ip, wire):
    cell(ip, "%imagine a red kite -m gpt-image-1.5 -s 1536x1024 -q low -f jpeg --compression 60 "
             "-b opaque --moderation low -p 2")
    path, b = wire.last()
    assert path == "/responses" and texts(b) == ["a red kite"]
    assert tool(b) == {"type": "image_generation", "model": "gpt-image-1.5", "size": "1536x1024", "quality": "low",
                       "output_format": "jpeg", "output_compression": 60, "background": "opaque",
                       "moderation": "low", "partial_images": 2}
    assert b["stream"] is True


def test_api_images_sends_to_the_generations_endpoint_with_n(ip, wire):
    run = cell(ip, "%imagine two kites --api images -n 2 -q low -s 1024x1024")
    path, b = wire.last()
    assert path == "/images/generations"
    assert b == {"model": "gpt-image-2", "prompt": "two kites", "n": 2, "quality": "low", "size": "1024x1024"}
    assert isinstance(run.result, ImageSet) and len(run.result) == 2


def test_edit_options_and_images_of_every_kind_reach_the_edits_endpoint(ip, wire, tmp_path):
    cell(ip, "base = %imagine a harbour --api images -q low -s 1024x1024")
    first = ip.user_ns["base"]
    path = tmp_path / "photo.png"
    Image.new("RGB", (64, 64), (0, 90, 200)).save(path)
    ip.user_ns.update(raw=first.data, pil=Image.new("RGB", (64, 64), "red"),
                      arr=np.zeros((64, 64, 3), dtype=np.uint8))
    cell(ip, f"%edit merge them --image {path} --image base --image raw --image pil --image arr "
             "--api images -m gpt-image-1.5 --input-fidelity high -q medium -s 1536x1024 -f webp "
             "--compression 50 -b opaque -n 2")
    endpoint, b = wire.last()
    assert endpoint == "/images/edits"
    images = b.pop("image[]")
    assert len(images) == 5 and images[0] == path.read_bytes() and images[1] == first.data and images[2] == first.data
    assert b == {"model": "gpt-image-1.5", "prompt": "merge them", "input_fidelity": "high", "quality": "medium",
                 "size": "1536x1024", "output_format": "webp", "output_compression": "50", "background": "opaque",
                 "n": "2"}
    # the edits endpoint has no moderation (SDK 3.57, OpenAPI): refused before sending, not sent
    sent = len(wire.requests)
    run = cell(ip, "%edit again --api images -m gpt-image-1.5 --moderation low")
    assert len(wire.requests) == sent and "moderation" in run.stderr and "no moderation parameter" in run.stderr


def test_imagine_config_defaults_reach_the_wire(ip, wire):
    cell(ip, "%imagine_config -m gpt-image-1.5 -s 1024x1536 -q low -f png -b transparent --moderation low")
    cell(ip, "%imagine a glass of water")
    assert tool(wire.last()[1]) == {"type": "image_generation", "model": "gpt-image-1.5", "size": "1024x1536",
                                    "quality": "low", "output_format": "png", "background": "transparent",
                                    "moderation": "low"}
    cell(ip, "%imagine_config --api images")
    cell(ip, "%imagine a jug of water -q medium")  # the line wins over the defaults
    endpoint, b = wire.last()
    assert endpoint == "/images/generations" and b["quality"] == "medium" and b["size"] == "1024x1536"


def test_imagine_config_sets_the_default_session_and_store_without_showing_a_key(ip, tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-very-SECRET-key")
    run = cell(ip, f"%imagine_config --base-url offline --store {tmp_path / 'elsewhere'} --session harbour -q low")
    assert "offline renderer" in run.stdout and "SECRET" not in run.stdout
    assert str(tmp_path / "elsewhere") in run.stdout and "'harbour'" in run.stdout
    cell(ip, "%imagine a moored boat")
    s = session_mod.default_session()
    assert s.name == "harbour" and s.store.folder == (tmp_path / "elsewhere").resolve()
    assert [t.prompt for t in s.turns] == ["a moored boat"] and s.turns[0].params["quality"] == "low"


def test_budget_from_imagine_config_refuses_in_one_line(ip, wire):
    cell(ip, "%imagine_config --budget 0.000001")
    run = cell(ip, "%imagine an expensive poster -q high")
    assert run.result is None and len(run.error_lines) == 1
    assert "budget" in run.stderr and "nothing was sent" in run.stderr
    assert wire.bodies() == []


# -- the edit chain, masks, references ---------------------------------------------------------


def test_three_cells_make_an_edit_chain_through_previous_response_id(ip, wire):
    a = cell(ip, "%imagine a lighthouse at dusk").result
    b = cell(ip, "%edit add a red sailing boat").result
    c = cell(ip, "%edit make it winter").result
    first, second, third = wire.bodies("/responses")
    assert "previous_response_id" not in first
    assert second["previous_response_id"] == a.response_id
    assert third["previous_response_id"] == b.response_id
    assert texts(third) == ["make it winter"] and c.response_id not in (a.response_id, b.response_id)
    s = ip.user_ns["s"]
    assert [t.parent_id for t in s.turns] == [None, s.turns[0].id, s.turns[1].id]


def test_image_turn_id_branches_from_an_earlier_turn(ip, wire):
    a = cell(ip, "%imagine a lighthouse").result
    cell(ip, "%edit add a boat")
    first = ip.user_ns["s"].turns[0]
    cell(ip, f"%edit add a whale --image {first.id}")
    assert wire.last()[1]["previous_response_id"] == a.response_id
    assert ip.user_ns["s"].current.parent_id == first.id


def test_imagine_history_checkout_makes_the_next_edit_branch(ip, wire):
    a = cell(ip, "%imagine a lighthouse").result
    cell(ip, "%edit add a boat")
    turn_id = ip.user_ns["s"].turns[0].id
    run = cell(ip, f"%imagine_history --checkout {turn_id}")
    assert turn_id in run.stdout
    cell(ip, "%edit add a kraken")
    assert wire.last()[1]["previous_response_id"] == a.response_id


def test_mask_from_a_painter_variable(ip, wire):
    from imagewidgets.widgets import MaskPainter

    cell(ip, "base = %imagine a pond --api images -q low -s 1024x1024")
    base = ip.user_ns["base"]
    painter = MaskPainter(base)
    painter.paint_rect(100, 100, 400, 300)
    ip.user_ns["painter"] = painter
    run = cell(ip, "%edit lilies on the water --mask painter --api images")
    assert run.stderr == ""
    _, b = wire.last()
    assert b["mask"] == painter.mask_png and b["image"] == base.data
    alpha = Image.open(__import__("io").BytesIO(b["mask"])).getchannel("A")
    assert alpha.getpixel((200, 200)) == 0 and alpha.getpixel((600, 600)) == 255
    cell(ip, "%edit frogs on the lilies --mask painter")  # Responses: the tool's input_image_mask
    mask_url = tool(wire.last()[1])["input_image_mask"]["image_url"]
    assert base64.b64decode(mask_url.split(",", 1)[1]) == painter.mask_png


def test_file_id_and_mask_path_are_accepted(ip, wire, tmp_path):
    path, mask = tmp_path / "cat.png", tmp_path / "mask.png"
    Image.new("RGB", (64, 64), "orange").save(path)
    hole = Image.new("RGBA", (64, 64), (0, 0, 0, 255))
    hole.paste((0, 0, 0, 0), (0, 0, 32, 32))  # transparent where the edit goes
    hole.save(mask)
    file_id = ip.user_ns["s"].client.upload(path).id
    run = cell(ip, f"%edit a cat in a hat --image {file_id} --mask {mask} --api images -m gpt-image-1.5")
    assert run.stderr == ""
    b = wire.last()[1]
    assert b["images"] == [{"file_id": file_id}]
    assert base64.b64decode(b["mask"]["image_url"].split(",", 1)[1]) == mask.read_bytes()


# -- display and return value ------------------------------------------------------------------


def test_image_is_shown_once_and_returned(ip, wire):
    run = cell(ip, "%imagine a paper boat")
    assert isinstance(run.result, ImageResult)
    assert run.shown() == [run.result.sha256]
    assert repr(run.result) not in run.stdout  # no second copy as Out[n]
    assert ip.user_ns["_"] is run.result


def test_terminal_ipython_shows_the_image_line_once_and_no_empty_out_prompt(tmp_path):
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    env.update(IMAGEWIDGETS_STORE=str(tmp_path / "store"), IMAGEWIDGETS_HOME=str(tmp_path / "home"))
    lines = "%load_ext imagewidgets\n%imagine a fox --size 1024x1024 --quality low\n_.width\n41 + 1\n"
    out = subprocess.run([sys.executable, "-m", "IPython", "--no-banner", "--simple-prompt", "--colors=NoColor",
                          "--HistoryManager.enabled=False"], input=lines, capture_output=True, text=True,
                         env=env, cwd=tmp_path, timeout=120).stdout
    assert out.count("<ImageResult 1024x1024 png") == 1  # shown once, by the magic
    assert "Out[2]" not in out  # the returned image adds no empty prompt
    assert "Out[3]: 1024" in out and "Out[4]: 42" in out  # and `_` is the image, other results show


def test_assigned_image_is_shown_once(ip, wire):
    run = cell(ip, "img = %imagine a paper crane")
    assert run.shown() == [ip.user_ns["img"].sha256]
    again = cell(ip, "img")  # a later cell shows it as usual
    assert repr(ip.user_ns["img"]) in again.stdout


def test_two_magics_in_one_cell_show_both(ip, wire):
    run = cell(ip, "%imagine a fox\n%imagine a hare")
    assert len(run.shown()) == 2


@pytest.mark.pictures("realistic")  # API-size pictures: no limit below them
def test_partial_frames_replace_each_other_then_the_final_image(ip, wire, monkeypatch):
    seen: list = []
    original = Session.imagine

    def spy(self, prompt, *, on_event=None, **kw):
        def record(ev):
            seen.append(ev)
            on_event(ev)
        return original(self, prompt, on_event=record, **kw)

    monkeypatch.setattr(Session, "imagine", spy)
    run = cell(ip, "%imagine an owl made of river water -p 3 -q low")
    frames = [e for e in seen if isinstance(e, PartialImageEvent)]
    assert len(frames) == 3
    ids = {o.transient["display_id"] for o in run.outputs}
    assert len(ids) == 1  # one output area, updated in place
    assert [o.update for o in run.outputs] == [False, True, True, True]
    assert run.images() == [f.data for f in frames]  # the bytes as they arrived
    assert run.shown() == [run.result.sha256]  # then the stored image, as its preview
    assert run.outputs[0].data["text/plain"] == "<partial image 1 of 3>"


def test_preview_full_embeds_the_original_and_config_sets_the_default(ip, wire):
    run = cell(ip, "%imagine a paper boat -s 1024x1024 -q medium --preview full")
    assert run.images() == [run.result.data]  # the original, as image/png
    cell(ip, "%imagine_config --preview jpeg:256")
    run = cell(ip, "%imagine a paper crane -s 1024x1024 -q medium")
    assert "data:image/jpeg;base64," in run.outputs[0].data["text/html"]
    assert run.outputs[0].metadata["imagewidgets"]["preview"]["width"] == 256
    cell(ip, "%imagine_config --preview default")
    assert "data:image/webp;base64," in cell(ip, "%imagine a paper crane -s 1024x1024 -q medium").outputs[0].data["text/html"]


def test_a_bad_preview_is_one_line_and_sends_nothing(ip, wire):
    before = len(wire.requests)
    run = cell(ip, "%imagine a paper boat --preview huge")
    assert run.error_lines == [run.error_lines[0]] and "--preview" in run.error_lines[0]
    assert "full, webp, jpeg or png" in run.error_lines[0]
    assert len(wire.requests) == before and run.result is None

@pytest.mark.pictures("realistic")  # API-size pictures: no limit below them
def test_in_a_notebook_kernel_frames_go_to_the_canvas_view_then_the_final_image_replaces_it(ip, wire,
                                                                                            monkeypatch):
    from imagewidgets.widgets import LiveImage

    made: list = []
    original_init = LiveImage.__init__

    def spy_init(self, *a, **kw):
        original_init(self, *a, **kw)
        made.append(self)

    monkeypatch.setattr(LiveImage, "__init__", spy_init)
    monkeypatch.setattr(ip, "kernel", object(), raising=False)  # as in ipykernel: widgets render
    run = cell(ip, "%imagine an owl made of river water -p 3 -q low")
    (live,) = made
    assert live.frame == 3 and live.total == 3  # every frame went to the canvas view
    ids = {o.transient["display_id"] for o in run.outputs}
    assert len(ids) == 1 and [o.update for o in run.outputs] == [False, True]
    assert "application/vnd.jupyter.widget-view+json" in run.outputs[0].data
    assert run.shown() == [run.result.sha256]  # the saved notebook keeps a plain image (its preview)
    assert live.comm is None  # the view was closed once the final image replaced it


def test_out_assigns_the_result_and_no_display_shows_nothing(ip, wire):
    run = cell(ip, "%imagine a red kite --out kite --no-display -p 1")
    assert run.outputs == [] and isinstance(ip.user_ns["kite"], ImageResult)
    assert run.result is ip.user_ns["kite"] and repr(run.result) not in run.stdout
    assert tool(wire.last()[1])["partial_images"] == 1


def test_cell_magic_takes_the_body_as_prompt_and_expands_variables(ip, wire):
    ip.user_ns.update(animal="heron", when="dawn")
    cell(ip, "%%imagine -q low\nA {animal} standing in reeds\nat $when, costs $$5 {{not a var}}")
    b = wire.last()[1]
    assert texts(b) == ["A heron standing in reeds\nat dawn, costs $5 {not a var}"]
    assert tool(b)["quality"] == "low"
    cell(ip, "%%edit --no-display\nmake the {animal} fly")
    assert texts(wire.last()[1]) == ["make the heron fly"]


def test_line_magics_expand_variables(ip, wire):
    ip.user_ns.update(animal="heron", style="ukiyo-e")
    cell(ip, "%imagine a {animal.upper()} in $style, a child's drawing")
    assert texts(wire.last()[1]) == ["a HERON in ukiyo-e, a child's drawing"]
    cell(ip, "%imedit give the $animal a hat")  # the alias behaves the same
    assert texts(wire.last()[1]) == ["give the heron a hat"]


def test_vary_sends_the_current_image_to_variations(ip, wire):
    base = cell(ip, "%imagine a square logo --api images -s 1024x1024 -q low").result
    run = cell(ip, "%vary -n 2 -s 256x256 --out variants")
    endpoint, b = wire.last()
    assert endpoint == "/images/variations" and b["image"] == base.data
    assert (b["model"], b["n"], b["size"]) == ("dall-e-2", "2", "256x256")
    assert isinstance(ip.user_ns["variants"], ImageSet) and "<img" in run.outputs[-1].data["text/html"]


def test_named_session_keeps_its_own_turns(ip):
    cell(ip, "%imagine a lighthouse --session coast")
    cell(ip, "%imagine a mountain")
    cell(ip, "h = %imagine_history --session coast")
    coast = ip.user_ns["h"]
    assert [r["prompt"] for r in coast.rows] == ["a lighthouse"]
    assert [t.prompt for t in session_mod.default_session().turns] == ["a mountain"]


# -- mistakes ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "line, words",
    [
        ("%imagine a cat --sise 1024x1024", ["unknown option --sise", "did you mean --size?"]),
        ("%imagine a cat -q ultra", ["-q/--quality 'ultra'", "allowed: low, medium, high, auto"]),
        ("%imagine a cat -s 1000x1000", ["-s/--size", "1024x1024", "1536x1024"]),
        ("%imagine a cat -f tiff", ["-f/--format 'tiff'", "png, jpeg, webp"]),
        ("%imagine a cat -n two", ["'two' is not a whole number", "1 to 10"]),
        ("%imagine a cat -p 7", ["7 is out of range", "0 to 3"]),
        ("%imagine a cat --api chat", ["'chat' is not allowed", "images, responses"]),
        ("%imagine -q low", ["a prompt is needed"]),
        ("%edit a hat --image nosuchthing", ["--image 'nosuchthing'", "no such variable, file or turn",
                                             "a path to an image file"]),
        ("%imagine a cat --session number", ["--session 'number'", "number holds an int",
                                               "a variable holding a Session, or a session name"]),
        ("%imagine a cat --out 1x", ["'1x' is not a valid Python variable name"]),
    ],
)
def test_mistakes_are_one_line_naming_what_is_allowed(ip, wire, line, words):
    ip.user_ns["number"] = 3
    run = cell(ip, line)
    assert run.exec.error_in_exec is None and run.result is None
    assert len(run.error_lines) == 1, run.stderr
    assert "Traceback" not in run.stderr
    for w in words:
        assert w in run.stderr, (w, run.stderr)
    assert wire.bodies() == []


def test_api_errors_show_status_message_and_what_to_do(ip, wire):
    run = cell(ip, "%imagine a forbidden castle")
    assert run.result is None and len(run.error_lines) == 1
    line = run.error_lines[0]
    assert line.startswith("%imagine: ModerationError: 400 ")
    assert "moderation" in line and "rephrase" in line


def test_unknown_model_is_noted_once_then_the_servers_answer_is_one_line(ip, wire):
    run = cell(ip, "%imagine a cat -m my-own-model")
    lines = run.error_lines
    assert lines[0].startswith("%imagine: note: model 'my-own-model' is not in imagewidgets' table")
    assert len(lines) == 2 and lines[1].startswith("%imagine: NotFoundError: 404 ")
    assert "Traceback" not in run.stderr and "session.py" not in run.stderr


def test_n_above_one_with_the_responses_api_makes_n_sibling_calls(ip, wire):
    run = cell(ip, "%imagine two cats -n 2 -q low -s 1024x1024")
    assert run.stderr == "" and isinstance(run.result, ImageSet) and len(run.result) == 2
    assert [b["metadata"]["imagewidgets_variant"] for b in wire.bodies("/responses")] in (["0", "1"], ["1", "0"])
    assert run.result[0].data != run.result[1].data


# -- the splitter ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "line, tokens",
    [
        ("a child's drawing -s 1024x1024", ["a", "child's", "drawing", "-s", "1024x1024"]),
        ('--image "my photo.png" a cat', ["--image", "my photo.png", "a", "cat"]),
        ("--out='x y' 'two words'", ["--out=x y", "two words"]),
        ("the kids' toys", ["the", "kids'", "toys"]),
        ("", []),
    ],
)
def test_split_line_is_kind_to_prompts(line, tokens):
    assert split_line(line) == tokens


# -- help and messages a new user meets (issue 15) ----------------------------------------------------


def _option_help(ip, magic: str, flag: str) -> str:
    parser = ip.find_line_magic(magic).__func__.parser
    return next(a.help for a in parser._actions if flag in a.option_strings)


def test_option_help_says_which_models_take_what_and_never_offers_what_the_default_refuses(ip):
    from imagewidgets.api.models import DEFAULT_MODEL, get_model

    # on the pinned day (2026-12-02) every model that took --input-fidelity is shut down: the help says
    # so and names their live replacement, never a model the API no longer serves
    fidelity = _option_help(ip, "edit", "--input-fidelity")
    assert ("no current model takes --input-fidelity: the models that took it are shut down, replaced by "
            "gpt-image-2.5-sunburst or gpt-image-2.6-sunburst") in " ".join(fidelity.split())
    assert "gpt-image-1.5" not in fidelity and "gpt-image-1-mini" not in fidelity
    quality = _option_help(ip, "imagine", "--quality")
    xhigh = get_model("gpt-image-2.5-sunburst")
    assert f"{', '.join(xhigh.qualities)} for gpt-image-2.5-sunburst" in " ".join(quality.split())  # from the table
    assert f"for {DEFAULT_MODEL} (the default)" in quality and "gpt-image-1.5" not in quality
    size = _option_help(ip, "imagine", "--size")
    free, fixed = size.split("; ")
    assert "any WxH" in free and "gpt-image-2 (the default)" in free and "gpt-image-2.6-flare" not in free
    assert "any WxH" not in fixed and "gpt-image-2.6-flare" in fixed  # the table says 2.6 has fixed sizes


def test_the_edit_help_example_with_two_images_runs_as_written(ip, wire, tmp_path):
    from PIL import Image

    for name in ("cat.png", "hat.png"):
        Image.new("RGB", (64, 64), (200, 100, 50)).save(tmp_path / name)
    example = next(line.strip() for line in ip.find_line_magic("edit").__doc__.splitlines()
                   if "--image hat.png" in line)
    example = example.split("#")[0].replace("cat.png", str(tmp_path / "cat.png")).replace(
        "hat.png", str(tmp_path / "hat.png"))
    run = cell(ip, example)
    assert run.stderr == "" and run.result is not None
    assert wire.bodies()  # the request was made


def test_unknown_option_lists_every_option_short_forms_too(ip, wire):
    run = cell(ip, "%imagine a cat --colour red")
    assert "-n," in run.stderr and "-m/--model" in run.stderr and "-q/--quality" in run.stderr
    assert wire.bodies() == []


def test_edit_with_nothing_to_edit_names_the_magic_option(ip, wire):
    run = cell(ip, "%edit add a hat")
    assert len(run.error_lines) == 1 and "image=" not in run.stderr
    assert "--image" in run.stderr and "%imagine first" in run.stderr
    assert wire.bodies() == []


def test_a_session_name_that_does_not_exist_says_a_new_one_starts(ip, wire):
    cell(ip, "%imagine a lighthouse --session coast")
    run = cell(ip, "%imagine a fox --session coasts")
    assert "%imagine: note: no session 'coasts'" in run.stderr and "a new one starts" in run.stderr
    assert "coast" in run.stderr.split("it has:")[1]
    again = cell(ip, "%imagine a hare --session coasts")
    assert "note" not in again.stderr  # said once
