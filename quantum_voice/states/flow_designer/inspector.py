"""The flow designer's property panel: the selected node's settings, or the conditions of the selected connection,
and the tabs beside the canvas. An edit is checked against the node type's settings (services/flows/document.py):
a bad value is refused beside its field; a good one goes into the working copy, ready to undo."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import reflex as rx

from quantum_voice.services.flows import document as fd
from quantum_voice.services.flows.conditions import OUTCOMES
from quantum_voice.services.flows.schema import NODE_LABELS, NodeType, default_variables
from quantum_voice.states.flow_designer.designer import FlowDesignerState
from quantum_voice.states.flow_designer.history import HistoryState

TYPED_KINDS = ("text", "textarea", "lines", "csv", "int", "float")  # typed into: an edit leaves the inputs as they are


@dataclass
class Option:
    value: str = ""
    label: str = ""


@dataclass
class EdgeRow:
    id: str = ""
    condition: str = ""


class InspectorState(FlowDesignerState):
    panel_tab: str = "properties"  # properties | simulator

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

    @rx.var
    def selected_type_label(self) -> str:
        return NODE_LABELS[NodeType(self.selected_type)] if self.selected_type else ""

    # ------------------------------------------------------------ showing

    def _show_selection(self, node_ids: list[str], edge_ids: list[str]) -> None:
        """Show the one selected node's settings, else the one selected connection's, else nothing."""
        node = fd.node_of(self._doc, node_ids[0]) if len(node_ids) == 1 else None
        edge = fd.edge_of(self._doc, edge_ids[0]) if not node and len(edge_ids) == 1 else None
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

    def _show_problem(self) -> None:
        self.selected_problem = self._node_problems.get(self.selected_node, "")

    def _show_variables(self) -> None:
        self.variables = [Option(v.get("key", ""), v.get("label") or v.get("key", ""))
                          for v in self._doc.get("variables") or [d.model_dump() for d in default_variables()]]

    def _show_knowledge_bases(self) -> None:
        self.knowledge_bases = [Option(str(k), v) for k, v in self._kb_names.items()]

    @rx.event
    def set_panel_tab(self, tab: str):
        self.panel_tab = tab

    # ------------------------------------------------------------ editing

    def _selected(self) -> dict[str, Any] | None:
        return fd.node_of(self._doc, self.selected_node) if self.selected_node else None

    @rx.event
    async def set_field(self, key: str, value: Any):
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
        history = await self.get_state(HistoryState)
        history._checkpoint()
        node["config"] = config
        return await history._changed(panel=fd.field_spec(node["type"], key).kind not in TYPED_KINDS)

    @rx.event
    async def set_label(self, value: str):
        node = self._selected()
        label = " ".join((value or "").split())[:120]
        if node is None or not self.can_edit or label == node["label"]:
            return None
        history = await self.get_state(HistoryState)
        history._checkpoint()
        node["label"] = label
        return await history._changed(panel=False)

    @rx.event
    async def set_condition(self, edge_id: str, value: str):
        edge = fd.edge_of(self._doc, edge_id)
        condition = " ".join((value or "").split())[:200]
        if edge is None or not self.can_edit or condition == edge["condition"]:
            return None
        history = await self.get_state(HistoryState)
        history._checkpoint()
        edge["condition"] = condition
        return await history._changed()
