"""Packs: a notebook travels with exactly the turns and images its outputs use; re-run elsewhere with
no backend reachable, it replays every call from the store and shows the same outputs. What a
pack holds is treated as hostile."""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest

from imagewidgets.session.pack import PackError, pack, unpack
from tests.fixtures_offline import offline_server  # noqa: F401

#: real-size pictures (a 1024x1024 PNG ~2.2 MB) from every twin these tests talk to: a limit that
#: real pictures break (an event cap, memory per turn) fails here (tests/fixtures_offline.py)
pytestmark = pytest.mark.pictures("realistic")

CELLS = [
    "%load_ext imagewidgets",
    "%imagine a lighthouse at dusk -s 1024x1024 -q low",
    "%edit add a red sailing boat",
    "%imagine three paper kites -n 2 --api images -s 1024x1024 -q low",
    "%imagine a fox in the woods -s 1024x1024 -q low --no-display",
    "%edit the fox in snow",  # its parent was never shown: the chain brings it along
    'import imagewidgets as iw\ns = iw.Session("packed")\ns.imagine("an owl", size="1024x1024", quality="low")',
    's.edit("give the owl a hat")',
]

#: prepended when the unpacked notebook is re-run: any request, or a start of the offline
#: backend, is recorded and fails (as with no backend reachable)
NO_BACKEND = """\
import imagewidgets.offline.server as _srv, imagewidgets.api._http as _http
_tried = []
def _unreachable(*args, **kwargs):
    _tried.append(args)
    raise ConnectionError("no backend reachable")
_srv.embedded_base_url = _http.new_client = _http.new_async_client = _unreachable"""

IMAGEWIDGETS = Path(sys.executable).with_name("imagewidgets")


def run_notebook(path: Path) -> nbformat.NotebookNode:
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    nbformat.write(nb, path)
    return nb


WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def outputs(cell) -> list[dict]:
    """A cell's outputs as a reader sees them (display data, metadata, text), execution counts aside,
    and a live widget's view reference aside (a new model id each run; its static grid is compared)."""
    out = []
    for o in cell.outputs:
        o = {k: v for k, v in o.items() if k != "execution_count"}
        if WIDGET_VIEW in o.get("data", {}):
            o["data"] = {k: v for k, v in o["data"].items() if k != WIDGET_VIEW}
        out.append(o)
    return out


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """A notebook executed in its own folder (its store beside it), then packed with the CLI."""
    home = tmp_path_factory.mktemp("home")
    a = tmp_path_factory.mktemp("author")
    saved = {k: os.environ.pop(k, None) for k in ("IMAGEWIDGETS_STORE",)}
    os.environ["IMAGEWIDGETS_HOME"] = str(home)
    try:
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS])
        nbformat.write(nb, a / "harbour.ipynb")
        run_notebook(a / "harbour.ipynb")
        done = subprocess.run([str(IMAGEWIDGETS), "pack", "harbour.ipynb", "-o", "harbour.zip"], cwd=a,
                              capture_output=True, text=True, timeout=120, env=os.environ)
        assert done.returncode == 0, done.stderr
        yield a, done.stdout
    finally:
        for k, v in saved.items():
            if v is not None:
                os.environ[k] = v


def test_the_author_notebook_ran_without_errors_and_shows_previews(made):
    a, _ = made
    nb = nbformat.read(a / "harbour.ipynb", as_version=4)
    assert not [o for c in nb.cells for o in c.outputs if o.output_type == "error"]
    shown = [o for c in nb.cells for o in c.outputs if "imagewidgets" in o.get("metadata", {})]
    assert len(shown) == 6  # lighthouse, boat, the kites (one output), fox in snow, owl, hat


def test_the_pack_holds_exactly_the_turns_and_images_the_outputs_and_chains_use(made):
    a, printed = made
    with zipfile.ZipFile(a / "harbour.zip") as zf:
        manifest = json.loads(zf.read("manifest.json"))
        names = set(zf.namelist())
    prompts = sorted(t["prompt"] for t in manifest["turns"])
    assert prompts == sorted(["a lighthouse at dusk", "add a red sailing boat", "three paper kites",
                              "a fox in the woods", "the fox in snow", "an owl", "give the owl a hat"])
    assert len(manifest["images"]) == 8 and {s["name"] for s in manifest["sessions"]} == {"default", "packed"}
    files = {n for n in names if n.startswith("files/")}
    assert names == {"harbour.ipynb", "manifest.json"} | files and len(files) == 8
    assert "7 turns, 8 images" in printed


def test_a_packed_notebook_rerun_elsewhere_replays_every_call_with_identical_outputs(made, tmp_path):
    a, _ = made
    b = tmp_path / "colleague"
    done = subprocess.run([str(IMAGEWIDGETS), "unpack", str(a / "harbour.zip"), "-C", str(b)], capture_output=True,
                          text=True, timeout=120, env={k: v for k, v in os.environ.items() if k != "IMAGEWIDGETS_STORE"})
    assert done.returncode == 0, done.stderr
    assert (b / "harbour.ipynb").read_bytes() == (a / "harbour.ipynb").read_bytes()
    nb = nbformat.read(b / "harbour.ipynb", as_version=4)
    nb.cells.insert(0, nbformat.v4.new_code_cell(NO_BACKEND))
    nb.cells.append(nbformat.v4.new_code_cell("print(len(_tried), 'requests')"))
    nbformat.write(nb, b / "rerun.ipynb")
    store = os.environ.pop("IMAGEWIDGETS_STORE", None)
    try:
        rerun = run_notebook(b / "rerun.ipynb")
    finally:
        if store is not None:
            os.environ["IMAGEWIDGETS_STORE"] = store
    assert rerun.cells[-1].outputs[0].text == "0 requests\n"
    original = nbformat.read(a / "harbour.ipynb", as_version=4)
    assert [outputs(c) for c in rerun.cells[1:-1]] == [outputs(c) for c in original.cells]


# -- replay on any backend --------------------------------------------------------------------


def _closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_an_unpacked_notebook_replays_on_another_backend_and_an_unreachable_one_writes_no_failed_turns(
        made, tmp_path, monkeypatch):
    """The colleague's OPENAI_BASE_URL points at a server that is not there: every packed picture is
    still shown (replayed from the pack, no request), and a new cell's failed call leaves no failed turn."""
    from imagewidgets.session.store import Store

    a, _ = made
    b = tmp_path / "colleague"
    env = {k: v for k, v in os.environ.items() if k != "IMAGEWIDGETS_STORE"}
    done = subprocess.run([str(IMAGEWIDGETS), "unpack", str(a / "harbour.zip"), "-C", str(b)], capture_output=True,
                          text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    nb = nbformat.read(b / "harbour.ipynb", as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell("%imagine a heron nobody packed -s 1024x1024 -q low"))
    nbformat.write(nb, b / "rerun.ipynb")
    monkeypatch.delenv("IMAGEWIDGETS_STORE", raising=False)
    monkeypatch.setenv("OPENAI_BASE_URL", f"http://127.0.0.1:{_closed_port()}/v1")  # the kernel inherits these
    monkeypatch.setenv("OPENAI_API_KEY", "sk-colleague-0000")
    rerun = run_notebook(b / "rerun.ipynb")
    original = nbformat.read(a / "harbour.ipynb", as_version=4)
    # every picture cell shows what the author's did (the load banner names the other backend)
    assert [outputs(c) for c in rerun.cells[1:-1]] == [outputs(c) for c in original.cells[1:]]
    said = "".join(o.get("text", "") for o in rerun.cells[-1].outputs)
    assert "connect" in said.lower() and "Traceback" not in said, said
    st = Store(b / "imagewidgets-data")
    statuses = [t.status for name in ("default", "packed") for t in st.turns(name)]
    assert statuses.count("failed") == 0 and "running" not in statuses
    assert statuses.count("replayed") == 7 and statuses.count("completed") == 7  # the pack's 7, replayed once each
    assert not [t for t in st.turns("default") if "heron" in (t.prompt or "")]


def test_fresh_asks_the_other_backend_for_a_new_picture(made, tmp_path, offline_server):
    """Replay from a pack wins on a reachable other backend too, unless ``--fresh`` / ``replay=False``."""
    import imagewidgets as iw
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    a, _ = made
    unpack(a / "harbour.zip", tmp_path / "c")
    folder = tmp_path / "c" / "imagewidgets-data"
    server = offline_server(require_api_key="sk-other")
    client = iw.Client(base_url=server.base_url, api_key="sk-other")
    s = iw.Session("packed", folder=folder, client=client)
    owl = s.imagine("an owl", size="1024x1024", quality="low")
    assert s.current.status == "replayed" and s.current.cost == 0.0
    fresh = iw.Session("packed", folder=folder, client=client, replay=False)
    again = fresh.imagine("an owl", size="1024x1024", quality="low")
    assert fresh.current.status == "completed" and fresh.current.backend == server.base_url
    assert again.sha256 != owl.sha256 or again.path != owl.path

    InteractiveShell.clear_instance()
    ip = InteractiveShell.instance(config=Config())
    try:
        ip.extension_manager.load_extension("imagewidgets")
        ip.run_line_magic("imagine_config", f"--store {folder} --base-url {server.base_url} --api-key sk-other")
        ip.run_cell("%imagine a lighthouse at dusk -s 1024x1024 -q low")
        ip.run_cell("%imagine a lighthouse at dusk -s 1024x1024 -q low --fresh")
        from imagewidgets.session.store import Store

        mine = [t for t in Store(folder).turns("default") if t.prompt == "a lighthouse at dusk"]
        assert [t.status for t in mine][-2:] == ["replayed", "completed"]
    finally:
        ip.extension_manager.unload_extension("imagewidgets")
        InteractiveShell.clear_instance()


# -- hostile packs ---------------------------------------------------------------------------


def _png() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (1, 2, 3)).save(buf, "PNG")
    return buf.getvalue()


def _forge(path: Path, *, notebook="x.ipynb", image_path="images/s/turn_aaaaaaaaaaaa-0.png", turn_id="turn_aaaaaaaaaaaa",
           data: bytes | None = None, sha: str | None = None, extra: dict | None = None) -> Path:
    data = _png() if data is None else data
    sha = sha or hashlib.sha256(_png()).hexdigest()
    manifest = {"format": "imagewidgets.pack", "version": 1, "notebook": notebook,
                "sessions": [{"name": "s", "current_id": None}],
                "turns": [{"id": turn_id, "session": "s", "kind": "generate", "api": "images", "status": "completed",
                           "prompt": "p", "params": {}, "inputs": [], "created": 1.0}],
                "images": [{"turn_id": turn_id, "idx": 0, "partial": 0, "path": image_path, "format": "png",
                            "width": 8, "height": 8, "sha256": sha, "bytes": len(data), "meta": {}, "created": 1.0}]}
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("manifest.json", json.dumps(manifest))
        zf.writestr(notebook if "/" not in notebook else "x.ipynb", json.dumps({"cells": [], "nbformat": 4}))
        zf.writestr(f"files/{sha}.png", data)
        for name, content in (extra or {}).items():
            zf.writestr(name, content)
    return path


def test_a_well_formed_forged_pack_restores_its_one_turn(tmp_path):
    summary = unpack(_forge(tmp_path / "ok.zip"), tmp_path / "dest")
    assert (summary.turns, summary.images) == (1, 1)
    assert (tmp_path / "dest" / "imagewidgets-data" / "images" / "s" / "turn_aaaaaaaaaaaa-0.png").read_bytes() == _png()


@pytest.mark.parametrize("forged, words", [
    (dict(image_path="images/../../evil/turn_aaaaaaaaaaaa-0.png"), "image path"),
    (dict(image_path="/etc/turn_aaaaaaaaaaaa-0.png"), "image path"),
    (dict(image_path="images/s/../../../x-0.png"), "image path"),
    (dict(notebook="../outside.ipynb"), "notebook name"),
    (dict(notebook="x.py"), "notebook name"),
    (dict(turn_id="../../turn"), "turn id"),
    (dict(data=b"\x89PNG tampered"), "does not match its hash"),
    (dict(sha="../../../../etc/passwd"), "image hash"),
])
def test_a_hostile_pack_is_refused_and_writes_nothing(tmp_path, forged, words):
    dest = tmp_path / "dest"
    with pytest.raises(PackError, match=words):
        unpack(_forge(tmp_path / "bad.zip", **forged), dest)
    written = [p for p in tmp_path.rglob("*") if p.is_file() and p.name not in ("bad.zip",)]
    assert [p for p in written if p.suffix != ".db" and "-wal" not in p.name and "-shm" not in p.name] == []
    assert not (tmp_path.parent / "outside.ipynb").exists() and not (tmp_path / "evil").exists()


def test_members_named_to_escape_are_never_extracted(tmp_path):
    unpack(_forge(tmp_path / "slip.zip", extra={"../../slipped.txt": "x", "/abs.txt": "x"}), tmp_path / "dest")
    assert not list(tmp_path.parent.glob("slipped.txt")) and not (tmp_path / "slipped.txt").exists()
    assert sorted(p.name for p in (tmp_path / "dest").iterdir()) == ["imagewidgets-data", "x.ipynb"]


def test_an_existing_image_with_other_content_is_refused(tmp_path):
    other = tmp_path / "dest" / "imagewidgets-data" / "images" / "s" / "turn_aaaaaaaaaaaa-0.png"
    other.parent.mkdir(parents=True)
    other.write_bytes(b"mine")
    with pytest.raises(PackError, match="exists with other content"):
        unpack(_forge(tmp_path / "ok.zip"), tmp_path / "dest")
    assert other.read_bytes() == b"mine" and not (tmp_path / "dest" / "x.ipynb").exists()


def test_not_a_zip_or_not_a_pack_says_so(tmp_path):
    (tmp_path / "junk.zip").write_bytes(b"not a zip")
    with pytest.raises(PackError, match="not a pack"):
        unpack(tmp_path / "junk.zip", tmp_path)
    with zipfile.ZipFile(tmp_path / "other.zip", "w") as zf:
        zf.writestr("manifest.json", "{}")
    with pytest.raises(PackError, match="not an imagewidgets pack"):
        unpack(tmp_path / "other.zip", tmp_path)


def test_pack_refuses_a_notebook_whose_images_are_not_in_the_store(tmp_path, monkeypatch):
    from imagewidgets.session.store import Store

    monkeypatch.delenv("IMAGEWIDGETS_STORE")
    Store(tmp_path / "imagewidgets-data").close()
    meta = {"imagewidgets": {"sha256": "a" * 64, "path": "images/s/turn_aaaaaaaaaaaa-0.png"}}
    nb = {"cells": [{"cell_type": "code", "outputs": [{"output_type": "display_data", "data": {}, "metadata": meta}]}],
          "nbformat": 4}
    (tmp_path / "n.ipynb").write_text(json.dumps(nb))
    with pytest.raises(PackError, match="not in the store"):
        pack(tmp_path / "n.ipynb", tmp_path / "n.zip")
    assert not (tmp_path / "n.zip").exists()
    done = subprocess.run([str(IMAGEWIDGETS), "pack", "n.ipynb"], cwd=tmp_path, capture_output=True, text=True,
                          timeout=60, env={k: v for k, v in os.environ.items() if k != "IMAGEWIDGETS_STORE"})
    assert done.returncode == 1 and "not in the store" in done.stderr and "Traceback" not in done.stderr


def _bomb(path: Path, member: str, size: int) -> Path:
    """A pack whose ``member`` inflates to ``size`` bytes of spaces from a few hundred KB."""
    good = _forge(path.with_name("good.zip"))
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for info in src.infolist():
            if info.filename != member:
                zf.writestr(info.filename, src.read(info.filename))
        info = zipfile.ZipInfo(member)
        info.compress_type = zipfile.ZIP_DEFLATED
        with zf.open(info, "w", force_zip64=True) as f:
            block = b" " * (1 << 20)
            for _ in range(size >> 20):
                f.write(block)
    return path


@pytest.mark.parametrize("member", ["x.ipynb", "manifest.json", f"files/{hashlib.sha256(_png()).hexdigest()}.png"])
def test_a_zip_bomb_is_refused_from_its_directory_before_anything_is_read_or_created(tmp_path, member):
    import tracemalloc

    bomb = _bomb(tmp_path / "bomb.zip", member, 48 << 20)
    assert bomb.stat().st_size < 1 << 20                         # under a megabyte on disk
    dest = tmp_path / "dest"
    tracemalloc.start()
    try:
        with pytest.raises(PackError, match="zip bomb"):
            unpack(bomb, dest)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 << 20, f"{peak} bytes held while refusing a bomb"
    assert not dest.exists()                                      # nothing created, not even the store


def test_a_refused_unpack_creates_no_store_in_the_target_folder(tmp_path):
    dest = tmp_path / "dest"
    dest.mkdir()
    with pytest.raises(PackError, match="does not match its hash"):
        unpack(_forge(tmp_path / "bad.zip", data=b"\x89PNG tampered"), dest)
    other = dest / "imagewidgets-data" / "images" / "s" / "turn_aaaaaaaaaaaa-0.png"
    other.parent.mkdir(parents=True)
    other.write_bytes(b"mine")
    with pytest.raises(PackError, match="exists with other content"):
        unpack(_forge(tmp_path / "ok.zip"), dest)
    assert sorted(str(p.relative_to(dest)) for p in dest.rglob("*") if p.is_file()) == [
        "imagewidgets-data/images/s/turn_aaaaaaaaaaaa-0.png"]        # no index.db


def test_a_pack_with_big_images_unpacks_without_holding_them_in_memory(tmp_path):
    import tracemalloc

    from PIL import Image

    buf = io.BytesIO()
    Image.effect_noise((1400, 1400), 90).convert("RGB").save(buf, "PNG", compress_level=0)
    data = buf.getvalue()
    assert len(data) > 5 << 20
    sha = hashlib.sha256(data).hexdigest()
    tracemalloc.start()
    try:
        unpack(_forge(tmp_path / "big.zip", data=data, sha=sha), tmp_path / "dest")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert (tmp_path / "dest" / "imagewidgets-data" / "images" / "s" / "turn_aaaaaaaaaaaa-0.png").read_bytes() == data
    assert peak < len(data), peak
