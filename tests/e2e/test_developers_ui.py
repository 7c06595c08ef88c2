"""The Developers page in Chromium: the owner creates a read-only leads key, sees its secret once, uses it against
the API (reads leads, may not write them), and revokes it, which the very next request feels; a test-mode key
(``qv_test_…``) sees test leads only."""

from __future__ import annotations

import re

import httpx
from playwright.sync_api import expect

from tests.e2e.test_flow_designer import _sign_in_as_demo_owner


def test_the_owner_creates_uses_and_revokes_an_api_key(live_app, page):
    _sign_in_as_demo_owner(live_app, page)
    page.goto(live_app.url + "/developers", wait_until="networkidle")
    page.click("#key-create-open")
    page.fill("#key-name", "CRM sync")
    page.check("#scope-leads-read")
    page.click("#key-create-submit")
    secret_field = page.locator("#key-secret")
    expect(secret_field).to_have_value(re.compile(r"^qv_live_"), timeout=15_000)
    secret = secret_field.input_value()
    page.click("#key-secret-close")
    expect(secret_field).to_have_count(0)
    row = page.locator("#keys-table tr", has_text="CRM sync")
    expect(row).to_contain_text(secret[:12])
    expect(row).to_contain_text("leads:read")
    assert secret not in page.content()

    key = {"Authorization": f"Bearer {secret}"}
    assert httpx.get(live_app.url + "/api/leads", headers=key).status_code == 200
    refused = httpx.post(live_app.url + "/api/leads/bulk", headers=key, json={})
    assert refused.status_code == 403 and "leads:write" in refused.json()["error"]["message"]

    row.get_by_role("button", name="Revoke " + secret[:12]).click()
    page.click("#key-revoke-confirm")
    expect(row).to_contain_text("revoked", timeout=15_000)
    gone = httpx.get(live_app.url + "/api/leads", headers=key)
    assert gone.status_code == 401 and gone.json()["error"]["code"] == "api_key_revoked"


def test_the_quick_start_opens_and_links_both_references(live_app, page):
    _sign_in_as_demo_owner(live_app, page)
    page.goto(live_app.url + "/developers", wait_until="networkidle")
    expect(page.get_by_role("link", name="/api/redoc")).to_have_attribute("href", "/api/redoc")
    expect(page.get_by_role("link", name="/api/docs")).to_have_attribute("href", "/api/docs")
    page.get_by_role("button", name=re.compile("^Quick start")).click()
    section = page.locator("#quick-start")
    expect(section.get_by_role("heading", name="Create a campaign", exact=True)).to_be_visible()
    expect(section).to_contain_text('"$QV_URL/api/campaigns"')
    section.get_by_role("tab", name="Python").first.click()
    expect(section).to_contain_text("httpx.Client(base_url=")


def test_the_owner_creates_a_test_mode_key_that_sees_test_leads_only(live_app, page):
    _sign_in_as_demo_owner(live_app, page)
    page.goto(live_app.url + "/developers", wait_until="networkidle")
    page.click("#key-create-open")
    page.fill("#key-name", "Sandbox")
    page.select_option("#key-mode", "test")
    page.check("#scope-leads-read")
    page.click("#key-create-submit")
    secret_field = page.locator("#key-secret")
    expect(secret_field).to_have_value(re.compile(r"^qv_test_"), timeout=15_000)
    secret = secret_field.input_value()
    page.click("#key-secret-close")
    expect(page.locator("#keys-table tr", has_text="Sandbox")).to_contain_text("test")

    listed = httpx.get(live_app.url + "/api/leads", params={"include_tests": "true"},
                       headers={"Authorization": f"Bearer {secret}"})
    assert listed.status_code == 200 and all(lead["is_test"] for lead in listed.json())
