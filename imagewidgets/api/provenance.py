"""Content provenance: whether an image still carries its C2PA manifest, and the API's check of it.

Every image OpenAI makes carries a C2PA manifest (and a SynthID watermark). The manifest lives in
the file (PNG ``caBX`` chunk, JPEG APP11 segments, WebP ``C2PA`` chunk): the store keeps the
originals byte for byte, but every new file made from their pixels — a notebook preview, a
``keep_outside_mask`` composite, an outpaint canvas, an export's thumbnails — has none. Those
operations say so, and the original stays beside them.

    >>> img = s.current.image                            # doctest: +SKIP
    >>> img.carries_manifest                             # looked up in the bytes, no request
    True
    >>> img.provenance()                                 # POST /v1/content_provenance_checks
    <ProvenanceCheck c2pa: detected (valid, gpt-image-2) · synthid: not_detected>
    %imagine_provenance                                  # the same for the current turn (magics)

``carries_manifest`` only finds the container; whether it validates is the check's answer.

With no client in hand (``img.provenance()``), the check goes to the configured backend through a
callback the package sets when it is imported (``imagewidgets/__init__``: a ``Client()`` for the one
check), as the embedded twin's starter (``api/embedded.py``) and progress bars are: results, which
the client builds, never import the client.
"""

from __future__ import annotations

import html
import struct
from dataclasses import dataclass, field
from typing import Any, Callable

from .errors import ParamError

__all__ = ["ProvenanceCheck", "carries_manifest", "no_manifest_note", "check", "set_configured_check"]


def carries_manifest(data: bytes) -> bool:
    """Whether ``data`` (PNG, JPEG or WebP) holds a C2PA manifest store where C2PA puts one. Reads
    only the headers of the file's chunks or segments, never the pixels."""
    try:
        if data[:8] == b"\x89PNG\r\n\x1a\n":
            return _png(data)
        if data[:2] == b"\xff\xd8":
            return _jpeg(data)
        if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
            return _webp(data)
    except (struct.error, IndexError):  # a truncated file: no manifest we could trust
        return False
    return False


def _png(data: bytes) -> bool:
    i = 8
    while i + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[i:i + 8])
        if kind == b"caBX":
            return True
        if kind in (b"IDAT", b"IEND"):  # C2PA puts its chunk before the image data
            return False
        i += 12 + length
    return False


def _jpeg(data: bytes) -> bool:
    i = 2
    while i + 4 <= len(data) and data[i] == 0xFF:
        marker = data[i + 1]
        if marker in (0xDA, 0xD9):  # start of scan, end of image: the metadata segments are over
            return False
        length = struct.unpack(">H", data[i + 2:i + 4])[0]
        # APP11 holding a JUMBF box ("JP" common identifier) of a C2PA manifest store
        if marker == 0xEB and data[i + 4:i + 6] == b"JP" and b"c2pa" in data[i + 4:i + 2 + length]:
            return True
        i += 2 + length
    return False


def _webp(data: bytes) -> bool:
    i = 12
    while i + 8 <= len(data):
        kind = data[i:i + 4]
        length = struct.unpack("<I", data[i + 4:i + 8])[0]
        if kind == b"C2PA":
            return True
        i += 8 + length + (length & 1)
    return False


def no_manifest_note(what: str, original: str | None = None) -> str:
    """The sentence a new file made from an original's pixels carries: it has no C2PA manifest, and
    where the original (which keeps its manifest) is."""
    where = f" The original, with its manifest, is {original}." if original else \
        " The original keeps its manifest in the store."
    return f"This {what} is a new file made from the pixels: it carries no C2PA manifest.{where}"


@dataclass(frozen=True)
class ProvenanceCheck:
    """The API's answer to ``POST /v1/content_provenance_checks`` (SDK ``ContentProvenanceCheck``):
    ``c2pa`` (``detected``/``not_detected``) with the manifest's ``validation_state`` (``trusted``,
    ``valid``, ``invalid``, ``not_present``), its ``issuer``, ``model`` and ``generated_at``;
    ``synthid`` (the watermark) ``detected``/``not_detected``."""

    c2pa: str = "not_detected"
    validation_state: str = "not_present"
    issuer: str | None = None
    model: str | None = None
    generated_at: str | None = None
    synthid: str = "not_detected"
    created_at: int | None = None
    raw: dict = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_api(cls, body: Any) -> "ProvenanceCheck":
        """From the answer's JSON; fields of the wrong type are dropped (a server's text is never trusted)."""
        results = body.get("results") if isinstance(body, dict) else None
        results = [r for r in results if isinstance(r, dict)] if isinstance(results, list) else []
        c2pa: dict = next((r for r in results if r.get("type") == "c2pa"), {})
        synthid: dict = next((r for r in results if r.get("type") == "synthid"), {})

        def word(d: dict, key: str, allowed: tuple[str, ...], default: str) -> str:
            value = d.get(key)
            return value if value in allowed else default

        def text(d: dict, key: str) -> str | None:
            value = d.get(key)
            return value[:200] if isinstance(value, str) else None

        created = body.get("created_at") if isinstance(body, dict) else None
        return cls(c2pa=word(c2pa, "outcome", ("detected", "not_detected"), "not_detected"),
                   validation_state=word(c2pa, "validation_state", ("trusted", "valid", "invalid", "not_present"),
                                         "not_present"),
                   issuer=text(c2pa, "issuer"), model=text(c2pa, "model"), generated_at=text(c2pa, "generated_at"),
                   synthid=word(synthid, "outcome", ("detected", "not_detected"), "not_detected"),
                   created_at=created if isinstance(created, int) and not isinstance(created, bool) else None,
                   raw=body if isinstance(body, dict) else {})

    @property
    def detected(self) -> bool:
        """Whether either signal (manifest or watermark) was found."""
        return self.c2pa == "detected" or self.synthid == "detected"

    def __str__(self) -> str:
        bits = [self.validation_state] + [b for b in (self.model, self.generated_at) if b]
        return f"c2pa: {self.c2pa} ({', '.join(bits)}) · synthid: {self.synthid}"

    def __repr__(self) -> str:
        return f"<ProvenanceCheck {self}>"

    def _repr_html_(self) -> str:
        ok = "#2e7d32" if self.c2pa == "detected" else "#b26a00"
        issuer = f"<br>issuer: {html.escape(self.issuer)}" if self.issuer else ""
        return (f'<div style="border-left:4px solid {ok};padding:4px 8px"><b>C2PA manifest</b>: '
                f"{html.escape(self.c2pa)} ({html.escape(self.validation_state)}){issuer}"
                f"<br><b>SynthID watermark</b>: {html.escape(self.synthid)}</div>")


#: image -> ProvenanceCheck with the configured backend, for a check with no client in hand
ConfiguredCheck = Callable[[Any], ProvenanceCheck]
_configured: ConfiguredCheck | None = None


def set_configured_check(configured: ConfiguredCheck | None) -> ConfiguredCheck | None:
    """How a check with no client reaches the configured backend (``imagewidgets/__init__``, which
    Python always runs first, sets a ``Client()`` made for the one check); None: such a check asks
    for a client. Returns the one it replaces."""
    global _configured
    previous, _configured = _configured, configured
    return previous


def check(image: Any, client: Any = None) -> ProvenanceCheck:
    """``POST /v1/content_provenance_checks`` for ``image`` with ``client`` (anything with
    ``check_provenance``: a ``Client``, a ``Session``'s client), else with the configured backend."""
    if client is not None:
        return client.check_provenance(image)
    if _configured is None:
        raise ParamError("client", None, "a Client", hint="no configured backend is set up for provenance checks: "
                         "pass one, e.g. img.provenance(iw.Client())")
    return _configured(image)
