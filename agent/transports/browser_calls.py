"""Browser calls on this sidecar, whatever carries their media.

``BrowserCalls.open`` opens the conversation (the greeting is computed, the conversation id goes back to the app)
for a caller whose transport is ready, and the call then runs on its own: once the caller's browser is connected,
a ``VoiceCall`` starts and speaks the greeting, so the caller hears all of it. Two transports: WebRTC
(``webrtc.py``: aiortc, the "events" data channel) and a WebSocket of PCM (``pcm_socket.py``: the fallback when
WebRTC cannot connect). ``BrowserCalls.take_over`` moves a call whose browser has not connected yet onto another
transport: the same call and conversation, its greeting still unspoken, so the page can fall back from WebRTC to
the socket without a second conversation (the consent ticket belongs to one call). ``BrowserCalls.resume`` carries
on a call whose sidecar was lost (it crashed mid-call) on this one: the same conversation, no greeting; once the
browser is connected again the agent says they got cut off and asks again what the flow was waiting for.
``BrowserCall.join_agent`` bridges a human agent's browser into a connected call for the hand-off
(``agent_socket.py``): it hears the caller, and the caller hears it mixed into the call's audio.

A call ends when the browser sends ``{"type": "hangup"}``, its connection fails or closes, its microphone ends, the
app asks (``POST /calls/{id}/hangup``), the flow ends it (after the goodbye has played), or the sidecar stops
(``voice_worker_stopped``); the browser always gets ``{"type": "ended", "reason"}`` last.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from livekit import rtc

from agent.brain import BrainReply, CallBrain
from agent.call import VoiceCall, campaign_vocabulary
from agent.transports import events
from agent.transports.agent_speech import AgentSpeech
from agent.transports.events import CallTranscriptFeed
from agent.voice import LocalVoice
from quantum_voice.core.errors import Conflict, NotFound, ServiceUnavailable
from quantum_voice.models.calls import Conversation
from quantum_voice.services.conversations import CallSetup
from quantum_voice.services.handoffs import on_the_call

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_SECONDS = 30.0  # opened → browser connected (ICE + DTLS take well under a second on a LAN)
GOODBYE_GRACE_SECONDS = 2.0  # past the buffered audio, before the connection closes under the goodbye
HANG_UP_TIMEOUT_SECONDS = 15.0
AGENT_ABSENT_SECONDS = 20.0  # a person took the call but their audio is not on it: then it goes back to the AI
PERSON_CHECK_SECONDS = 1.0
_END_REASON = re.compile(r"[a-z][a-z_]{0,59}")  # conversations.end_reason: 60 characters


@dataclass
class OpenedCallBrain(CallBrain):
    """A ``CallBrain`` whose conversation is opened (or resumed) before the call's session starts: the app gets the
    conversation id at once, and the first line — the greeting, or the resume line — is spoken once the media is
    connected."""

    greeting: BrainReply | None = None

    async def start(self) -> BrainReply:
        if self.greeting is None:
            self.greeting = await super().start()
        return self.greeting

    async def resume(self) -> BrainReply:
        if self.greeting is None:
            self.greeting = await super().resume()
        return self.greeting


class CallerPeer:
    """One browser in a call, whatever carries its media: ``hears`` (the call's ``AudioSink``, paced out in real
    time: ``sample_rate``, ``buffered_seconds``, ``wait_until_played``), ``events`` (JSON messages: ``send``,
    ``flush``), the caller's audio it forwards into the call, and ``left`` once the browser is gone. The caller is
    one; a human agent joining for the hand-off is another of the same kind (``agent_socket.AgentPeer``)."""

    def __init__(self, hears: Any, events: Any) -> None:
        self.hears, self.events = hears, events
        self.left: asyncio.Future[str] = asyncio.get_running_loop().create_future()  # "hung_up" | "dropped"
        self.hang_up_reason: str | None = None  # what the page said when it hung up (e.g. caller_left_page)

    async def accept(self) -> None:
        """Before the conversation opens: raise ``DomainError`` for a browser this transport cannot serve."""

    async def answer(self) -> None:
        """Once the conversation is open: prepare what the browser needs to connect (WebRTC's answer)."""

    async def wait_connected(self, timeout: float) -> bool:
        raise NotImplementedError

    def forward_audio(self, push: Callable[[rtc.AudioFrame], None]) -> None:
        """From now on, the caller's audio goes to ``push`` as 16 kHz mono frames."""
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError

    def leave(self, how: str) -> None:
        """The browser is gone: ``hung_up`` (it said so, or closed) or ``dropped`` (the connection failed)."""
        if not self.left.done():
            self.left.set_result(how)

    def on_message(self, message: Any) -> None:
        """A text message from the browser's side of the events (``{"type": "hangup"}``, events.py)."""
        try:
            event = json.loads(message) if isinstance(message, str) else None
        except ValueError:
            event = None
        if isinstance(event, dict) and event.get("type") == "hangup":
            reason = event.get("reason")
            # the page may say why (caller_left_page, connection_failed): kept when it looks like an end reason
            if isinstance(reason, str) and _END_REASON.fullmatch(reason):
                self.hang_up_reason = reason
            self.leave("hung_up")
        else:
            log.debug("ignoring an events message the sidecar does not know: %.80r", message)


VoiceCallFactory = Callable[[CallerPeer], VoiceCall]


class BrowserCall:
    """One browser call: the conversation, the caller's peer, and — from the moment the caller is connected —
    the voice call and what ties them together: the caller's audio into the call, the call's speech into what the
    caller hears, the transcript feed.

    For the hand-off, a human agent's peer joins here (``join_agent``): the caller's audio goes to it as well as
    to the call (the AI still transcribes the caller), and its microphone is mixed live into what the caller hears,
    beside the call's speech and untouched by the call's barge-in.
    """

    def __init__(self, call_id: str, brain: OpenedCallBrain, caller: CallerPeer, voice_call: VoiceCallFactory) -> None:
        self.id, self.brain, self.caller = call_id, brain, caller
        self.call: VoiceCall | None = None  # once the caller is connected
        self.agent: CallerPeer | None = None  # a human agent's browser, while one is on the call
        self._agent_speech: AgentSpeech | None = None  # their words, transcribed, while they are on the call
        self._background: set[asyncio.Future] = set()
        self.end_reason: str | None = None
        self._closing = False
        self._agent_closing: asyncio.Task | None = None  # an agent who left, being closed
        self._voice_call = voice_call
        self._hang_up: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._caller_changed = asyncio.Event()
        self.task: asyncio.Task | None = None

    @property
    def conversation_id(self) -> int | None:
        return self.brain.conversation_id

    def hang_up(self, reason: str) -> None:
        """End the call (the app asked, the sidecar is stopping); the first reason given is kept."""
        if not self._hang_up.done():
            self._hang_up.set_result(reason)

    async def take_over(self, caller: CallerPeer) -> None:
        """Another transport takes the caller over; only while nobody has connected (the page gave up on WebRTC)."""
        if self.call is not None or self._hang_up.done() or (self.task is not None and self.task.done()):
            raise Conflict("This call is already connected (or over), so it cannot move to another connection. "
                           "Hang up and start a new call.", code="already_connected")
        previous, self.caller = self.caller, caller
        self._caller_changed.set()
        await previous.close()

    async def run(self, connect_timeout: float = CONNECT_TIMEOUT_SECONDS) -> None:
        """The call from its opening to the end: wait for the browser, converse, close."""
        try:
            if not await self._wait_connected(connect_timeout):
                await self.brain.hang_up(self._hang_up.result() if self._hang_up.done() else "call_not_connected")
                return
            caller = self.caller
            caller.left.add_done_callback(self._caller_left)
            self.call = call = self._voice_call(caller)
            feed = CallTranscriptFeed(call, caller.events)
            feed.watch()
            await call.start()
            feed.watch_session()
            caller.forward_audio(self._from_caller)
            await self._converse()
        except Exception:
            log.exception("browser call %s (conversation %s) failed", self.id, self.conversation_id)
            try:
                await (self.call.hang_up("call_dropped") if self.call else self.brain.hang_up("call_dropped"))
            except Exception:
                log.exception("could not close conversation %s of browser call %s", self.conversation_id, self.id)
        finally:
            await self._close()

    def join_agent(self, agent: CallerPeer) -> None:
        """A human agent's browser joins the connected call, one at a time, until it leaves or the call ends (then
        it is told ``ended`` and closed, as the caller is). Raises ``Conflict`` when it cannot join now."""
        if self._closing or self._hang_up.done() or (self.call is not None and self.call.ended.is_set()):
            raise Conflict("This call has ended.", code="call_ended")
        if self.call is None:
            raise Conflict("The caller is not connected yet. Try again in a moment.", code="call_not_connected")
        if self.agent is not None:
            raise Conflict("Another agent is already on this call.", code="agent_already_joined")
        self.agent = agent
        self._agent_speech = AgentSpeech(stt=self.call.stt, vad=self.call.vad, brain=self.brain,
                                         caller_events=self.caller.events,
                                         name=getattr(agent, "agent_name", "") or "Agent")
        agent.forward_audio(self._from_agent)
        agent.left.add_done_callback(lambda _left: self._agent_left(agent))
        log.info("an agent joined browser call %s (conversation %s)", self.id, self.conversation_id)

    async def _watch_the_person(self) -> None:
        """A person has taken the call but no agent's audio has been on it for ``AGENT_ABSENT_SECONDS`` (their
        browser dropped, or never connected): the call goes back to the AI, which tells the caller, instead of
        leaving them in silence."""
        absent = 0.0
        while True:
            await asyncio.sleep(PERSON_CHECK_SECONDS)
            if not self.brain.with_person or self.agent is not None:
                absent = 0.0
                continue
            absent += PERSON_CHECK_SECONDS
            if absent < AGENT_ABSENT_SECONDS:
                continue
            absent = 0.0
            try:
                if await self.brain.run(on_the_call.give_back_unattended, AGENT_ABSENT_SECONDS):
                    log.info("no agent audio on browser call %s (conversation %s) for %.0f s: back to the AI",
                             self.id, self.conversation_id, AGENT_ABSENT_SECONDS)
            except Exception:
                log.warning("could not give conversation %s back to the AI", self.conversation_id, exc_info=True)

    def _from_caller(self, frame: rtc.AudioFrame) -> None:
        self.call.caller_audio.push(frame)
        if self.agent is not None:
            self.agent.hears.live.push(frame)

    def _from_agent(self, frame: rtc.AudioFrame) -> None:
        self.caller.hears.live.push(frame)
        if self._agent_speech is not None:
            self._agent_speech.push(frame)

    def _stop_agent_speech(self) -> None:
        if self._agent_speech is not None:
            speech, self._agent_speech = self._agent_speech, None
            closing = asyncio.ensure_future(speech.close())
            self._background.add(closing)
            closing.add_done_callback(self._background.discard)

    def _agent_left(self, agent: CallerPeer) -> None:
        if self.agent is not agent:
            return  # the call is closing: it tells the agent and closes it
        self.agent = None
        self._stop_agent_speech()
        self.caller.hears.live.clear()
        self._agent_closing = asyncio.ensure_future(agent.close())
        log.info("the agent left browser call %s (conversation %s); the call goes on", self.id,
                 self.conversation_id)

    async def _wait_connected(self, timeout: float) -> bool:
        """Until the caller's browser is connected; False when the call was hung up first or nobody connected in
        time. A caller whose connection failed may still be taken over by another transport until then."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            self._caller_changed.clear()
            connected = asyncio.ensure_future(self.caller.wait_connected(max(0.0, deadline - loop.time())))
            changed = asyncio.ensure_future(self._caller_changed.wait())
            waiting = {connected, changed, self._hang_up}
            try:
                while True:
                    done, _ = await asyncio.wait(waiting, timeout=max(0.0, deadline - loop.time()),
                                                 return_when=asyncio.FIRST_COMPLETED)
                    if not done or self._hang_up.done():
                        return False
                    if changed.done():
                        break  # another transport took the caller over: wait for that one
                    if connected.result():
                        return True
                    waiting.discard(connected)  # this one could not connect
            finally:
                connected.cancel()
                changed.cancel()

    async def _converse(self) -> None:
        over = asyncio.ensure_future(self.call.ended.wait())
        watching = asyncio.ensure_future(self._watch_the_person())
        try:
            await asyncio.wait({over, self._hang_up}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            over.cancel()
            watching.cancel()
        if self._hang_up.done() and not self.call.ended.is_set():
            await self.call.hang_up(self._hang_up.result())
            return
        # the call ended itself: the flow said goodbye, or the time limit did; if instead the session closed on
        # its own (a failure), the conversation is still open and is closed here
        if await self._recorded_end_reason() is None:
            await self.call.hang_up("call_dropped")
        hears = self.caller.hears
        await hears.wait_until_played(hears.buffered_seconds + GOODBYE_GRACE_SECONDS)

    def _caller_left(self, left: asyncio.Future) -> None:
        if not left.cancelled():
            self.hang_up("call_dropped" if left.result() == "dropped"
                         else self.caller.hang_up_reason or "caller_hung_up")

    async def _close(self) -> None:
        self._closing = True
        fallback = self._hang_up.result() if self._hang_up.done() else "call_dropped"
        self.end_reason = await self._recorded_end_reason() or fallback
        peers = [self.caller] + ([self.agent] if self.agent is not None else [])
        self.agent = None
        self._stop_agent_speech()
        for peer in peers:
            peer.events.send(events.ended(self.end_reason))
        await asyncio.gather(*(peer.events.flush() for peer in peers))
        await asyncio.gather(*(peer.close() for peer in peers))

    async def _recorded_end_reason(self) -> str | None:
        """Why the conversation ended, as saved (the flow's own reason when it ended the call); None while it is
        still open, or when it cannot be read."""
        def read(repo, conversation_id):
            return repo.get(Conversation, conversation_id).end_reason
        try:
            return await self.brain.run(read)
        except Exception:
            log.warning("could not read how conversation %s ended", self.conversation_id, exc_info=True)
            return None


class BrowserCalls:
    """This sidecar's browser calls, at most ``capacity`` at once (those being opened count)."""

    def __init__(self, voice: LocalVoice, *, worker_id: str | None, capacity: int,
                 connect_timeout: float = CONNECT_TIMEOUT_SECONDS) -> None:
        self.voice, self.worker_id, self.capacity = voice, worker_id, capacity
        self.connect_timeout = connect_timeout
        self.calls: dict[str, BrowserCall] = {}
        self._opening = 0
        self._resuming: set[int] = set()  # conversations being resumed here (not in calls yet)
        self.stopping = False

    @property
    def active(self) -> int:
        return len(self.calls) + self._opening

    async def open(self, campaign_id: int, setup: CallSetup, caller: CallerPeer) -> BrowserCall:
        """Open the conversation for the browser ``caller``; the call then runs until it ends. The caller's
        ``accept`` runs before the conversation opens (a refused browser opens none), its ``answer`` after; a
        refused caller is closed."""
        return await self._open(OpenedCallBrain(campaign_id, setup=setup, worker_id=self.worker_id), caller)

    async def resume(self, campaign_id: int, conversation_id: int, caller: CallerPeer) -> BrowserCall:
        """Carry on the open conversation ``conversation_id`` of ``campaign_id``, whose sidecar was lost, with the
        browser ``caller``: this sidecar takes the conversation over (no greeting: the resume line once the browser
        is connected). Refused (and the caller closed) for a call that has ended or runs here already."""
        if self.running(conversation_id) is not None or conversation_id in self._resuming:
            await caller.close()
            raise Conflict("This call is already connected on this voice sidecar.", code="call_still_connected")
        self._resuming.add(conversation_id)
        try:
            brain = OpenedCallBrain(campaign_id, worker_id=self.worker_id, conversation_id=conversation_id)
            return await self._open(brain, caller, resume=True)
        finally:
            self._resuming.discard(conversation_id)

    async def _open(self, brain: OpenedCallBrain, caller: CallerPeer, *, resume: bool = False) -> BrowserCall:
        try:
            self._check_room()
        except ServiceUnavailable:
            await caller.close()
            raise
        self._opening += 1
        bound = False  # the conversation is this call's: opened, or taken over
        try:
            await caller.accept()
            await (brain.resume() if resume else brain.start())
            bound = True
            voice_call = self._voice_call_factory(brain, await campaign_vocabulary(brain.campaign_id))
            await caller.answer()
        except BaseException:
            await caller.close()
            if bound:
                await brain.hang_up("call_not_connected")
            raise
        finally:
            self._opening -= 1
        browser_call = BrowserCall(uuid.uuid4().hex, brain, caller, voice_call)
        self.calls[browser_call.id] = browser_call
        browser_call.task = asyncio.ensure_future(browser_call.run(self.connect_timeout))
        browser_call.task.add_done_callback(lambda _t: self.calls.pop(browser_call.id, None))
        log.info("browser call %s %s over %s (conversation %s, campaign %s)", browser_call.id,
                 "resumed" if resume else "opened", type(caller).__name__,
                 brain.conversation_id, brain.campaign_id)
        return browser_call

    def running(self, conversation_id: int) -> BrowserCall | None:
        """The call of this conversation on this sidecar, if it runs here."""
        return next((c for c in self.calls.values() if c.conversation_id == conversation_id), None)

    async def take_over(self, call_id: str, caller: CallerPeer) -> BrowserCall:
        """Move a call whose browser has not connected onto the browser ``caller`` (the page's fallback from
        WebRTC to the socket); a refused caller is closed."""
        try:
            browser_call = self.calls.get(call_id)
            if browser_call is None:
                raise NotFound(f"No call {call_id} on this voice sidecar: it has ended already. Start a new call.")
            await caller.accept()
            await browser_call.take_over(caller)
            await caller.answer()
        except BaseException:
            await caller.close()
            raise
        log.info("browser call %s (conversation %s) moved to %s", call_id, browser_call.conversation_id,
                 type(caller).__name__)
        return browser_call

    async def hang_up(self, call_id: str, reason: str = "caller_hung_up") -> bool:
        """End one call and wait until it is closed; False when there is no such call (it ended already)."""
        browser_call = self.calls.get(call_id)
        if browser_call is None:
            return False
        browser_call.hang_up(reason)
        await _finished(browser_call, HANG_UP_TIMEOUT_SECONDS)
        return True

    async def hang_up_all(self, reason: str = "voice_worker_stopped") -> None:
        """The sidecar is stopping: end every call and take no new ones."""
        self.stopping = True
        calls = list(self.calls.values())
        for browser_call in calls:
            browser_call.hang_up(reason)
        await asyncio.gather(*(_finished(c, HANG_UP_TIMEOUT_SECONDS) for c in calls))

    def _check_room(self) -> None:
        if self.stopping:
            raise ServiceUnavailable("This voice sidecar is stopping. Try another one, or again in a minute.",
                                     code="stopping")
        if self.active >= self.capacity:
            raise ServiceUnavailable(f"This voice sidecar is taking its maximum of {self.capacity} calls. Try "
                                     "another sidecar or later, or raise VOICE_MAX_CALLS.", code="at_capacity")

    def _voice_call_factory(self, brain: OpenedCallBrain, vocabulary: list[str]) -> VoiceCallFactory:
        """The call's voice loop, built for whichever caller connects (its audio rate is the transport's)."""
        parts, turn_taking = self.voice.session_parts(vocabulary), self.voice.turn_taking()

        def voice_call(caller: CallerPeer) -> VoiceCall:
            return VoiceCall(brain=brain, sink=caller.hears, output_sample_rate=caller.hears.sample_rate,
                             turn_taking=turn_taking, **parts)
        return voice_call


async def _finished(browser_call: BrowserCall, timeout: float) -> None:
    if browser_call.task is None:
        return
    try:
        await asyncio.wait_for(asyncio.shield(browser_call.task), timeout)
    except TimeoutError:
        log.warning("browser call %s did not close within %.0f s", browser_call.id, timeout)
    except Exception:
        pass  # logged by the call itself
