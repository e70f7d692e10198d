"""Costs a user can trust (issue 13, items 7-8): the dated price table, the estimate's parts
(table / formula / assumption), and the actual cost from ``usage`` with text and image input
priced separately — checked against the offline backend's answers."""

from __future__ import annotations

import pytest

from imagewidgets.api import cost
from imagewidgets.api.client import Client
from imagewidgets.api.requests import EditRequest, GenerateRequest
from imagewidgets.api.usage import Usage

from .fixtures_offline import png

# retired models (dall-e-2/3, gpt-image-1, gpt-image-1.5...) serve here as fixtures of features they
# had; the twin's calendar is tested in test_calendar.py and test_lifecycle.py
pytestmark = pytest.mark.calendar_off


def test_prices_are_the_published_ones_dated_and_sourced():
    want = {"gpt-image-1": (5, 10, 40), "gpt-image-1-mini": (2, 2.5, 8), "gpt-image-1.5": (5, 8, 32),
            "gpt-image-2": (5, 8, 30), "gpt-image-2.5-sunburst": (5, 8, 30), "gpt-image-2.5-flare": (5, 8, 30),
            "gpt-image-2.6-sunburst": (5, 8, 30), "gpt-image-2.6-flare": (5, 8, 30)}
    for model, (t, i, o) in want.items():
        p = cost.prices_for(model)
        assert (p.text_input, p.image_input, p.image_output) == (t, i, o) and p.verified, model
        assert p.read_on == cost.PRICES_READ_ON and p.source.startswith("https://openai.com/api/pricing")


def test_users_can_override_a_price(monkeypatch):
    monkeypatch.setitem(cost.PRICES, "gpt-image-2", cost.PRICES["gpt-image-2"])
    cost.set_prices("gpt-image-2", image_output=15.0)
    est = cost.estimate(GenerateRequest("x", model="gpt-image-2", quality="high", size="1024x1024"))
    assert est.output_tokens == 7024 and est.usd == pytest.approx((1 * 5 + 7024 * 15) / 1e6)  # "x": one text token
    assert "set by the user" in cost.prices_for("gpt-image-2").note


@pytest.mark.parametrize("quality, size, tokens", [
    ("high", "1024x1024", 7024), ("high", "1536x1024", 5488), ("low", "1024x1024", 196),
])
def test_the_gpt_image_2_formula_reproduces_the_calculator(quality, size, tokens):
    w, h = map(int, size.split("x"))
    assert cost.formula_output_tokens(quality, w, h) == tokens
    est = cost.estimate(GenerateRequest("x", model="gpt-image-2.6-flare", quality=quality, size=size))
    assert est.output_tokens == tokens
    assert dict(est.sources)[f"output tokens ({quality}, {size})"] == "formula"


def test_the_gpt_image_1_family_uses_the_seed_table():
    est = cost.estimate(GenerateRequest("a kite", model="gpt-image-1.5", quality="low", size="1024x1024"))
    assert est.output_tokens == 272
    srcs = dict(est.sources)
    assert srcs["output tokens (low, 1024x1024)"] == "table"
    assert srcs["text tokens"].startswith("assumption")
    assert srcs["prices"].startswith("table (2026-11-30")
    assert "text tokens: assumption" in est.explain()


def test_partial_images_add_100_each_and_assumptions_are_labelled():
    est = cost.estimate(GenerateRequest("x", model="gpt-image-2", quality="low", size="1024x1024",
                                        stream=True, partial_images=3))
    assert est.output_tokens == 196 + 300
    assert "+ 100 per partial image" in dict(est.sources)["output tokens (low, 1024x1024)"]
    xhigh = cost.estimate(GenerateRequest("x", model="gpt-image-2.5-flare", quality="xhigh", size="1024x1024"))
    assert dict(xhigh.sources)["output tokens (xhigh, 1024x1024)"].startswith("assumption")
    auto = cost.estimate(GenerateRequest("x", model="gpt-image-2"))
    assert auto.upper_bound and any(src.startswith("assumption") for part, src in auto.sources if part == "auto")


@pytest.mark.parametrize("w, h, fidelity, tokens", [
    (1024, 1024, None, 65 + 129),  # short side to 512: one tile
    (2048, 1024, None, 65 + 129 * 2),  # 1024x512: two tiles
    (4096, 1024, None, 65 + 129 * 4),  # fit in 2048 (2048x512), then 512 short: four tiles
    (1024, 1024, "high", 65 + 129 + 4160),
    (1536, 1024, "high", 65 + 129 * 2 + 6240),
])
def test_input_image_tokens_follow_the_vision_rule(w, h, fidelity, tokens):
    assert cost.image_input_tokens(w, h, fidelity) == tokens


def test_an_edit_estimate_counts_its_input_image():
    req = EditRequest("add a boat", images=png(1024, 1024), model="gpt-image-1.5", quality="low",
                      size="1024x1024", input_fidelity="high")
    est = cost.estimate(req)
    assert est.input_image_tokens == 65 + 129 + 4160
    assert "vision rule" in dict(est.sources)["input image tokens"]


def test_the_actual_cost_comes_from_usage_with_text_and_image_input_priced_apart():
    usage = Usage(input_tokens=250, input_text_tokens=50, input_image_tokens=200, output_tokens=1000)
    b = cost.breakdown(usage, "gpt-image-1.5")
    assert (b.text_input_usd, b.image_input_usd, b.output_usd) == pytest.approx((50 * 5e-6, 200 * 8e-6, 1000 * 32e-6))
    assert b.usd == pytest.approx(cost.cost_of(usage, "gpt-image-1.5"))
    assert "text in 50 tok" in str(b) and "image in 200 tok" in str(b)


def test_an_offline_edit_reports_usage_and_its_cost_matches_the_split():
    client = Client(save_dir=False)
    req_opts = dict(model="gpt-image-1.5", quality="low", size="1024x1024")
    est = cost.estimate(EditRequest("add a boat", images=png(1024, 1024), **req_opts))
    img = client.edit("add a boat", png(1024, 1024), **req_opts)
    split = img.cost_breakdown()
    assert split.image_input_tokens == 65 + 129 and split.text_input_tokens > 0
    assert split.usd == pytest.approx(img.cost)
    assert est.output_tokens == split.output_tokens and est.input_image_tokens == split.image_input_tokens


def test_cached_input_of_the_image_tool_is_priced_at_the_cached_rate():
    """``tool_usage.image_gen`` with cached tokens (openai 3.5x): the 2.x family's cached input costs
    $1.25 (text) and $2 (image) per 1M instead of $5 and $8; the breakdown and explain() say so."""
    from imagewidgets.api.cost import breakdown, cost_of, estimate
    from imagewidgets.api.requests import ResponsesRequest
    from imagewidgets.api.usage import Usage

    tool = {"input_tokens": 1200, "input_tokens_details": {"text_tokens": 200, "image_tokens": 1000},
            "output_tokens": 1000, "total_tokens": 2200, "cached_tokens": 600,
            "cached_tokens_details": {"cached_text_tokens": 100, "cached_image_tokens": 500}}
    usage = Usage.from_api(tool)
    assert (usage.cached_text_tokens, usage.cached_image_tokens) == (100, 500)
    expected = (100 * 5 + 100 * 1.25 + 500 * 8 + 500 * 2 + 1000 * 30) / 1e6
    assert cost_of(usage, "gpt-image-2.6-sunburst") == pytest.approx(expected)
    uncached = Usage.from_api({**tool, "cached_tokens_details": None, "cached_tokens": None})
    assert cost_of(uncached, "gpt-image-2") == pytest.approx((200 * 5 + 1000 * 8 + 1000 * 30) / 1e6)
    assert "(500 cached)" in str(breakdown(usage, "gpt-image-2"))
    assert cost_of(usage, "gpt-image-1") == pytest.approx((200 * 5 + 1000 * 10 + 1000 * 40) / 1e6)  # none listed
    explained = estimate(ResponsesRequest("a kite", model="gpt-image-2", size="1024x1024", quality="low")).explain()
    assert "cached input: table: $1.25 text / $2 image per 1M" in explained
