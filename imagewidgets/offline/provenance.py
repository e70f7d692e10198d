"""Content provenance in the offline twin: every final PNG, JPEG or WebP it makes carries a real C2PA
manifest naming the twin, and ``POST /v1/content_provenance_checks`` reads manifests back.

The manifest is written and read by the Content Authenticity Initiative's own library,
``c2pa-python`` (the ``provenance`` extra): a JUMBF ``caBX`` chunk in PNG, APP11 segments in JPEG,
a ``C2PA`` chunk in WebP, exactly where OpenAI's images carry theirs. It is signed with a test
certificate the twin makes for itself (an ECDSA P-256 key under a throw-away CA, made once per
process, never written to disk), so a check reports ``validation_state="valid"``: the signature
and the hashes hold, but no trust list knows the signer (OpenAI's own images are ``trusted``).
The twin has no SynthID watermark: its checks always say ``synthid: not_detected``.

Without ``c2pa-python`` the twin serves unsigned images and every check answers ``not_detected``;
the server's log says so once.

    >>> from imagewidgets.offline import provenance
    >>> signed = provenance.sign(png_bytes, model="gpt-image-2")     # doctest: +SKIP
    >>> provenance.check(signed)["results"][0]["validation_state"]   # doctest: +SKIP
    'valid'
"""

from __future__ import annotations

import io
import json
import logging
import threading
import time
from datetime import datetime, timedelta, timezone
from typing import Any

from ..api.images import MIME_TYPES, sniff_format

__all__ = ["ISSUER", "SIGNER", "available", "sign", "check", "SIGNED_FORMATS", "CHECKED_FORMATS"]

_log = logging.getLogger("imagewidgets.offline")

#: the organisation of the twin's test certificate: what a check reports as ``issuer``
ISSUER = "imagewidgets offline twin (test certificate)"
#: the claim generator named in every manifest the twin writes
SIGNER = "imagewidgets offline renderer (procedural, not AI)"
#: the containers the twin signs (as OpenAI does: its PNG, JPEG and WebP outputs)
SIGNED_FORMATS = ("png", "jpeg", "webp")
#: what ``POST /v1/content_provenance_checks`` accepts (the SDK's docstring: PNG, JPEG, WebP, GIF)
CHECKED_FORMATS = ("png", "jpeg", "webp", "gif")
_TRAINED = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
_LABEL = "org.imagewidgets.offline"  # our own assertion: the model and time the twin recorded

_lock = threading.Lock()
_signer: Any = None  # (c2pa.Signer) made on first use
_context: Any = None  # (c2pa.Context) made on first use
#: no claim thumbnail (it would add ~30 kB to every PNG and JPEG), and never the network
_SETTINGS = {"builder": {"thumbnail": {"enabled": False}},
             "verify": {"ocsp_fetch": False, "remote_manifest_fetch": False}}
_missing = False


def available() -> bool:
    """Whether ``c2pa-python`` is installed (the twin then signs and checks manifests)."""
    global _missing
    if _missing:
        return False
    try:
        import c2pa  # type: ignore[import-untyped]  # noqa: F401
    except ImportError:
        _missing = True
        _log.warning("c2pa-python is not installed: the offline twin serves images without a C2PA manifest "
                     "(pip install 'imagewidgets[provenance]')")
        return False
    return True


def _test_certificate() -> tuple[bytes, bytes]:
    """A certificate chain (signer, then CA) and the signer's private key, PEM, made in memory.

    C2PA refuses a self-signed signing certificate; a CA above it, and the signer's key usage
    (digitalSignature) and extended key usage (emailProtection) are what its profile asks for."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    def name(cn: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn),
                          x509.NameAttribute(NameOID.ORGANIZATION_NAME, ISSUER)])

    start = datetime.now(timezone.utc) - timedelta(days=1)
    end = start + timedelta(days=3650)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(name("imagewidgets offline test CA"))
          .issuer_name(name("imagewidgets offline test CA")).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(start).not_valid_after(end)
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (x509.CertificateBuilder().subject_name(name("imagewidgets offline twin")).issuer_name(ca.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(start).not_valid_after(end)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    chain = leaf.public_bytes(pem) + ca.public_bytes(pem)
    private = key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return chain, private


def _get_signer() -> Any:
    global _signer
    if _signer is None:
        import c2pa

        chain, private = _test_certificate()
        # no timestamp authority: the twin never reaches the network
        _signer = c2pa.Signer.from_info(c2pa.C2paSignerInfo(b"es256", chain, private, None))
    return _signer


def _get_context() -> Any:
    global _context
    if _context is None:
        import c2pa

        _context = c2pa.Context(c2pa.Settings.from_dict(_SETTINGS))
    return _context


def sign(data: bytes, *, model: str | None, created: int | None = None) -> bytes:
    """``data`` with a C2PA manifest naming the twin and ``model`` (PNG, JPEG, WebP; other bytes,
    or without c2pa-python, unchanged)."""
    fmt = sniff_format(data[:64])
    if fmt not in SIGNED_FORMATS or not available():
        return data
    import c2pa

    when = datetime.fromtimestamp(created if created is not None else time.time(), timezone.utc)
    stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    manifest = {
        "claim_generator_info": [{"name": SIGNER}],
        "title": f"offline {model or 'image'}",
        "assertions": [
            {"label": "c2pa.actions", "data": {"actions": [
                {"action": "c2pa.created", "digitalSourceType": _TRAINED, "when": stamp,
                 "softwareAgent": {"name": SIGNER}}]}},
            {"label": _LABEL, "data": {"model": model, "generated_at": stamp, "renderer": "procedural, not AI"}},
        ],
    }
    out = io.BytesIO()
    try:
        with _lock, c2pa.Builder(json.dumps(manifest), context=_get_context()) as builder:  # one at a time
            builder.sign(_get_signer(), MIME_TYPES[fmt], io.BytesIO(data), out)
    except Exception:  # a picture is worth more than its manifest: serve it unsigned, and say so in the log
        _log.exception("signing a %s with a C2PA manifest failed; serving it without one", fmt)
        return data
    return out.getvalue()


def check(data: bytes) -> dict[str, Any]:
    """The ``ContentProvenanceCheck`` of ``data`` (the caller has checked the format)."""
    return {"object": "content_provenance_check", "created_at": int(time.time()),
            "results": [_c2pa_result(data), {"type": "synthid", "outcome": "not_detected",
                                              "generated_at": None, "model": None}]}


_NOT_PRESENT = {"type": "c2pa", "outcome": "not_detected", "validation_state": "not_present",
                "issuer": None, "model": None, "generated_at": None}


def _c2pa_result(data: bytes) -> dict[str, Any]:
    fmt = sniff_format(data[:64])
    if fmt not in SIGNED_FORMATS or not available():
        return dict(_NOT_PRESENT)
    import c2pa

    try:
        with _lock:
            context = _get_context()
        with c2pa.Reader(MIME_TYPES[fmt], io.BytesIO(data), context=context) as reader:
            store = json.loads(reader.json())
    except Exception:  # no manifest (ManifestNotFound), or one too broken to parse
        return dict(_NOT_PRESENT)
    active = (store.get("manifests") or {}).get(store.get("active_manifest") or "") or {}
    if not active:
        return dict(_NOT_PRESENT)
    signature = active.get("signature_info") or {}
    ours = next((a.get("data") or {} for a in active.get("assertions") or [] if a.get("label") == _LABEL), {})
    # "valid": signature and hashes hold; the only complaint allowed is that no trust list knows the signer
    failures = [s for s in store.get("validation_status") or []
                if s.get("code") != "signingCredential.untrusted"]
    state = {"Trusted": "trusted", "Valid": "valid"}.get(store.get("validation_state"), "invalid")
    if failures:
        state = "invalid"
    detected = state in ("valid", "trusted") and signature.get("issuer") == ISSUER
    return {"type": "c2pa", "outcome": "detected" if detected else "not_detected", "validation_state": state,
            "issuer": signature.get("issuer"), "model": ours.get("model") if detected else None,
            "generated_at": ours.get("generated_at") if detected else None}
