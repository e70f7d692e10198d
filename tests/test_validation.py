"""Every rule of the model table, valid and invalid, for every model: invalid input raises
ParamError naming the parameter and sends nothing; valid input reaches the wire."""

from __future__ import annotations

import io
import warnings

import pytest
from PIL import Image

from imagewidgets.api.client import Client, RetryPolicy
from imagewidgets.api.errors import ParamError
from imagewidgets.api.models import MODELS, model_names

from .spec_server import SpecServer, png

# retired models (dall-e-2/3, gpt-image-1, gpt-image-1.5...) serve here as fixtures of features they
# had; the twin's calendar is tested in test_calendar.py and test_lifecycle.py
pytestmark = pytest.mark.calendar_off


def _markup(w=64, h=64) -> bytes:
    """Markup as the SDK wants it: transparent, with strokes to overlay."""
    buf = io.BytesIO()
    im = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    im.paste((200, 0, 0, 255), (8, 8, 24, 24))
    im.save(buf, format="PNG")
    return buf.getvalue()


def _img(w=64, h=64, mode="RGBA", fmt="PNG") -> bytes:
    buf = io.BytesIO()
    Image.new(mode, (w, h), (10, 20, 30, 255) if mode == "RGBA" else (10, 20, 30)).save(buf, format=fmt)
    return buf.getvalue()


def _mask(w=64, h=64, alpha=255, hole=True) -> bytes:
    """An RGBA mask of ``alpha``, with a transparent (alpha 0: edit here) corner when ``hole``."""
    im = Image.new("RGBA", (w, h), (10, 20, 30, alpha))
    if hole:
        im.paste((0, 0, 0, 0), (0, 0, w // 4, h // 4))
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    return buf.getvalue()


def _sketch(w=64, h=64) -> bytes:
    """A markup sketch: transparent, with an opaque red stroke."""
    im = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    im.paste((255, 0, 0, 255), (8, 8, w - 8, 12))
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    return buf.getvalue()


def _cases():
    """(id, method, kwargs, bad_param or None) for every rule and model."""
    cases = []

    def add(model, method, kw, bad=None, label=""):
        cases.append(pytest.param(method, {"model": model, **kw}, bad,
                                  id=f"{model}-{method}-{label or 'valid'}"))

    for name, m in MODELS.items():
        gen = m.supports("generations")
        if gen:
            for size in m.sizes + (("auto",) if m.size_auto else ()):
                add(name, "generate", {"size": size}, label=f"size={size}")
            add(name, "generate", {"size": "big"}, "size", "size-not-wxh")
            if m.other_sizes_pass:  # "others: let the server decide"
                add(name, "generate", {"size": "1280x720"}, label="other-size-to-server")
            else:
                add(name, "generate", {"size": "123x457"}, "size", "size-bad")
            if m.free_size:
                add(name, "generate", {"size": "1280x720"}, label="free-size")
                add(name, "generate", {"size": "1000x1000"}, "size", "free-size-not-16")
                add(name, "generate", {"size": "3200x1024"}, "size", "free-size-aspect")
                add(name, "generate", {"size": "3840x2560"}, "size", "free-size-too-big")
            elif not m.other_sizes_pass:
                add(name, "generate", {"size": "1280x720"}, "size", "no-free-size")
            for q in m.qualities:
                add(name, "generate", {"quality": q}, label=f"quality={q}")
            add(name, "generate", {"quality": "ultra"}, "quality", "quality-bad")
            add(name, "generate", {"n": m.n_max}, label="n-max")
            add(name, "generate", {"n": m.n_max + 1}, "n", "n-too-many")
            add(name, "generate", {"n": 0}, "n", "n-zero")
            add(name, "generate", {"prompt": "x" * m.prompt_max}, label="prompt-max")
            add(name, "generate", {"prompt": "x" * (m.prompt_max + 1)}, "prompt", "prompt-too-long")
            add(name, "generate", {"prompt": "  "}, "prompt", "prompt-empty")
            for fmt in m.output_formats:
                if fmt not in ("gif", "svg"):
                    add(name, "generate", {"output_format": fmt}, label=f"format={fmt}")
            add(name, "generate", {"output_format": "bmp"}, "output_format", "format-bad")
            if m.compression:
                add(name, "generate", {"output_format": "jpeg", "output_compression": 50}, label="compression-jpeg")
                add(name, "generate", {"output_format": "webp", "output_compression": 0}, label="compression-webp")
                add(name, "generate", {"output_compression": 50}, "output_compression", "compression-png")
                add(name, "generate", {"output_format": "jpeg", "output_compression": 101},
                    "output_compression", "compression-range")
            else:
                add(name, "generate", {"output_compression": 50}, "output_compression", "compression-none")
            for bg in m.backgrounds:
                add(name, "generate", {"background": bg}, label=f"background={bg}")
            if m.backgrounds:
                add(name, "generate", {"background": "transparent", "output_format": "jpeg"},
                    "background", "transparent-jpeg")
            else:
                add(name, "generate", {"background": "opaque"}, "background", "background-none")
            for mod in m.moderations:
                add(name, "generate", {"moderation": mod}, label=f"moderation={mod}")
            add(name, "generate", {"moderation": "off"}, "moderation", "moderation-bad")
            for st in m.styles:
                add(name, "generate", {"style": st}, label=f"style={st}")
            add(name, "generate", {"style": "cubist"}, "style", "style-bad")
            for rf in m.response_formats:
                add(name, "generate", {"response_format": rf}, label=f"response_format={rf}")
            if not m.response_formats:
                add(name, "generate", {"response_format": "url"}, "response_format", "response-format-none")
            for c in m.complexities:
                add(name, "generate", {"complexity": c}, label=f"complexity={c}")
            add(name, "generate", {"complexity": "extreme"}, "complexity", "complexity-bad")
            if m.streaming:
                for k in range(4):
                    add(name, "generate", {"stream": True, "partial_images": k}, label=f"partials={k}")
                add(name, "generate", {"stream": True, "partial_images": 4}, "partial_images", "partials-4")
                add(name, "generate", {"partial_images": 2}, "partial_images", "partials-no-stream")
            else:
                add(name, "generate", {"stream": True}, "stream", "stream-unsupported")
            if "gif" in m.output_formats:
                add(name, "generate", {"output_format": "gif", "frame_count": 2, "frame_duration_ms": 120},
                    label="gif")
                add(name, "generate", {"output_format": "gif", "frame_count": 17}, "frame_count", "gif-17")
                add(name, "generate", {"output_format": "gif", "frame_count": 1}, "frame_count", "gif-1")
                add(name, "generate", {"frame_count": 4}, "frame_count", "frames-not-gif")
                add(name, "generate", {"output_format": "gif", "stream": True, "partial_images": 1},
                    "partial_images", "gif-partials")
                add(name, "generate", {"output_format": "gif", "output_compression": 50},
                    "output_compression", "gif-compression")
            if "svg" in m.output_formats:
                add(name, "generate", {"output_format": "svg", "svg": {"reasoning": {"effort": "low"}}}, label="svg")
                add(name, "generate", {"output_format": "svg", "n": 2}, "n", "svg-n2")
                add(name, "generate", {"output_format": "svg", "stream": True}, "stream", "svg-stream")
                add(name, "generate", {"svg": {"model": "x"}}, "svg", "svg-options-png")
            else:
                add(name, "generate", {"output_format": "svg"}, "output_format", "svg-unsupported")
        else:
            add(name, "generate", {}, "model", "no-generations")

        if m.supports("edits"):
            add(name, "edit", {"image": _img()}, label="edit")
            add(name, "edit", {"image": [_img()] * m.edit_images_max}, label="edit-max-images")
            add(name, "edit", {"image": [_img()] * (m.edit_images_max + 1)}, "image", "edit-too-many")
            add(name, "edit", {"image": []}, "image", "edit-no-image")
            add(name, "edit", {"image": _img(), "mask": _mask()}, label="mask")
            add(name, "edit", {"image": _img(), "mask": _mask(alpha=0, hole=False)}, label="mask-transparent")
            add(name, "edit", {"image": _img(), "mask": _img()}, "mask", "mask-opaque")
            add(name, "edit", {"image": _img(), "mask": _mask(32, 32)}, "mask", "mask-size")
            add(name, "edit", {"image": _img(), "mask": _img(mode="RGB")}, "mask", "mask-no-alpha")
            add(name, "edit", {"image": _img(), "mask": _img(mode="RGB", fmt="JPEG")}, "mask", "mask-jpeg")
            if m.edit_square_png_only:
                add(name, "edit", {"image": _img(64, 32)}, "image", "edit-not-square")
                add(name, "edit", {"image": _img(mode="RGB", fmt="JPEG")}, "image", "edit-jpeg")
            else:
                add(name, "edit", {"image": _img(64, 32)}, label="edit-landscape")
                add(name, "edit", {"image": [_img(mode="RGB", fmt="JPEG"), _img(fmt="WEBP")]}, label="edit-jpeg-webp")
                add(name, "edit", {"image": _img(mode="RGB", fmt="GIF")}, "image", "edit-gif")
            for fid in m.input_fidelities:
                add(name, "edit", {"image": _img(), "input_fidelity": fid}, label=f"fidelity={fid}")
            add(name, "edit", {"image": _img(), "input_fidelity": "extreme"}, "input_fidelity", "fidelity-bad")
            if m.markup:
                add(name, "edit", {"image": _img(), "markup": _sketch()}, label="markup")
                add(name, "edit", {"image": _img(), "markup": _img()}, "markup", "markup-opaque")
                add(name, "edit", {"image": _img(), "markup": _mask(32, 32, 0)}, "markup", "markup-size")
                add(name, "edit", {"image": _img(), "markup": _mask(), "mask": _mask()}, "markup", "markup-and-mask")
            else:
                add(name, "edit", {"image": _img(), "markup": _img()}, "markup", "markup-unsupported")
        else:
            add(name, "edit", {"image": _img()}, "model", "no-edits")

        if m.supports("variations"):
            add(name, "vary", {"image": _img(), "size": m.variation_sizes[0]}, label="vary")
            add(name, "vary", {"image": _img(64, 32)}, "image", "vary-not-square")
            add(name, "vary", {"image": _img(mode="RGB", fmt="JPEG")}, "image", "vary-jpeg")
            add(name, "vary", {"image": _img(), "size": "1536x1024"}, "size", "vary-size")
            add(name, "vary", {"image": _img(), "n": 11}, "n", "vary-n")
        else:
            add(name, "vary", {"image": _img()}, "model", "no-variations")

        if m.supports("responses"):
            add(name, "respond", {"size": m.sizes[0]}, label="respond")
            add(name, "respond", {"n": 2}, "n", "respond-n")
            add(name, "respond", {"image": _img(), "mask": _mask()}, label="respond-mask")
            add(name, "respond", {"image": _img(), "mask": _img()}, "mask", "respond-mask-opaque")
            add(name, "respond", {"image": _img(), "mask": _mask(32, 32)}, "mask", "respond-mask-size")
            add(name, "respond", {"image": _img(), "mask": _img(mode="RGB")}, "mask", "respond-mask-no-alpha")
            add(name, "respond", {"action": "paint"}, "action", "respond-action")
            add(name, "respond", {"quality": "ultra"}, "quality", "respond-quality")
        else:
            add(name, "respond", {}, "model", "no-responses")
    return cases


def _call(client: Client, method: str, kw: dict):
    kw = dict(kw)
    prompt = kw.pop("prompt", "a small test picture")
    if method == "generate":
        return client.generate(prompt, **kw)
    if method == "edit":
        return client.edit(prompt, kw.pop("image"), **kw)
    if method == "vary":
        return client.vary(kw.pop("image"), **kw)
    return client.respond(prompt, kw.pop("image", ()), **kw)


@pytest.mark.parametrize("method, kwargs, bad", _cases())
def test_rule(method, kwargs, bad):
    server = SpecServer()
    client = Client(base_url="http://test/v1", transport=server.transport(),
                    retry=RetryPolicy(max_retries=0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if bad is None:
            out = _call(client, method, kwargs)
            if kwargs.get("stream"):
                out.until_done()
            assert len(server.requests) >= 1
        else:
            with pytest.raises(ParamError) as e:
                _call(client, method, kwargs)
            assert e.value.param == bad
            assert bad in str(e.value) and "allowed" in str(e.value)
            assert server.requests == []


def test_every_model_and_endpoint_is_covered():
    ids = {c.id for c in _cases()}
    for name in MODELS:
        assert any(i.startswith(f"{name}-generate") for i in ids)
        assert any(i.startswith(f"{name}-edit") for i in ids)
    assert len(ids) > 500
    assert set(model_names("variations")) == {"dall-e-2"}


def test_messages_name_parameter_value_and_allowed_values():
    with pytest.raises(ParamError) as e:
        Client(base_url="http://test/v1").generate("x", model="dall-e-3", size="1536x1024")
    assert str(e.value) == ("size='1536x1024' is not allowed for dall-e-3 (not one of its sizes); "
                            "allowed: 1024x1024, 1792x1024, 1024x1792")
    with pytest.raises(ParamError) as e:
        Client(base_url="http://test/v1").edit("x", _img(), mask=_img(32, 32), model="gpt-image-1.5")
    assert "the mask must be the same size as the first image" in str(e.value)
    assert "a 64x64 mask" in str(e.value)
    assert png  # shared helper stays importable
