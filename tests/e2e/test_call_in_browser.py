"""The product's main loop, end to end: a caller opens the campaign's call link in headless Chromium, passes the
email gate, hears the rings and talks with the agent — a WAV of caller turns synthesized here plays as the
microphone — sees the live transcript with the knowledge base's answer, hangs up; the call, its transcript and a
scored lead with the typed email and consent are in the database."""

from __future__ import annotations

import contextlib
import time

import httpx
import numpy as np
from sqlalchemy import create_engine
from sqlmodel import Session, select

from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, ARTIFACTS


DEMO_SLUG = "harbor-view-spring-open-house"  # the demo campaign `make run` seeds (with its brochure)
RATE = 48000


def caller_wav(path) -> None:
    """Silence while the page rings and the agent greets, then two turns with room for each answer."""
    from agent.providers.audio import as_int16, resample, write_wav
    from agent.providers.piper_tts import synthesize_pcm

    def silence(seconds: float) -> np.ndarray:
        return np.zeros(int(RATE * seconds), dtype=np.int16)

    def said(text: str) -> np.ndarray:
        pcm, rate = synthesize_pcm(text)
        return resample(as_int16(pcm), rate, RATE)

    write_wav(path, np.concatenate([silence(17), said("My name is John Smith."), silence(9),
                                    said("How much is the monthly HOA fee?"), silence(40)]), RATE)


def wait_for_sidecar(url: str, log_path) -> None:
    deadline = time.monotonic() + 240  # it loads Whisper, Piper, the VAD and the intent model first
    detail = None
    while time.monotonic() < deadline:
        detail = httpx.get(f"{url}/api/health", timeout=10).json()["components"]["voice_sidecar"]
        if detail["status"] == "ok":
            return
        time.sleep(2)
    raise AssertionError(f"the voice sidecar never came up: {detail}\n{log_path.read_text()[-3000:]}")


def wait_for_brochure(url: str) -> None:
    api = httpx.Client(base_url=url, timeout=30)
    token = api.post("/api/auth/login", json={"email": "demo@example.com",
                                              "password": "demo-password-123"}).json()["token"]
    api.headers["Authorization"] = f"Bearer {token}"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        found = api.post("/api/knowledge/search", json={"knowledge_base_id": _demo_kb(api),
                                                       "query": "How much is the HOA fee?", "top_k": 1}).json()
        if found.get("answer"):
            return
        time.sleep(2)
    raise AssertionError("the seeded brochure never became searchable")


def _demo_kb(api: httpx.Client) -> int:
    [campaign] = [c for c in api.get("/api/campaigns").json() if c["slug"] == DEMO_SLUG]
    return campaign["knowledge_base_id"]


def test_a_caller_talks_with_the_agent_in_the_browser_and_becomes_a_lead(live_app, browser, tmp_path):
    from playwright.sync_api import expect

    wait_for_sidecar(live_app.url, live_app.log_path)
    wait_for_brochure(live_app.url)
    wav = tmp_path / "caller.wav"
    caller_wav(wav)
    with phone_call(browser, wav, "call-in-browser.png") as page:
        agent = start_call(page, live_app.url, "john.smith@example.com", rings=True)
        expect(agent.filter(has_text="$450")).to_have_count(1, timeout=90_000)
        page.screenshot(path=str(ARTIFACTS / "call-in-browser-live.png"), full_page=True)
        caller_text = " ".join(page.locator("#qv-transcript .qv-caller").all_inner_texts()).lower()
        assert "john" in caller_text and "fee" in caller_text, caller_text
        # the level ring follows the call's audio: it moves while the agent speaks its answer
        page.wait_for_function("() => parseFloat(document.querySelector('#qv-level').dataset.level || '0') > 0.02",
                               timeout=30_000)
        consent_id = page.locator("#call-consent-id").inner_text()
        hang_up(page)

    from quantum_voice.models.calls import ConsentRecord, Conversation, TranscriptTurn
    from quantum_voice.models.leads import Lead

    engine = create_engine(live_app.database_url)
    deadline = time.monotonic() + 30
    while True:
        with Session(engine) as session:
            consent = session.exec(select(ConsentRecord).where(ConsentRecord.public_id == consent_id)).one()
            conversation = session.get(Conversation, consent.conversation_id)
            if conversation.status == "ended" or time.monotonic() > deadline:
                break
        time.sleep(1)
    with Session(engine) as session:
        assert conversation.status == "ended" and conversation.end_reason == "caller_hung_up"
        assert conversation.channel == "web" and not conversation.is_test
        turns = session.exec(select(TranscriptTurn).where(TranscriptTurn.conversation_id == conversation.id)
                             .order_by(TranscriptTurn.seq)).all()
        said = " ".join(t.text.lower() for t in turns if t.speaker == "caller")
        assert "fee" in said and any("$450" in t.text for t in turns if t.speaker == "agent")
        lead = session.exec(select(Lead).where(Lead.conversation_id == conversation.id)).one()
        assert lead.email == "john.smith@example.com" and lead.consent_record_id == consent.id
        assert consent.granted and consent.email == "john.smith@example.com" and consent.wording
        assert lead.score is not None and lead.band and lead.name and "john" in lead.name.lower()
    engine.dispose()


def start_call(page, url: str, email: str, query: str = "audio=raw", *, rings: bool = False):
    """Open the demo campaign's call page, pass the email gate and press Call (and see it ring, with ``rings``);
    returns the agent's bubbles once the greeting is showing."""
    from playwright.sync_api import expect

    page.goto(f"{url}/call/{DEMO_SLUG}?{query}")
    expect(page.locator("#call-campaign-name")).to_have_text("Spring Open House", timeout=60_000)
    page.fill("#call-email", email)
    page.check("#call-consent")
    page.click("#call-start")
    if rings:
        expect(page.locator("#qv-status")).to_have_text("Ringing…", timeout=15_000)
    agent = page.locator("#qv-transcript .qv-agent")
    expect(agent.first).to_contain_text("Harbor View", timeout=45_000)
    return agent


@contextlib.contextmanager
def phone_call(browser, wav, failure_shot: str):
    """A phone-sized page in its own Chromium whose microphone plays ``wav`` (launched by the session's Playwright,
    the ``browser`` fixture's: a second one cannot run beside it); a screenshot is kept if the test fails."""
    phone = chromium_with_microphone(browser, wav)
    page = phone.new_page(viewport={"width": 390, "height": 844})  # a phone: the page is mobile-first
    try:
        yield page
    except Exception:
        page.screenshot(path=str(ARTIFACTS / failure_shot), full_page=True)
        raise
    finally:
        phone.close()


def hang_up(page) -> None:
    from playwright.sync_api import expect

    page.click("#qv-hangup")
    expect(page.locator("#qv-status[data-ended='true']")).to_contain_text("Call ended", timeout=10_000)


def chromium_with_microphone(browser, wav):
    """Another headless Chromium, launched beside the session's ``browser``, whose microphone plays ``wav`` once."""
    args = CHROMIUM_ARGS + ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                            f"--use-file-for-fake-audio-capture={wav}%noloop",
                            "--autoplay-policy=no-user-gesture-required"]
    return browser.browser_type.launch(executable_path=CHROMIUM, args=args, headless=True)


def ended_conversation(database_url: str, consent_id: str, timeout: float = 30):
    """The consent ticket and its call once the conversation has ended (or the timeout passed)."""
    from quantum_voice.models.calls import ConsentRecord, Conversation

    engine = create_engine(database_url)
    deadline = time.monotonic() + timeout
    try:
        while True:
            with Session(engine) as session:
                consent = session.exec(select(ConsentRecord).where(ConsentRecord.public_id == consent_id)).one()
                conversation = session.get(Conversation, consent.conversation_id)
                if conversation.status == "ended" or time.monotonic() > deadline:
                    return consent, conversation
            time.sleep(1)
    finally:
        engine.dispose()


def test_a_caller_on_a_network_without_webrtc_talks_over_the_socket_fallback(live_app, browser, tmp_path):
    from playwright.sync_api import expect

    wait_for_sidecar(live_app.url, live_app.log_path)
    wait_for_brochure(live_app.url)
    wav = tmp_path / "caller.wav"
    caller_wav(wav)
    with phone_call(browser, wav, "call-over-socket.png") as page:
        agent = start_call(page, live_app.url, "jane.doe@example.com", "transport=socket&audio=raw")
        expect(page.locator("#qv-status")).to_have_attribute("data-transport", "socket")
        expect(agent.filter(has_text="$450")).to_have_count(1, timeout=90_000)
        page.screenshot(path=str(ARTIFACTS / "call-over-socket-live.png"), full_page=True)
        caller_text = " ".join(page.locator("#qv-transcript .qv-caller").all_inner_texts()).lower()
        assert "john" in caller_text and "fee" in caller_text, caller_text
        consent_id = page.locator("#call-consent-id").inner_text()
        hang_up(page)

    from quantum_voice.models.calls import TranscriptTurn
    from quantum_voice.models.leads import Lead

    consent, conversation = ended_conversation(live_app.database_url, consent_id)
    assert conversation.status == "ended" and conversation.end_reason == "caller_hung_up"
    engine = create_engine(live_app.database_url)
    with Session(engine) as session:
        turns = session.exec(select(TranscriptTurn).where(TranscriptTurn.conversation_id == conversation.id)).all()
        assert any("$450" in t.text for t in turns if t.speaker == "agent")
        lead = session.exec(select(Lead).where(Lead.conversation_id == conversation.id)).one()
        assert lead.email == "jane.doe@example.com" and lead.consent_record_id == consent.id
    engine.dispose()


def test_the_app_serves_livekit_clients_browser_build_for_livekit_mode(live_app):
    # LiveKit mode's page loads it (no LiveKit server runs here, so the room itself is not exercised)
    served = httpx.get(f"{live_app.url}/vendor/livekit-client.umd.js", timeout=30)
    assert served.status_code == 200 and "LivekitClient" in served.text


# every text the call's status line shows from now on (some last less than a second)
SHOWN_STATUSES = """() => {
  const status = document.getElementById("qv-status");
  window.qvShown = [];
  new MutationObserver(() => window.qvShown.push(status.textContent))
    .observe(status, {childList: true, characterData: true, subtree: true});
}"""


def live_sidecars(url: str) -> str:
    return httpx.get(f"{url}/api/health", timeout=10).json()["components"]["voice_sidecar"]["detail"]


def test_when_the_sidecar_dies_mid_call_the_page_reconnects_on_another_and_the_call_carries_on(
        live_app, spare_sidecar, browser, tmp_path):
    import os
    import signal

    from playwright.sync_api import expect

    from agent.providers.audio import as_int16, resample, write_wav
    from agent.providers.piper_tts import synthesize_pcm
    from quantum_voice.models.calls import ConsentRecord, Conversation, TranscriptTurn
    from quantum_voice.models.system import VoiceWorker

    wait_for_sidecar(live_app.url, live_app.log_path)
    pcm, rate = synthesize_pcm("My name is John Smith.")
    wav = tmp_path / "caller.wav"
    write_wav(wav, np.concatenate([np.zeros(RATE * 17, dtype=np.int16), resample(as_int16(pcm), rate, RATE),
                                   np.zeros(RATE * 70, dtype=np.int16)]), RATE)
    engine = create_engine(live_app.database_url)
    with phone_call(browser, wav, "call-reconnected.png") as page:
        agent = start_call(page, live_app.url, "john.smith@example.com")
        spare = spare_sidecar()  # loads its models while the caller talks to the first one
        expect(agent).to_have_count(2, timeout=60_000)  # the answer to the caller's name
        deadline = time.monotonic() + 120
        while "2 sidecar(s)" not in live_sidecars(live_app.url):
            assert time.monotonic() < deadline and spare.poll() is None, "the spare sidecar never came up"
            time.sleep(1)
        consent_id = page.locator("#call-consent-id").inner_text()
        with Session(engine) as session:
            consent = session.exec(select(ConsentRecord).where(ConsentRecord.public_id == consent_id)).one()
            first = session.get(Conversation, consent.conversation_id).worker_id
            pid = session.get(VoiceWorker, first).pid
        page.evaluate(SHOWN_STATUSES)
        os.kill(pid, signal.SIGKILL)  # the call's sidecar dies mid-call: no goodbye, no "ended"
        expect(agent.filter(has_text="Sorry, we got cut off.")).to_have_count(1, timeout=60_000)
        assert "Reconnecting…" in page.evaluate("window.qvShown"), "the page said it was reconnecting"
        page.screenshot(path=str(ARTIFACTS / "call-reconnected-live.png"), full_page=True)
        expect(agent.first).to_contain_text("Harbor View")  # the same transcript, carried on
        assert agent.count() == 3 and "john" in page.locator("#qv-transcript .qv-caller").first.inner_text().lower()
        hang_up(page)
    engine.dispose()

    consent, conversation = ended_conversation(live_app.database_url, consent_id)
    assert conversation.status == "ended" and conversation.end_reason == "caller_hung_up"
    assert conversation.worker_id != first, "the other sidecar carried the call on"
    engine = create_engine(live_app.database_url)
    with Session(engine) as session:
        turns = [(t.seq, t.text) for t in session.exec(select(TranscriptTurn).where(
            TranscriptTurn.conversation_id == conversation.id).order_by(TranscriptTurn.seq)).all()]
        session.delete(session.get(VoiceWorker, first))  # as its clean stop would have: later tests count one sidecar
        session.commit()
    engine.dispose()
    assert [seq for seq, _ in turns] == list(range(len(turns)))
    assert sum(text.startswith("Sorry, we got cut off.") for _, text in turns) == 1 and turns[0][1].startswith("Hi")
