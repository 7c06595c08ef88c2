"""/flows/designer/[campaign_id]: one Reflex state per panel of the page, under a parent that holds the flow.

- ``FlowDesignerState`` (designer.py): the campaign and flow, loading, permissions, the working copy, its problems.
- ``CanvasState`` (canvas.py): React Flow's nodes and edges, the selection, moves, connections, additions, deletions.
- ``InspectorState`` (inspector.py): the property panel, its tabs, and edits of a node's settings or a condition.
- ``HistoryState`` (history.py): undo and redo, autosave and the save indicator.
- ``VersionsState`` (versions.py): publishing, the live version, the versions dialog and rollback.
- ``SimulatorState`` (simulator.py): the test call typed as the caller, and the lead it captures.

The states are thin: the flow services load, check, save, publish and run flows; services/flows/document.py turns
canvas events into edits of the working copy."""

from quantum_voice.states.flow_designer.canvas import CanvasState
from quantum_voice.states.flow_designer.designer import FlowDesignerState, ProblemRow
from quantum_voice.states.flow_designer.history import HistoryState
from quantum_voice.states.flow_designer.inspector import EdgeRow, InspectorState, Option
from quantum_voice.states.flow_designer.simulator import ChatLine, FactRow, SimulatorState
from quantum_voice.states.flow_designer.versions import VersionRow, VersionsState

__all__ = [
    "CanvasState", "ChatLine", "EdgeRow", "FactRow", "FlowDesignerState", "HistoryState", "InspectorState", "Option",
    "ProblemRow", "SimulatorState", "VersionRow", "VersionsState",
]
