"""A human agent's browser in a caller's call (the hand-off), over a WebSocket of PCM. The agent's page talks to the
app (``WS /api/handoffs/{id}/audio``, ``quantum_voice/api/handoff_audio.py``), which checks who may join and relays
the socket to ``GET /calls/agent-socket`` here (``signalling.py``; the same ``X-Voice-Sidecar-Key`` check).

* First, one text message: ``{"type": "join", "conversation_id": int, "handoff_id": int, "agent_name": str}``. The
  answer is ``{"type": "joined", "conversation_id": int}``, or ``{"type": "error", "status", "code", "message"}``
  and the socket closes (1008 refused, 1011 try later): 404 ``call_not_here`` when that conversation's call does not
  run on this sidecar, 409 ``agent_already_joined`` while another agent is on it, 409 ``call_not_connected`` before
  the caller's browser is connected, 409 ``call_ended`` once it is over.
* Agent → sidecar: binary messages of 16 kHz mono s16le PCM, any length (the microphone; 20–40 ms each is best),
  mixed into what the caller hears; ``{"type": "leave"}`` (or closing the socket) leaves the call, which goes on.
* Sidecar → agent: binary messages of 16 kHz mono s16le PCM, 20 ms each, paced in real time: the caller's voice
  (nothing is sent while the caller's audio is not arriving); ``{"type": "ended", "reason": str}`` when the call
  ends, and the socket closes.

The bridge itself (the caller's audio to the agent, the agent's into the call's outgoing audio) is
``BrowserCall.join_agent`` (browser_calls.py).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from aiohttp import web

from agent.transports.pcm_socket import SocketPeer

log = logging.getLogger(__name__)

MAX_AGENT_NAME_CHARS = 120


def joined(conversation_id: int) -> dict[str, Any]:
    return {"type": "joined", "conversation_id": conversation_id}


class AgentPeer(SocketPeer):
    """A human agent's browser in a call: it hears the caller (``hears.live``, paced out as PCM), its microphone
    goes where ``forward_audio`` says, and ``left`` once it has left or its socket closed."""

    def __init__(self, ws: web.WebSocketResponse, *, handoff_id: int | None = None, agent_name: str = "") -> None:
        super().__init__(ws)
        self.handoff_id, self.agent_name = handoff_id, agent_name

    def join(self, conversation_id: int) -> None:
        """Tell the agent's page it is on the call; from then on it hears the caller."""
        self._begin(joined(conversation_id))

    def on_message(self, message: Any) -> None:
        try:
            event = json.loads(message) if isinstance(message, str) else None
        except ValueError:
            event = None
        if isinstance(event, dict) and event.get("type") == "leave":
            self.leave("hung_up")
        else:
            log.debug("ignoring an agent socket message the sidecar does not know: %.80r", message)
