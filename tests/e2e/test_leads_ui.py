"""The leads workspace in Chromium (issue 15's "Done means"): a caller's lead appears on an open /leads page without a
reload; the team opens it (transcript with timing, consent ticket, score breakdown), moves it along the pipeline,
writes a note, exports the CSV of the filter and the person's JSON, changes leads in bulk, and erases the person —
after which nothing personal is left in the database but the consent ticket, which records the erasure.

Two ways in: a lead made by a call through the conversation runner on the app's database (fast, no speech models),
and a real call in the browser on the live demo campaign with the fake microphone (slow: the voice sidecar)."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import re
import time
import uuid
from collections.abc import Iterator

from playwright.sync_api import Page, expect
from sqlmodel import Session, col, select

from quantum_voice.core.db import make_engine
from quantum_voice.models.accounts import User
from quantum_voice.models.calls import ConsentRecord, Conversation, TranscriptTurn
from quantum_voice.models.campaigns import Campaign
from quantum_voice.models.leads import Lead, LeadActivity
from quantum_voice.services.leads.privacy import TOMBSTONE
from tests.e2e.conftest import ARTIFACTS
from tests.e2e.test_call_in_browser import (DEMO_SLUG, caller_wav, chromium_with_microphone, hang_up, start_call,
                                            wait_for_brochure, wait_for_sidecar)
from tests.e2e.test_flow_designer import _sign_in_as_demo_owner
from tests.factories import repo_for

WORDING = "I agree that Harbor View may keep my details and contact me about the open house."
NO_RELOAD_MARK = "() => { window.qvLeadsPageMark = 'still here'; }"
STILL_SAME_PAGE = "() => window.qvLeadsPageMark === 'still here'"


@contextlib.contextmanager
def database(live_app) -> Iterator[Session]:
    engine = make_engine(live_app.database_url)
    try:
        with Session(engine) as session:
            yield session
    finally:
        engine.dispose()


def call_by_text(live_app, email: str, *lines: str) -> int:
    """A caller who passed the email gate talks with the demo campaign's published flow, as the sidecar's speech
    would, through the same conversation runner; returns their lead's id."""
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
        for line in lines:
            conversations.take_turn(repo, conversation_id, line, services)
            session.commit()
        conversations.end_conversation(repo, conversation_id)
        # the runner has no audio, so no barge-in: mark the agent's first answer as cut off, as the sidecar does
        first_answer = session.exec(select(TranscriptTurn).where(
            TranscriptTurn.conversation_id == conversation_id, TranscriptTurn.speaker == "agent",
            TranscriptTurn.seq > 0).order_by(TranscriptTurn.seq)).first()
        first_answer.interrupted = True
        session.add(first_answer)
        session.commit()
        return session.get(Conversation, conversation_id).lead_id


def open_leads(page: Page, live_app) -> None:
    page.goto(live_app.url + "/leads")
    expect(page.locator("#leads-title")).to_have_text("Leads")
    page.wait_for_selector("#leads-table, #leads-empty")
    page.evaluate(NO_RELOAD_MARK)


def see_the_lead_arrive(page: Page, email: str) -> None:
    expect(page.locator(".lead-row", has_text=email)).to_have_count(1, timeout=30_000)
    assert page.evaluate(STILL_SAME_PAGE), "the list reloaded the page to show the new lead"


def filter_by_search_and_share_the_url(page: Page, browser_page_factory, email: str) -> str:
    page.fill("#leads-search", email)
    page.wait_for_url(re.compile(r".*/leads\?q=" + re.escape(email.split("@")[0])))
    expect(page.locator(".lead-row")).to_have_count(1)
    shared = page.url
    other = browser_page_factory()
    other.goto(shared)  # a copied URL opens the same view
    expect(other.locator("#leads-search")).to_have_value(email)
    expect(other.locator(".lead-row")).to_have_count(1)
    expect(other.locator(".lead-row")).to_contain_text(email)
    other.close()
    return shared


def export_the_csv(page: Page, email: str) -> None:
    href = page.get_attribute("#leads-export", "data-href")
    assert href.startswith("/api/leads/export.csv?") and "q=" in href
    with page.expect_download() as download:
        page.click("#leads-export")
    rows = list(csv.DictReader(io.StringIO(open(download.value.path(), encoding="utf-8").read())))
    assert [r["email"] for r in rows] == [email]


def select_row(page: Page, lead_id: int) -> None:
    page.click(f"#lead-select-{lead_id}")  # the box follows the page's state, a round trip later
    expect(page.locator(f"#lead-select-{lead_id}")).to_have_attribute("aria-checked", "true")


def open_the_lead(page: Page, email: str, caller_words: str) -> int:
    page.locator(".lead-row", has_text=email).locator("[id^=lead-link-]").click()
    page.wait_for_url(re.compile(r".*/leads/\d+$"))
    lead_id = int(page.url.rsplit("/", 1)[-1])
    expect(page.locator("#lead-contact")).to_contain_text(email)
    calls = page.locator(".lead-call")
    expect(calls).to_have_count(1)
    expect(calls.locator(".turn-caller").first).to_be_visible()
    assert caller_words in calls.locator(".transcript").inner_text().lower()
    assert re.search(r"\b\d\d:\d\d\b", calls.locator(".turn-agent").first.inner_text()), "turns show their time"
    expect(calls.locator(".consent-wording")).not_to_be_empty()
    expect(calls.locator(".consent-ticket")).to_have_text(re.compile(r"^[0-9a-f-]{36}$"))
    expect(page.locator(".score-reason").first).to_be_visible()
    return lead_id


def work_the_lead(page: Page, email: str) -> None:
    page.click("#lead-status-contacted")
    expect(page.locator("#lead-status-contacted")).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#lead-history")).to_contain_text("Status: new → contacted")

    page.click("#lead-note-add")  # an empty note is refused, inline
    expect(page.locator("#lead-note-error")).to_be_visible()
    page.fill("#lead-note", "Called back, wants a viewing on Saturday.")
    page.click("#lead-note-add")
    expect(page.locator(".lead-note")).to_contain_text("wants a viewing on Saturday")
    expect(page.locator("#lead-note")).to_have_value("")

    with page.expect_download() as download:
        page.click("#lead-export-json")
    document = json.loads(open(download.value.path(), encoding="utf-8").read())
    assert document["lead"]["email"] == email and document["calls"][0]["consent"]["wording"]
    expect(page.locator("#lead-history")).to_contain_text("Personal data exported")


def erase_the_person(page: Page) -> None:
    page.click("#lead-erase")
    expect(page.locator("[role=alertdialog]")).to_contain_text("cannot be undone")
    page.click("#lead-erase-confirm")
    expect(page.locator("#lead-erased")).to_be_visible()
    expect(page.locator("#lead-title")).to_have_text("Erased person")
    expect(page.locator("#lead-erase")).to_have_count(0)
    expect(page.locator("#lead-status-won")).to_be_disabled()
    expect(page.locator(".consent-ticket")).to_be_visible()  # the ticket stays, as the legal record


def assert_nothing_personal_is_left(live_app, lead_id: int, email: str, name_part: str) -> None:
    with database(live_app) as session:
        lead = session.get(Lead, lead_id)
        assert lead.erased_at is not None and lead.name == TOMBSTONE
        assert (lead.email, lead.phone, lead.company, lead.interest, lead.timeline, lead.budget, lead.summary) == \
            (None,) * 7
        assert lead.custom_fields == {} and lead.score_breakdown == []
        calls = session.exec(select(Conversation).where(Conversation.lead_id == lead_id)).all()
        assert calls
        ids = [c.id for c in calls]
        turns = session.exec(select(TranscriptTurn).where(col(TranscriptTurn.conversation_id).in_(ids))).all()
        assert turns and {t.text for t in turns} == {TOMBSTONE}
        assert all(c.summary is None and not c.flow_state for c in calls)
        notes = session.exec(select(LeadActivity).where(LeadActivity.lead_id == lead_id,
                                                        col(LeadActivity.text).is_not(None))).all()
        assert notes and {n.text for n in notes} == {TOMBSTONE}
        tickets = session.exec(select(ConsentRecord).where(col(ConsentRecord.conversation_id).in_(ids))).all()
        assert tickets and all(t.erased_at is not None and t.wording for t in tickets)
        for row in [lead, *turns, *calls, *notes]:
            dumped = json.dumps(row.model_dump(), default=str).lower()
            assert email.lower() not in dumped and name_part.lower() not in dumped, row


def test_the_team_sees_works_exports_and_erases_a_lead(live_app, page, browser):
    _sign_in_as_demo_owner(live_app, page)
    page.click("#dashboard-leads")  # the dashboard's lead card opens the list
    page.wait_for_url(re.compile(r".*/leads$"))
    open_leads(page, live_app)

    # the view changes in the page (each change restarts the listening): it keeps listening
    if page.locator("#leads-empty").count():
        page.click("#leads-empty-tests")
        page.wait_for_url(re.compile(r".*/leads\?include_tests=true$"))
    else:
        page.select_option("#leads-sort", "updated")
        page.wait_for_url(re.compile(r".*/leads\?sort=updated$"))
    email = f"maria.garcia.{uuid.uuid4().hex[:8]}@example.com"
    lead_id = call_by_text(live_app, email, "Hi, I'm Maria Garcia", "how much is the HOA fee?",
                           "we'd love a tour next month", "bye")
    see_the_lead_arrive(page, email)
    page.goto(live_app.url + "/leads")
    expect(page.locator(".lead-row", has_text=email)).to_contain_text("New")

    def another_page() -> Page:
        return page.context.new_page()

    filter_by_search_and_share_the_url(page, another_page, email)
    export_the_csv(page, email)

    # bulk: select the lead, set its status and assign it to the demo owner
    select_row(page, lead_id)
    expect(page.locator("#leads-bulk")).to_contain_text("1 selected")
    page.select_option("#leads-bulk-status", "qualified")
    expect(page.locator(".lead-row", has_text=email)).to_contain_text("Qualified")
    select_row(page, lead_id)
    page.locator("#leads-bulk-assign").select_option(index=2)  # the first member after "Assign to…", "Nobody"
    expect(page.locator(".lead-row", has_text=email).locator(".lead-assignee")).not_to_have_text("—")

    page.select_option("#leads-status", "won")  # a filter that matches nothing: the way back is offered
    page.wait_for_url(re.compile(r".*status=won.*"))
    page.click("#leads-no-match-clear")
    page.wait_for_url(re.compile(r".*/leads$"))
    page.fill("#leads-to", "2026-01-01")  # a range that ends before it starts: said, and the dates are kept
    page.wait_for_url(re.compile(r".*created_to=2026-01-01.*"))
    page.fill("#leads-from", "2026-02-01")
    expect(page.locator("#leads-filter-error")).to_contain_text("start date is after the end date")
    expect(page.locator("#leads-from")).to_have_value("2026-02-01")
    page.click("#leads-clear")
    page.wait_for_url(re.compile(r".*/leads$"))
    page.get_by_role("button", name="Sort by score").click()
    page.wait_for_url(re.compile(r".*sort=score.*"))
    page.fill("#leads-search", email)
    page.wait_for_url(re.compile(r".*q=.*"))

    assert open_the_lead(page, email, "hoa fee") == lead_id
    expect(page.locator(".turn-interrupted")).to_have_count(1)
    page.click("#lead-status-new")  # back to the start of the pipeline, then on as a person would
    expect(page.locator("#lead-status-new")).to_have_attribute("aria-pressed", "true")
    work_the_lead(page, email)
    page.screenshot(path=str(ARTIFACTS / "lead-detail.png"), full_page=True)
    erase_the_person(page)
    assert_nothing_personal_is_left(live_app, lead_id, email, "garcia")

    page.goto(live_app.url + "/leads?q=" + email)  # erased: no longer found by what it no longer holds
    expect(page.locator("#leads-no-match")).to_be_visible()


@contextlib.contextmanager
def phone_beside(browser, wav) -> Iterator[Page]:
    """A phone-sized page whose microphone plays ``wav``, in a second Chromium of the session's Playwright (a
    second Playwright cannot start inside the first)."""
    phone_browser = chromium_with_microphone(browser, wav)
    phone = phone_browser.new_page(viewport={"width": 390, "height": 844})
    try:
        yield phone
    except Exception:
        phone.screenshot(path=str(ARTIFACTS / "leads-call-phone.png"), full_page=True)
        raise
    finally:
        phone_browser.close()


def test_a_call_in_the_browser_becomes_a_lead_the_team_works_and_erases(live_app, browser, page, tmp_path):
    wait_for_sidecar(live_app.url, live_app.log_path)
    wait_for_brochure(live_app.url)
    wav = tmp_path / "caller.wav"
    caller_wav(wav)
    email = f"john.smith.{uuid.uuid4().hex[:8]}@example.com"
    _sign_in_as_demo_owner(live_app, page)
    open_leads(page, live_app)
    with phone_beside(browser, wav) as phone:
        agent = start_call(phone, live_app.url, email)
        see_the_lead_arrive(page, email)  # the lead exists from the consent ticket on
        expect(agent.filter(has_text="$450")).to_have_count(1, timeout=90_000)
        hang_up(phone)
    deadline = time.monotonic() + 30
    while True:  # the call's end finalises the lead (name, score)
        with database(live_app) as session:
            lead = session.exec(select(Lead).where(Lead.email == email)).one()
            if lead.name or time.monotonic() > deadline:
                break
        time.sleep(1)
    page.fill("#leads-search", email)
    page.wait_for_url(re.compile(r".*q=.*"))
    lead_id = open_the_lead(page, email, "fee")
    work_the_lead(page, email)
    page.goto(live_app.url + "/leads?q=" + email)
    export_the_csv(page, email)
    page.goto(f"{live_app.url}/leads/{lead_id}")
    erase_the_person(page)
    assert_nothing_personal_is_left(live_app, lead_id, email, "smith")


def test_a_viewer_reads_leads_but_cannot_change_them(live_app, page):
    from quantum_voice.models.accounts import Role
    from tests.factories import PASSWORD, add_member

    viewer = f"viewer.{uuid.uuid4().hex[:8]}@example.com"
    with database(live_app) as session:
        owner = session.exec(select(User).where(User.email == "demo@example.com")).one()
        add_member(session, owner, viewer, Role.VIEWER)
        session.commit()
    email = f"bo.chen.{uuid.uuid4().hex[:8]}@example.com"
    lead_id = call_by_text(live_app, email, "Hi, I'm Bo Chen", "bye")

    page.goto(live_app.url + "/login")
    page.fill("#login-email", viewer)
    page.fill("#login-password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_url(re.compile(r".*/dashboard"))
    page.goto(f"{live_app.url}/leads?q={email}")
    expect(page.locator(".lead-row")).to_have_count(1)
    expect(page.locator("#leads-select-all")).to_have_count(0)
    expect(page.locator(f"#lead-select-{lead_id}")).to_have_count(0)
    expect(page.locator("#leads-export")).to_be_visible()  # reading includes the CSV

    page.goto(f"{live_app.url}/leads/{lead_id}")
    expect(page.locator("#lead-contact")).to_contain_text(email)
    expect(page.locator("#lead-status-contacted")).to_be_disabled()
    expect(page.locator("#lead-assignee")).to_be_disabled()
    for control in ("#lead-note", "#lead-erase", "#lead-export-json"):
        expect(page.locator(control)).to_have_count(0)
