"""The agent workspace (/agent) in Chromium: an agent goes available, a caller handed off by the AI arrives in the
live queue with their context and an alert, the agent accepts, follows the transcript, sees the lead and looks up the
campaign's knowledge, corrects the lead's details (a bad email refused, the form kept); a wrong disposition is refused with the form kept, and "qualified" ends the call (the lead
becomes qualified and the call is in "My calls today"). A viewer gets neither the page nor its link. The audio is
not exercised here (its server side is built apart); the script's loading is."""

from __future__ import annotations

import re
import uuid

from playwright.sync_api import Page, expect
from sqlmodel import select

from quantum_voice.models.accounts import User
from quantum_voice.models.calls import ConsentRecord, Conversation
from quantum_voice.models.campaigns import Campaign
from quantum_voice.models.handoff import Handoff
from quantum_voice.models.leads import Lead
from tests.e2e.test_call_in_browser import DEMO_SLUG, wait_for_brochure
from tests.e2e.test_leads_ui import WORDING, database
from tests.factories import PASSWORD, add_member, repo_for

SUFFIX = uuid.uuid4().hex[:8]
AGENT = f"agent-{SUFFIX}@harbor.example"
VIEWER = f"viewer-{SUFFIX}@harbor.example"


def team_member(live_app, email: str, role: str) -> None:
    with database(live_app) as session:
        owner = session.exec(select(User).where(User.email == "demo@example.com")).one()
        add_member(session, owner, email, role)
        session.commit()


def caller_asks_for_a_person(live_app, email: str, name: str) -> tuple[int, int]:
    """A caller with consent talks to the demo campaign and asks for a person; the hand-off is then what the call
    side writes when someone can take the call (waiting, the conversation handed off). Returns (hand-off, lead)."""
    from quantum_voice.services import conversations
    from quantum_voice.services.conversations import CallServices, CallSetup
    from tests.unit.flows.support import FixedPassages

    services = CallServices(knowledge=FixedPassages())
    with database(live_app) as session:
        repo = repo_for(session, session.exec(select(User).where(User.email == "demo@example.com")).one())
        campaign = session.exec(select(Campaign).where(Campaign.slug == DEMO_SLUG)).one()
        ticket = repo.add(ConsentRecord(organization_id=repo.scope.organization_id, public_id=str(uuid.uuid4()),
                                        campaign_id=campaign.id, email=email, granted=True, wording=WORDING,
                                        policy_version="2026-03"))
        conversation_id = conversations.start_conversation(
            repo, campaign.id, CallSetup(caller_email=email, consent_record_id=ticket.id), services).conversation.id
        session.commit()
        for line in (f"Hi, I'm {name}", "I'd like to see the house next month. Can I talk to a real person?"):
            conversations.take_turn(repo, conversation_id, line, services)
            session.commit()
        conversation = session.get(Conversation, conversation_id)
        handoff = session.exec(select(Handoff).where(Handoff.conversation_id == conversation_id)).first() or Handoff(
            organization_id=conversation.organization_id, conversation_id=conversation_id, reason="request")
        handoff.status, handoff.notes, handoff.lead_id = "waiting", None, conversation.lead_id
        handoff.reason_detail = "wants to see the house with a person"
        conversation.status = "handed_off"
        session.add_all([handoff, conversation])
        session.commit()
        return handoff.id, conversation.lead_id


def sign_in(page: Page, live_app, email: str) -> None:
    page.goto(live_app.url + "/login")
    page.fill("#login-email", email)
    page.fill("#login-password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_url(re.compile(r".*/dashboard"))


def go_available(page: Page, live_app) -> None:
    expect(page.get_by_role("link", name="Agent workspace").first).to_be_visible()
    page.goto(live_app.url + "/agent")
    expect(page.locator("#agent-title")).to_have_text("Agent workspace")
    expect(page.locator("#agent-queue-empty")).to_be_visible()
    page.locator("#agent-presence").get_by_role("radio", name="Available").click()
    expect(page.locator("#agent-status")).to_have_text("available")


def see_the_caller_arrive(page: Page, handoff_id: int) -> None:
    row = page.locator(f".agent-queue-row[data-handoff-id='{handoff_id}']")
    expect(row).to_be_visible(timeout=15_000)  # the queue is polled every 2 s: no reload
    expect(row).to_have_attribute("data-new", "true")
    expect(row).to_contain_text("Spring Open House")  # the campaign
    expect(row).to_contain_text("Asked for a person")
    expect(row).to_contain_text("wants to see the house with a person")
    expect(row).to_contain_text("Dana Reyes")
    expect(row.locator(".agent-waited")).to_have_text(re.compile(r"^\d+:\d\d$"))
    row.locator("summary").click()
    expect(row.locator(".agent-queue-turn").filter(has_text="real person")).to_be_visible()
    expect(page).to_have_title(re.compile(r"^\(1\) Agent workspace"))
    expect(page.locator("#agent-queue-count")).to_have_text("1")


def take_the_call(page: Page, handoff_id: int) -> None:
    page.click(f"#agent-accept-{handoff_id}")
    panel = page.locator("#agent-call")
    expect(panel).to_be_visible()
    expect(panel.locator(".agent-turn[data-speaker='caller']").filter(has_text="real person")).to_be_visible()
    expect(panel.locator(".agent-turn[data-speaker='agent']").first).to_contain_text("AI")
    expect(page.locator("#agent-call-lead")).to_contain_text("Dana Reyes")
    expect(page.locator("#agent-audio-connect")).to_have_text("Connect audio")  # assets/agent_audio.js drew it
    expect(page.locator("#agent-queue-empty")).to_be_visible()
    expect(page.locator(".agent-today-row").filter(has_text="on the call")).to_have_count(1)


def look_it_up(page: Page, live_app) -> None:
    wait_for_brochure(live_app.url)
    page.fill("#agent-kb-query", "How much is the HOA fee?")
    page.click("#agent-kb-search")
    passages = page.locator(".agent-passage")
    expect(passages.first).to_contain_text("harbor_view_brochure.md", timeout=60_000)
    assert passages.count() <= 3


def correct_the_lead(page: Page, live_app, lead_id: int) -> None:
    page.click("#agent-lead-edit")
    page.fill("#agent-lead-email", "not an address")
    page.fill("#agent-lead-budget", "around $450k")
    page.click("#agent-lead-save")
    expect(page.locator("#agent-lead-error")).to_contain_text("does not look right")
    expect(page.locator("#agent-lead-budget")).to_have_value("around $450k")  # the form is kept
    page.fill("#agent-lead-email", f"dana.reyes-{SUFFIX}@example.com")
    page.click("#agent-lead-save")
    expect(page.locator("#agent-call-lead")).to_contain_text("around $450k")
    with database(live_app) as session:
        lead = session.get(Lead, lead_id)
        assert (lead.budget, lead.email) == ("around $450k", f"dana.reyes-{SUFFIX}@example.com")


def end_the_call(page: Page) -> None:
    page.select_option("#agent-outcome", "callback")
    page.fill("#agent-callback-at", "2020-01-01T10:00")
    page.fill("#agent-notes", "Wants a Saturday viewing.")
    page.click("#agent-complete")
    expect(page.locator("#agent-form-error")).to_contain_text("must be in the future")
    expect(page.locator("#agent-notes")).to_have_value("Wants a Saturday viewing.")  # the form is kept
    page.select_option("#agent-outcome", "qualified")
    page.click("#agent-complete")
    expect(page.locator("#agent-call")).to_have_count(0)
    expect(page.locator(".agent-today-row").filter(has_text="qualified")).to_have_count(1)


def test_an_agent_takes_a_handed_off_caller_and_qualifies_them(live_app, page):
    team_member(live_app, AGENT, "agent")
    sign_in(page, live_app, AGENT)
    go_available(page, live_app)
    handoff_id, lead_id = caller_asks_for_a_person(live_app, f"dana-{SUFFIX}@example.com", "Dana Reyes")
    see_the_caller_arrive(page, handoff_id)
    take_the_call(page, handoff_id)
    look_it_up(page, live_app)
    correct_the_lead(page, live_app, lead_id)
    end_the_call(page)
    with database(live_app) as session:
        handoff = session.get(Handoff, handoff_id)
        assert (handoff.status, handoff.disposition, handoff.notes) == \
            ("completed", "qualified", "Wants a Saturday viewing.")
        assert session.get(Lead, lead_id).status == "qualified"


def test_a_viewer_gets_neither_the_workspace_nor_its_link(live_app, page):
    team_member(live_app, VIEWER, "viewer")
    sign_in(page, live_app, VIEWER)
    expect(page.get_by_role("link", name="Leads").first).to_be_visible()
    expect(page.get_by_role("link", name="Agent workspace")).to_have_count(0)
    page.goto(live_app.url + "/agent")
    page.wait_for_url(re.compile(r".*/dashboard"))
    expect(page.locator("#agent-title")).to_have_count(0)
