"""Each request parameter is declared once (``api/params.py``): the wire, the offline server, the
magics and the studio read their lists from the declaration.

The main test adds a throwaway parameter the way a contributor would (its field in ``requests.py``
and its values in the model table, nothing else) to a copy of the package, and sees it reach the
wire, the rule, the offline server, the magics' options and ``%imagine_config``, and the studio.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from imagewidgets.api.params import params_of
from imagewidgets.api.registry import registry, tool_fields
from imagewidgets.api.requests import EditRequest, GenerateRequest, ResponsesRequest
from imagewidgets.api.wire import encode

PACKAGE = Path(__file__).resolve().parents[1] / "imagewidgets"

#: the whole change a contributor makes: (file, anchor line, lines inserted after it)
THROWAWAY = [
    ("api/requests.py", "    safety_identifier: str | None = param()\n",
     '    sharpness: str | None = param(choices="sharpnesses", tool=True, flags=("--sharpness",), config=True,\n'
     '                                  control="sharpness", help="how sharp: {choices}")\n'),
    ("api/models.py", "    complexities: tuple[str, ...] = ()\n", "    sharpnesses: tuple[str, ...] = ()\n"),
    ("api/models.py", '    output_formats=NEW_FORMATS,\n', '    sharpnesses=("soft", "crisp"),\n'),
]

SCRIPT = r'''
import contextlib, io, json
import httpx2
import imagewidgets
from imagewidgets.api.client import Client
from imagewidgets.api.errors import ParamError
from imagewidgets.api.requests import GenerateRequest, ResponsesRequest
from imagewidgets.api.validation import validate
from imagewidgets.api.wire import encode
from imagewidgets.offline.parse import generate_request, responses_request
from imagewidgets.session.session import Session
import pytest

# retired models (dall-e-2/3, gpt-image-1, gpt-image-1.5...) serve here as fixtures of features they
# had; the twin's calendar is tested in test_calendar.py and test_lifecycle.py
pytestmark = pytest.mark.calendar_off

out = {"package": imagewidgets.__file__}
out["tool"] = encode(ResponsesRequest("a kite", model="gpt-image-2", sharpness="crisp")).json["tools"][0]
out["generations"] = encode(GenerateRequest("a kite", model="gpt-image-2", sharpness="crisp")).json
try:
    validate(GenerateRequest("a kite", model="gpt-image-1.5", sharpness="crisp"))
except ParamError as e:
    out["refused"] = str(e)
out["parsed"] = generate_request({"prompt": "a kite", "model": "gpt-image-2", "sharpness": "crisp"}).sharpness
body = {"model": "gpt-5", "input": "a kite", "tools": [{"type": "image_generation", "sharpness": "soft"}]}
out["parsed_tool"] = responses_request(body, lambda img, param: img).request.sharpness
try:
    generate_request({"prompt": "a kite", "sharpness": 5})
except ParamError as e:
    out["typed"] = str(e)


class Recording(httpx2.HTTPTransport):
    def __init__(self):
        super().__init__()
        self.bodies = []

    def handle_request(self, request):
        request.read()
        if request.method == "POST":
            self.bodies.append([request.url.path, json.loads(request.content)])
        return super().handle_request(request)


from IPython.core.interactiveshell import InteractiveShell
from traitlets.config import Config

shell = InteractiveShell.instance(config=Config())
with contextlib.redirect_stdout(io.StringIO()):
    shell.extension_manager.load_extension("imagewidgets")
    rec = Recording()
    session = Session("throwaway", client=Client(transport=rec))
    shell.user_ns["s"] = session
    shell.run_line_magic("imagine_config", "--session s")
    out["help"] = shell.find_line_magic("imagine").parser.format_help()
    out["config_help"] = shell.find_line_magic("imagine_config").parser.format_help()
    first = shell.run_line_magic("imagine", "a kite --sharpness crisp --no-display")
    shell.run_line_magic("imagine_config", "--sharpness soft")
    second = shell.run_line_magic("imagine", "a kite over the sea --api images --no-display")
out["made"] = [first is not None, second is not None]
out["wire"] = rec.bodies

from imagewidgets.widgets.studio import ImageStudio

studio = ImageStudio(session)
studio.model.value = "gpt-image-2"
out["offered"] = [value for _label, value in studio.sharpness.options]
out["unset"] = [studio.sharpness.value, "sharpness" in studio.options("generate")]
studio.sharpness.value = "crisp"
out["sends"] = studio.options("generate").get("sharpness")
priced = []
studio.estimate = lambda: priced.append(1) or ImageStudio.estimate(studio)
studio.sharpness.value = "soft"
out["priced"] = len(priced)
studio.model.value = "gpt-image-1.5"
out["disabled"] = [studio.sharpness.disabled, studio.sharpness.tooltip]
session.client.close()
print("RESULT:" + json.dumps(out))
'''


def _edited_copy(root: Path, edits: list[tuple[str, str, str]], name: str) -> Path:
    """A copy of the package under ``root`` with each ``(file, old, new)`` edit made, as a contributor
    would make it (``name``: the list to update when an anchor moves)."""
    copy = root / "imagewidgets"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    for rel, old, new in edits:
        path = copy / rel
        text = path.read_text("utf-8")
        assert text.count(old) == 1, f"{rel}: the anchor {old!r} moved; update {name}"
        path.write_text(text.replace(old, new), "utf-8")
    return copy


def _with_throwaway_parameter(root: Path) -> Path:
    return _edited_copy(root, [(rel, anchor, anchor + lines) for rel, anchor, lines in THROWAWAY], "THROWAWAY")


def test_a_new_parameter_in_its_field_and_the_model_table_reaches_every_part(tmp_path):
    copy = _with_throwaway_parameter(tmp_path)
    assert {rel for rel, _, _ in THROWAWAY} == {"api/requests.py", "api/models.py"}  # two files, nothing else
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=240,
                          cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.split("RESULT:", 1)[1])
    assert out["package"].startswith(str(copy))
    # the wire: the Responses tool and the Image API body
    assert out["tool"]["sharpness"] == "crisp" and out["generations"]["sharpness"] == "crisp"
    # the rule comes from the table: a model without sharpnesses refuses it before any I/O
    assert out["refused"].startswith("sharpness='crisp' is not allowed for gpt-image-1.5")
    # the offline server reads it from both APIs and checks its JSON type
    assert out["parsed"] == "crisp" and out["parsed_tool"] == "soft"
    assert out["typed"].startswith("sharpness=5") and "a string" in out["typed"]
    # the magics: an option with help from the table, and a %imagine_config default
    assert "--sharpness SHARPNESS" in out["help"] and "how sharp: soft, crisp" in out["help"]
    assert "--sharpness SHARPNESS" in out["config_help"]
    assert out["made"] == [True, True]
    (path1, body1), (path2, body2) = out["wire"]
    assert path1.endswith("/responses") and body1["tools"][0]["sharpness"] == "crisp"
    assert path2.endswith("/images/generations") and body2["sharpness"] == "soft"
    # the studio: a dropdown of the model's values (starting on "default"), sent with Generate, priced when changed
    assert out["offered"] == ["", "soft", "crisp"] and out["unset"] == ["", False]  # "default": sends none
    assert out["sends"] == "crisp" and out["priced"] >= 1
    assert out["disabled"] == [True, "gpt-image-1.5 does not accept sharpness"]


def test_the_wire_and_server_lists_are_the_declared_parameters():
    from imagewidgets.offline import parse

    generate = {p.name for p in params_of(GenerateRequest)}
    assert parse._GENERATE_FIELDS == {"prompt", "user", *generate}
    assert parse._EDIT_FIELDS - parse._GENERATE_FIELDS == {"image", "images", "mask", "markup", "input_fidelity"}
    assert parse._TOOL_FIELDS == {"type", "model", "input_image_mask", *tool_fields()}
    assert parse._INT_FIELDS == {"n", "partial_images", "output_compression", "frame_count", "frame_duration_ms"}
    tool = encode(ResponsesRequest("a kite", quality="low", action="generate", input_fidelity="high")).json["tools"][0]
    assert tool == {"type": "image_generation", "model": "gpt-image-2", "quality": "low", "input_fidelity": "high",
                    "action": "generate"}


def test_edits_and_the_responses_tool_share_one_declaration_of_input_fidelity():
    edit = {p.name: p for p in params_of(EditRequest)}["input_fidelity"]
    responses = {p.name: p for p in params_of(ResponsesRequest)}["input_fidelity"]
    assert edit == responses == registry()["input_fidelity"]
    assert "input_fidelity" not in {p.name for p in params_of(GenerateRequest)}


def test_magic_options_come_from_the_declarations():
    from imagewidgets.magics import _args as A

    assert A.OUTPUT == ("model", "size", "quality", "n", "output_format", "output_compression", "background",
                        "moderation", "partial_images", "api")
    assert A.EDIT == ("input_fidelity",) and A.VARY == ("model", "size", "n")
    assert A.OPTION_FOR_PARAM["output_format"] == "-f/--format"
    assert [p.name for p in A.CONFIG] == ["model", "size", "quality", "output_format", "background", "moderation"]


def test_int_options_take_their_range_from_the_model_table():
    n = registry()["n"]
    from imagewidgets.api.models import MODELS

    assert n.bounds() == (1, max(m.n_max for m in MODELS.values()))
    assert registry()["partial_images"].bounds() == (0, 3)


#: a whole-number parameter, per model, in the same two files: (file, text, what replaces it)
GRAIN = [
    ("api/requests.py", "    safety_identifier: str | None = param()\n",
     "    safety_identifier: str | None = param()\n"
     '    grain: int | None = param(json=int, range=(0, 8), max_from="grain_max", tool=True, flags=("--grain",),\n'
     '                              control="grain", start=1, help="film grain, {lo}-{hi}")\n'),
    ("api/models.py", "    complexities: tuple[str, ...] = ()\n",
     "    complexities: tuple[str, ...] = ()\n    grain_max: int | None = None\n"),
    ("api/models.py", "    output_formats=NEW_FORMATS,\n", "    output_formats=NEW_FORMATS,\n    grain_max=8,\n"),
    ("api/models.py", 'qualities=("low", "medium", "high", "xhigh", "max", "auto"), markup=True)',
     'qualities=("low", "medium", "high", "xhigh", "max", "auto"), markup=True, grain_max=4)'),
]

GRAIN_SCRIPT = r'''
import json
import httpx2
from imagewidgets.api.errors import ParamError
from imagewidgets.api.requests import GenerateRequest, ResponsesRequest
from imagewidgets.api.validation import validate
from imagewidgets.offline.server import OfflineServer

out = {"refused": {}, "twin": {}}
for model, grain in (("gpt-image-2", 99), ("gpt-image-2.5-sunburst", 8), ("gpt-image-2", -1), ("gpt-image-2", "5"),
                     ("gpt-image-1", 2)):
    try:
        validate(GenerateRequest("a kite", model=model, grain=grain))
        out["refused"][f"{model}={grain}"] = None
    except ParamError as e:
        out["refused"][f"{model}={grain}"] = [e.param, str(e)]
validate(GenerateRequest("a kite", model="gpt-image-2", grain=8))
validate(GenerateRequest("a kite", model="gpt-image-2.5-sunburst", grain=4))
try:
    validate(ResponsesRequest("a kite", model="gpt-image-2.5-sunburst", grain=5))
except ParamError as e:
    out["tool_refused"] = e.param

with OfflineServer() as server:
    for model, grain in (("gpt-image-2", 99), ("gpt-image-2.5-sunburst", 8), ("gpt-image-2", 8)):
        r = httpx2.post(server.base_url + "/images/generations", json={"prompt": "a kite", "model": model,
                        "grain": grain, "quality": "low", "size": "1024x1024"},
                        headers={"Authorization": "Bearer sk-test"}, timeout=60)
        out["twin"][f"{model}={grain}"] = [r.status_code, r.json().get("error", {}).get("param")]
    # the class gateway reads the same declaration: a wrong type or a value no model takes never
    # reaches the upstream; a value some model takes is the upstream's to judge per model
    from imagewidgets.gateway import ClassRules, GatewayServer

    with GatewayServer(server.base_url, api_key="sk-test", db="gateway.sqlite3",
                       rules=ClassRules(requests_per_minute=None)) as gw:
        [(_who, token)] = gw.store.add_participants(1, budget_usd=5)
        for model, grain in (("gpt-image-2", "5"), ("gpt-image-2", 99), ("gpt-image-2.5-sunburst", 7),
                             ("gpt-image-2", 7)):
            r = httpx2.post(gw.base_url + "/images/generations", json={"prompt": "a kite", "model": model,
                            "grain": grain, "quality": "low", "size": "1024x1024"},
                            headers={"Authorization": f"Bearer {token}"}, timeout=60)
            error = r.json().get("error") or {}
            out.setdefault("gateway", {})[f"{model}={grain}"] = [r.status_code, error.get("param"),
                                                                 error.get("message", "")]

from imagewidgets.session.session import Session
from imagewidgets.widgets.studio import ImageStudio

studio = ImageStudio(Session("grain"))
studio.model.value = "gpt-image-2"
slider = studio.grain
out["slider"] = [type(slider).__name__, slider.min, slider.max, slider.value, slider.disabled,
                 "iw-grain" in slider._dom_classes, slider.description]
slider.value = 7
out["sends"] = studio.options("generate").get("grain")
studio.model.value = "gpt-image-2.5-sunburst"
out["narrowed"] = [slider.max, slider.value, slider.disabled]
studio.model.value = "gpt-image-1"
out["off"] = [slider.disabled, slider.tooltip, "grain" in studio.options("generate")]
print("RESULT:" + json.dumps(out))
'''


def test_a_new_integer_parameter_is_validated_per_model_by_client_and_twin_and_is_a_slider(tmp_path):
    _edited_copy(tmp_path, GRAIN, "GRAIN")
    assert {rel for rel, _, _ in GRAIN} == {"api/requests.py", "api/models.py"}  # two files, nothing else
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "IMAGEWIDGETS_HOME": str(tmp_path / "home")}
    done = subprocess.run([sys.executable, "-c", GRAIN_SCRIPT], env=env, capture_output=True, text=True,
                          timeout=240, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.split("RESULT:", 1)[1])
    refused = out["refused"]
    # the client: a ParamError naming the parameter, the value and what this model allows
    assert refused["gpt-image-2=99"][0] == "grain"
    assert refused["gpt-image-2=99"][1].startswith("grain=99 is not allowed for gpt-image-2") and "0 to 8" in \
        refused["gpt-image-2=99"][1]
    assert refused["gpt-image-2.5-sunburst=8"][0] == "grain" and "0 to 4" in refused["gpt-image-2.5-sunburst=8"][1]
    assert refused["gpt-image-2=-1"][0] == "grain" and refused["gpt-image-2=5"][0] == "grain"
    assert refused["gpt-image-1=2"][0] == "grain" and "none (omit it)" in refused["gpt-image-1=2"][1]
    assert out["tool_refused"] == "grain"
    # the twin: 400 naming the parameter for what the model refuses, 200 for what it takes
    assert out["twin"] == {"gpt-image-2=99": [400, "grain"], "gpt-image-2.5-sunburst=8": [400, "grain"],
                           "gpt-image-2=8": [200, None]}
    # the gateway: the declared type and widest range, checked before the upstream is asked
    gateway = out["gateway"]
    assert gateway["gpt-image-2=5"][:2] == [400, "grain"] and "expected an integer" in gateway["gpt-image-2=5"][2]
    assert gateway["gpt-image-2=99"][:2] == [400, "grain"] and "between 0 and 8" in gateway["gpt-image-2=99"][2]
    assert gateway["gpt-image-2.5-sunburst=7"][:2] == [400, "grain"]  # the upstream's per-model answer, relayed
    assert gateway["gpt-image-2=7"][:2] == [200, None]
    # the studio: a slider with the model's range, sent when set, off for a model without it
    assert out["slider"] == ["IntSlider", 0, 8, 1, False, True, "grain"]
    assert out["sends"] == 7
    assert out["narrowed"] == [4, 4, False]
    assert out["off"][0] is True and out["off"][1].startswith("gpt-image-1 does not accept grain")
    assert out["off"][2] is False


def test_streaming_is_declared_as_delivery_and_left_out_of_replay_keys_and_batch_lines():
    """``stream`` and ``partial_images`` say how an answer arrives, not what is drawn: the declaration
    says so once, and the replay key and the Batch API's lines read it."""
    from imagewidgets.api.batches import request_line
    from imagewidgets.api.registry import delivery_fields
    from imagewidgets.session.replay import replay_key

    assert delivery_fields() == ("stream", "partial_images")
    streamed = GenerateRequest("a kite", model="gpt-image-2", quality="low", stream=True, partial_images=2)
    plain = GenerateRequest("a kite", model="gpt-image-2", quality="low")
    assert replay_key(streamed, "offline") == replay_key(plain, "offline")
    assert replay_key(GenerateRequest("a kite", model="gpt-image-2", quality="high"), "offline") != \
        replay_key(plain, "offline")
    body = json.loads(request_line("cell-1", streamed))["body"]
    assert body == {"prompt": "a kite", "model": "gpt-image-2", "quality": "low"}
