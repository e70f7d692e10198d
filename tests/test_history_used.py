"""``%imagine_history`` says what a turn used (a default shows as "auto → 1024x1024") and which turn
it continued from (the parent column), in a real IPython shell as a notebook user meets it."""

from __future__ import annotations

from tests.test_magics import cell, ip  # noqa: F401  (the real-shell fixture)


def test_defaults_show_what_they_became_and_each_turn_names_its_parent(ip):  # noqa: F811
    cell(ip, "%imagine a red fox in the snow --model gpt-image-2")
    cell(ip, "%edit add a woolly hat --model gpt-image-2")
    cell(ip, "%imagine a lighthouse --model gpt-image-2 --size 1536x1024 --quality low")
    run = cell(ip, "h = %imagine_history")
    rows = ip.user_ns["h"].rows
    assert [r["size"] for r in rows] == ["auto → 1024x1024", "auto → 1024x1024", "1536x1024"]
    assert [r["quality"] for r in rows] == ["auto → medium", "auto → medium", "low"]
    assert [r["parent"] for r in rows] == [None, 1, None]  # the edit continued from #1
    html = run.outputs[-1].data["text/html"] if run.outputs else ip.user_ns["h"]._repr_html_()
    assert "<th>parent</th>" in html and "<td style=\"text-align:left\">#1</td>" in html
    assert "auto → 1024x1024 · auto → medium" in html
    full = ip.user_ns["h"].__class__(ip.user_ns["h"]._session, columns="all")
    assert full.rows[1]["parent"] == 1 and "#1" in full._repr_html_()
    assert "↳#1" in repr(ip.user_ns["h"])


def test_a_parent_on_an_older_page_is_still_named(ip):  # noqa: F811
    cell(ip, "%imagine a green garden --model gpt-image-2 --size 512x512 --quality low")
    cell(ip, "%edit add a pond --model gpt-image-2 --size 512x512 --quality low")
    cell(ip, "h = %imagine_history")
    from imagewidgets.session.views import HistoryTable

    page = HistoryTable(ip.user_ns["h"]._session, per_page=1)  # only the edit is on page 1
    assert [r["number"] for r in page.rows] == [2] and page.rows[0]["parent"] == 1
