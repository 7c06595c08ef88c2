"""/flows/designer/[campaign_id]: the canvas, the property panel, undo/redo, autosave, publishing, versions and
the simulator. Thin: the flow services load, check, save, publish and run flows; this state keeps what the page
shows and turns canvas events into edits of the working copy (flow_document.py)."""

from __future__ import annotations

import asyncio
import logging
import copy
import time
from dataclasses import dataclass
from typing import Any

import reflex as rx

from quantum_voice.core.errors import DomainError
from quantum_voice.services import conversations, team
from quantum_voice.services.flows import editing, publishing
from quantum_voice.services.flows.conditions import OUTCOMES
from quantum_voice.services.flows.schema import NODE_LABELS, NodeType, default_variables
from quantum_voice.services.flows.validation import FlowProblem, check_flow
from quantum_voice.services.knowledge.documents import list_knowledge_bases
from quantum_voice.services.permissions import Permission, has_permission
from quantum_voice.services.tenancy import OrgRepository
from quantum_voice.states import flow_document as fd
from quantum_voice.states.format import moment
from quantum_voice.states.session import SessionState
from quantum_voice.states.templates import TemplateOption, template_options

log = logging.getLogger("quantum_voice.designer")
AUTOSAVE_DELAY_SECONDS = 1.2
MAX_RETRY_SECONDS = 30  # a save that failed for the database's sake is tried again, waiting up to this long
HISTORY_LIMIT = 100
GESTURE_SECONDS = 0.6  # edits this close together from one gesture (delete key: nodes, then edges) undo as one


@dataclass
class Option:
    value: str = ""
    label: str = ""


@dataclass
class ProblemRow:
    message: str = ""
    node_id: str = ""
    code: str = ""


@dataclass
class EdgeRow:
    id: str = ""
    condition: str = ""


@dataclass
class VersionRow:
    version: int = 0
    published: str = ""
    by: str = ""
    live: bool = False
    node_count: int = 0


@dataclass
class ChatLine:
    who: str = ""  # caller | agent | system
    text: str = ""
    node: str = ""


@dataclass
class FactRow:
    label: str = ""
    value: str = ""


class FlowDesignerState(SessionState):
    loaded: bool = False
    missing: str = ""  # why there is nothing to show (no such campaign)
    no_flow: bool = False  # the campaign exists but has no flow yet: offer the templates
    templates: list[TemplateOption] = []
    campaign_ref: int = 0
    campaign_name: str = ""
    flow_name: str = ""
    can_edit: bool = False

    # The canvas, as React Flow reads it.
    nodes: list[dict[str, Any]] = []
    edges: list[dict[str, Any]] = []

    # The property panel.
    selected_node: str = ""
    selected_type: str = ""
    selected_label: str = ""
    selected_problem: str = ""
    form_text: dict[str, str] = {}
    form_flags: dict[str, bool] = {}
    field_errors: dict[str, str] = {}
    form_rev: int = 0  # bumped when the panel's inputs must show new values (selection, undo)
    selected_edge: str = ""
    edge_from: str = ""
    edge_to: str = ""
    edge_rows: list[EdgeRow] = []  # every connection between the same two nodes
    edge_outcomes: str = ""
    knowledge_bases: list[Option] = []
    variables: list[Option] = []

    problems: list[ProblemRow] = []

    # Saving, undo, publishing.
    save_status: str = "saved"  # saved | unsaved | saving | error
    saved_at: str = ""
    can_undo: bool = False
    can_redo: bool = False
    published_version: int = 0
    published_at: str = ""
    draft_differs: bool = False
    versions: list[VersionRow] = []
    history_open: bool = False
    rollback_open: bool = False
    rollback_version: int = 0
    publishing: bool = False

    # The simulator.
    panel_tab: str = "properties"
    sim_lines: list[ChatLine] = []
    sim_facts: list[FactRow] = []
    sim_score: int = 0
    sim_band: str = ""
    sim_consent: str = ""  # yes | no | ""
    sim_handoff: str = ""
    sim_ended: bool = False
    sim_node: str = ""
    sim_running: bool = False
    sim_error: str = ""

    _doc: dict[str, Any] = {}
    _selected_nodes: list[str] = []
    _selected_edges: list[str] = []
    _measured: dict[str, dict[str, float]] = {}
    _node_problems: dict[str, str] = {}
    _edge_problems: list[str] = []
    _kb_names: dict[int, str] = {}
    _undo: list[dict[str, Any]] = []
    _redo: list[dict[str, Any]] = []
    _last_gesture: tuple[str, float] = ("", 0.0)
    _dragging: bool = False
    _edit_seq: int = 0
    _saved_seq: int = 0
    _save_failures: int = 0  # in a row, for the database's sake: the retry waits longer each time
    _sim_call: int = 0  # the simulator's open test call (0: none yet)
    _live_checksum: str = ""

    # ------------------------------------------------------------ derived

    @rx.var
    def selected_type_label(self) -> str:
        return NODE_LABELS[NodeType(self.selected_type)] if self.selected_type else ""

    @rx.var
    def problem_count(self) -> int:
        return len(self.problems)

    @rx.var
    def version_label(self) -> str:
        return f"v{self.published_version}" if self.published_version else "Not published"

    @rx.var
    def save_label(self) -> str:
        return {"saved": "Saved", "unsaved": "Unsaved changes",
                "saving": "Saving…", "error": "Not saved"}.get(self.save_status, "")

    # ------------------------------------------------------------ loading

    @rx.event
    def load(self):
        if redirect := self._guard():
            return redirect
        self.loaded, self.missing, self.no_flow = False, "", False
        self.campaign_ref = self._id_from_url()
        self.can_edit = has_permission(self.role, Permission.MANAGE_CAMPAIGNS)
        try:
            with self._signed_in_repo() as repo:
                self._load_from(repo)
        except DomainError as exc:
            self.no_flow = exc.code == "no_flow"
            self.templates = template_options()
            self.missing = exc.message if not self.no_flow else ""
            return None
        self._undo, self._redo = [], []
        self._selected_nodes, self._selected_edges, self._measured = [], [], {}
        self._edit_seq = self._saved_seq = 0
        self.save_status, self.history_open, self.rollback_open = "saved", False, False
        self._reset_simulator()
        self._refresh()
        self.loaded = True
        return None

    @rx.event
    def create_from_template(self, template: str):
        if refused := self._refuse_read_only():
            return refused
        try:
            with self._signed_in_repo() as repo:
                editing.create_flow(repo, self.campaign_ref, template)
        except DomainError as exc:
            return rx.toast.error(exc.message)
        return FlowDesignerState.load

    def _load_from(self, repo: OrgRepository) -> None:
        campaign, flow = editing.campaign_and_flow(repo, self.campaign_ref)
        self.campaign_name, self.flow_name = campaign.name, flow.name
        self._doc = fd.normalise(flow.draft)
        self.saved_at = moment(flow.updated_at)
        self._kb_names = {s.knowledge_base.id: s.knowledge_base.name for s in list_knowledge_bases(repo)}
        self.knowledge_bases = [Option(str(k), v) for k, v in self._kb_names.items()]
        self._load_versions(repo)

    def _load_versions(self, repo: OrgRepository) -> None:
        _, flow = editing.campaign_and_flow(repo, self.campaign_ref)
        history = publishing.list_versions(repo, self.campaign_ref)
        people = {m.user_id: m.full_name or m.email for m in team.list_members(repo)}
        live = next((v for v in history if v.id == flow.published_version_id), None)
        self.published_version = live.version if live else 0
        self.published_at = moment(live.published_at) if live else ""
        self._live_checksum = live.checksum if live else ""
        self.versions = [VersionRow(v.version, moment(v.published_at), people.get(v.published_by_id, ""),
                                    v is live, len(v.definition.get("nodes", []))) for v in history]

    # ------------------------------------------------------------ the canvas view

    def _refresh(self, *, panel: bool = True) -> None:
        """Check the flow (the service's rules), then redraw the canvas, the problems and the panel."""
        check = check_flow(fd.definition_of(self._doc))
        self.draft_differs = check.definition is None or \
            publishing.checksum(check.definition.to_json()) != self._live_checksum
        self._set_problems(check.problems)
        self.variables = [Option(v.get("key", ""), v.get("label") or v.get("key", ""))
                          for v in self._doc.get("variables") or [d.model_dump() for d in default_variables()]]
        self._redraw()
        if panel:
            self._refresh_panel()
        self.can_undo, self.can_redo = bool(self._undo), bool(self._redo)

    def _set_problems(self, problems: list[FlowProblem]) -> None:
        self._node_problems = {}
        for problem in problems:
            if problem.node_id and problem.node_id not in self._node_problems:
                self._node_problems[problem.node_id] = problem.message
        edge_ids = [e["id"] for e in self._doc["edges"]]
        self._edge_problems = [edge_ids[p.edge_index] for p in problems
                               if p.edge_index is not None and p.edge_index < len(edge_ids)]
        self.problems = [ProblemRow(p.message, p.node_id or "", p.code) for p in problems]
        self.selected_problem = self._node_problems.get(self.selected_node, "")

    def _show_problems(self, problems: list[FlowProblem]) -> None:
        if [p.message for p in problems] != [p.message for p in self.problems]:
            self._set_problems(problems)
            self._redraw()

    def _redraw(self) -> None:
        marks = fd.CanvasMarks(set(self._selected_nodes), set(self._selected_edges), self._measured,
                               self._node_problems, set(self._edge_problems), self.sim_node, self._kb_names)
        self.nodes = fd.canvas_nodes(self._doc, marks)
        self.edges = fd.canvas_edges(self._doc, marks)

    def _refresh_panel(self) -> None:
        node = fd.node_of(self._doc, self._selected_nodes[0]) if len(self._selected_nodes) == 1 else None
        edge = fd.edge_of(self._doc, self._selected_edges[0]) if not node and len(self._selected_edges) == 1 \
            else None
        if node is not None:
            if node["id"] != self.selected_node:
                self.field_errors = {}
            self.selected_node, self.selected_type, self.selected_label = node["id"], node["type"], node["label"]
            self.form_text, self.form_flags = fd.form_values(node["type"], node["config"])
            self.selected_problem = self._node_problems.get(node["id"], "")
        else:
            self.selected_node = self.selected_type = self.selected_label = self.selected_problem = ""
            self.form_text, self.form_flags, self.field_errors = {}, {}, {}
        self.selected_edge = edge["id"] if edge else ""
        if edge is not None:
            source, target = fd.node_of(self._doc, edge["source"]), fd.node_of(self._doc, edge["target"])
            self.edge_from = fd.node_title(source) if source else edge["source"]
            self.edge_to = fd.node_title(target) if target else edge["target"]
            self.edge_rows = [EdgeRow(e["id"], e["condition"]) for e in self._doc["edges"]
                              if e["source"] == edge["source"] and e["target"] == edge["target"]]
            outcomes = sorted(OUTCOMES.get(NodeType(source["type"]), set())) if source else []
            self.edge_outcomes = ", ".join(outcomes)
        else:
            self.edge_from = self.edge_to = self.edge_outcomes = ""
            self.edge_rows = []
        self.form_rev += 1

    # ------------------------------------------------------------ editing: history and autosave

    def _checkpoint(self, gesture: str = "") -> None:
        """Remember the flow as it is now, before an edit, so that undo can bring it back."""
        now = time.monotonic()
        last, at = self._last_gesture
        self._last_gesture = (gesture, now)
        if gesture and gesture == last and now - at < GESTURE_SECONDS:
            return
        self._undo = (self._undo + [copy.deepcopy(self._doc)])[-HISTORY_LIMIT:]
        self._redo = []

    def _changed(self, *, panel: bool = True):
        """After an edit: check and redraw, and save a moment later (further edits push the save back)."""
        self._edit_seq += 1
        self.save_status = "unsaved"
        self._refresh(panel=panel)
        return FlowDesignerState.autosave(self._edit_seq)

    def _refuse_read_only(self):
        return None if self.can_edit else rx.toast.info(
            "You can look at this flow. Owners, admins and managers can change it.")

    @rx.event(background=True)
    async def autosave(self, seq: int, delay: float = AUTOSAVE_DELAY_SECONDS):
        await asyncio.sleep(delay)
        async with self:
            if seq != self._edit_seq or self._saved_seq >= seq:
                return None  # a later edit has its own save coming
            return self._save()

    def _save(self):
        if not self.can_edit or self._saved_seq >= self._edit_seq:
            return None
        seq = self._edit_seq
        self.save_status = "saving"
        try:
            with self._signed_in_repo() as repo:
                flow, problems = editing.save_draft(repo, self.campaign_ref, fd.definition_of(self._doc),
                                                    allow_invalid=True)
                saved_at = moment(flow.updated_at)
        except DomainError as exc:
            self.save_status = "error"
            return rx.toast.error(f"The draft was not saved: {exc.message}")
        except Exception:  # noqa: BLE001 - the database did not answer (locked, down): keep the work, try again
            log.exception("saving the draft of campaign %s failed", self.campaign_ref)
            self.save_status, self._save_failures = "error", self._save_failures + 1
            delay = min(AUTOSAVE_DELAY_SECONDS * 2 ** self._save_failures, MAX_RETRY_SECONDS)
            return [rx.toast.error(f"The draft could not be saved just now. Your changes are kept on this page; "
                                   f"trying again in {delay:.0f} s.", id="flow-save-failed"),
                    FlowDesignerState.autosave(seq, delay)]
        self._saved_seq, self._save_failures = seq, 0
        self.save_status = "saved" if seq == self._edit_seq else "unsaved"
        self.saved_at = saved_at
        if seq == self._edit_seq:
            self._show_problems(problems)  # the service also knows which knowledge bases exist
        return None

    @rx.event
    def undo(self):
        if not self._undo or not self.can_edit:
            return None
        self._redo = self._redo + [copy.deepcopy(self._doc)]
        self._doc = self._undo[-1]
        self._undo = self._undo[:-1]
        self._last_gesture = ("", 0.0)
        self._forget_missing_selection()
        return self._changed()

    @rx.event
    def redo(self):
        if not self._redo or not self.can_edit:
            return None
        self._undo = self._undo + [copy.deepcopy(self._doc)]
        self._doc = self._redo[-1]
        self._redo = self._redo[:-1]
        self._last_gesture = ("", 0.0)
        self._forget_missing_selection()
        return self._changed()

    def _forget_missing_selection(self) -> None:
        node_ids = {n["id"] for n in self._doc["nodes"]}
        edge_ids = {e["id"] for e in self._doc["edges"]}
        self._selected_nodes = [i for i in self._selected_nodes if i in node_ids]
        self._selected_edges = [i for i in self._selected_edges if i in edge_ids]

    # ------------------------------------------------------------ canvas events

    @rx.event
    def nodes_change(self, changes: list[dict[str, Any]]):
        moved = removed = False
        drag_over = False
        selection = set(self._selected_nodes)
        for change in changes or []:
            kind, node_id = change.get("type"), change.get("id", "")
            if kind == "dimensions" and change.get("dimensions"):
                self._measured[node_id] = {"width": change["dimensions"].get("width", 0),
                                           "height": change["dimensions"].get("height", 0)}
            elif kind == "select":
                (selection.add if change.get("selected") else selection.discard)(node_id)
            elif kind == "position" and self.can_edit:
                node = fd.node_of(self._doc, node_id)
                if node is None:
                    continue
                if change.get("dragging") and not self._dragging:
                    self._checkpoint()
                    self._dragging = True
                if change.get("position"):
                    node["position"] = {"x": float(change["position"]["x"]), "y": float(change["position"]["y"])}
                    moved = True
                if not change.get("dragging"):
                    drag_over, self._dragging = True, False
            elif kind == "remove" and self.can_edit and fd.node_of(self._doc, node_id) is not None:
                if not removed:
                    self._checkpoint("remove")
                removed = fd.remove_nodes(self._doc, {node_id}) or removed
                selection.discard(node_id)
        selection_changed = sorted(selection) != sorted(self._selected_nodes)
        self._selected_nodes = [n["id"] for n in self._doc["nodes"] if n["id"] in selection]
        if removed or (drag_over and moved):
            return self._changed()
        if drag_over:  # a drag ended without a final position: the last move already applied it
            return self._changed(panel=selection_changed)
        self._redraw()
        if selection_changed:
            self._refresh_panel()
        return None

    @rx.event
    def edges_change(self, changes: list[dict[str, Any]]):
        removed = False
        selection = set(self._selected_edges)
        for change in changes or []:
            kind, edge_id = change.get("type"), change.get("id", "")
            if kind == "select":
                (selection.add if change.get("selected") else selection.discard)(edge_id)
            elif kind == "remove" and self.can_edit and fd.edge_of(self._doc, edge_id) is not None:
                if not removed:
                    self._checkpoint("remove")
                removed = fd.remove_edges(self._doc, {edge_id}) or removed
                selection.discard(edge_id)
        selection_changed = sorted(selection) != sorted(self._selected_edges)
        self._selected_edges = [e["id"] for e in self._doc["edges"] if e["id"] in selection]
        if removed:
            return self._changed()
        self._redraw()
        if selection_changed:
            self._refresh_panel()
        return None

    @rx.event
    def connect(self, connection: dict[str, Any]):
        if refused := self._refuse_read_only():
            return refused
        source, target = connection.get("source", ""), connection.get("target", "")
        before = copy.deepcopy(self._doc)
        edge_id = fd.connect(self._doc, source, target)
        if edge_id is None:
            return None
        self._undo = (self._undo + [before])[-HISTORY_LIMIT:]
        self._redo = []
        self._selected_nodes, self._selected_edges = [], [edge_id]
        return self._changed()

    @rx.event
    def drop_node(self, node_type: str, position: dict[str, float]):
        if refused := self._refuse_read_only():
            return refused
        if node_type not in fd.NODE_TYPES:
            return None
        x, y = float((position or {}).get("x", 0)), float((position or {}).get("y", 0))
        return self._add(node_type, {"x": round(x - 115), "y": round(y - 30)})

    @rx.event
    def add_node(self, node_type: str):
        if refused := self._refuse_read_only():
            return refused
        near = self._selected_nodes[0] if len(self._selected_nodes) == 1 else None
        return self._add(node_type, fd.free_spot(self._doc, near))

    def _add(self, node_type: str, position: dict[str, float]):
        self._checkpoint()
        config = {}
        if node_type == NodeType.RAG_ANSWER.value and self._kb_names:
            config["knowledge_base_id"] = self._default_knowledge_base()
        node_id = fd.add_node(self._doc, node_type, position, config)
        self._selected_nodes, self._selected_edges = [node_id], []
        self.panel_tab = "properties"
        return self._changed()

    def _default_knowledge_base(self) -> int:
        """The knowledge base the flow already answers from, else the organisation's first."""
        for node in self._doc["nodes"]:
            kb = (node.get("config") or {}).get("knowledge_base_id")
            if node["type"] == NodeType.RAG_ANSWER.value and kb in self._kb_names:
                return kb
        return next(iter(self._kb_names))

    @rx.event
    def select_node(self, node_id: str):
        if fd.node_of(self._doc, node_id) is None:
            return None
        self._selected_nodes, self._selected_edges = [node_id], []
        self.panel_tab = "properties"
        self._redraw()
        self._refresh_panel()
        return None

    @rx.event
    def clear_selection(self):
        self._selected_nodes, self._selected_edges = [], []
        self._redraw()
        self._refresh_panel()

    @rx.event
    def delete_selected(self):
        if refused := self._refuse_read_only():
            return refused
        if not self._selected_nodes and not self._selected_edges:
            return None
        self._checkpoint()
        fd.remove_nodes(self._doc, set(self._selected_nodes))
        fd.remove_edges(self._doc, set(self._selected_edges))
        self._selected_nodes, self._selected_edges = [], []
        return self._changed()

    # ------------------------------------------------------------ the property panel

    def _selected(self) -> dict[str, Any] | None:
        return fd.node_of(self._doc, self.selected_node) if self.selected_node else None

    @rx.event
    def set_field(self, key: str, value: Any):
        node = self._selected()
        if node is None or not self.can_edit:
            return None
        try:
            config = fd.apply_field(node["type"], node["config"], key, value)
        except fd.FieldRefused as exc:
            self.field_errors = {**self.field_errors, key: str(exc)}
            return None
        self.field_errors = {k: v for k, v in self.field_errors.items() if k != key}
        if config == fd.full_config(node["type"], node["config"]):
            return None
        self._checkpoint()
        node["config"] = config
        return self._changed(panel=False) if fd.field_spec(node["type"], key).kind in ("text", "textarea", "lines",
                                                                                       "csv", "int", "float") \
            else self._changed()

    @rx.event
    def set_label(self, value: str):
        node = self._selected()
        label = " ".join((value or "").split())[:120]
        if node is None or not self.can_edit or label == node["label"]:
            return None
        self._checkpoint()
        node["label"] = label
        return self._changed(panel=False)

    @rx.event
    def set_condition(self, edge_id: str, value: str):
        edge = fd.edge_of(self._doc, edge_id)
        condition = " ".join((value or "").split())[:200]
        if edge is None or not self.can_edit or condition == edge["condition"]:
            return None
        self._checkpoint()
        edge["condition"] = condition
        return self._changed()

    @rx.event
    def delete_edge(self, edge_id: str):
        if refused := self._refuse_read_only():
            return refused
        self._checkpoint()
        fd.remove_edges(self._doc, {edge_id})
        self._selected_edges = [e for e in self._selected_edges if e != edge_id]
        return self._changed()

    # ------------------------------------------------------------ publishing and versions

    @rx.event
    def publish(self):
        if refused := self._refuse_read_only():
            return refused
        if self.problems:
            return rx.toast.error(f"Fix the flow before publishing: {self.problems[0].message}")
        if (failed := self._save()) is not None:
            return failed
        self.publishing = True
        try:
            with self._signed_in_repo() as repo:
                version = publishing.publish(repo, self.campaign_ref)
                self._load_versions(repo)
        except DomainError as exc:
            return rx.toast.error(exc.message)
        finally:
            self.publishing = False
        self._refresh(panel=False)
        return rx.toast.success(f"Published version {version.version}. New calls follow it from now on.")

    @rx.event
    def set_history_open(self, open_: bool):
        self.history_open = open_

    @rx.event
    def ask_rollback(self, version: int):
        self.rollback_version, self.rollback_open = version, True

    @rx.event
    def set_rollback_open(self, open_: bool):
        self.rollback_open = open_

    @rx.event
    def rollback(self):
        self.rollback_open = False
        if refused := self._refuse_read_only():
            return refused
        version = self.rollback_version
        try:
            with self._signed_in_repo() as repo:
                publishing.rollback(repo, self.campaign_ref, version)
                self._load_from(repo)
        except DomainError as exc:
            return rx.toast.error(exc.message)
        self._checkpoint()
        self._forget_missing_selection()
        self._saved_seq = self._edit_seq
        self.save_status = "saved"
        self._refresh()
        return rx.toast.success(f"Version {version} is live again, and the draft is back to it.")

    # ------------------------------------------------------------ the simulator

    @rx.event
    def set_panel_tab(self, tab: str):
        self.panel_tab = tab

    def _reset_simulator(self) -> None:
        if self._sim_call and not self.sim_ended:
            try:
                with self._signed_in_repo() as repo:
                    conversations.end_simulation(repo, self.campaign_ref, self._sim_call)
            except DomainError:
                pass  # already gone: nothing left to close
        self._sim_call = 0
        self.sim_lines, self.sim_facts = [], []
        self.sim_score, self.sim_band, self.sim_consent, self.sim_handoff = 0, "", "", ""
        self.sim_ended, self.sim_node, self.sim_error = False, "", ""

    @rx.event
    def sim_restart(self):
        self._reset_simulator()
        self._redraw()
        return None

    @rx.event
    def sim_send(self, form: dict[str, Any]):
        text = " ".join(str(form.get("message", "")).split())
        if not text or self.sim_running or self.sim_ended:
            return None
        return self._simulate(text)

    @rx.event
    def sim_start(self):
        self._reset_simulator()
        return self._simulate(None)

    def _simulate(self, message: str | None):
        """Open the simulator's test call on the saved draft (no message) or add the caller's next turn to it."""
        if self.problems:
            self.sim_error = f"The simulator runs a working flow. First: {self.problems[0].message}"
            return None
        if self.can_edit and (failed := self._save()) is not None:
            return failed
        self.sim_running, self.sim_error = True, ""
        try:
            with self._signed_in_repo() as repo:
                if not self._sim_call:  # "just say something": the call opens with its greeting first
                    opened = conversations.simulate_step(repo, self.campaign_ref, None, None)
                    self._show_run(opened)
                    self._sim_call = opened.conversation_id
                if message is not None:
                    self._show_run(conversations.simulate_step(repo, self.campaign_ref, self._sim_call, message))
        except DomainError as exc:
            self.sim_error = exc.message
            return None
        finally:
            self.sim_running = False
        self._redraw()
        return rx.call_script("setTimeout(() => { const log = document.getElementById('sim-transcript'); "
                              "if (log) log.scrollTop = log.scrollHeight; }, 60)")

    def _show_run(self, run: conversations.Simulation) -> None:
        lines: list[ChatLine] = list(self.sim_lines)  # the run holds only the new turn
        for turn in run.turns:
            if turn.caller:
                lines.append(ChatLine("caller", turn.caller, ""))
            if turn.agent:
                lines.append(ChatLine("agent", turn.agent, self._node_name(turn.node_id)))
        self.sim_lines = lines
        self.sim_node = next((t.node_id for t in reversed(run.turns) if t.node_id), "") or ""
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

