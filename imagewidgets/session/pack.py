"""Packs: a notebook with exactly the store records and images its outputs and chains reference,
in one zip, so a colleague re-runs it from the store (zero requests, identical outputs).

    $ imagewidgets pack harbour.ipynb -o harbour.zip
    $ imagewidgets unpack harbour.zip -C somewhere/       # somewhere/harbour.ipynb + imagewidgets-data/

What a pack holds: the notebook as it was saved; ``manifest.json`` (the turns, their image index
rows, the sessions); ``files/<sha256>.<ext>`` (each image once). The turns are those whose images
the outputs name (``metadata["imagewidgets"]``), with the turns they continued from and the turns
they were replayed from, up to the roots.

Everything read from a pack is treated as hostile: no member name is ever used as a path (the
files read are named by us, from validated hashes), ids, names, paths and types are checked,
sizes are bounded before reading, and every image must hash to what the manifest says.
"""

from __future__ import annotations

import hashlib
import json
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from ..api.errors import ImagewidgetsError
from ..api.images import sniff_format
from ..api.results import atomic_file, atomic_write
from ..api.usage import Usage
from .store import Store, open_store
from .turns import STATUSES, Turn

__all__ = ["PackError", "PackSummary", "pack", "unpack", "notebook_refs"]

FORMAT = "imagewidgets.pack"
VERSION = 1
MANIFEST = "manifest.json"

_SHA = re.compile(r"^[0-9a-f]{64}$")
_TURN_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_IMAGE_PATH = re.compile(r"^images/([A-Za-z0-9_-][A-Za-z0-9_.-]{0,127})/([A-Za-z0-9_-]{1,80})-(\d{1,4}|partial)"
                         r"\.(png|jpg|webp|gif|svg)$")
_NOTEBOOK = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_ .()-]{0,199}\.ipynb$")
_FORMAT_EXT = {"png": "png", "jpeg": "jpg", "webp": "webp", "gif": "gif", "svg": "svg"}
_KINDS = ("generate", "edit", "vary", "respond")
_APIS = ("images", "responses")
_TURN_TEXT = ("session", "parent_id", "model", "prompt", "response_id", "call_id", "revised_prompt", "error",
              "replay_key", "backend", "replayed_from", "note")
_TURN_NUMBERS = ("cost", "created", "elapsed_s")

MAX_MANIFEST = 64 * 1024 * 1024
MAX_NOTEBOOK = 256 * 1024 * 1024
MAX_IMAGE = 64 * 1024 * 1024
#: all members together, uncompressed, as the archive's directory declares them (checked before
#: anything is read or created; reads stop at the declared size, so a lying header gains nothing)
MAX_TOTAL = 4 * 1024 * 1024 * 1024
#: a member above ``_RATIO_FROM`` bytes may be at most this many times its compressed size: packs
#: hold PNG/JPEG (stored as they are) and JSON (5-20x); a zip bomb is 1000x
MAX_RATIO = 100
_RATIO_FROM = 4 * 1024 * 1024
_CHUNK = 1024 * 1024


class PackError(ImagewidgetsError):
    """A pack that cannot be made or restored: what is wrong, and nothing was half written."""


@dataclass(frozen=True)
class PackSummary:
    """What ``pack`` wrote or ``unpack`` restored."""

    notebook: Path
    store: Path
    turns: int
    images: int
    skipped: int = 0  # turns already in the store (left as they were)

    def __str__(self) -> str:
        kept = f"; {self.skipped} already there" if self.skipped else ""
        return f"{self.notebook}: {self.turns} turns, {self.images} images (store {self.store}{kept})"


# -- pack ------------------------------------------------------------------------------------


def notebook_refs(notebook: dict) -> list[tuple[str, str]]:
    """The ``(sha256, store-relative path)`` of every stored image the notebook's outputs show."""
    refs: list[tuple[str, str]] = []
    for cell in notebook.get("cells") or []:
        for out in cell.get("outputs") or [] if isinstance(cell, dict) else []:
            meta = (out.get("metadata") or {}).get("imagewidgets") if isinstance(out, dict) else None
            if not isinstance(meta, dict):
                continue
            for m in meta.get("images") or [meta]:
                if isinstance(m, dict) and isinstance(m.get("sha256"), str) and isinstance(m.get("path"), str):
                    if _SHA.match(m["sha256"]) and _IMAGE_PATH.match(m["path"]):
                        refs.append((m["sha256"], m["path"]))
    return list(dict.fromkeys(refs))


def pack(notebook: str | Path, out: str | Path, *, store: str | Path | None = None) -> PackSummary:
    """Write ``out`` (a zip): ``notebook`` and the turns and images its outputs and chains reference,
    read from ``store`` (default: ``$IMAGEWIDGETS_STORE`` or ``imagewidgets-data`` beside the notebook)."""
    nb_path = Path(notebook)
    if not _NOTEBOOK.match(nb_path.name):
        raise PackError(f"{nb_path.name!r}: a notebook file name (letters, digits, _ - . space, ending .ipynb)")
    raw = nb_path.read_bytes()
    try:
        doc = json.loads(raw)
    except ValueError as e:
        raise PackError(f"{nb_path} is not a notebook (not JSON: {e})") from None
    folder = Path(store) if store is not None else _default_store(nb_path)
    if not (folder / "index.db").is_file():
        raise PackError(f"no store at {folder} (pass --store FOLDER: where the notebook's images are kept)")
    st = open_store(folder)
    refs = notebook_refs(doc)
    turns, images = _closure(st, refs)
    sessions = sorted({t["session"] for t in turns})
    manifest = {
        "format": FORMAT, "version": VERSION, "notebook": nb_path.name,
        "sessions": [{"name": s, "current_id": _current(st, s, {t["id"] for t in turns})} for s in sessions],
        "turns": turns, "images": images,
    }
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    try:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr(nb_path.name, raw)
            zf.writestr(MANIFEST, json.dumps(manifest, indent=1))
            written: set[str] = set()
            for img in images:
                name = _member(img)
                if name in written:
                    continue
                written.add(name)
                data = (st.folder / img["path"]).read_bytes()
                if hashlib.sha256(data).hexdigest() != img["sha256"]:
                    raise PackError(f"{img['path']} in the store no longer matches its hash; not packed")
                zf.writestr(name, data, compress_type=zipfile.ZIP_STORED)  # images are compressed already
        tmp.replace(out)
    finally:
        tmp.unlink(missing_ok=True)
    return PackSummary(out, st.folder, len(turns), len(written))


def _default_store(nb_path: Path) -> Path:
    import os

    env = os.environ.get("IMAGEWIDGETS_STORE")
    return Path(env).expanduser() if env else nb_path.resolve().parent / "imagewidgets-data"


def _current(st: Store, session: str, included: set[str]) -> str | None:
    current = st.current_id(session)
    return current if current in included else None


def _closure(st: Store, refs: Iterable[tuple[str, str]]) -> tuple[list[dict], list[dict]]:
    """The turns that made the referenced images, and every turn they continued from or replayed."""
    todo: list[str] = []
    for sha, path in refs:
        owner = _image_path(path).group(2)  # the turn that wrote the file names it
        rows = st.query("SELECT turn_id FROM images WHERE path = ? AND sha256 = ?", (path, sha))
        if not rows:
            raise PackError(f"an output shows {path} ({sha[:12]}…), which is not in the store {st.folder}")
        ids = [r["turn_id"] for r in rows]
        todo.append(owner if owner in ids else ids[0])
    seen: dict[str, dict] = {}
    while todo:
        tid = todo.pop()
        if tid in seen:
            continue
        rows = st.query("SELECT * FROM turns WHERE id = ?", (tid,))
        if not rows:
            continue  # a parent deleted from the store: the chain starts here
        row = {k: rows[0][k] for k in rows[0].keys()}
        seen[tid] = row
        todo += [t for t in (row["parent_id"], row["replayed_from"]) if t]
        todo += _pinned_turns(st, row["inputs"])
    turns = sorted(seen.values(), key=lambda r: (r["created"] or 0, r["id"]))
    images = []
    for t in turns:
        for r in st.query("SELECT * FROM images WHERE turn_id = ? ORDER BY partial, idx", (t["id"],)):
            images.append({k: r[k] for k in r.keys()})
    for t in turns:  # JSON columns travel as JSON values
        t["params"] = json.loads(t["params"] or "{}")
        t["inputs"] = json.loads(t["inputs"] or "[]")
        t["usage"] = json.loads(t["usage"]) if t["usage"] else None
        t["owner"] = None  # which process ran it means nothing elsewhere
    for img in images:
        img["meta"] = json.loads(img["meta"] or "{}")
    return turns, images


def _pinned_turns(st: Store, inputs: str | None) -> list[str]:
    """The turns whose pictures a turn carried as pins (by content hash): they travel too, so a
    re-run replays the pin and every turn that carried it."""
    try:
        items = json.loads(inputs or "[]")
    except ValueError:
        return []
    out = []
    for item in items if isinstance(items, list) else []:
        fp = item.get("fingerprint") if isinstance(item, dict) and item.get("role") == "pin" else None
        if isinstance(fp, str) and fp.startswith("sha256:"):
            rows = st.query("SELECT turn_id FROM images WHERE sha256 = ? AND partial = 0 ORDER BY created LIMIT 1",
                             (fp[7:],))
            out += [r["turn_id"] for r in rows]
    return out


def _member(img: dict) -> str:
    return f"files/{img['sha256']}.{_image_path(img['path']).group(4)}"


def _image_path(path: str) -> "re.Match[str]":
    """The parts of a stored image's path (the store wrote it, so it matches)."""
    m = _IMAGE_PATH.match(path)
    if m is None:
        raise ValueError(f"not a stored image path: {path!r}")
    return m


# -- unpack ----------------------------------------------------------------------------------


def unpack(archive: str | Path, dest: str | Path = ".", *, store: str | Path | None = None,
           force: bool = False) -> PackSummary:
    """Restore a pack: the notebook into ``dest`` and its turns and images into ``store`` (default
    ``dest/imagewidgets-data``, where the notebook's kernel finds them). Existing turns are kept
    as they are; an existing file with other content, or an existing notebook (unless ``force``),
    is refused before anything is written."""
    dest = Path(dest)
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as e:
        raise PackError(f"{archive}: not a pack ({e})") from None
    with zf:
        _check_sizes(zf, archive)
        manifest = _json(_read(zf, MANIFEST, MAX_MANIFEST), MANIFEST)
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            raise PackError(f"{archive}: not an imagewidgets pack (no {FORMAT} manifest)")
        if manifest.get("version") != VERSION:
            raise PackError(f"{archive}: pack version {manifest.get('version')!r}; this imagewidgets reads {VERSION}")
        name = manifest.get("notebook")
        if not isinstance(name, str) or not _NOTEBOOK.match(name):
            raise PackError(f"{archive}: the notebook name {name!r} is not a plain .ipynb file name")
        notebook = _read(zf, name, MAX_NOTEBOOK)
        if not isinstance(_json(notebook, name), dict):
            raise PackError(f"{archive}: {name} is not a notebook")
        turns = [_turn(d) for d in _list(manifest, "turns")]
        ids = {t.id for t in turns}
        images = [_image(d, ids) for d in _list(manifest, "images")]
        sessions = [_session(d, ids) for d in _list(manifest, "sessions")]
        files = _check_files(zf, images)
        target = dest / name
        if target.exists() and not force and target.read_bytes() != notebook:
            raise PackError(f"{target} exists (pass --force to replace it)")
        folder = Path(store if store is not None else dest / "imagewidgets-data").expanduser().resolve()
        _check_conflicts(folder, images)
        # all checked: now create and write (a refused pack has created nothing, not even the store)
        st = open_store(folder)
        for img in images:
            path = st.folder / img["path"]
            if not path.exists():
                _copy(zf, img, path)
        skipped = 0
        for turn in turns:
            if st.turn(turn.id) is not None:
                skipped += 1
                continue
            st.ensure_session(turn.session)
            st.save_turn(turn)
        with st.transaction() as db:
            for img in images:
                db.execute("INSERT OR IGNORE INTO images (turn_id, idx, partial, path, format, width, height, sha256, "
                           "bytes, meta, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                           (img["turn_id"], img["idx"], img["partial"], img["path"], img["format"], img["width"],
                            img["height"], img["sha256"], img["bytes"], json.dumps(img["meta"]), img["created"]))
        st.mark_packed([t.id for t in turns])  # they replay on whatever backend the notebook now uses
        for s in sessions:
            st.ensure_session(s["name"])
            if s["current_id"] and st.current_id(s["name"]) is None:
                st.set_current(s["name"], s["current_id"])
        atomic_write(target, notebook)
    return PackSummary(target, st.folder, len(turns) - skipped, files, skipped)


def _read(zf: zipfile.ZipFile, name: str, limit: int) -> bytes:
    """A member we named, read whole but never more than ``limit`` bytes nor more than it declares."""
    return b"".join(_chunks(zf, name, limit))


def _json(data: bytes, name: str) -> Any:
    try:
        return json.loads(data)
    except ValueError as e:
        raise PackError(f"{name} in the pack is not JSON ({e})") from None


def _list(manifest: dict, key: str) -> list:
    value = manifest.get(key)
    if not isinstance(value, list):
        raise PackError(f"the manifest's {key!r} is not a list")
    return value


def _bad(what: str, value: Any) -> PackError:
    return PackError(f"the manifest's {what} {str(value)[:80]!r} is not valid")


def _turn(d: Any) -> Turn:
    if not isinstance(d, dict):
        raise _bad("turn", d)
    tid = d.get("id")
    if not isinstance(tid, str) or not _TURN_ID.match(tid):
        raise _bad("turn id", tid)
    if d.get("kind") not in _KINDS or d.get("api") not in _APIS or d.get("status") not in STATUSES:
        raise _bad(f"turn {tid} kind/api/status", (d.get("kind"), d.get("api"), d.get("status")))
    kw: dict[str, Any] = {}
    for key in _TURN_TEXT:
        v = d.get(key)
        if v is not None and (not isinstance(v, str) or len(v) > 100_000):
            raise _bad(f"turn {tid} {key}", v)
        kw[key] = v
    if not kw["session"] or len(kw["session"]) > 200:
        raise _bad(f"turn {tid} session", kw["session"])
    for key in ("parent_id", "replayed_from"):
        if kw[key] is not None and not _TURN_ID.match(kw[key]):
            raise _bad(f"turn {tid} {key}", kw[key])
    for key in _TURN_NUMBERS:
        v = d.get(key)
        if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float))):
            raise _bad(f"turn {tid} {key}", v)
        kw[key] = v
    params, inputs, usage = d.get("params") or {}, d.get("inputs") or [], d.get("usage")
    if not isinstance(params, dict) or not isinstance(inputs, list):
        raise _bad(f"turn {tid} params/inputs", (params, inputs))
    try:
        usage = Usage(**{k: int(v) for k, v in usage.items()}) if usage else None
    except (TypeError, ValueError, AttributeError):
        raise _bad(f"turn {tid} usage", usage) from None
    return Turn(id=tid, kind=d["kind"], api=d["api"], status=d["status"], params=params, inputs=inputs,
                usage=usage, **{k: v for k, v in kw.items() if k != "created"}, created=kw["created"] or 0.0)


def _image(d: Any, ids: set[str]) -> dict:
    if not isinstance(d, dict):
        raise _bad("image", d)
    path, sha = d.get("path"), d.get("sha256")
    m = _IMAGE_PATH.match(path) if isinstance(path, str) else None
    if m is None or not isinstance(path, str) or any(part in ("", ".", "..") for part in path.split("/")):
        raise _bad("image path", path)
    if not isinstance(sha, str) or not _SHA.match(sha):
        raise _bad("image hash", sha)
    if d.get("turn_id") not in ids:
        raise _bad("image's turn", d.get("turn_id"))
    fmt = d.get("format")
    if fmt not in _FORMAT_EXT or _FORMAT_EXT[fmt] != m.group(4):
        raise _bad(f"format of {path}", fmt)
    out = {"turn_id": d["turn_id"], "path": path, "sha256": sha, "format": fmt}
    for key in ("idx", "partial", "width", "height", "bytes"):
        v = d.get(key)
        if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= 1 << 40:
            raise _bad(f"{key} of {path}", v)
        out[key] = v
    meta, created = d.get("meta") or {}, d.get("created")
    if not isinstance(meta, dict) or isinstance(created, bool) or not isinstance(created, (int, float)):
        raise _bad(f"meta of {path}", (meta, created))
    out["meta"], out["created"] = meta, created
    return out


def _session(d: Any, ids: set[str]) -> dict:
    if not isinstance(d, dict) or not isinstance(d.get("name"), str) or not 0 < len(d["name"]) <= 200:
        raise _bad("session", d)
    current = d.get("current_id")
    if current is not None and current not in ids:
        raise _bad(f"current turn of session {d['name']}", current)
    return {"name": d["name"], "current_id": current}


def _check_sizes(zf: zipfile.ZipFile, archive: Any) -> None:
    """Refuse a zip bomb from the archive's directory alone, before a byte is inflated."""
    total = 0
    for info in zf.infolist():
        total += info.file_size
        if info.file_size > _RATIO_FROM and info.file_size > MAX_RATIO * max(1, info.compress_size):
            raise PackError(f"{archive}: {info.filename!r} inflates {info.compress_size} bytes to {info.file_size} "
                            f"(more than {MAX_RATIO}x): refused as a zip bomb")
    if total > MAX_TOTAL:
        raise PackError(f"{archive}: its members hold {total} bytes uncompressed; at most {MAX_TOTAL} are unpacked")


def _chunks(zf: zipfile.ZipFile, name: str, limit: int) -> Iterable[bytes]:
    """A member's bytes a chunk at a time, never more than ``limit`` nor more than it declares."""
    try:
        info = zf.getinfo(name)
    except KeyError:
        raise PackError(f"the pack has no {name}") from None
    if info.file_size > limit:
        raise PackError(f"{name} in the pack is {info.file_size} bytes; at most {limit} are read")
    seen = 0
    with zf.open(info) as f:
        while chunk := f.read(_CHUNK):
            seen += len(chunk)
            if seen > info.file_size:
                raise PackError(f"{name} in the pack is larger than it says")
            yield chunk


def _check_files(zf: zipfile.ZipFile, images: list[dict]) -> int:
    """Each image's member, read a chunk at a time (never held whole): its hash and format must match.
    Returns how many distinct files there are."""
    checked: set[str] = set()
    for img in images:
        if img["sha256"] in checked:
            continue
        digest, head = hashlib.sha256(), b""
        for chunk in _chunks(zf, _member(img), MAX_IMAGE):
            digest.update(chunk)
            head = head or chunk[:64]
        if digest.hexdigest() != img["sha256"]:
            raise PackError(f"{_member(img)} in the pack does not match its hash")
        if sniff_format(head) != img["format"]:
            raise PackError(f"{_member(img)} in the pack is not a {img['format']} image")
        checked.add(img["sha256"])
    return len(checked)


def _copy(zf: zipfile.ZipFile, img: dict, path: Path) -> None:
    """Stream one checked member into place (atomic; the hash is checked again on the way)."""
    digest = hashlib.sha256()
    with atomic_file(path) as f:
        for chunk in _chunks(zf, _member(img), MAX_IMAGE):
            digest.update(chunk)
            f.write(chunk)
        if digest.hexdigest() != img["sha256"]:
            raise PackError(f"{_member(img)} in the pack changed while it was unpacked")


def _check_conflicts(folder: Path, images: list[dict]) -> None:
    root = folder
    for img in images:
        path = (folder / img["path"]).resolve()
        if not path.is_relative_to(root):
            raise _bad("image path", img["path"])
        if path.exists() and hashlib.sha256(path.read_bytes()).hexdigest() != img["sha256"]:
            raise PackError(f"{path} exists with other content; unpack into another store (--store)")
