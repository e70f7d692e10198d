"""The client refuses what cannot work before it pays for it (issue 12, item 8): corrupt images,
decompression bombs and wrong Python types are ``ParamError``s naming the parameter with zero
requests; a 4xx-class mistake is never retried; ``%edit`` with a bad mask is one line."""

from __future__ import annotations

import httpx2
import pytest

from imagewidgets import APIError, Client, ParamError
from tests.spec_server import png
from tests.test_security_server import CORRUPT_PNG, bomb_png

# retired models (dall-e-2/3, gpt-image-1, gpt-image-1.5...) serve here as fixtures of features they
# had; the twin's calendar is tested in test_calendar.py and test_lifecycle.py
pytestmark = pytest.mark.calendar_off


class Counting(httpx2.MockTransport):
    def __init__(self, status: int = 200) -> None:
        self.requests: list[httpx2.Request] = []

        def answer(request: httpx2.Request) -> httpx2.Response:
            self.requests.append(request)
            return httpx2.Response(status, json={"error": {"message": "no", "type": "invalid_request_error",
                                                           "param": None, "code": None}})

        super().__init__(answer)


@pytest.fixture
def counting():
    return Counting()


@pytest.fixture
def client(counting):
    return Client(base_url="http://api.test/v1", api_key="sk-x", transport=counting, save_dir=None)


BAD_IMAGES = {"corrupt": CORRUPT_PNG, "bomb": bomb_png(), "not-an-image": b"GIF89a" + b"\x00" * 10}


@pytest.mark.parametrize("name", BAD_IMAGES)
def test_a_bad_reference_image_is_refused_before_sending(client, counting, name):
    with pytest.raises(ParamError) as info:
        client.edit("add a boat", image=BAD_IMAGES[name], model="gpt-image-1.5")
    assert info.value.param == "image" and counting.requests == []


@pytest.mark.parametrize("name", BAD_IMAGES)
def test_a_bad_mask_is_refused_before_sending(client, counting, name):
    with pytest.raises(ParamError) as info:
        client.edit("add a boat", image=png(64, 64), mask=BAD_IMAGES[name], model="gpt-image-1.5")
    assert info.value.param == "mask" and counting.requests == []


def test_a_bad_image_among_several_is_named_by_its_place(client, counting):
    with pytest.raises(ParamError) as info:
        client.edit("merge", image=[png(64, 64), bomb_png()], model="gpt-image-1.5")
    assert info.value.param == "image[1]" and counting.requests == []


WRONG = [
    ({"size": 1024}, "size"),
    ({"size": "1024x1024\n", "model": "gpt-image-2"}, "size"),  # gpt-image-2 takes any WxH: the text must be exact
    ({"size": "１０２４x１０２４", "model": "gpt-image-2"}, "size"),  # full-width digits
    ({"quality": ["low"]}, "quality"),
    ({"stream": "yes"}, "stream"),
    ({"n": "2"}, "n"),
    ({"n": "２"}, "n"),
    ({"output_format": b"png"}, "output_format"),
    ({"background": None, "moderation": 1}, "moderation"),
]


@pytest.mark.parametrize("options,param", WRONG, ids=[repr(o) for o, _ in WRONG])
def test_a_wrong_python_type_is_a_param_error_naming_it(client, counting, options, param):
    with pytest.raises(ParamError) as info:
        client.generate("a fox", **{"model": "gpt-image-1.5", **options})
    assert info.value.param == param and counting.requests == []


def test_a_lone_surrogate_in_a_prompt_is_a_param_error(client, counting):
    with pytest.raises(ParamError) as info:
        client.generate("a fox \ud800 in the snow", model="gpt-image-1.5")
    assert info.value.param == "prompt" and "surrogate" in str(info.value) and counting.requests == []


@pytest.mark.parametrize("status", [400, 401, 403, 404, 413, 415, 422])
def test_a_4xx_mistake_is_never_retried(status):
    counting = Counting(status)
    client = Client(base_url="http://api.test/v1", api_key="sk-x", transport=counting, save_dir=None, max_retries=5)
    with pytest.raises(APIError):
        client.generate("a fox", model="gpt-image-1.5")
    assert len(counting.requests) == 1


def test_edit_with_a_bad_mask_prints_one_line(tmp_path):
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.utils.capture import capture_output
    from traitlets.config import Config

    (tmp_path / "mask.png").write_bytes(CORRUPT_PNG)
    (tmp_path / "bomb.png").write_bytes(bomb_png())
    InteractiveShell.clear_instance()
    ip = InteractiveShell.instance(config=Config())
    with capture_output():
        ip.extension_manager.load_extension("imagewidgets")
    try:
        with capture_output() as cap:
            ip.run_cell("%imagine a lighthouse -q low --no-display")
        for mask in ("mask.png", "bomb.png"):
            with capture_output() as cap:
                result = ip.run_cell(f"%edit add a boat --mask {tmp_path / mask}")
            lines = cap.stderr.strip().splitlines()
            assert result.error_in_exec is None and len(lines) == 1, cap.stderr
            assert lines[0].startswith("%edit: --mask") and "Traceback" not in cap.stderr + cap.stdout
    finally:
        ip.extension_manager.unload_extension("imagewidgets")
        InteractiveShell.clear_instance()
