"""The class gateway's teacher dashboard in headless Chromium: it updates live as participants work, and
its controls (revoke, budget, pause everyone, projector mode) act on the gateway at once."""

from __future__ import annotations

import httpx2
import pytest

from tests.gateway_fixtures import UPSTREAM_KEY

# retired models (dall-e-2/3, gpt-image-1, gpt-image-1.5...) serve here as fixtures of features they
# had; the twin's calendar is tested in test_calendar.py and test_lifecycle.py
pytestmark = [pytest.mark.browser, pytest.mark.timeout(180), pytest.mark.calendar_off]

SMALL = {"model": "dall-e-2", "size": "256x256", "quality": "standard", "response_format": "b64_json"}


@pytest.fixture
def classroom(offline_server, tmp_path):
    from imagewidgets.gateway import ClassRules, GatewayServer

    upstream = offline_server(require_api_key=UPSTREAM_KEY)
    with GatewayServer(upstream.base_url, api_key=UPSTREAM_KEY, db=tmp_path / "class.sqlite3",
                       rules=ClassRules(requests_per_minute=None, concurrent=None)) as gw:
        people = gw.store.add_participants(3, budget_usd=1)
        yield gw, people, gw.store.new_admin_token()


@pytest.fixture
def dashboard_page(browser):
    # the page's CSP forbids eval; Playwright's wait_for_function needs it (the test only, not the page)
    context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    context.set_default_timeout(20_000)
    page = context.new_page()
    yield page
    context.close()


def generate(gw, token: str, prompt: str) -> httpx2.Response:
    return httpx2.post(gw.base_url + "/images/generations", json={"prompt": prompt, **SMALL},
                       headers={"Authorization": f"Bearer {token}"}, timeout=60)


def test_the_dashboard_follows_the_class_live_and_its_controls_act_at_once(classroom, dashboard_page):
    gw, people, admin = classroom
    page = dashboard_page
    (p1, t1), (p2, t2), (p3, t3) = people
    page.goto(gw.dashboard_url + "#token=" + admin)
    rows = page.locator("#participants tbody tr")
    rows.first.wait_for()
    assert rows.count() == 3 and "#token" not in page.url             # the token left the address bar
    assert rows.nth(0).locator("td").first.inner_text() == "p01"

    # live: a participant's image shows up without reloading
    assert generate(gw, t1, "a lighthouse at dusk").status_code == 200
    page.wait_for_function("document.querySelector('#participants tbody tr .requests').textContent === '1'")
    page.wait_for_function("(() => { const i = document.querySelector('#gallery img');"
                           " return i && i.complete && i.naturalWidth > 0; })()")
    assert "p01: a lighthouse at dusk" in page.locator("#gallery figcaption").first.inner_text()
    assert "$0.0160 / $1.0000" in rows.nth(0).inner_text()

    # revoke p02 (the teacher confirms): its next request is refused
    page.once("dialog", lambda dialog: dialog.accept())
    rows.nth(1).locator("button.revoke").click()
    page.wait_for_function("document.querySelectorAll('#participants tbody tr')[1].className === 'revoked'")
    assert gw.store.participant(p2.id).revoked
    assert generate(gw, t2, "x").status_code == 401

    # a new budget for p03
    budget = rows.nth(2).locator("input.budget")
    budget.fill("0.001")
    rows.nth(2).locator("button.set-budget").click()
    page.wait_for_function("document.querySelectorAll('#participants tbody tr')[2].querySelector('.left')"
                           ".textContent === '$0.0010'")
    assert gw.store.participant(p3.id).budget_usd == 0.001
    assert generate(gw, t3, "x").status_code == 429

    # pause everyone, then resume
    page.click("#pause")
    page.locator("#paused-banner").wait_for(state="visible")
    assert gw.store.get_setting("paused") is True and generate(gw, t1, "x").status_code == 503
    page.click("#pause")
    page.locator("#paused-banner").wait_for(state="hidden")
    assert generate(gw, t1, "a second picture").status_code == 200
    page.wait_for_function("document.querySelectorAll('#gallery img').length === 2")

    # projector mode shows the gallery alone; Escape comes back
    page.click("#projector")
    page.locator("#participants").wait_for(state="hidden")
    assert page.locator("#gallery img").first.is_visible()
    page.keyboard.press("Escape")
    page.locator("#participants").wait_for(state="visible")
    assert UPSTREAM_KEY not in page.content()


def test_the_dashboard_asks_for_the_admin_token_and_refuses_a_participants(classroom, dashboard_page):
    gw, people, admin = classroom
    page = dashboard_page
    page.goto(gw.dashboard_url)
    page.locator("#login").wait_for(state="visible")
    page.fill("#token", people[0][1])
    page.click("#login-form button")
    page.wait_for_function("document.querySelector('#error').textContent.includes('not the admin token')")
    page.fill("#token", admin)
    page.click("#login-form button")
    page.locator("#participants tbody tr").first.wait_for()
    assert page.locator("#participants tbody tr").count() == 3


def test_revoke_asks_first_and_refused_requests_are_listed_with_who_what_and_why(classroom, dashboard_page):
    gw, people, admin = classroom
    page = dashboard_page
    (p1, t1), (p2, t2), (p3, t3) = people
    page.goto(gw.dashboard_url + "#token=" + admin)
    rows = page.locator("#participants tbody tr")
    rows.first.wait_for()

    asked: list[str] = []

    def dismiss(dialog) -> None:
        asked.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", dismiss)
    rows.nth(0).locator("button.revoke").click()  # the teacher says no: nothing happens
    page.wait_for_timeout(300)  # give a wrong click time to reach the gateway (it must not)
    assert asked and "Revoke p01's token?" in asked[0], asked
    assert not gw.store.participant(p1.id).revoked and generate(gw, t1, "still here").status_code == 200

    gw.store.set_budget(p3.id, 0.001)
    refused = generate(gw, t3, "a lighthouse in a storm")
    assert refused.status_code == 429
    table = page.locator("#refused tbody tr")
    table.first.wait_for()  # the next poll lists it
    cells = table.first.locator("td").all_inner_texts()
    assert cells[1] == "p03" and cells[2] == "generations dall-e-2 256x256 standard", cells
    assert "budget" in cells[3] and "$0.0010" in cells[3], cells


def test_the_dashboard_shows_the_line_and_refusals_per_participant(classroom, dashboard_page):
    """Issue 29: the line's limits (learned from the upstream's headers) and a moderation refusal with
    its stage and categories, as the teacher reads them."""
    gw, people, admin = classroom
    page = dashboard_page
    (_, t1), (_, t2), _ = people
    tool = [{"type": "image_generation", "quality": "low", "size": "1024x1024"}]
    r = httpx2.post(gw.base_url + "/responses", json={"model": "gpt-5.5", "input": "a forbidden kite", "tools": tool},
                    headers={"Authorization": f"Bearer {t2}"}, timeout=60)
    assert r.status_code == 200 and r.json()["output"][0]["status"] == "failed"
    page.goto(gw.dashboard_url + "#token=" + admin)
    page.locator("#moderation tbody tr").first.wait_for()
    cells = page.locator("#moderation tbody tr").first.locator("td").all_inner_texts()
    assert cells == ["p02", "input", "offline-test-word", "responses"]
    assert "no limit known yet" in page.locator("#limits").inner_text()
    assert "nobody waiting" in page.locator("#waits").inner_text()
