"""The dashboard in Chromium (issue 18's "Done means", first part): after a few calls the charts render, the cards
match the database, and a call made while the page is open shows up without a reload."""

from __future__ import annotations

import re
from datetime import timedelta

from playwright.sync_api import expect
from sqlmodel import select

from quantum_voice.core.clock import utcnow
from quantum_voice.models.accounts import User
from quantum_voice.models.calls import Conversation, TranscriptTurn
from quantum_voice.models.campaigns import Campaign
from quantum_voice.models.leads import Lead
from quantum_voice.services import analytics
from quantum_voice.services.analytics import AnalyticsFilter
from tests.e2e.conftest import ARTIFACTS
from tests.e2e.test_call_in_browser import DEMO_SLUG
from tests.e2e.test_flow_designer import _sign_in_as_demo_owner
from tests.e2e.test_leads_ui import database
from tests.factories import repo_for

NO_RELOAD_MARK = "() => { window.qvDashboardMark = 'still here'; }"
STILL_SAME_PAGE = "() => window.qvDashboardMark === 'still here'"


def add_call(live_app, *, band: str | None = None, latency_ms: float | None = None) -> None:
    """A real call of the demo campaign that ended a minute ago, as the runner and the sidecar would leave it."""
    with database(live_app) as session:
        campaign = session.exec(select(Campaign).where(Campaign.slug == DEMO_SLUG)).one()
        started = utcnow() - timedelta(minutes=3)
        call = Conversation(organization_id=campaign.organization_id, campaign_id=campaign.id, status="ended",
                            started_at=started, ended_at=started + timedelta(minutes=2), duration_seconds=120)
        session.add(call)
        session.flush()
        if band:
            session.add(Lead(organization_id=campaign.organization_id, campaign_id=campaign.id,
                             conversation_id=call.id, band=band))
        if latency_ms:
            session.add(TranscriptTurn(organization_id=campaign.organization_id, conversation_id=call.id, seq=1,
                                       speaker="agent", text="Hello!",
                                       meta={"metrics": {"voice_to_voice_ms": latency_ms}}))
        session.commit()


def figure(page, card: str):
    """The number a card shows (its second line)."""
    return page.locator(f"{card} p").nth(1)


def week_in_database(live_app) -> analytics.Cards:
    with database(live_app) as session:
        repo = repo_for(session, session.exec(select(User).where(User.email == "demo@example.com")).one())
        return analytics.cards(repo, AnalyticsFilter.last_days(7))


def test_the_dashboard_charts_match_the_database_and_follow_new_calls(live_app, page):
    add_call(live_app, band="hot", latency_ms=480.0)
    add_call(live_app, band="warm", latency_ms=620.0)
    _sign_in_as_demo_owner(live_app, page)
    expected = week_in_database(live_app)
    expect(figure(page, "#dashboard-range-calls")).to_have_text(str(expected.calls))
    expect(figure(page, "#dashboard-range-leads")).to_have_text(str(expected.leads))
    expect(figure(page, "#dashboard-range-hot")).to_have_text(str(expected.hot_leads))
    for chart in ("#dashboard-volume", "#dashboard-funnel", "#dashboard-bands", "#dashboard-latency"):
        expect(page.locator(f"{chart} .js-plotly-plot")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "dashboard-live.png"), full_page=True)
    href = page.locator("#dashboard-range-hot").get_attribute("href") or ""
    assert re.search(r"^/leads\?band=hot&created_from=\d{4}-\d\d-\d\d&created_to=\d{4}-\d\d-\d\d$", href), href

    page.evaluate(NO_RELOAD_MARK)
    add_call(live_app)
    expect(figure(page, "#dashboard-range-calls")).to_have_text(str(expected.calls + 1), timeout=40_000)
    assert page.evaluate(STILL_SAME_PAGE)

    with database(live_app) as session:
        campaign_id = session.exec(select(Campaign.id).where(Campaign.slug == DEMO_SLUG)).one()
    page.select_option("#dashboard-campaign", value=str(campaign_id))  # one campaign: its calls card opens its page
    expect(page.locator("#dashboard-range-calls")).to_have_attribute("href", f"/campaigns/{campaign_id}")
