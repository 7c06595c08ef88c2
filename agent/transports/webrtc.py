"""Browser calls over WebRTC (aiortc), run inside the sidecar.

The app posts the browser's offer (``agent/transports/signalling.py``); ``BrowserCalls.open`` opens the
conversation (the greeting is computed, the conversation id goes back with the answer) and answers. Once the
browser's connection is up, the ``VoiceCall`` starts and speaks the greeting, so the caller hears all of it.

Media: the browser's microphone (Opus, decoded to 48 kHz stereo) is resampled to 16 kHz mono into
``call.caller_audio``; the agent's speech is written into an ``OutgoingAudioTrack`` the browser hears. The
"events" data channel carries the live transcript and the hang-up (``agent/transports/events.py``).

A call ends when the browser sends ``{"type": "hangup"}``, its connection fails or closes, its microphone track
ends, the app asks (``POST /calls/{id}/hangup``), the flow ends it (after the goodbye has played), or the sidecar
stops (``voice_worker_stopped``); the browser always gets ``{"type": "ended", "reason"}`` last.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import uuid
from dataclasses import dataclass

from aiortc import RTCConfiguration, RTCDataChannel, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from aiortc.sdp import SessionDescription

from agent.brain import BrainReply, CallBrain
from agent.call import VoiceCall, campaign_vocabulary
from agent.transports import events
from agent.transports.audio_track import CallerAudioConverter, OutgoingAudioTrack
from agent.transports.events import CallTranscriptFeed, EventChannel
from agent.voice import LocalVoice
from quantum_voice.core.errors import DomainError, ServiceUnavailable
from quantum_voice.models.calls import Conversation
from quantum_voice.services.conversations import CallSetup

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_SECONDS = 30.0  # offer answered → browser connected (ICE + DTLS take well under a second on a LAN)
GOODBYE_GRACE_SECONDS = 2.0  # past the buffered audio, before the connection closes under the goodbye
HANG_UP_TIMEOUT_SECONDS = 15.0
_END_REASON = re.compile(r"[a-z][a-z_]{0,59}")  # conversations.end_reason: 60 characters


@dataclass
class OpenedCallBrain(CallBrain):
    """A ``CallBrain`` whose conversation is opened before the call's session starts: the answer to the browser
    carries the conversation id, and the greeting is spoken once the media is connected."""

    greeting: BrainReply | None = None

    async def start(self) -> BrainReply:
        if self.greeting is None:
            self.greeting = await super().start()
        return self.greeting


class BrowserPeer:
    """One browser in a call: its peer connection, the microphone it sends, the track it hears and its events
    channel. The caller is one; a human agent joining for the hand-off will be another of the same kind."""

    def __init__(self) -> None:
        # no ICE servers: aiortc would otherwise ask a public STUN server, and there is no internet
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.hears = OutgoingAudioTrack()
        self.events = EventChannel()
        self.microphone: MediaStreamTrack | None = None
        loop = asyncio.get_running_loop()
        self.connected: asyncio.Future[bool] = loop.create_future()
        self.left: asyncio.Future[str] = loop.create_future()  # "hung_up" | "dropped"
        self.hang_up_reason: str | None = None  # what the page said when it hung up (e.g. caller_left_page)
        self.pc.on("connectionstatechange", self._on_connection_state)
        self.pc.on("datachannel", self._on_datachannel)
        self.pc.on("track", self._on_track)

    async def accept_offer(self, sdp: str) -> None:
        """Take the browser's offer; it must send its microphone and receive the agent's voice."""
        _check_offer(sdp)
        try:
            await self.pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
        except Exception as exc:
            raise DomainError(f"The WebRTC offer could not be used ({exc.__class__.__name__}: {exc}). Send the "
                              "browser's complete offer (pc.localDescription.sdp after ICE gathering).",
                              code="bad_offer", field="sdp") from None
        if self.microphone is None:
            raise DomainError("The offer has no audio track. Add the microphone to the connection before creating "
                              "the offer.", code="bad_offer", field="sdp")
        self.pc.addTrack(self.hears)

    async def answer(self) -> str:
        await self.pc.setLocalDescription(await self.pc.createAnswer())  # gathers the host ICE candidates
        return self.pc.localDescription.sdp

    async def wait_connected(self, timeout: float) -> bool:
        try:
            return await asyncio.wait_for(asyncio.shield(self.connected), timeout)
        except TimeoutError:
            return False

    async def close(self) -> None:
        self.hears.stop()
        await self.pc.close()

    def leave(self, how: str) -> None:
        """The browser is gone: ``hung_up`` (it said so, or closed) or ``dropped`` (the connection failed)."""
        if not self.left.done():
            self.left.set_result(how)

    def _on_connection_state(self) -> None:
        state = self.pc.connectionState
        if state == "connected" and not self.connected.done():
            self.connected.set_result(True)
        elif state in ("failed", "closed"):
            if not self.connected.done():
                self.connected.set_result(False)
            self.leave("dropped" if state == "failed" else "hung_up")

    def _on_datachannel(self, channel: RTCDataChannel) -> None:
        if channel.label != events.EVENTS_LABEL:
            log.debug("ignoring data channel %r (only %r is spoken)", channel.label, events.EVENTS_LABEL)
            return
        self.events.attach(channel)
        channel.on("message", self._on_message)

    def _on_message(self, message) -> None:
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

    def _on_track(self, track: MediaStreamTrack) -> None:
        if track.kind == "audio" and self.microphone is None:
            self.microphone = track


def _check_offer(sdp: str) -> None:
    if not isinstance(sdp, str) or not sdp.strip().startswith("v=0"):
        raise DomainError("The WebRTC offer is not SDP. Send the browser's pc.localDescription.sdp.",
                          code="bad_offer", field="sdp")
    try:
        description = SessionDescription.parse(sdp)
    except Exception as exc:
        raise DomainError(f"The WebRTC offer could not be read ({exc.__class__.__name__}). Send the browser's "
                          "pc.localDescription.sdp unchanged.", code="bad_offer", field="sdp") from None
    audio = [m for m in description.media if m.kind == "audio"]
    if not audio:
        raise DomainError("The offer has no audio track. Add the microphone to the connection before creating "
                          "the offer.", code="bad_offer", field="sdp")
    if (audio[0].direction or "sendrecv") != "sendrecv":
        raise DomainError("The offer's audio must be sendrecv: the caller sends the microphone and hears the "
                          "agent. Add the microphone with addTrack before creating the offer.",
                          code="bad_offer", field="sdp")


class BrowserCall:
    """One browser call: the caller's peer, the voice call, and what ties them together — the caller's
    microphone into the call, the call's speech into the track the caller hears, the transcript feed.

    For the hand-off, a human agent's ``BrowserPeer`` will join here: it hears the caller's microphone (the
    forwarder below feeds it too) and the caller hears it through the same outgoing track while the AI is paused.
    """

    def __init__(self, call_id: str, call: VoiceCall, caller: BrowserPeer) -> None:
        self.id, self.call, self.caller = call_id, call, caller
        self.feed = CallTranscriptFeed(call, caller.events)
        self.end_reason: str | None = None
        self._hang_up: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._forwarding: asyncio.Task | None = None
        self.task: asyncio.Task | None = None

    @property
    def conversation_id(self) -> int | None:
        return self.call.brain.conversation_id

    def hang_up(self, reason: str) -> None:
        """End the call (the app asked, the sidecar is stopping); the first reason given is kept."""
        if not self._hang_up.done():
            self._hang_up.set_result(reason)

    async def run(self, connect_timeout: float = CONNECT_TIMEOUT_SECONDS) -> None:
        """The call from the answered offer to the end: wait for the browser, converse, close."""
        self.caller.left.add_done_callback(self._caller_left)
        try:
            if not await self._wait_connected(connect_timeout):
                await self.call.hang_up(self._hang_up.result() if self._hang_up.done() else "call_not_connected")
                return
            self.feed.watch()
            await self.call.start()
            self.feed.watch_session()
            self._forwarding = asyncio.ensure_future(self._forward_caller_audio())
            await self._converse()
        except Exception:
            log.exception("browser call %s (conversation %s) failed", self.id, self.conversation_id)
            try:
                await self.call.hang_up("call_dropped")
            except Exception:
                log.exception("could not close conversation %s of browser call %s", self.conversation_id, self.id)
        finally:
            await self._close()

    async def _wait_connected(self, timeout: float) -> bool:
        connected = asyncio.ensure_future(self.caller.wait_connected(timeout))
        await asyncio.wait({connected, self._hang_up}, return_when=asyncio.FIRST_COMPLETED)
        if not connected.done():
            connected.cancel()
            return False
        return connected.result()

    async def _converse(self) -> None:
        over = asyncio.ensure_future(self.call.ended.wait())
        try:
            await asyncio.wait({over, self._hang_up}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            over.cancel()
        if self._hang_up.done() and not self.call.ended.is_set():
            await self.call.hang_up(self._hang_up.result())
            return
        # the call ended itself: the flow said goodbye, or the time limit did; if instead the session closed on
        # its own (a failure), the conversation is still open and is closed here
        if await self._recorded_end_reason() is None:
            await self.call.hang_up("call_dropped")
        hears = self.caller.hears
        await hears.wait_until_played(hears.buffered_seconds + GOODBYE_GRACE_SECONDS)

    async def _forward_caller_audio(self) -> None:
        converter, microphone = CallerAudioConverter(), self.caller.microphone
        while True:
            try:
                frame = await microphone.recv()
            except MediaStreamError:  # the browser stopped sending: it is gone
                self.caller.leave("hung_up")
                return
            for converted in converter.convert(frame):
                self.call.caller_audio.push(converted)

    def _caller_left(self, left: asyncio.Future) -> None:
        if not left.cancelled():
            self.hang_up("call_dropped" if left.result() == "dropped"
                         else self.caller.hang_up_reason or "caller_hung_up")

    async def _close(self) -> None:
        if self._forwarding is not None:
            self._forwarding.cancel()
        fallback = self._hang_up.result() if self._hang_up.done() else "call_dropped"
        self.end_reason = await self._recorded_end_reason() or fallback
        self.caller.events.send(events.ended(self.end_reason))
        await self.caller.events.flush()
        await self.caller.close()

    async def _recorded_end_reason(self) -> str | None:
        """Why the conversation ended, as saved (the flow's own reason when it ended the call); None while it is
        still open, or when it cannot be read."""
        def read(repo, conversation_id):
            return repo.get(Conversation, conversation_id).end_reason
        try:
            return await self.call.brain.run(read)
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
        self.stopping = False

    @property
    def active(self) -> int:
        return len(self.calls) + self._opening

    async def open(self, campaign_id: int, offer_sdp: str, setup: CallSetup) -> tuple[BrowserCall, str]:
        """Open the conversation and answer the offer; the call then runs until it ends. Returns the call and
        the answer's SDP."""
        if self.stopping:
            raise ServiceUnavailable("This voice sidecar is stopping. Try another one, or again in a minute.",
                                     code="stopping")
        if self.active >= self.capacity:
            raise ServiceUnavailable(f"This voice sidecar is taking its maximum of {self.capacity} calls. Try "
                                     "another sidecar or later, or raise VOICE_MAX_CALLS.", code="at_capacity")
        self._opening += 1
        peer: BrowserPeer | None = None
        brain = OpenedCallBrain(campaign_id, setup=setup, worker_id=self.worker_id)
        try:
            peer = BrowserPeer()
            await peer.accept_offer(offer_sdp)
            await brain.start()
            call = VoiceCall(brain=brain, sink=peer.hears, output_sample_rate=peer.hears.sample_rate,
                             turn_taking=self.voice.turn_taking(),
                             **self.voice.session_parts(await campaign_vocabulary(campaign_id)))
            answer = await peer.answer()
        except BaseException:
            if peer is not None:
                await peer.close()
            if brain.conversation_id is not None:
                await brain.hang_up("call_not_connected")
            raise
        finally:
            self._opening -= 1
        browser_call = BrowserCall(uuid.uuid4().hex, call, peer)
        self.calls[browser_call.id] = browser_call
        browser_call.task = asyncio.ensure_future(browser_call.run(self.connect_timeout))
        browser_call.task.add_done_callback(lambda _t: self.calls.pop(browser_call.id, None))
        log.info("browser call %s opened (conversation %s, campaign %s)", browser_call.id, brain.conversation_id,
                 campaign_id)
        return browser_call, answer

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


async def _finished(browser_call: BrowserCall, timeout: float) -> None:
    if browser_call.task is None:
        return
    try:
        await asyncio.wait_for(asyncio.shield(browser_call.task), timeout)
    except TimeoutError:
        log.warning("browser call %s did not close within %.0f s", browser_call.id, timeout)
    except Exception:
        pass  # logged by the call itself
