"""Provenance through a session (issue 30): the store keeps OpenAI-style originals byte for byte with
their C2PA manifest; a preview and a ``keep_outside_mask`` composite are new files without one, and
the user is told so; ``result.provenance()`` and ``%imagine_provenance`` ask the API (the twin, a real
server over loopback) and show the answer."""

from __future__ import annotations

import base64
import re

import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output
from traitlets.config import Config

from imagewidgets import Client, ParamError, Session
from imagewidgets.api.provenance import ProvenanceCheck, carries_manifest
from imagewidgets.magics import magics as magics_mod
from imagewidgets.offline.config import OfflineConfig
from imagewidgets.offline.server import OfflineServer

from .fixtures_offline import mask_png, picture

pytest.importorskip("c2pa")

SIZE = {"size": "1024x1024", "quality": "low", "model": "gpt-image-2"}


@pytest.fixture(scope="module")
def server():
    with OfflineServer(OfflineConfig()) as srv:
        yield srv


@pytest.fixture
def session(server, tmp_path):
    s = Session("prov", folder=tmp_path / "store", client=Client(base_url=server.base_url), api="images")
    yield s
    s.client.close()


def _preview_bytes(html: str) -> bytes:
    return base64.b64decode(re.search(r'src="data:image/[a-z]+;base64,([^"]+)"', html).group(1))


def test_the_stored_original_keeps_its_manifest_and_the_preview_says_it_has_none(session):
    img = session.imagine("a lighthouse at dusk", **SIZE)
    on_disk = img.path.read_bytes()
    assert on_disk == img.data and carries_manifest(on_disk)  # the store's file is the server's bytes
    assert img.carries_manifest
    assert session.provenance().c2pa == "detected"

    bundle, meta = img.display_bundle("webp:256")
    preview = _preview_bytes(bundle["text/html"])
    assert not carries_manifest(preview)
    told = meta["imagewidgets"]
    assert told["c2pa"] is True and told["preview"]["c2pa"] is False
    assert "carries no C2PA manifest" in told["preview"]["note"] and img.store_path in told["preview"]["note"]
    assert "carries no C2PA manifest" in bundle["text/html"]  # the <img>'s title: shown on hover
    check = session.client.check_provenance(preview)  # the API agrees: the preview has no manifest
    assert (check.c2pa, check.validation_state) == ("not_detected", "not_present")


def test_a_keep_outside_mask_composite_has_no_manifest_and_says_where_the_original_is(session):
    session.imagine("a lighthouse at dusk", **SIZE)
    kept = session.edit("a pond", mask=mask_png(1024, 1024, (256, 256, 768, 768)), keep_outside_mask=True,
                        **SIZE)
    assert not kept.carries_manifest and kept.raw.carries_manifest
    assert kept.raw.path.read_bytes() == kept.raw.data  # the API's original stays beside it, byte for byte
    assert "composite: no C2PA manifest" in kept.html()
    assert str(kept.raw_path.name) in kept.provenance_note
    assert kept.display_bundle("full")[1]["imagewidgets"]["note"] == kept.provenance_note
    assert session.client.check_provenance(kept).c2pa == "not_detected"
    assert session.client.check_provenance(kept.raw).c2pa == "detected"
    assert session.provenance().c2pa == "detected"  # a turn's check sends the original, not the composite


def test_result_provenance_returns_the_typed_answer(session):
    img = session.imagine("a lighthouse", **SIZE)
    check = img.provenance(session.client)
    assert isinstance(check, ProvenanceCheck)
    assert check.c2pa == "detected" and check.validation_state == "valid" and check.model == "gpt-image-2"
    assert check.synthid == "not_detected"  # the twin has no watermark, and says so
    assert "detected (valid, gpt-image-2" in repr(check)
    assert "C2PA manifest" in check._repr_html_()


def test_result_provenance_with_no_client_asks_the_configured_backend(session):
    """``img.provenance()`` as the README writes it: no client in hand, the configured backend (with no
    key: the embedded twin) answers; the package wires it, the result never imports the client."""
    from imagewidgets import ImageResult

    img = session.imagine("a lighthouse", **SIZE)
    check = img.provenance()
    assert check.c2pa == "detected" and check.validation_state == "valid" and check.model == "gpt-image-2"
    assert ImageResult.from_bytes(picture()).provenance().validation_state == "not_present"


def test_with_no_backend_wired_a_result_asks_for_a_client_instead_of_failing_deep(session):
    from imagewidgets.api import provenance

    img = session.imagine("a lighthouse", **SIZE)
    wired = provenance.set_configured_check(None)
    try:
        with pytest.raises(ParamError, match=r"client=None .*img\.provenance\(iw\.Client\(\)\)"):
            img.provenance()
        assert img.provenance(session.client).c2pa == "detected"
    finally:
        provenance.set_configured_check(wired)


def test_a_file_made_elsewhere_has_no_manifest(session):
    assert not carries_manifest(picture())
    assert session.client.check_provenance(picture()).validation_state == "not_present"


def test_a_provenance_answer_with_wrong_types_is_not_trusted():
    check = ProvenanceCheck.from_api({"results": [{"type": "c2pa", "outcome": "maybe", "validation_state": 3,
                                                   "issuer": ["x"], "model": "m" * 500}, "junk"]})
    assert (check.c2pa, check.validation_state, check.issuer) == ("not_detected", "not_present", None)
    assert len(check.model) == 200


def test_the_magic_shows_the_check_of_the_current_turn(session, capsys):
    InteractiveShell.clear_instance()
    shell = InteractiveShell.instance(config=Config())
    shell.extension_manager.load_extension("imagewidgets")
    try:
        shell.user_ns["s"] = session
        shell.run_line_magic("imagine_config", "--session s")
        session.imagine("a lighthouse", **SIZE)
        with capture_output() as cap:
            check = shell.run_line_magic("imagine_provenance", "")
        assert check.c2pa == "detected"
        assert any("C2PA manifest" in o.data.get("text/html", "") for o in cap.outputs)
        with capture_output() as cap:
            assert shell.run_line_magic("imagine_provenance", "turn_nothere") is None
        assert "no such turn" in cap.stderr
    finally:
        magics_mod._loaded.pop(id(shell), None)
        shell.extension_manager.unload_extension("imagewidgets")
        InteractiveShell.clear_instance()
