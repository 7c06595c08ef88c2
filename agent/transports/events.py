"""The "events" data channel of a browser call: what the caller's page shows live, as JSON text messages.

Sidecar → browser:

* ``{"type": "transcript", "speaker": "caller", "text": str}`` — the caller's turn, once, when it is final.
* ``{"type": "transcript", "speaker": "agent", "text": str, "seq": int, "interrupted": bool, "heard": str|null}``
  — an agent turn as soon as it starts playing (``interrupted`` false, ``heard`` null); the same ``seq`` again
  when the caller talked over it (``interrupted`` true, ``heard`` the part that played). ``seq`` numbers the agent
  turns the caller heard on this connection, 0 for the greeting (on a resumed call, for the line that picks it up
  again: the page numbers on after what it already shows). A reply the caller spoke over before any of it played is
  not sent.
* ``{"type": "agent_state", "state": "listening" | "thinking" | "speaking"}``
* ``{"type": "ended", "reason": str}`` — the last message of the call, whoever ended it.

Browser → sidecar: ``{"type": "hangup"}``, optionally with ``"reason"`` (lowercase and underscores, at most 60
characters, e.g. ``caller_left_page``; default ``caller_hung_up``), kept as the conversation's end reason.

The browser opens the channel; messages sent before it is open wait in order and go out when it opens. A call over
the WebSocket fallback carries the same messages as the socket's text messages (``pcm_socket.py``).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

from aiortc import RTCDataChannel

from agent.call import VoiceCall
from agent.turn_report import TurnReport

log = logging.getLogger(__name__)

EVENTS_LABEL = "events"
AGENT_STATES = ("listening", "thinking", "speaking")  # livekit's "initializing" and "idle" are not the page's


class EventChannel:
    """JSON messages to one browser over its "events" data channel, kept until the channel is open."""

    def __init__(self) -> None:
        self.channel: RTCDataChannel | None = None
        self._waiting: list[str] = []

    def attach(self, channel: RTCDataChannel) -> None:
        self.channel = channel
        if channel.readyState == "open":
            self._send_waiting()
        else:
            channel.on("open", self._send_waiting)

    def send(self, message: dict[str, Any]) -> None:
        text = json.dumps(message)
        if self.channel is not None and self.channel.readyState == "open":
            self.channel.send(text)
        elif self.channel is None or self.channel.readyState == "connecting":
            self._waiting.append(text)
        # closing or closed: the browser is gone, nobody will read it

    async def flush(self, timeout: float = 1.0) -> None:
        """Until what was sent has left (the "ended" message before the connection closes)."""
        deadline = time.monotonic() + timeout
        channel = self.channel
        while channel is not None and channel.readyState == "open" and channel.bufferedAmount \
                and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        # bufferedAmount counts what aiortc has not handed to SCTP; give SCTP a moment to put it on the wire
        await asyncio.sleep(0.05)

    def _send_waiting(self) -> None:
        waiting, self._waiting = self._waiting, []
        for text in waiting:
            self.channel.send(text)


def agent_turn(seq: int, text: str, *, interrupted: bool = False, heard: str | None = None) -> dict[str, Any]:
    return {"type": "transcript", "speaker": "agent", "text": text, "seq": seq, "interrupted": interrupted,
            "heard": heard}


def caller_turn(text: str) -> dict[str, Any]:
    return {"type": "transcript", "speaker": "caller", "text": text}


def ended(reason: str) -> dict[str, Any]:
    return {"type": "ended", "reason": reason}


class CallTranscriptFeed:
    """Turns one call's session events and turn reports into the page's messages.

    An agent turn goes out when its first audio frame is played (the reply the flow gave that speech), and again
    with the same seq if its report says it was interrupted; a turn whose text was not known when it started (the
    apology for a lost turn) goes out with its report."""

    def __init__(self, call: VoiceCall, events: EventChannel) -> None:
        self._call, self._events = call, events
        self._seq_by_speech: dict[str, int] = {}
        self._next_seq = 0

    def watch(self) -> None:
        """Listen to the call; the agent-audio and report listeners before ``call.start()``, so the greeting's
        first frame is seen."""
        if self._call.agent_audio is not None:
            self._call.agent_audio.first_frame_listeners.append(self._on_agent_audio_started)
        self._call.listeners.append(self._on_report)

    def watch_session(self) -> None:
        """Listen to the session (after ``call.start()``, which creates it)."""
        session = self._call.session
        session.on("agent_state_changed", self._on_agent_state)
        session.on("conversation_item_added", self._on_item)
        if session.agent_state in AGENT_STATES:
            self._events.send({"type": "agent_state", "state": session.agent_state})

    def _on_agent_state(self, ev) -> None:
        if ev.new_state in AGENT_STATES:
            self._events.send({"type": "agent_state", "state": ev.new_state})

    def _on_item(self, ev) -> None:
        item = ev.item
        if getattr(item, "role", None) == "user" and (item.text_content or "").strip():
            self._events.send(caller_turn(item.text_content.strip()))

    def _on_agent_audio_started(self, _monotonic: float) -> None:
        speech = self._current_speech()
        reply = self._call.flow_llm.spoken.get(speech.id) if speech is not None else None
        if reply is None or not reply.text:
            return
        self._seq_by_speech[speech.id] = seq = self._take_seq()
        self._events.send(agent_turn(seq, reply.text))

    def _on_report(self, report: TurnReport) -> None:
        if report.unspoken or not report.reply:
            return  # nobody heard it
        speech = self._current_speech()  # the report is made while its speech is still the current one
        seq = self._seq_by_speech.pop(speech.id, None) if speech is not None else None
        if seq is None:
            self._events.send(agent_turn(self._take_seq(), report.reply, interrupted=report.interrupted,
                                         heard=report.heard if report.interrupted else None))
        elif report.interrupted:
            self._events.send(agent_turn(seq, report.reply, interrupted=True, heard=report.heard))

    def _current_speech(self):
        session = self._call.session
        return session.current_speech if session is not None else None

    def _take_seq(self) -> int:
        seq, self._next_seq = self._next_seq, self._next_seq + 1
        return seq
