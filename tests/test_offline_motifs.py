"""The offline renderer draws the animals and objects of workshop prompts as themselves: an owl,
a fox and a cat are three different pictures, each still told apart at thumbnail size."""

from __future__ import annotations

import base64
import io
import itertools

import numpy as np
import pytest
from PIL import Image

from imagewidgets.offline import _motifs
from imagewidgets.offline._draw import rasterize
from imagewidgets.offline._prompt import GENERIC_MOTIFS, MOTIF_WORDS, read_prompt
from imagewidgets.offline._shapes import Scene
from tests.fixtures_offline import offline_server  # noqa: F401

#: the motifs of named animals and objects (not the backdrop, not the shapes for unknown words)
THINGS = sorted(set(MOTIF_WORDS.values()) - set(_motifs.SCENERY) - set(GENERIC_MOTIFS))
THUMB = 64  # px: what a gallery or a history row shows
SAME_COLOUR = (150, 110, 80)  # every motif drawn in one colour, so only its drawing can tell it apart


def thumbnail(motif: str) -> np.ndarray:
    """The motif alone on a transparent square, drawn at 4x and shrunk to a thumbnail (premultiplied RGB)."""
    side = THUMB * 4
    ctx = _motifs.Ctx(side, side, 2, side * 0.65, 0.0, (SAME_COLOUR,))
    shapes = _motifs.BUILDERS[motif](ctx, SAME_COLOUR, np.random.default_rng(1), (side / 2, side / 2, side * 0.28))
    im = rasterize(Scene(side, side, None, tuple(shapes), ()))
    px = np.asarray(im.resize((THUMB, THUMB), Image.Resampling.LANCZOS), dtype=np.float32)
    return px[..., :3] * px[..., 3:] / 255


def test_at_least_forty_animals_and_objects_have_a_drawing_of_their_own():
    assert len(THINGS) >= 40, THINGS
    for word in ("owl", "fox", "cat", "dog", "rabbit", "robot", "house", "rocket", "penguin", "elephant", "cake"):
        assert MOTIF_WORDS[word] == word, word


def test_each_drawing_differs_from_every_other_at_thumbnail_size():
    thumbs = {m: thumbnail(m) for m in THINGS}
    for m, px in thumbs.items():
        assert (px.max(axis=2) > 0).mean() > 0.02, f"{m} draws (almost) nothing"
    too_close = []
    for a, b in itertools.combinations(THINGS, 2):
        differ = (np.abs(thumbs[a] - thumbs[b]).max(axis=2) > 48).mean()  # pixels a person sees differ
        if differ < 0.03:
            too_close.append((a, b, round(float(differ), 3)))
    assert not too_close, too_close


@pytest.mark.parametrize("prompt, motif", [
    ("an owl in the forest at night", "owl"), ("a fox in the snow", "fox"), ("a cat on a sofa", "cat"),
    ("two puppies playing", "dog"), ("a bunny", "rabbit"), ("a friendly robot reading a book", "robot"),
    ("a little house by the lake", "house"), ("a cup of coffee", "cup"), ("ladybugs on a leaf", "ladybird"),
])
def test_a_prompt_names_the_motif_it_draws(prompt, motif):
    assert motif in [s.motif for s in read_prompt(prompt).subjects]


def test_an_owl_a_fox_and_a_cat_from_the_api_are_three_different_animals(offline_server, monkeypatch):  # noqa: F811
    """Through the HTTP API with the official SDK, as a workshop meets it: each prompt's animal is drawn
    by its own builder, and the three pictures' subjects differ (same colour word, same size)."""
    openai = pytest.importorskip("openai")
    drawn: list[str] = []
    for name, builder in list(_motifs.BUILDERS.items()):
        monkeypatch.setitem(_motifs.BUILDERS, name, lambda *a, _n=name, _b=builder: drawn.append(_n) or _b(*a))
    server = offline_server()
    client = openai.OpenAI(base_url=server.base_url, api_key="unused")
    pictures = {}
    for animal in ("owl", "fox", "cat"):
        drawn.clear()
        body = client.images.generate(model="gpt-image-2", prompt=f"a brown {animal}", size="256x256", quality="low")
        assert drawn == [animal]
        pictures[animal] = np.asarray(Image.open(io.BytesIO(base64.b64decode(body.data[0].b64_json))).convert("RGB"),
                                      dtype=np.int16)[:200]  # above the caption strip
    for a, b in itertools.combinations(pictures, 2):
        assert (np.abs(pictures[a] - pictures[b]).max(axis=2) > 48).mean() > 0.03, (a, b)
