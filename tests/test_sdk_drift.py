"""Drift alarms: the installed openai SDK's types against our model table and request types.

Every other test compares the project with itself (the client and the offline backend read the
same table). This one reads the SDK the test extra pins (the current 3.x) and fails when a value
its types allow is missing from our table or request types, or when we allow one it does not —
apart from the deliberate differences listed below, each with its reason. A new SDK release with
new image options turns this red instead of going unnoticed.
"""

from __future__ import annotations

import dataclasses
import re
import typing
from datetime import datetime

import pytest

openai = pytest.importorskip("openai")

from openai.types import image_edit_params, image_generate_params, image_model  # noqa: E402
from openai.types.image_edit_stream_event import ImageEditStreamEvent  # noqa: E402
from openai.types.image_gen_stream_event import ImageGenStreamEvent  # noqa: E402
from openai.types.responses import tool as responses_tool  # noqa: E402
from openai.types.shared import chat_model  # noqa: E402

from imagewidgets.api import decode, validation, wire  # noqa: E402
from imagewidgets.api.registry import tool_fields  # noqa: E402
from imagewidgets.api.models import (  # noqa: E402
    DEFAULT_RESPONSES_MODEL,
    MODELS,
    RESPONSES_MODEL_SHUTDOWNS,
)
from imagewidgets.api.requests import EditRequest, GenerateRequest, ResponsesRequest  # noqa: E402

# -- deliberate differences, each with its reason ------------------------------------------------

#: SDK request parameters we do not offer as a field
NOT_OFFERED = {
    "user": "deprecated in favour of safety_identifier, which we send; extra_body={'user': ...} still works",
}
#: our request fields the SDK's params do not have
OUR_EXTRA_FIELDS = {
    "extra_body": "passed through verbatim for compatible servers with their own options; not an API field",
    ("edits", "style"): "inherited from OutputOptions; no edit model has styles, so the table refuses it",
    ("edits", "moderation"): "inherited from OutputOptions; validation refuses it on edits (the SDK's and "
    "OpenAPI's edits have none), a session-wide moderation is not applied to edits",
    ("edits", "pins"): "pinned references (api/pins.py): sent on the wire as more image[] parts and an "
    "instruction after the prompt, never as a field of their own",
}
#: shutdown dates in our table that the SDK's docstrings do not (yet) carry
TABLE_ONLY_DATES = {
    "gpt-image-1.5": "announced by OpenAI on 2026-06-02 for 2026-12-01; not in the SDK 3.57 docstrings",
    "gpt-image-1-mini": "as gpt-image-1.5",
    "chatgpt-image-latest": "as gpt-image-1.5",
}


# -- reading the SDK's types -------------------------------------------------------------------


def literals(tp: typing.Any) -> set:
    """Every Literal value inside ``tp`` (through Union, Optional, Required, Annotated)."""
    if typing.get_origin(tp) is typing.Literal:
        return set(typing.get_args(tp))
    out: set = set()
    for arg in typing.get_args(tp):
        out |= literals(arg)
    return out


def hints(cls: type) -> dict[str, typing.Any]:
    return typing.get_type_hints(cls, include_extras=True)


def sdk_field_values(cls: type, name: str) -> set:
    if isinstance(cls, type) and hasattr(cls, "model_fields"):
        return literals(cls.model_fields[name].annotation)
    return literals(hints(cls)[name])


GEN = image_generate_params.ImageGenerateParamsBase
EDIT = image_edit_params.ImageEditParamsBase
TOOL = responses_tool.ImageGeneration


def union(attr: str, endpoint: str) -> set:
    return {v for m in MODELS.values() if m.supports(endpoint) for v in getattr(m, attr)}


def docstring_of(module, name: str) -> str:
    """The attribute docstring after ``name: ...`` in a module or class source."""
    import inspect

    source = inspect.getsource(module)
    m = re.search(rf"^\s*{re.escape(name)}: .*?\n\s*\"\"\"(.*?)\"\"\"", source, re.S | re.M)
    assert m, f"no docstring for {name} in {module.__name__}"
    return " ".join(m.group(1).split())


# -- models --------------------------------------------------------------------------------


def test_image_models_are_the_sdks():
    assert set(typing.get_args(image_model.ImageModel)) == set(MODELS)


def test_the_image_tools_models_are_the_responses_capable_ones():
    sdk = sdk_field_values(TOOL, "model")
    assert sdk == {m.name for m in MODELS.values() if m.supports("responses")}


def test_default_responses_model_is_a_current_sdk_chat_model():
    assert DEFAULT_RESPONSES_MODEL in typing.get_args(chat_model.ChatModel)
    assert DEFAULT_RESPONSES_MODEL not in _chat_shutdowns()


# -- option values --------------------------------------------------------------------------

OPTIONS = [  # (SDK class, SDK field, our table attribute, endpoint)
    (GEN, "quality", "qualities", "generations"),
    (EDIT, "quality", "qualities", "edits"),
    (TOOL, "quality", "qualities", "responses"),
    (GEN, "output_format", "output_formats", "generations"),
    (EDIT, "output_format", "output_formats", "edits"),
    (TOOL, "output_format", "output_formats", "responses"),
    (GEN, "background", "backgrounds", "generations"),
    (EDIT, "background", "backgrounds", "edits"),
    (TOOL, "background", "backgrounds", "responses"),
    (GEN, "moderation", "moderations", "generations"),
    (TOOL, "moderation", "moderations", "responses"),
    (EDIT, "input_fidelity", "input_fidelities", "edits"),
    (TOOL, "input_fidelity", "input_fidelities", "responses"),
    (GEN, "complexity", "complexities", "generations"),
    (EDIT, "complexity", "complexities", "edits"),
    (TOOL, "complexity", "complexities", "responses"),
    (GEN, "style", "styles", "generations"),
    (GEN, "response_format", "response_formats", "generations"),
    (EDIT, "response_format", "response_formats", "edits"),
]


@pytest.mark.parametrize("cls, field, attr, endpoint", OPTIONS,
                         ids=[f"{c.__name__}.{f}" for c, f, _, _ in OPTIONS])
def test_option_values_match(cls, field, attr, endpoint):
    sdk = sdk_field_values(cls, field)
    ours = union(attr, endpoint)
    assert ours - sdk == set(), f"we allow {sorted(ours - sdk)} for {field}; the SDK does not"
    assert sdk - ours == set(), f"the SDK allows {sorted(sdk - ours)} for {field}; our table does not"


@pytest.mark.parametrize("cls, endpoint", [(GEN, "generations"), (EDIT, "edits"), (TOOL, "responses")])
def test_named_sizes_match(cls, endpoint):
    sdk = sdk_field_values(cls, "size")
    ours = union("sizes", endpoint) | ({"auto"} if any(m.size_auto for m in MODELS.values()
                                                       if m.supports(endpoint)) else set())
    assert ours == sdk


def test_free_sizes_only_where_the_sdk_documents_them():
    doc = docstring_of(image_generate_params, "size")
    named = set(re.findall(r"`([a-z0-9.-]+)`", doc.split("arbitrary resolutions")[0]))
    assert named == {m.name for m in MODELS.values() if m.free_size}
    assert "divisible by 16" in doc and "1:3 and 3:1" in doc and "3840x2160" in doc and "2560x1440" in doc


def test_transparent_preview_only_where_the_sdk_says_preview():
    doc = docstring_of(image_generate_params, "background")
    m = re.search(r"For (`[^.]*?`), this support is in preview", doc)
    assert m
    assert set(re.findall(r"`([a-z0-9.-]+)`", m.group(1))) == {n for n, s in MODELS.items() if s.transparent_preview}


def test_xhigh_and_max_only_where_the_sdk_documents_them():
    doc = docstring_of(image_generate_params, "quality")
    line = doc.split("also support `xhigh` and `max`")[0].rsplit("- ", 1)[-1]
    named = {n for n in re.findall(r"`([a-z0-9.-]+)`", line) if n.startswith("gpt-")}
    assert "including their `2026-09-08` snapshots" in line
    snapshots = {n for n in MODELS if any(n.startswith(b) and n.endswith("2026-09-08") for b in named)}
    assert named | snapshots == {n for n, s in MODELS.items() if "xhigh" in s.qualities}


def test_input_fidelity_per_model_as_documented():
    doc = docstring_of(responses_tool, "input_fidelity")
    assert "`high` and `low` on `gpt-image-1.5`" in doc and "`gpt-image-1-mini` supports only `low`" in doc
    assert MODELS["gpt-image-1.5"].input_fidelities == ("high", "low")
    assert MODELS["gpt-image-1-mini"].input_fidelities == ("low",)
    assert "For `gpt-image-2`, omit this parameter" in doc and MODELS["gpt-image-2"].input_fidelities == ()


def test_svg_efforts_are_the_sdks():
    assert set(validation.SVG_EFFORTS) == literals(hints(image_generate_params.SvgReasoning)["effort"])
    assert set(validation.SVG_EFFORTS) == literals(hints(image_edit_params.SvgReasoning)["effort"])


def test_gif_limits_are_the_sdks():
    doc = docstring_of(image_generate_params, "frame_duration_ms")
    assert "rounds to the nearest 10 ms" in doc and "655,350 ms" in doc
    from imagewidgets.offline._encode import GIF_MAX_FRAME_MS

    assert GIF_MAX_FRAME_MS == 655_350
    assert "from 2 through 16" in docstring_of(image_generate_params, "frame_count")
    assert "does not support streaming" in docstring_of(image_generate_params, "frame_count")


# -- request fields ------------------------------------------------------------------------------


def _our_fields(cls: type, endpoint: str) -> set[str]:
    names = {f.name for f in dataclasses.fields(cls)} - {"extra_body"}
    names = {"image" if n == "images" else n for n in names}
    return names - {n for (e, n) in (k for k in OUR_EXTRA_FIELDS if isinstance(k, tuple)) if e == endpoint}


@pytest.mark.parametrize("sdk, ours, endpoint", [
    ((image_generate_params.ImageGenerateParamsNonStreaming,), GenerateRequest, "generations"),
    ((image_edit_params.ImageEditParamsNonStreaming,), EditRequest, "edits"),
])
def test_request_fields_match(sdk, ours, endpoint):
    sdk_names = set(hints(sdk[0])) - set(NOT_OFFERED)
    mine = _our_fields(ours, endpoint)
    assert mine - sdk_names == set(), f"our {ours.__name__} has {sorted(mine - sdk_names)}; the SDK does not"
    assert sdk_names - mine == set(), f"the SDK has {sorted(sdk_names - mine)}; {ours.__name__} does not"


def test_the_image_tool_on_the_wire_has_the_sdks_fields():
    """Every field of the SDK's ImageGeneration tool can be sent, and we send no other."""
    req = ResponsesRequest("x", mask=b"\x89PNG\r\n\x1a\n" + b"0" * 64, **{n: "v" for n in tool_fields()})
    tool = wire.responses_body(req)["tools"][0]
    assert set(tool) == set(TOOL.model_fields)


# -- stream events ------------------------------------------------------------------------------


def _classes(tp) -> list[type]:
    """The classes inside a (possibly Annotated) Union."""
    if isinstance(tp, type):
        return [tp]
    return [c for arg in typing.get_args(tp) for c in _classes(arg)]


def _event_types(union_type) -> set[str]:
    return {next(iter(literals(cls.model_fields["type"].annotation))) for cls in _classes(union_type)
            if hasattr(cls, "model_fields")}


def test_image_stream_event_types_are_the_sdks():
    sdk = _event_types(ImageGenStreamEvent) | _event_types(ImageEditStreamEvent)
    assert sdk == set(decode.IMAGE_STREAM_EVENTS)


def test_responses_image_call_event_types_are_the_sdks():
    import openai.types.responses as R

    sdk = {next(iter(literals(getattr(R, n).model_fields["type"].annotation)))
           for n in dir(R) if n.startswith("ResponseImageGenCall") and n.endswith("Event")}
    assert sdk == set(decode.RESPONSES_IMAGE_EVENTS)


# -- shutdown dates --------------------------------------------------------------------------


def _image_shutdowns() -> dict[str, tuple[str, str | None]]:
    """From the ImageModel docstring: model -> (ISO date, first replacement named)."""
    import inspect

    doc = inspect.getsource(image_model).split('"""', 1)[1]
    out = {}
    for item in re.split(r"\n- ", " ".join(doc.split("\n")).replace("  ", " ").replace(" - ", "\n- ")):
        names = re.findall(r'"([a-z0-9.-]+)"', item.split(":")[0])
        when = re.search(r"(?:shut down|retired) on ([A-Z][a-z]+ \d{1,2}, \d{4})", item)
        if not names or not when:
            continue
        day = datetime.strptime(when.group(1), "%B %d, %Y").date().isoformat()
        repl = re.search(r"Use ([a-z0-9.-]+)", item)
        for n in names:
            out[n] = (day, repl.group(1) if repl else None)
    return out


def _chat_shutdowns() -> dict[str, str]:
    import inspect

    doc = " ".join(inspect.getsource(chat_model).split('"""', 1)[1].split())
    out = {}
    for item in doc.split(" - ")[1:]:
        names = re.findall(r'"([A-Za-z0-9.-]+)"', item.split(":")[0])
        when = re.search(r"Announced shutdown date: (\d{4}-\d{2}-\d{2})", item)
        for n in names if when else ():
            out[n] = when.group(1)
    return out


def test_image_shutdown_dates_match_the_sdks_docstrings():
    sdk = _image_shutdowns()
    assert sdk, "could not read the ImageModel docstring"
    for name, (day, repl) in sdk.items():
        spec = MODELS[name]
        assert spec.shutdown_date == day, name
        if repl and repl.startswith("gpt-image"):
            assert spec.replacement == repl, name
    table_dates = {n for n, s in MODELS.items() if s.shutdown_date}
    assert table_dates - set(sdk) == set(TABLE_ONLY_DATES), "a table date the SDK does not announce needs a reason"


def test_mainline_shutdown_dates_match_the_sdks_docstrings():
    sdk = _chat_shutdowns()
    assert sdk.get("gpt-5") == "2026-12-11"
    for name, (day, _repl) in RESPONSES_MODEL_SHUTDOWNS.items():
        assert sdk.get(name) == day, name
    # every mainline model the SDK dates in the gpt-5 / o3 / gpt-4.1 / gpt-4o families is known to us
    families = re.compile(r"^(gpt-5(-mini|-nano)?(-2025-08-07)?|o3(-2025-04-16)?|gpt-4\.1.*|gpt-4o(-mini)?(-20.*)?)$")
    assert {n for n in sdk if families.match(n)} <= set(RESPONSES_MODEL_SHUTDOWNS)
