"""The per-call page in Chromium (issue 18's "Done means", second part): from the dashboard's latest calls, a call
opens on its own page with the transcript's times and a latency waterfall per timed turn."""

from __future__ import annotations

import re
from datetime import timedelta

from playwright.sync_api import expect
from sqlmodel import select

from quantum_voice.core.clock import utcnow
from quantum_voice.models.calls import Conversation, TranscriptTurn
from quantum_voice.models.campaigns import Campaign
from tests.e2e.conftest import ARTIFACTS
from tests.e2e.test_call_in_browser import DEMO_SLUG
from tests.e2e.test_flow_designer import _sign_in_as_demo_owner
from tests.e2e.test_leads_ui import database

TIMED = {"stt_ms": 140.0, "endpointing_ms": 320.0, "brain_ms": 60.0, "tts_first_byte_ms": 280.0,
         "voice_to_voice_ms": 800.0}


def timed_call(live_app) -> int:
    """A real call of the demo campaign, as the flow and the sidecar leave it: one answer timed, one talked over."""
    with database(live_app) as session:
        campaign = session.exec(select(Campaign).where(Campaign.slug == DEMO_SLUG)).one()
        started = utcnow() - timedelta(seconds=30)
        call = Conversation(organization_id=campaign.organization_id, campaign_id=campaign.id, status="ended",
                            started_at=started, ended_at=started + timedelta(seconds=20), duration_seconds=20,
                            end_reason="caller_hung_up")
        session.add(call)
        session.flush()
        turns = [("agent", "Hello from the demo!", 0, {}, False),
                 ("caller", "Is there parking?", 3_400, {}, False),
                 ("agent", "Yes, two spaces come with", 5_000, {"metrics": TIMED, "heard": "Yes, two spaces"}, True)]
        for seq, (speaker, text, offset, meta, interrupted) in enumerate(turns):
            session.add(TranscriptTurn(organization_id=campaign.organization_id, conversation_id=call.id, seq=seq,
                                       speaker=speaker, text=text, offset_ms=offset, meta=meta,
                                       interrupted=interrupted))
        session.commit()
        return call.id


def test_a_call_opens_from_the_dashboard_with_its_times_and_waterfall(live_app, page):
    call_id = timed_call(live_app)
    _sign_in_as_demo_owner(live_app, page)
    page.locator(f'#dashboard-recent-calls a[href="/calls/{call_id}"]').click()
    page.wait_for_url(re.compile(rf".*/calls/{call_id}$"))
    expect(page.locator("#call-title")).to_have_text(f"Call {call_id}")
    expect(page.locator("#call-end-reason")).to_have_text("The caller hung up")
    expect(page.locator("#call-interruptions")).to_have_text("1")
    expect(page.locator(".turn-at")).to_have_text(["00:00.0", "00:03.4", "00:05.0"])
    stages = page.locator(".waterfall-stage")
    expect(stages).to_have_count(4)
    assert stages.nth(1).get_attribute("aria-label") == "End-of-turn wait 320 ms"
    expect(page.locator(".waterfall")).to_contain_text("Voice to voice 800 ms")
    page.screenshot(path=str(ARTIFACTS / "call-page.png"), full_page=True)
