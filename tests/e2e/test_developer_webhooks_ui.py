"""The Webhooks section of the Developers page in Chromium: the owner adds an endpoint (a real receiver on
127.0.0.1), sees its signing secret once, sends a test event that arrives signed, and finds the delivery in the
endpoint's log."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from quantum_voice.services.developer.webhook_signature import verify
from tests.e2e.test_flow_designer import _sign_in_as_demo_owner
from tests.integration.test_webhooks import Receiver


def test_the_owner_adds_an_endpoint_sends_a_test_event_and_sees_it_in_the_log(live_app, page):
    receiver = Receiver().start()
    try:
        _sign_in_as_demo_owner(live_app, page)
        page.goto(live_app.url + "/developers", wait_until="networkidle")
        page.click("#hook-create-open")
        page.fill("#hook-url", receiver.url)
        page.fill("#hook-description", "CRM sync")
        page.check("#event-lead-updated")
        page.check("#event-call-ended")
        page.click("#hook-create-submit")
        secret_field = page.locator("#hook-secret")
        expect(secret_field).to_have_value(re.compile(r"^whsec_"), timeout=15_000)
        secret = secret_field.input_value()
        page.click("#hook-secret-close")
        expect(secret_field).to_have_count(0)
        row = page.locator("#hooks-table tr", has_text=receiver.url)
        expect(row).to_contain_text("call.ended, lead.updated")
        expect(row).to_contain_text("enabled")
        assert secret not in page.content()

        row.get_by_role("button", name="Send a test event to " + receiver.url).click()
        expect(row).to_contain_text("succeeded (200): ping", timeout=15_000)
        (got,) = receiver.got
        assert got.event["type"] == "ping" and got.event["test"] is True
        verify(got.body, got.headers["QV-Signature"], secret)

        row.get_by_role("button", name="Delivery log of " + receiver.url).click()
        log = page.locator("#deliveries-table")
        expect(log).to_contain_text("ping (test)")
        expect(log).to_contain_text("succeeded")
        expect(log).to_contain_text("200")
        page.get_by_role("button", name=re.compile(r"^Attempts of delivery")).first.click()
        expect(page.locator("#delivery-attempts")).to_contain_text('{"ok":1}', timeout=15_000)
    finally:
        receiver.server.stop()
