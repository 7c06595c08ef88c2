"""The human hand-off with two Chromium instances, each with a fake microphone playing a WAV: the caller on the
public call page asks for a person; the agent, available on /agent, sees the request arrive, accepts, connects the
audio and speaks. Audio flows both ways, proven by transcribing (with the sidecar's Whisper) what each browser
received: the caller's page got the agent's words, the agent's page got the caller's. The agent hands back to the
AI, which carries the call on; another call is ended by the agent with a disposition the lead's page shows."""

from __future__ import annotations

import re
import time
import uuid

from playwright.sync_api import Page, expect
from sqlmodel import select

from quantum_voice.models.accounts import User
from quantum_voice.models.calls import ConsentRecord, Conversation, TranscriptTurn
from quantum_voice.models.handoff import Handoff
from tests.e2e.conftest import ARTIFACTS
from tests.e2e.speech import RECORDER_JS, render_wav, wait_until_heard
from tests.e2e.test_agent_workspace import go_available, sign_in, team_member
from tests.e2e.test_call_in_browser import (chromium_with_microphone, ended_conversation, hang_up, live_sidecars,
                                            start_call, wait_for_sidecar)
from tests.e2e.test_leads_ui import database

SUFFIX = uuid.uuid4().hex[:8]
AGENT = f"alex-{SUFFIX}@harbor.example"
AGENT_NAME = "Alex Morgan"

# The caller's microphone, played once from the press of Call: silence through the rings and the greeting, then a
# name, then the request (the email was typed on the gate, with consent).
ASKS_FOR_A_PERSON = [17.0, "Hi, my name is Dana Reyes.", 10.0, "Can I talk to a real person please?"]
# ... and, once the agent has had time to accept and connect, words for the agent (said five times: the agent's
# audio may join a little late on a busy machine; the AI is silent while a person has the call).
TALKS_TO_THE_AGENT = ["I would like to see the house on Saturday morning.", 12.0]
CALLER_WORDS = ("saturday", "house", "morning")
# The agent's microphone, played once from the press of Connect audio.
AGENT_SAYS = [3.0, "Hello Dana, this is Alex from the sales team. How can I help you today?", 6.0,
              "Hello Dana, this is Alex from the sales team. How can I help you today?", 60.0]
AGENT_WORDS = ("hello", "sales", "help", "today")  # not "Alex": the AI says the name when it puts the caller through


def the_agent(live_app) -> None:
    """One team member who works calls, named Alex (the caller hears the first name), for both tests."""
    with database(live_app) as session:
        known = session.exec(select(User).where(User.email == AGENT)).first() is not None
    if known:
        return
    team_member(live_app, AGENT, "agent")
    with database(live_app) as session:
        user = session.exec(select(User).where(User.email == AGENT)).one()
        user.full_name = AGENT_NAME
        session.add(user)
        session.commit()


def two_browsers(browser, caller_wav, agent_wav) -> tuple[Page, Page]:
    """The caller's phone-sized page and the agent's desk page, each in its own Chromium with its own microphone,
    both recording what they receive (tests/e2e/speech.py). They are launched by the session's Playwright (the
    ``browser`` fixture's: a second one cannot run beside it)."""
    caller = chromium_with_microphone(browser, caller_wav).new_page(viewport={"width": 390, "height": 844})
    agent = chromium_with_microphone(browser, agent_wav).new_page(viewport={"width": 1280, "height": 900})
    for page in (caller, agent):
        page.add_init_script(RECORDER_JS)
        page.set_default_timeout(30_000)
    # as the ``page`` fixture does: a click before the page has hydrated was sometimes lost under load
    plain_goto = agent.goto
    agent.goto = lambda url, **options: plain_goto(url, **{"wait_until": "networkidle", **options})
    return caller, agent


def agent_ready(agent: Page, live_app) -> None:
    the_agent(live_app)
    sign_in(agent, live_app, AGENT)
    go_available(agent, live_app)


def the_caller_asks_for_a_person(caller: Page, agent: Page, live_app, email: str) -> int:
    """The caller calls and asks for a person; they hold, and the request arrives in the agent's queue. Returns the
    hand-off's id."""
    start_call(caller, live_app.url, email)
    said = caller.locator("#qv-transcript .qv-agent")
    expect(said.filter(has_text="Let me find someone from the team")).to_have_count(1, timeout=90_000)
    row = agent.locator(".agent-queue-row").filter(has_text=email)
    expect(row).to_be_visible(timeout=15_000)  # the queue is read every 2 s
    expect(row).to_contain_text("Asked for a person")
    return int(row.get_attribute("data-handoff-id"))


def the_agent_accepts(caller: Page, agent: Page, handoff_id: int) -> None:
    agent.click(f"#agent-accept-{handoff_id}")
    expect(agent.locator("#agent-call")).to_be_visible()
    expect(agent.locator("#agent-call-turns .agent-turn[data-speaker='caller']")
           .filter(has_text=re.compile("person", re.I))).not_to_have_count(0)
    expect(caller.locator("#qv-transcript .qv-agent").filter(has_text="putting you through to Alex")) \
        .to_have_count(1, timeout=30_000)


def go_offline(agent: Page) -> None:
    """On /agent: so that no later call in the session holds for this agent once the page is gone."""
    agent.locator("#agent-presence").get_by_role("radio", name="Offline").click()
    expect(agent.locator("#agent-status")).to_have_text("offline")


def sidecar_idle(live_app) -> None:
    """The call is over on the sidecar too (its heartbeat, every 10 s, counts no call): later tests find it idle."""
    deadline = time.monotonic() + 60
    while "0 active call(s)" not in (detail := live_sidecars(live_app.url)):
        assert time.monotonic() < deadline, f"the sidecar still carries a call: {detail}"
        time.sleep(1)


def the_call(live_app, caller: Page) -> tuple[Conversation, Handoff]:
    consent_id = caller.locator("#call-consent-id").inner_text()
    with database(live_app) as session:
        consent = session.exec(select(ConsentRecord).where(ConsentRecord.public_id == consent_id)).one()
        conversation = session.get(Conversation, consent.conversation_id)
        handoff = session.exec(select(Handoff).where(Handoff.conversation_id == conversation.id)
                               .order_by(Handoff.id.desc())).first()
        return conversation, handoff


def test_the_caller_and_the_agent_hear_each_other_then_the_agent_hands_back_to_the_ai(live_app, browser,
                                                                                       tmp_path):
    wait_for_sidecar(live_app.url, live_app.log_path)
    caller_wav, agent_wav = tmp_path / "caller.wav", tmp_path / "agent.wav"
    render_wav(caller_wav, ASKS_FOR_A_PERSON + [22.0] + TALKS_TO_THE_AGENT * 5 + [90.0])
    render_wav(agent_wav, AGENT_SAYS)
    caller, agent = two_browsers(browser, caller_wav, agent_wav)
    try:
        agent_ready(agent, live_app)
        handoff_id = the_caller_asks_for_a_person(caller, agent, live_app, f"dana-{SUFFIX}@example.com")
        the_agent_accepts(caller, agent, handoff_id)

        for page in (caller, agent):
            page.evaluate("window.qvHeard.start()")
        agent.click("#agent-audio-connect")  # the agent's microphone (its WAV) starts now
        expect(agent.locator("#agent-audio-status")).to_have_text("Connected", timeout=30_000)
        # what each browser received, transcribed: the agent's words reached the caller's page, the caller's
        # words reached the agent's page
        heard_by_caller = wait_until_heard(caller, AGENT_WORDS, at_least=3, timeout=60)
        heard_by_agent = wait_until_heard(agent, CALLER_WORDS, at_least=2, timeout=90)
        print(f"the caller's page heard: {heard_by_caller!r}\nthe agent's page heard: {heard_by_agent!r}")
        # the live transcripts: the agent's panel shows the caller's words (the sidecar transcribes the caller),
        # and the agent's words, transcribed by the sidecar, show on the caller's page and in the agent's panel
        agent_words = re.compile("sales|today", re.I)
        expect(agent.locator("#agent-call-turns .agent-turn[data-speaker='caller']")
               .filter(has_text=re.compile("saturday", re.I))).not_to_have_count(0, timeout=60_000)
        expect(caller.locator("#qv-transcript [data-speaker='human_agent']").filter(has_text=agent_words)) \
            .not_to_have_count(0, timeout=60_000)
        expect(agent.locator("#agent-call-turns .agent-turn[data-speaker='human_agent']")
               .filter(has_text=agent_words)).not_to_have_count(0, timeout=30_000)
        agent.screenshot(path=str(ARTIFACTS / "handoff-agent-on-the-call.png"), full_page=True)
        caller.screenshot(path=str(ARTIFACTS / "handoff-caller-on-the-call.png"), full_page=True)

        said = caller.locator("#qv-transcript .qv-agent")
        before = said.count()
        agent.click("#agent-hand-back")
        expect(agent.locator("#agent-call")).to_have_count(0)
        expect(agent.locator("#agent-today .agent-today-row").filter(has_text="returned to ai")) \
            .to_have_count(1)
        expect(said).not_to_have_count(before, timeout=30_000)  # the AI speaks again, where the call was
        expect(said.nth(before)).to_have_text("Is there anything else I can help you with?")
        conversation, handoff = the_call(live_app, caller)
        assert (handoff.id, handoff.status, handoff.disposition) == (handoff_id, "completed", "returned_to_ai")
        assert conversation.status == "active"
        with database(live_app) as session:
            people = [t.text.lower() for t in session.exec(select(TranscriptTurn).where(
                TranscriptTurn.conversation_id == conversation.id, TranscriptTurn.speaker == "human_agent"))]
        assert any("sales" in text or "today" in text for text in people), people
        hang_up(caller)
        _, conversation = ended_conversation(live_app.database_url, caller.locator("#call-consent-id").inner_text())
        assert (conversation.status, conversation.end_reason) == ("ended", "caller_hung_up")
        go_offline(agent)
        sidecar_idle(live_app)
    except Exception:
        caller.screenshot(path=str(ARTIFACTS / "handoff-caller.png"), full_page=True)
        agent.screenshot(path=str(ARTIFACTS / "handoff-agent.png"), full_page=True)
        raise
    finally:
        caller.context.browser.close()
        agent.context.browser.close()


def test_the_agent_ends_the_call_with_a_disposition_and_the_lead_shows_it(live_app, browser, tmp_path):
    wait_for_sidecar(live_app.url, live_app.log_path)
    caller_wav, agent_wav = tmp_path / "caller.wav", tmp_path / "agent.wav"
    render_wav(caller_wav, ASKS_FOR_A_PERSON + [120.0])
    render_wav(agent_wav, AGENT_SAYS)
    caller, agent = two_browsers(browser, caller_wav, agent_wav)
    try:
        agent_ready(agent, live_app)
        handoff_id = the_caller_asks_for_a_person(caller, agent, live_app, f"dana.two-{SUFFIX}@example.com")
        the_agent_accepts(caller, agent, handoff_id)
        agent.select_option("#agent-outcome", "qualified")
        agent.fill("#agent-notes", "Wants a Saturday viewing.")
        agent.click("#agent-complete")
        expect(agent.locator("#agent-call")).to_have_count(0)
        # the call side hears of it, says the flow's goodbye and ends the call
        expect(caller.locator("#qv-status[data-ended='true']")).to_have_count(1, timeout=60_000)
        _, conversation = ended_conversation(live_app.database_url,
                                             caller.locator("#call-consent-id").inner_text())
        assert (conversation.status, conversation.end_reason) == ("ended", "handoff_completed")
        _, handoff = the_call(live_app, caller)
        assert (handoff.id, handoff.status, handoff.disposition) == (handoff_id, "completed", "qualified")
        assert conversation.lead_id is not None

        agent.goto(f"{live_app.url}/leads/{conversation.lead_id}")
        expect(agent.locator("#lead-title")).to_contain_text("Dana", timeout=30_000)
        expect(agent.locator("#lead-status-qualified")).to_have_attribute("aria-pressed", "true")
        expect(agent.locator("#lead-history")).to_contain_text(re.compile("qualified", re.I))
        agent.goto(f"{live_app.url}/agent")
        go_offline(agent)
        sidecar_idle(live_app)
    except Exception:
        caller.screenshot(path=str(ARTIFACTS / "handoff-disposition-caller.png"), full_page=True)
        agent.screenshot(path=str(ARTIFACTS / "handoff-disposition-agent.png"), full_page=True)
        raise
    finally:
        caller.context.browser.close()
        agent.context.browser.close()
