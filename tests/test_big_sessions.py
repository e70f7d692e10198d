"""Big sessions: history, lineage and the gallery show a page (newest 50, paging, search) read with
SQL; thumbnails are cached on disk by content hash; exports stream and can link their images.

The sessions are written straight into a store (``tests/bigstore.py``): no requests are made."""

from __future__ import annotations

import html.parser
import re
from pathlib import Path

import pytest

from imagewidgets import Client, ParamError, Session
from imagewidgets.session import store as store_mod
from imagewidgets.session import thumbs as thumbs_mod
from tests.bigstore import synthesize

N = 1200


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    folder = tmp_path_factory.mktemp("big") / "store"
    ids = synthesize(folder, "big", turns=N, distinct=30, side=128)
    return folder, ids


@pytest.fixture
def session(big):
    folder, _ = big
    return Session("big", folder=folder, client=Client(base_url="http://127.0.0.1:9/v1", max_retries=0))


def test_opening_a_big_session_reads_none_of_its_turns(big, counted):
    _, ids = big
    s = Session("big", folder=big[0], client=Client(base_url="http://127.0.0.1:9/v1", max_retries=0))
    assert counted["turns"] == 0 and f"turns={N}" in repr(s) and counted["turns"] == 0
    assert s.current.id == ids[-1] and counted["turns"] == 1
    assert len(s.turns) == N and s.turns[-1] is s.current  # all of them when asked, one object per turn


@pytest.fixture
def counted(monkeypatch):
    """How many turns were read from the store, and how many originals were decoded into thumbnails."""
    seen = {"turns": 0, "thumbnails": 0}
    turn, make = store_mod.Store._turn, thumbs_mod.make_thumbnail

    def counting_turn(self, row):
        seen["turns"] += 1
        return turn(self, row)

    def counting_make(*a, **kw):
        seen["thumbnails"] += 1
        return make(*a, **kw)

    monkeypatch.setattr(store_mod.Store, "_turn", counting_turn)
    monkeypatch.setattr(thumbs_mod, "make_thumbnail", counting_make)
    return seen


def test_history_shows_the_newest_50_and_reads_only_them(session, big, counted):
    _, ids = big
    h = session.history()
    assert counted["turns"] <= 51  # one page of rows (and the current turn), whatever the session's size
    assert [r["id"] for r in h.rows] == ids[-50:]  # the newest, oldest first within the page
    assert [r["number"] for r in h.rows] == list(range(N - 49, N + 1))
    assert (h.page, h.pages, h.total) == (1, N // 50, N)
    assert f"50 of {N} turns" in h._repr_html_() and "page 1 of 24" in h._repr_html_()
    older = h.next()
    assert [r["id"] for r in older.rows] == ids[-100:-50] and older.prev().rows == h.rows
    last = session.history(page=999)
    assert last.page == 24 and last.rows[0]["number"] == 1


def test_search_finds_turns_by_prompt_text_with_their_numbers(session):
    h = session.history(search="OWL number 1")  # case-insensitive, anywhere in the prompt
    assert h.total == len([i for i in range(N) if f"owl number {i}".startswith("owl number 1") and i % 10 == 3])
    assert all("owl number 1" in r["prompt"] for r in h.rows)
    assert all(r["prompt"].startswith("owl number ") and r["number"] == int(r["prompt"].split()[2].rstrip(",")) + 1
               for r in h.rows)
    assert session.history(search="100%_").total == 0  # LIKE's wildcards are plain text


def test_the_compact_history_has_nine_columns_and_all_has_every_field_without_the_offline_note(session):
    compact = session.history(per_page=3)._repr_html_()
    heads = re.findall(r"<th>([^<]*)</th>", compact)
    assert heads == ["#", "parent", "kind", "prompt", "model", "size / quality", "cost", "status", "image"]
    assert compact.count("<img") == 3
    full = session.history(per_page=3, columns="all")._repr_html_()
    assert "revised_prompt" in full and "response_id" not in re.findall(r"<th>([^<]*)</th>", compact)
    assert full.count("no language model rewrote this prompt") == 1  # said once, above the table
    with pytest.raises(ParamError, match="compact or all"):
        session.history(columns="wide")


def test_thumbnails_are_cached_on_disk_by_content_hash(session, big, counted):
    folder, _ = big
    session.history()
    made = counted["thumbnails"]
    cached = list((folder / "thumbs" / "64").glob("*.jpg"))
    assert cached and all(re.fullmatch(r"[0-9a-f]{64}\.jpg", p.name) for p in cached)
    assert made <= 30  # one per distinct image, never one per turn
    session.history()
    session.history().next()
    assert counted["thumbnails"] == made or counted["thumbnails"] - made <= 30 - len(cached)


def test_lineage_shows_a_page_and_names_parents_on_older_pages(session, counted):
    lin = session.lineage()
    assert counted["turns"] <= 51 and len(lin.turns) == 50
    assert lin._repr_html_().count("<img") == 50
    five = session.lineage(per_page=5)  # 1196-1200: #1196 continues #1195, on an older page
    assert "#1196" in repr(five) and "↳ from #1195" in repr(five) and repr(five).count("↳") == 1


def test_gallery_pages_and_searches(session, counted):
    from imagewidgets.widgets import Gallery

    g = Gallery(session)
    assert len(g.thumbs) == 50 and counted["turns"] <= 51  # the page (and the current turn), not the session
    assert g.header.value.startswith(f"{N} turns") and g.page_label.value == "page 1 of 24"
    assert g.newer.disabled and not g.older.disabled
    g.older.click()
    assert g.page_label.value == "page 2 of 24" and len(g.thumbs) == 50
    g.search.value = "comet number 119"
    assert g.page_label.value == "page 1 of 1" and len(g.thumbs) == 2  # turns 119 and 1199 (#120, #1200)


class _Sources(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.srcs: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.srcs.append(dict(attrs)["src"])


def test_export_with_linked_images_writes_them_beside_the_html_once_each(session, tmp_path):
    path = session.export(tmp_path / "out" / "report.html", images="link")
    parser = _Sources()
    parser.feed(path.read_text("utf-8"))
    assert len(parser.srcs) == N * 2  # the tree's thumbnail and the turn's image, for every turn
    assert not [s for s in parser.srcs if s.startswith("data:")]
    files = {s for s in parser.srcs}
    assert all((path.parent / s).is_file() for s in files)
    assert len(list((path.parent / "report_files" / "images").iterdir())) == 30  # each image once
    assert path.stat().st_size < 4_000_000
    assert [p.name for p in path.parent.iterdir() if p.name.startswith(".")] == []  # no temp file left


def test_export_streams_without_loading_the_sessions_images(session, tmp_path, monkeypatch):
    monkeypatch.setattr(store_mod.Store, "load_images", lambda self, turn: pytest.fail("loaded every image"))
    path = session.export(tmp_path / "report.html")
    text = path.read_text("utf-8")
    assert text.count("data:image/png;base64,") == N and text.endswith("</body></html>")


def test_a_bad_images_choice_is_refused(session, tmp_path):
    with pytest.raises(ParamError, match="embed .* or link"):
        session.export(tmp_path / "r.html", images="inline")
    assert not (tmp_path / "r.html").exists()


def test_imagine_history_pages_searches_and_shows_all_columns(session):
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.utils.capture import capture_output
    from traitlets.config import Config

    InteractiveShell.clear_instance()
    ip = InteractiveShell.instance(config=Config())
    with capture_output():
        ip.extension_manager.load_extension("imagewidgets")
    try:
        ip.user_ns["s"] = session
        with capture_output():
            ip.run_line_magic("imagine_config", "--session s")
        with capture_output() as cap:
            h = ip.run_line_magic("imagine_history", "--page 2 --search lighthouse")
        assert h.page == 2 and all("lighthouse" in r["prompt"] for r in h.rows)
        assert "text/html" in cap.outputs[0].data
        with capture_output():
            full = ip.run_line_magic("imagine_history", "--all")
        assert full.columns == "all"
        with capture_output() as cap:
            ip.run_line_magic("imagine_history", "--page 0")
        assert "--page" in cap.stderr and "allowed: 1" in cap.stderr
    finally:
        ip.extension_manager.unload_extension("imagewidgets")
        InteractiveShell.clear_instance()
