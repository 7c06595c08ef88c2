"""The flow designer's simulator: a test call on the saved draft, the caller's side typed, with the lead it has
captured so far; the canvas marks the node the call is on."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import reflex as rx

from quantum_voice.core.errors import DomainError
from quantum_voice.services import conversations
from quantum_voice.services.flows import document as fd
from quantum_voice.services.flows.schema import NODE_LABELS, NodeType
from quantum_voice.states.flow_designer.canvas import CanvasState
from quantum_voice.states.flow_designer.designer import FlowDesignerState
from quantum_voice.states.flow_designer.history import HistoryState


@dataclass
class ChatLine:
    who: str = ""  # caller | agent | system
    text: str = ""
    node: str = ""


@dataclass
class FactRow:
    label: str = ""
    value: str = ""


class SimulatorState(FlowDesignerState):
    sim_lines: list[ChatLine] = []
    sim_facts: list[FactRow] = []
    sim_score: int = 0
    sim_band: str = ""
    sim_consent: str = ""  # yes | no | ""
    sim_handoff: str = ""
    sim_ended: bool = False
    sim_running: bool = False
    sim_error: str = ""

    _sim_call: int = 0  # the simulator's open test call (0: none yet)

    def _start_over(self, canvas: CanvasState) -> None:
        """End the open test call, if any, and clear the transcript, the lead and the canvas's mark."""
        if self._sim_call and not self.sim_ended:
            try:
                with self._signed_in_repo() as repo:
                    conversations.end_simulation(repo, self.campaign_ref, self._sim_call)
            except DomainError:
                pass  # already gone: nothing left to close
        self._sim_call = 0
        self.sim_lines, self.sim_facts = [], []
        self.sim_score, self.sim_band, self.sim_consent, self.sim_handoff = 0, "", "", ""
        self.sim_ended, self.sim_error = False, ""
        canvas._mark_simulator_at("")

    @rx.event
    async def sim_restart(self):
        canvas = await self.get_state(CanvasState)
        self._start_over(canvas)
        canvas._redraw()
        return None

    @rx.event
    async def sim_send(self, form: dict[str, Any]):
        text = " ".join(str(form.get("message", "")).split())
        if not text or self.sim_running or self.sim_ended:
            return None
        return await self._simulate(text)

    @rx.event
    async def sim_start(self):
        self._start_over(await self.get_state(CanvasState))
        return await self._simulate(None)

    async def _simulate(self, message: str | None):
        """Open the simulator's test call on the saved draft (no message) or add the caller's next turn to it."""
        if self.problems:
            self.sim_error = f"The simulator runs a working flow. First: {self.problems[0].message}"
            return None
        history = await self.get_state(HistoryState)
        if self.can_edit and (failed := await history._save()) is not None:
            return failed
        canvas = await self.get_state(CanvasState)
        self.sim_running, self.sim_error = True, ""
        try:
            with self._signed_in_repo() as repo:
                if not self._sim_call:  # "just say something": the call opens with its greeting first
                    opened = conversations.simulate_step(repo, self.campaign_ref, None, None)
                    self._show_run(opened, canvas)
                    self._sim_call = opened.conversation_id
                if message is not None:
                    self._show_run(conversations.simulate_step(repo, self.campaign_ref, self._sim_call, message),
                                   canvas)
        except DomainError as exc:
            self.sim_error = exc.message
            return None
        finally:
            self.sim_running = False
        canvas._redraw()
        return rx.call_script("setTimeout(() => { const log = document.getElementById('sim-transcript'); "
                              "if (log) log.scrollTop = log.scrollHeight; }, 60)")

    def _show_run(self, run: conversations.Simulation, canvas: CanvasState) -> None:
        lines: list[ChatLine] = list(self.sim_lines)  # the run holds only the new turn
        for turn in run.turns:
            if turn.caller:
                lines.append(ChatLine("caller", turn.caller, ""))
            if turn.agent:
                lines.append(ChatLine("agent", turn.agent, self._node_name(turn.node_id)))
        self.sim_lines = lines
        canvas._mark_simulator_at(next((t.node_id for t in reversed(run.turns) if t.node_id), "") or "")
        known = {v.get("key"): v.get("label") or v.get("key") for v in self._doc.get("variables") or []}
        self.sim_facts = [FactRow(known.get(key) or key.replace("_", " ").capitalize(), value)
                          for key, value in run.variables.items() if value]
        self.sim_score, self.sim_band = int(run.score), str(run.band or "")
        self.sim_consent = "" if run.consent is None else ("yes" if run.consent else "no")
        self.sim_handoff = str((run.handoff or {}).get("reason") or "")
        self.sim_ended = bool(run.ended)

    def _node_name(self, node_id: str | None) -> str:
        node = fd.node_of(self._doc, node_id) if node_id else None
        return f"{NODE_LABELS[NodeType(node['type'])]} · {fd.node_title(node)}" if node else ""
