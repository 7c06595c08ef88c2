"""The flow designer's canvas: the working copy as React Flow draws it, what is selected on it, and the edits made
there (moves, deletions, new connections, nodes dropped or added from the palette)."""

from __future__ import annotations

import copy
from typing import Any

import reflex as rx

from quantum_voice.services.flows import document as fd
from quantum_voice.services.flows.schema import NodeType
from quantum_voice.states.flow_designer.designer import FlowDesignerState
from quantum_voice.states.flow_designer.history import HistoryState
from quantum_voice.states.flow_designer.inspector import InspectorState


class CanvasState(FlowDesignerState):
    # The canvas, as React Flow reads it.
    nodes: list[dict[str, Any]] = []
    edges: list[dict[str, Any]] = []

    _selected_nodes: list[str] = []
    _selected_edges: list[str] = []
    _measured: dict[str, dict[str, float]] = {}
    _dragging: bool = False
    _simulator_at: str = ""  # the node the simulator's call is on

    def _start_over(self) -> None:
        self._selected_nodes, self._selected_edges, self._measured = [], [], {}

    # ------------------------------------------------------------ showing

    def _redraw(self) -> None:
        marks = fd.CanvasMarks(set(self._selected_nodes), set(self._selected_edges), self._measured,
                               self._node_problems, set(self._edge_problems), self._simulator_at, self._kb_names)
        self.nodes = fd.canvas_nodes(self._doc, marks)
        self.edges = fd.canvas_edges(self._doc, marks)

    def _mark_simulator_at(self, node_id: str) -> None:
        """Where the simulator's call is; drawn at the next redraw."""
        self._simulator_at = node_id

    def _show_selection_in(self, inspector: InspectorState) -> None:
        inspector._show_selection(self._selected_nodes, self._selected_edges)

    def _forget_missing_selection(self) -> None:
        node_ids = {n["id"] for n in self._doc["nodes"]}
        edge_ids = {e["id"] for e in self._doc["edges"]}
        self._selected_nodes = [i for i in self._selected_nodes if i in node_ids]
        self._selected_edges = [i for i in self._selected_edges if i in edge_ids]

    # ------------------------------------------------------------ what React Flow reports

    @rx.event
    async def nodes_change(self, changes: list[dict[str, Any]]):
        history = await self.get_state(HistoryState)
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
                    history._checkpoint()
                    self._dragging = True
                if change.get("position"):
                    node["position"] = {"x": float(change["position"]["x"]), "y": float(change["position"]["y"])}
                    moved = True
                if not change.get("dragging"):
                    drag_over, self._dragging = True, False
            elif kind == "remove" and self.can_edit and fd.node_of(self._doc, node_id) is not None:
                if not removed:
                    history._checkpoint("remove")
                removed = fd.remove_nodes(self._doc, {node_id}) or removed
                selection.discard(node_id)
        selection_changed = sorted(selection) != sorted(self._selected_nodes)
        self._selected_nodes = [n["id"] for n in self._doc["nodes"] if n["id"] in selection]
        if removed or (drag_over and moved):
            return await history._changed()
        if drag_over:  # a drag ended without a final position: the last move already applied it
            return await history._changed(panel=selection_changed)
        self._redraw()
        if selection_changed:
            self._show_selection_in(await self.get_state(InspectorState))
        return None

    @rx.event
    async def edges_change(self, changes: list[dict[str, Any]]):
        history = await self.get_state(HistoryState)
        removed = False
        selection = set(self._selected_edges)
        for change in changes or []:
            kind, edge_id = change.get("type"), change.get("id", "")
            if kind == "select":
                (selection.add if change.get("selected") else selection.discard)(edge_id)
            elif kind == "remove" and self.can_edit and fd.edge_of(self._doc, edge_id) is not None:
                if not removed:
                    history._checkpoint("remove")
                removed = fd.remove_edges(self._doc, {edge_id}) or removed
                selection.discard(edge_id)
        selection_changed = sorted(selection) != sorted(self._selected_edges)
        self._selected_edges = [e["id"] for e in self._doc["edges"] if e["id"] in selection]
        if removed:
            return await history._changed()
        self._redraw()
        if selection_changed:
            self._show_selection_in(await self.get_state(InspectorState))
        return None

    @rx.event
    async def connect(self, connection: dict[str, Any]):
        if refused := self._refuse_read_only():
            return refused
        source, target = connection.get("source", ""), connection.get("target", "")
        before = copy.deepcopy(self._doc)
        edge_id = fd.connect(self._doc, source, target)
        if edge_id is None:
            return None
        history = await self.get_state(HistoryState)
        history._keep_for_undo(before)
        self._selected_nodes, self._selected_edges = [], [edge_id]
        return await history._changed()

    # ------------------------------------------------------------ adding, selecting, deleting

    @rx.event
    async def drop_node(self, node_type: str, position: dict[str, float]):
        if refused := self._refuse_read_only():
            return refused
        if node_type not in fd.NODE_TYPES:
            return None
        x, y = float((position or {}).get("x", 0)), float((position or {}).get("y", 0))
        return await self._add(node_type, {"x": round(x - 115), "y": round(y - 30)})

    @rx.event
    async def add_node(self, node_type: str):
        if refused := self._refuse_read_only():
            return refused
        near = self._selected_nodes[0] if len(self._selected_nodes) == 1 else None
        return await self._add(node_type, fd.free_spot(self._doc, near))

    async def _add(self, node_type: str, position: dict[str, float]):
        history = await self.get_state(HistoryState)
        history._checkpoint()
        config = {}
        if node_type == NodeType.RAG_ANSWER.value and self._kb_names:
            config["knowledge_base_id"] = self._default_knowledge_base()
        node_id = fd.add_node(self._doc, node_type, position, config)
        self._selected_nodes, self._selected_edges = [node_id], []
        (await self.get_state(InspectorState)).panel_tab = "properties"
        return await history._changed()

    def _default_knowledge_base(self) -> int:
        """The knowledge base the flow already answers from, else the organisation's first."""
        for node in self._doc["nodes"]:
            kb = (node.get("config") or {}).get("knowledge_base_id")
            if node["type"] == NodeType.RAG_ANSWER.value and kb in self._kb_names:
                return kb
        return next(iter(self._kb_names))

    @rx.event
    async def select_node(self, node_id: str):
        if fd.node_of(self._doc, node_id) is None:
            return None
        self._selected_nodes, self._selected_edges = [node_id], []
        inspector = await self.get_state(InspectorState)
        inspector.panel_tab = "properties"
        self._redraw()
        self._show_selection_in(inspector)
        return None

    @rx.event
    async def clear_selection(self):
        self._selected_nodes, self._selected_edges = [], []
        self._redraw()
        self._show_selection_in(await self.get_state(InspectorState))

    @rx.event
    async def delete_selected(self):
        if refused := self._refuse_read_only():
            return refused
        if not self._selected_nodes and not self._selected_edges:
            return None
        history = await self.get_state(HistoryState)
        history._checkpoint()
        fd.remove_nodes(self._doc, set(self._selected_nodes))
        fd.remove_edges(self._doc, set(self._selected_edges))
        self._selected_nodes, self._selected_edges = [], []
        return await history._changed()

    @rx.event
    async def delete_edge(self, edge_id: str):
        if refused := self._refuse_read_only():
            return refused
        history = await self.get_state(HistoryState)
        history._checkpoint()
        fd.remove_edges(self._doc, {edge_id})
        self._selected_edges = [e for e in self._selected_edges if e != edge_id]
        return await history._changed()
