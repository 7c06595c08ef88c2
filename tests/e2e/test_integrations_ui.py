"""The Integrations page and a campaign's lead notifications in Chromium: the owner connects Slack, sends a test
message that reaches a local stand-in of Slack's Web API, sees the token only as "set", gets Asana's refusal of a
wrong token as a clear message, and switches a campaign's notification channels."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.e2e.test_flow_designer import _sign_in_as_demo_owner
from tests.unit.notifications.receivers import SLACK_CHANNEL, SLACK_TOKEN


def test_the_owner_connects_slack_and_a_wrong_asana_token_says_why(live_app, page):
    _sign_in_as_demo_owner(live_app, page)
    page.goto(live_app.url + "/integrations", wait_until="networkidle")
    slack = page.locator("#integration-slack")
    expect(slack).to_contain_text("Not connected")
    page.fill("#integration-slack-bot_token", SLACK_TOKEN)
    page.fill("#integration-slack-channel", SLACK_CHANNEL)
    page.click("#integration-slack-save")
    expect(slack).to_contain_text("Connected", timeout=15_000)
    before = len(live_app.slack.requests)
    page.click("#integration-slack-test")
    expect(page.locator("#integration-slack-result")).to_contain_text("Test sent", timeout=20_000)
    sent = live_app.slack.requests[before:]
    assert [r.status for r in sent] == [200] and sent[0].headers["authorization"] == f"Bearer {SLACK_TOKEN}"
    assert sent[0].body["channel"] == SLACK_CHANNEL

    page.reload(wait_until="networkidle")
    token_field = page.locator("#integration-slack-bot_token")
    expect(token_field).to_have_value("")  # never sent back to the page
    expect(token_field).to_have_attribute("placeholder", re.compile(r"set \(…" + SLACK_TOKEN[-4:] + r"\)"))
    assert SLACK_TOKEN not in page.content()

    page.fill("#integration-asana-access_token", "2/1200000000/not-the-right-token")
    page.fill("#integration-asana-project_gid", "1207000000000001")
    page.click("#integration-asana-save")
    expect(page.locator("#integration-asana")).to_contain_text("Connected", timeout=15_000)
    page.click("#integration-asana-test")
    result = page.locator("#integration-asana-result")
    expect(result).to_contain_text("Not Authorized", timeout=20_000)


def test_a_campaign_switches_who_hears_about_its_warm_leads(live_app, page):
    _sign_in_as_demo_owner(live_app, page)
    page.goto(live_app.url + "/campaigns", wait_until="networkidle")
    page.locator(".campaign-row", has_text="Spring Open House").locator("[id^=open-campaign-]").click()
    page.wait_for_url(re.compile(r".*/campaigns/\d+"))
    card = page.locator("#notifications-card")
    expect(card).to_be_visible(timeout=15_000)
    warm_slack = page.locator("#notify-warm-slack")
    expect(warm_slack).to_have_attribute("data-state", "unchecked")
    warm_slack.click()
    expect(warm_slack).to_have_attribute("data-state", "checked", timeout=10_000)
    page.reload(wait_until="networkidle")
    expect(page.locator("#notify-warm-slack")).to_have_attribute("data-state", "checked", timeout=15_000)
    page.click("#notify-defaults")
    expect(page.locator("#notify-warm-slack")).to_have_attribute("data-state", "unchecked", timeout=10_000)
