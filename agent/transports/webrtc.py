"""Browser calls over WebRTC (aiortc), run inside the sidecar.

The app posts the browser's offer (``agent/transports/signalling.py``); ``BrowserCalls.open`` (browser_calls.py)
takes it with a ``WebRTCPeer``, opens the conversation and answers. Once the browser's connection is up, the call
starts and speaks the greeting, so the caller hears all of it.

Media: the browser's microphone (Opus, decoded to 48 kHz stereo) is resampled to 16 kHz mono into
``call.caller_audio``; the agent's speech is written into an ``OutgoingAudioTrack`` the browser hears. The
"events" data channel carries the live transcript and the hang-up (``agent/transports/events.py``). The call ends
when the browser's connection fails or closes or its microphone track ends, besides the ways every browser call
ends (browser_calls.py); a connection that never comes up may still be taken over by the WebSocket transport.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from aiortc import RTCConfiguration, RTCDataChannel, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from aiortc.sdp import SessionDescription
from livekit import rtc

from agent.transports import events
from agent.transports.audio_track import CallerAudioConverter, OutgoingAudioTrack
from agent.transports.browser_calls import BrowserCalls, CallerPeer
from agent.transports.events import EventChannel
from quantum_voice.core.errors import DomainError

log = logging.getLogger(__name__)
__all__ = ["BrowserCalls", "WebRTCPeer"]  # BrowserCalls was defined here before the socket transport came


class WebRTCPeer(CallerPeer):
    """One browser in a call over WebRTC: its peer connection, the microphone it sends, the track it hears and
    its events channel."""

    def __init__(self, offer_sdp: str) -> None:
        super().__init__(OutgoingAudioTrack(), EventChannel())
        self.offer_sdp = offer_sdp
        self.answer_sdp: str | None = None
        # no ICE servers: aiortc would otherwise ask a public STUN server, and there is no internet
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.microphone: MediaStreamTrack | None = None
        self.connected: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._forwarding: asyncio.Task | None = None
        self.pc.on("connectionstatechange", self._on_connection_state)
        self.pc.on("datachannel", self._on_datachannel)
        self.pc.on("track", self._on_track)

    async def accept(self) -> None:
        """Take the browser's offer; it must send its microphone and receive the agent's voice."""
        _check_offer(self.offer_sdp)
        try:
            await self.pc.setRemoteDescription(RTCSessionDescription(sdp=self.offer_sdp, type="offer"))
        except Exception as exc:
            raise DomainError(f"The WebRTC offer could not be used ({exc.__class__.__name__}: {exc}). Send the "
                              "browser's complete offer (pc.localDescription.sdp after ICE gathering).",
                              code="bad_offer", field="sdp") from None
        if self.microphone is None:
            raise DomainError("The offer has no audio track. Add the microphone to the connection before creating "
                              "the offer.", code="bad_offer", field="sdp")
        self.pc.addTrack(self.hears)

    async def answer(self) -> None:
        await self.pc.setLocalDescription(await self.pc.createAnswer())  # gathers the host ICE candidates
        self.answer_sdp = self.pc.localDescription.sdp

    async def wait_connected(self, timeout: float) -> bool:
        try:
            return await asyncio.wait_for(asyncio.shield(self.connected), timeout)
        except TimeoutError:
            return False

    def forward_audio(self, push: Callable[[rtc.AudioFrame], None]) -> None:
        self._forwarding = asyncio.ensure_future(self._forward(push))

    async def close(self) -> None:
        if self._forwarding is not None:
            self._forwarding.cancel()
        self.hears.stop()
        await self.pc.close()

    async def _forward(self, push: Callable[[rtc.AudioFrame], None]) -> None:
        converter, microphone = CallerAudioConverter(), self.microphone
        while True:
            try:
                frame = await microphone.recv()
            except MediaStreamError:  # the browser stopped sending: it is gone
                self.leave("hung_up")
                return
            for converted in converter.convert(frame):
                push(converted)

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
        channel.on("message", self.on_message)

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
