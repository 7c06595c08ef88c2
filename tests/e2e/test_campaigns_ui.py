"""The demo owner builds a campaign in Chromium: creates it from a template, edits its greeting and colour, adds QR
codes and downloads one, customises the website button, places a test call, takes it live and pauses it, and
deletes it."""

import re

import httpx
from playwright.sync_api import expect
from sqlmodel import Session, select

from quantum_voice.core.db import make_engine
from quantum_voice.models.campaigns import Campaign
from quantum_voice.models.flows import Flow
from tests.e2e.conftest import ARTIFACTS
from tests.e2e.test_flow_designer import _sign_in_as_demo_owner


NAME = "Elm Street yard signs"
GREETING = "Hello from Elm Street! Ask me anything about the open house."


def _stored_campaign(live_app, campaign_id: int) -> Campaign:
    engine = make_engine(live_app.database_url)
    try:
        with Session(engine) as session:
            return session.exec(select(Campaign).where(Campaign.id == campaign_id)).one()
    finally:
        engine.dispose()


def _create_campaign(page) -> int:
    page.get_by_role("link", name="Campaigns").first.click()
    page.wait_for_selector("#campaigns-table")
    assert "Spring Open House" in page.inner_text("#campaigns-table")
    page.click("#campaign-new")
    page.wait_for_selector("#template-lead_capture_qa")
    assert "Appointment booking" in page.inner_text("[role=dialog]")

    page.fill("#new-campaign-name", "   ")  # passes the browser's "required", not the service
    page.click("#new-campaign-submit")
    page.wait_for_selector("#name-error")

    page.fill("#new-campaign-name", NAME)
    page.fill("#new-campaign-description", "Signs on the lawns of Elm Street for the May open house.")
    page.fill("#new-campaign-audience", "Neighbours and passers-by on Elm Street")
    page.click("#template-appointment_booking")
    expect(page.locator("#template-appointment_booking")).to_have_attribute("aria-checked", "true")
    page.click("#new-campaign-submit")
    page.wait_for_url(re.compile(r".*/campaigns/\d+$"))
    expect(page.locator("#campaign-title")).to_have_text(NAME)
    expect(page.locator("#campaign-template")).to_contain_text("Appointment booking")
    return int(page.url.rstrip("/").rsplit("/", 1)[-1])


def _edit_settings(page, live_app, campaign_id: int) -> None:
    page.fill("#settings-brand-color-hex", "#12345")
    page.click("#settings-save")
    page.wait_for_selector("#brand_color-error")

    page.fill("#settings-greeting", GREETING)
    page.fill("#settings-brand-color-hex", "#0ea5e9")
    page.click("#settings-save")
    page.get_by_text("Saved", exact=True).wait_for()
    page.reload()
    page.wait_for_selector("#settings-greeting")
    expect(page.locator("#settings-greeting")).to_have_value(GREETING)
    expect(page.locator("#settings-brand-color-hex")).to_have_value("#0EA5E9")
    assert page.input_value("#settings-target-audience") == "Neighbours and passers-by on Elm Street"
    stored = _stored_campaign(live_app, campaign_id)
    assert (stored.greeting, stored.brand_color) == (GREETING, "#0EA5E9")
    # The widget follows the brand colour until it is given its own.
    expect(page.locator("#widget-preview-button")).to_have_css("background-color", "rgb(14, 165, 233)")
    expect(page.locator("#widget-preview-greeting")).to_have_text(GREETING)


def _add_and_download_qr_codes(page) -> None:
    page.fill("#qr-label", "yard sign")
    page.click("#qr-add")
    card = page.locator(".qr-row", has_text="yard sign")
    card.wait_for()
    assert "0 scans" in card.inner_text()
    assert page.input_value("#qr-label") == ""
    for kind, media_type, magic in (("png", "image/png", b"\x89PNG"), ("svg", "image/svg+xml", b"<")):
        href = card.locator(f"[id^=qr-{kind}-]").get_attribute("href")
        assert re.fullmatch(rf"/api/campaigns/\d+/qr/\d+\.{kind}", href)
        response = page.request.get(page.url.split("/campaigns/")[0] + href)  # the browser's session cookie
        assert response.status == 200 and response.headers["content-type"] == media_type
        assert response.body().lstrip()[:len(magic)] == magic
    card.scroll_into_view_if_needed()
    page.wait_for_function("() => { const img = document.querySelector('.qr-row img'); "
                           "return img && img.complete && img.naturalWidth > 0; }")

    # A second code, deleted after confirming.
    page.fill("#qr-label", "flyer")
    page.click("#qr-add")
    flyer = page.locator(".qr-row", has_text="flyer")
    flyer.wait_for()
    flyer.locator("[id^=qr-delete-]").click()
    page.wait_for_selector("#confirm-action")
    assert "flyer" in page.inner_text("[role=alertdialog]")
    page.click("#confirm-action")
    flyer.wait_for(state="detached")
    expect(page.locator(".qr-row")).to_have_count(1)


def _customise_widget(page, slug: str) -> None:
    snippet = page.locator("#widget-snippet")
    expect(snippet).to_have_value(re.compile(rf'data-campaign="{re.escape(slug)}"'))
    page.fill("#widget-color-hex", "#FF0000")
    expect(page.locator("#widget-preview-button")).to_have_css("background-color", "rgb(255, 0, 0)")
    expect(snippet).to_have_value(re.compile(r'data-color="#FF0000"'))
    page.fill("#widget-label", "Ask about the house")
    expect(page.locator("#widget-preview-button")).to_contain_text("Ask about the house")
    expect(snippet).to_have_value(re.compile(r'data-label="Ask about the house"'))
    page.fill("#widget-color-hex", "#FF00")
    page.wait_for_selector("#widget-error")
    expect(page.locator("#widget-preview-button")).to_have_css("background-color", "rgb(255, 0, 0)")


def _place_test_call(page, slug: str) -> None:
    with page.context.expect_page() as opened:
        page.click("#campaign-test-call")
    call = opened.value
    call.wait_for_load_state()
    assert re.search(rf"/call/{re.escape(slug)}\?test=\d+\.", call.url), call.url
    call.wait_for_selector("#call-test-badge")
    call.close()


def _go_live_and_pause(page) -> None:
    status, toggle = page.locator("#campaign-status"), page.locator("#campaign-status-toggle")
    expect(status).to_have_attribute("data-status", "draft")
    expect(toggle).to_have_text("Go live")
    toggle.click()
    expect(status).to_have_attribute("data-status", "live")
    expect(toggle).to_have_text("Pause")
    toggle.click()
    expect(status).to_have_attribute("data-status", "paused")
    expect(toggle).to_have_text("Go live")
    toggle.click()
    expect(status).to_have_attribute("data-status", "live")


def _find_in_list(page) -> None:
    page.get_by_role("link", name="Campaigns", exact=True).first.click()  # the sidebar
    page.wait_for_selector("#campaigns-table")
    page.wait_for_load_state("networkidle")  # the list's own loading must not land after the search below
    page.fill("#campaigns-search", "elm street")
    row = page.locator(".campaign-row", has_text=NAME)
    expect(row).to_have_count(1)
    expect(page.locator(".campaign-row")).to_have_count(1)
    expect(row.locator("[data-status]").first).to_have_attribute("data-status", "live")
    page.select_option("#campaigns-status-filter", "paused")
    page.wait_for_selector("#campaigns-no-match")
    page.select_option("#campaigns-status-filter", "live")
    expect(page.locator(".campaign-row")).to_have_count(1)
    page.screenshot(path=str(ARTIFACTS / "campaigns-list-1280.png"), full_page=True)
    row.locator("[id^=open-campaign-]").click()
    page.wait_for_url(re.compile(r".*/campaigns/\d+$"))
    expect(page.locator("#campaign-title")).to_have_text(NAME)


def test_owner_builds_shares_tests_and_deletes_a_campaign(live_app, page):
    _sign_in_as_demo_owner(live_app, page)
    campaign_id = _create_campaign(page)
    slug = page.input_value("#campaign-call-url").rsplit("/", 1)[-1]
    assert page.input_value("#campaign-call-url") == f"{live_app.url}/call/{slug}"

    _edit_settings(page, live_app, campaign_id)
    _add_and_download_qr_codes(page)
    _customise_widget(page, slug)
    page.screenshot(path=str(ARTIFACTS / "campaign-detail-1280.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})  # a phone: nothing wider than the screen
    page.wait_for_function("document.documentElement.scrollWidth <= 390")
    page.screenshot(path=str(ARTIFACTS / "campaign-detail-390.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 860})
    _place_test_call(page, slug)
    _go_live_and_pause(page)
    _find_in_list(page)

    page.click("#campaign-delete")
    page.wait_for_selector("#confirm-action")
    assert NAME in page.inner_text("[role=alertdialog]")
    page.click("#confirm-action")
    page.wait_for_url(re.compile(r".*/campaigns$"))
    page.get_by_text(f"Campaign “{NAME}” deleted.").wait_for()
    expect(page.locator(".campaign-row", has_text=NAME)).to_have_count(0)
    page.fill("#campaigns-search", "")
    expect(page.locator(".campaign-row", has_text="Spring Open House")).to_have_count(1)
    assert _stored_campaign(live_app, campaign_id).deleted_at is not None


def _unpublished_campaign(live_app) -> int:
    """A campaign whose flow has never been published (the designer's state before the first Publish)."""
    api = httpx.Client(base_url=live_app.url, timeout=30)
    token = api.post("/api/auth/login", json={"email": "demo@example.com",
                                              "password": "demo-password-123"}).json()["token"]
    created = api.post("/api/campaigns", json={"name": "Not published yet"},
                       headers={"Authorization": f"Bearer {token}"})
    assert created.status_code == 201, created.text
    campaign_id = created.json()["id"]
    engine = make_engine(live_app.database_url)
    with Session(engine) as session:
        flow = session.get(Flow, session.get(Campaign, campaign_id).flow_id)
        flow.published_version_id = None
        session.add(flow)
        session.commit()
    engine.dispose()
    return campaign_id


def test_going_live_without_a_published_flow_says_why_and_leads_to_the_designer(live_app, page):
    campaign_id = _unpublished_campaign(live_app)
    _sign_in_as_demo_owner(live_app, page)
    page.goto(f"{live_app.url}/campaigns/{campaign_id}")
    expect(page.locator("#campaign-title")).to_have_text("Not published yet")
    page.click("#campaign-status-toggle")
    page.wait_for_selector("#campaign-status-problem")
    assert "flow is not published" in page.inner_text("#campaign-status-problem")
    expect(page.locator("#campaign-status")).to_have_attribute("data-status", "draft")
    page.get_by_role("button", name="Open flow designer").click()  # the toast's action
    page.wait_for_url(re.compile(rf".*/flows/designer/{campaign_id}$"))
