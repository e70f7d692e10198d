"""The magics take only the user's own words as options (issue 12, item 6), checked in a real
IPython InteractiveShell: a variable's text is prompt text, never an option; ``--image`` and
``--mask`` values are looked up, never evaluated."""

from __future__ import annotations

from imagewidgets.api.results import ImageResult
from imagewidgets.magics import magics as magics_mod
from tests.test_magics import cell, ip, texts, tool, wire  # noqa: F401  (fixtures)
import pytest

# retired models (dall-e-2/3, gpt-image-1, gpt-image-1.5...) serve here as fixtures of features they
# had; the twin's calendar is tested in test_calendar.py and test_lifecycle.py
pytestmark = pytest.mark.calendar_off


def _posts(wire) -> int:
    return sum(1 for r in wire.requests if r.method == "POST")


def test_a_variable_holding_options_is_prompt_text(ip, wire):
    ip.user_ns["p"] = "a fox --session other --model dall-e-3 -n 4"
    for line in ("%imagine $p", "%imagine {p}"):
        run = cell(ip, line)
        assert run.stderr == ""
        path, b = wire.last()
        assert path == "/responses" and texts(b) == ["a fox --session other --model dall-e-3 -n 4"]
        assert tool(b)["model"] != "dall-e-3" and "n" not in tool(b)
    magics = magics_mod._loaded[id(ip)][0]
    assert magics._named == {}  # no session "other" was opened
    assert [t.session for t in ip.user_ns["s"].turns] == ["magics", "magics"]


def test_a_variable_cannot_smuggle_an_image_option_into_edit(ip, wire, tmp_path):
    marker = tmp_path / "PWNED"
    ip.user_ns["shots"] = [cell(ip, "%imagine a lighthouse -q low").result]
    ip.user_ns["p"] = f"x --image shots[__import__('os').system('touch {marker}')]"
    run = cell(ip, "%edit $p -q low")
    assert not marker.exists()
    assert run.stderr == "" and texts(wire.last()[1]) == [ip.user_ns["p"]]


def test_image_and_mask_values_are_never_evaluated(ip, wire, tmp_path):
    marker = tmp_path / "PWNED"
    ip.user_ns["shots"] = [cell(ip, "%imagine a lighthouse -q low").result]
    before = _posts(wire)
    attacks = [
        f"--image shots[__import__('os').system('touch {marker}')]",
        f"--image shots[0].__class__.__init__.__globals__",
        "--image shots[len(shots)-1]",
        f"--mask shots[0] --image shots[(lambda: open('{marker}', 'w'))()]",
        f"--mask shots[__import__('os').system('touch {marker}')]",
    ]
    for option in attacks:
        run = cell(ip, f"%edit add a boat {option}")
        assert not marker.exists(), option
        assert len(run.error_lines) == 1 and "Traceback" not in run.stderr, run.stderr
        assert "--image" in run.stderr or "--mask" in run.stderr
    assert _posts(wire) == before  # every one refused before any request


def test_names_attributes_and_literal_indexes_still_work(ip, wire):
    first = cell(ip, "%imagine a lighthouse -q low").result
    ip.user_ns.update(shots=[first], grid={"kite": first}, holder=type("H", (), {"pic": first})())
    for ref in ("shots[0]", "shots[-1]", 'grid["kite"]', "holder.pic"):
        run = cell(ip, f"%edit add a boat --image {ref} -q low --api images --no-display")
        assert run.stderr == "" and isinstance(run.result, ImageResult), (ref, run.stderr)


def test_an_expression_with_spaces_stays_in_the_prompt(ip, wire):
    run = cell(ip, '%imagine a {" ".join(["red", "kite"])} over hills -q low')
    assert run.stderr == ""
    b = wire.last()[1]
    assert texts(b) == ["a red kite over hills"] and tool(b)["quality"] == "low"


def test_option_values_are_taken_as_typed(ip, wire):
    ip.user_ns["size"] = "1536x1024"
    run = cell(ip, "%imagine a fox -s $size")
    assert _posts(wire) == 0 and len(run.error_lines) == 1 and "$size" in run.stderr
